"""The arithmetic and math of BVars whose values are not floats (ints, complex numbers, numpy
values, user numeric types). Float-valued BVars never come here: the Rust kernels handle them.

Values are computed with Python operators and numpy functions; gradients follow Haskell's
convention `d * f'(x)` (no complex conjugation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._core import BVar
from .numpy._registry import plain_value
from .op import Op, op1, op2

__all__ = ["binary", "unary"]


def _named(name: str, f: Callable[..., Any], *args: Any) -> Any:
    """`f(*args)`, with a TypeError that names the op and the operand types: numpy's own
    message (e.g. "loop of ufunc does not support argument 0 of type Fraction") names neither."""
    for a in args:
        # numpy would read a list or tuple as an array, and the gradient of a tuple input
        # would come back as an array.
        if isinstance(a, tuple | list | dict):
            raise TypeError(
                f"{name}: not defined for a {type(a).__name__} value; apply it to the elements "
                "(bp.split_var, bp.sequence_var) or use a numpy array"
            )
    try:
        return f(*args)
    except TypeError as e:
        types = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"{name}: not defined for ({types}) values: {e}") from e


def _python_scalar(x: Any, y: Any) -> Any:
    """`y` as a Python complex when `x` is one: numpy's functions return numpy scalars
    (`np.complex128`), and a value or gradient keeps the type of its input."""
    if type(x) is complex and isinstance(y, np.complexfloating):
        return complex(y)
    return y


def _select(cond: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Any:
    """`then()` where `cond` holds, else `other()`. For scalars only the chosen branch is
    evaluated (the other may raise, e.g. `0 ** -1` on ints); arrays evaluate both silently."""
    if np.ndim(cond) == 0:
        return then() if cond else other()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cond, then(), other())


def _pow_forward(x: Any, y: Any) -> tuple[Any, Callable[[Any], tuple[Any, Any]]]:
    z = x**y

    def pullback(d: Any) -> tuple[Any, Any]:
        # Conventions of the native kernel: base partial 0 where y == 0, exponent partial 0
        # (not NaN) where x == 0.
        # The exponent's partial is computed even when the exponent is a constant (its gradient
        # is then dropped), so log of a negative base must not warn.
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = _select(y == 0, lambda: 0 * d, lambda: d * y * x ** (y - 1))
            dy = _select(x == 0, lambda: 0 * d, lambda: d * z * np.log(x))
        return dx, dy

    return z, pullback


def _unary(name: str, f: Callable[[Any], Any], df: Callable[[Any, Any, Any], Any]) -> Op[Any, Any]:
    """An op for `f` whose pullback is `df(x, f(x), d)`."""

    def forward(x: Any) -> tuple[Any, Callable[[Any], Any]]:
        y = _python_scalar(x, _named(name, f, x))
        return y, lambda d: _python_scalar(x, df(x, y, d))

    op = op1(forward)
    op.name = name
    return op


def _conj(s: Any) -> Any:
    # (in a nested run `s` is a BVar of the enclosing run: its plain value says if it is complex)
    return np.conj(s) if np.iscomplexobj(plain_value(s)) else s


UNARY: dict[str, Op[Any, Any]] = {
    "neg": _unary("neg", lambda x: -x, lambda x, y, d: -d),
    # |z| is not holomorphic: with the convention of the other rules (no conjugation, as in
    # JAX), its pullback is d·conj(z)/|z|; conj is the identity on real values.
    "abs": _unary("abs", abs, lambda x, y, d: d * _conj(np.sign(x))),
    "signum": _unary("signum", np.sign, lambda x, y, d: 0 * d),
    "recip": _unary("recip", lambda x: 1 / x, lambda x, y, d: -d * y * y),
    "exp": _unary("exp", np.exp, lambda x, y, d: d * y),
    "log": _unary("log", np.log, lambda x, y, d: d / x),
    "sqrt": _unary("sqrt", np.sqrt, lambda x, y, d: d / (2 * y)),
    "sin": _unary("sin", np.sin, lambda x, y, d: d * np.cos(x)),
    "cos": _unary("cos", np.cos, lambda x, y, d: -d * np.sin(x)),
    "tan": _unary("tan", np.tan, lambda x, y, d: d * (1 + y * y)),
    "asin": _unary("asin", np.arcsin, lambda x, y, d: d / np.sqrt(1 - x * x)),
    "acos": _unary("acos", np.arccos, lambda x, y, d: -d / np.sqrt(1 - x * x)),
    "atan": _unary("atan", np.arctan, lambda x, y, d: d / (1 + x * x)),
    "sinh": _unary("sinh", np.sinh, lambda x, y, d: d * np.cosh(x)),
    "cosh": _unary("cosh", np.cosh, lambda x, y, d: d * np.sinh(x)),
    "tanh": _unary("tanh", np.tanh, lambda x, y, d: d * (1 - y * y)),
    "asinh": _unary("asinh", np.arcsinh, lambda x, y, d: d / np.sqrt(x * x + 1)),
    "acosh": _unary("acosh", np.arccosh, lambda x, y, d: d / (np.sqrt(x - 1) * np.sqrt(x + 1))),
    "atanh": _unary("atanh", np.arctanh, lambda x, y, d: d / (1 - x * x)),
}


def _fit(g: Any, x: Any) -> Any:
    """The gradient `g` of a broadcast operand `x`, summed back to x's shape. (In a nested run
    the generic ops take arrays, which numpy broadcasts; the sums then record on the enclosing
    run.)"""
    shape, gshape = np.shape(plain_value(x)), np.shape(plain_value(g))
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead:
        # (one integer axis takes the native reduction's fast path)
        g = np.sum(g, axis=0 if lead == 1 else tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    return np.sum(g, axis=ones, keepdims=True) if ones else g


def _binary(
    name: str, forward: Callable[[Any, Any], tuple[Any, Callable[[Any], tuple[Any, Any]]]]
) -> Op[Any, Any, Any]:
    def fitted(x: Any, y: Any) -> tuple[Any, Callable[[Any], tuple[Any, Any]]]:
        z, pullback = _named(name, forward, x, y)

        def fitted_pullback(d: Any) -> tuple[Any, Any]:
            gx, gy = pullback(d)
            return _fit(gx, x), _fit(gy, y)

        return z, fitted_pullback

    op = op2(fitted)
    op.name = name
    return op


def _split_tie(d: Any, big: Any, small: Any) -> tuple[Any, Any]:
    """Gradients of max(big, small)-style selection: all to the chosen side, half each at a tie."""
    share = np.where(big > small, 1.0, np.where(big < small, 0.0, 0.5))
    return d * share, d * (1.0 - share)


def _log_base_forward(b: Any, x: Any) -> tuple[Any, Callable[[Any], tuple[Any, Any]]]:
    lb, lx = np.log(b), np.log(x)
    z = lx / lb
    return z, lambda d: (-d * z / (b * lb), d / (x * lb))


BINARY: dict[str, Op[Any, Any, Any]] = {
    "add": _binary("add", lambda x, y: (x + y, lambda d: (d, d))),
    "sub": _binary("sub", lambda x, y: (x - y, lambda d: (d, -d))),
    "mul": _binary("mul", lambda x, y: (x * y, lambda d: (d * y, x * d))),
    "div": _binary("div", lambda x, y: (x / y, lambda d: (d / y, -d * x / (y * y)))),
    "pow": _binary("pow", _pow_forward),
    "log_base": _binary("log_base", _log_base_forward),
    "maximum": _binary("maximum", lambda x, y: (np.maximum(x, y), lambda d: _split_tie(d, x, y))),
    "minimum": _binary("minimum", lambda x, y: (np.minimum(x, y), lambda d: _split_tie(d, y, x))),
}


def unary(name: str, x: Any) -> Any:
    """`name(x)` for a non-float BVar or a plain value."""
    op = UNARY[name]
    if isinstance(x, BVar):
        return op(x)
    assert op._forward is not None
    return op._forward(x)[0]


def binary(name: str, x: Any, y: Any) -> Any:
    """`name(x, y)` where at least one side is not a float."""
    op = BINARY[name]
    if isinstance(x, BVar) or isinstance(y, BVar):
        return op(x, y)
    assert op._forward is not None
    return op._forward(x, y)[0]
