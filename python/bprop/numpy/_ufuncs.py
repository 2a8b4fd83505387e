"""Elementwise functions (numpy ufuncs) on BVars.

The arithmetic and the `Floating` math have native Rust kernels (`bprop._core`): a plain call
such as `np.exp(v)` reaches them straight from `BVar.__array_ufunc__`, and the entries here
serve calls with keyword arguments and the `bprop.numpy` namespace. The other ufuncs (and
`np.sinc`, `np.round`, `np.fix`) are primitives with numpy forwards and the pullback written
beside them; piecewise constant ones (`floor`, `round`, ...) give constant BVars (zero
gradient). Broadcast arguments get their gradients summed back to their shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from ._registry import (
    any_bvar,
    check_float_dtype,
    defvjp,
    float_array,
    implements,
    method,
    plain_value,
    refuse,
    ufunc,
    unbroadcast,
)

__all__: list[str] = []


def _native(name: str, core_fn: Callable[..., Any], arity: int, rule: str, *aliases: str) -> None:
    """The ufunc `name` (and its aliases: other ufuncs computing the same on floats) backed by
    the native kernel `core_fn`; each name gets its own implementation, so that errors name the
    ufunc that was called."""
    for n in (name, *aliases):
        impl = _native_impl(n, core_fn, arity)
        impl.__doc__ = f"numpy.{n} on BVars (native kernel). Gradient: {rule}."
        ufunc(n, rule=rule, native=True)(impl)
        globals()[n] = impl
        __all__.append(n)


def _native_impl(n: str, core_fn: Callable[..., Any], arity: int) -> Callable[..., Any]:
    def impl(
        *args: Any,
        out: Any = None,
        where: Any = True,
        dtype: Any = None,
        casting: Any = None,
        order: Any = None,
        subok: Any = True,
        signature: Any = None,
    ) -> Any:
        refuse(n, out=out, where=where, signature=signature)
        check_float_dtype(n, dtype)
        if len(args) != arity:
            raise TypeError(f"numpy.{n} takes {arity} argument(s), got {len(args)}")
        return core_fn(*args)

    impl.__name__ = impl.__qualname__ = n
    return impl


_native("add", _core.add, 2, "(g, g), unbroadcast")
_native("subtract", _core.sub, 2, "(g, -g), unbroadcast")
_native("multiply", _core.mul, 2, "(g·y, g·x), unbroadcast")
_native("divide", _core.div, 2, "(g/y, -g·x/y²), unbroadcast", "true_divide")
_native(
    "power", _core.pow, 2, "(g·y·x^(y-1), g·x^y·log x); 0 at x = 0 for the exponent", "float_power"
)
_native("negative", _core.neg, 1, "-g")
_native("absolute", _core.abs, 1, "g·sign(x)", "fabs", "abs")
_native("sign", _core.signum, 1, "0")
_native("reciprocal", _core.recip, 1, "-g/x²")
_native("exp", _core.exp, 1, "g·exp(x)")
_native("log", _core.log, 1, "g/x")
_native("sqrt", _core.sqrt, 1, "g/(2√x)")
_native("sin", _core.sin, 1, "g·cos x")
_native("cos", _core.cos, 1, "-g·sin x")
_native("tan", _core.tan, 1, "g·(1 + tan²x)")
_native("arcsin", _core.asin, 1, "g/√(1-x²)")
_native("arccos", _core.acos, 1, "-g/√(1-x²)")
_native("arctan", _core.atan, 1, "g/(1+x²)")
_native("sinh", _core.sinh, 1, "g·cosh x")
_native("cosh", _core.cosh, 1, "g·sinh x")
_native("tanh", _core.tanh, 1, "g·(1 - tanh²x)")
_native("arcsinh", _core.asinh, 1, "g/√(x²+1)")
_native("arccosh", _core.acosh, 1, "g/√(x²-1)")
_native("arctanh", _core.atanh, 1, "g/(1-x²)")
_native("positive", lambda x: x, 1, "g")
_native(
    "maximum",
    _core.maximum,
    2,
    "g to the larger argument, split evenly on ties (NaN: NaN gradients); unbroadcast",
)
_native(
    "minimum",
    _core.minimum,
    2,
    "g to the smaller argument, split evenly on ties (NaN: NaN gradients); unbroadcast",
)


# ---- ufuncs with numpy forwards and hand-written pullbacks ---------------------------------

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
_DEG = float(np.pi / 180.0)


def _signature_impl(
    name: str, prim: Callable[..., Any], arity: int, doc: str
) -> Callable[..., Any]:
    """An implementation of a plain call of the ufunc `name` with numpy's keywords, applying
    the primitive `prim` (which records one node on BVars and is plain numpy otherwise)."""

    def impl(
        *args: Any,
        out: Any = None,
        where: Any = True,
        dtype: Any = None,
        casting: Any = None,
        order: Any = None,
        subok: Any = True,
        signature: Any = None,
    ) -> Any:
        refuse(name, out=out, where=where, signature=signature)
        check_float_dtype(name, dtype)
        if len(args) != arity:
            raise TypeError(f"numpy.{name} takes {arity} argument(s), got {len(args)}")
        return prim(*args)

    impl.__name__ = impl.__qualname__ = name.rsplit(".", 1)[-1]
    impl.__doc__ = doc
    return impl


def _publish(impl: Callable[..., Any], rule: str) -> None:
    """Register `impl` (named as its ufunc) for plain calls and export it."""
    name = impl.__name__
    ufunc(name, rule=rule)(impl)
    globals()[name] = impl
    __all__.append(name)


def unary(
    name: str,
    forward: Callable[[Any], Any],
    deriv: Callable[[Any, Any], Any],
    rule: str,
    prefix: str = "numpy",
) -> Callable[..., Any]:
    """The elementwise function `name` with gradient `g · deriv(x, ans)`, as a primitive and as
    the implementation of a plain ufunc call; returns the implementation (not yet registered:
    see `_publish`)."""

    def vjp(g: Any, ans: Any, x: Any) -> Any:
        return g * deriv(x, ans)

    prim = defvjp(name, forward, vjp)
    prim.name = f"{prefix}.{name}"
    return _signature_impl(name, prim, 1, f"{prefix}.{name} on BVars. Gradient: {rule}.")


def binary(
    name: str,
    forward: Callable[[Any, Any], Any],
    dx: Callable[[Any, Any, Any], Any] | None,
    dy: Callable[[Any, Any, Any], Any] | None,
    rule: str,
    prefix: str = "numpy",
) -> Callable[..., Any]:
    """The broadcasting elementwise function `name` of two arguments with gradients
    `unbroadcast(g · dx(x, y, ans))` and `unbroadcast(g · dy(x, y, ans))` (`None`: zero)."""

    def vjp_x(g: Any, ans: Any, x: Any, y: Any) -> Any:
        shape = np.shape(plain_value(x))
        if dx is None:
            return np.zeros(shape) if shape else 0.0
        return unbroadcast(g * dx(float_array(x), float_array(y), ans), shape)

    def vjp_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
        shape = np.shape(plain_value(y))
        if dy is None:
            return np.zeros(shape) if shape else 0.0
        return unbroadcast(g * dy(float_array(x), float_array(y), ans), shape)

    prim = defvjp(name, forward, vjp_x, vjp_y)
    prim.name = f"{prefix}.{name}"
    return _signature_impl(name, prim, 2, f"{prefix}.{name} on BVars. Gradient: {rule}.")


def _def1(
    name: str,
    forward: Callable[[Any], Any],
    deriv: Callable[[Any, Any], Any],
    rule: str,
    *aliases: str,
) -> None:
    for n in (name, *aliases):
        _publish(unary(n, forward, deriv, rule), rule)


def _def2(
    name: str,
    forward: Callable[[Any, Any], Any],
    dx: Callable[[Any, Any, Any], Any] | None,
    dy: Callable[[Any, Any, Any], Any] | None,
    rule: str,
    *aliases: str,
) -> None:
    for n in (name, *aliases):
        _publish(binary(n, forward, dx, dy, rule), rule)


def _safe_div(a: Any, b: Any) -> Any:
    """`a / b`, and 0 where `b == 0` (the convention at a kink, as for `abs`)."""
    if any_bvar((a, b)):  # a nested run: differentiable operations
        zero = plain_value(b) == 0
        return np.where(zero, 0.0, a / np.where(zero, 1.0, b))
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


# -- powers, exponentials and logarithms

_def1("square", np.square, lambda x, ans: 2.0 * x, "2·g·x")
_def1(
    "cbrt", np.cbrt, lambda x, ans: 1.0 / (3.0 * np.square(ans)), "g/(3·cbrt(x)²) (infinite at 0)"
)
_def1("exp2", np.exp2, lambda x, ans: ans * _LN2, "g·2^x·ln 2")
_def1("expm1", np.expm1, lambda x, ans: ans + 1.0, "g·exp(x)")
_def1("log2", np.log2, lambda x, ans: 1.0 / (x * _LN2), "g/(x·ln 2)")
_def1("log10", np.log10, lambda x, ans: 1.0 / (x * _LN10), "g/(x·ln 10)")
_def1("log1p", np.log1p, lambda x, ans: 1.0 / (1.0 + x), "g/(1+x)")
_def1("deg2rad", np.deg2rad, lambda x, ans: _DEG, "g·π/180", "radians")
_def1("rad2deg", np.rad2deg, lambda x, ans: 1.0 / _DEG, "g·180/π", "degrees")
_def1("conjugate", np.conjugate, lambda x, ans: 1.0, "g (real values)")


def _logaddexp_weight(x: Any, y: Any, exp: Callable[[Any], Any]) -> Any:
    """`∂ans/∂x` of `ans = log_b(b^x + b^y)`: `1/(1 + b^(y - x))`, which is `b^(x - ans)`
    without the rounding of `ans` and never overflows; an infinite tie (both +inf or both
    -inf) splits evenly."""
    with np.errstate(invalid="ignore", over="ignore"):
        w = 1.0 / (1.0 + exp(y - x))
    return np.where(np.isnan(w) & (x == y), 0.5, w)


_def2(
    "logaddexp",
    np.logaddexp,
    lambda x, y, ans: _logaddexp_weight(x, y, np.exp),
    lambda x, y, ans: _logaddexp_weight(y, x, np.exp),
    "(g/(1 + exp(y - x)), g/(1 + exp(x - y))), unbroadcast",
)
_def2(
    "logaddexp2",
    np.logaddexp2,
    lambda x, y, ans: _logaddexp_weight(x, y, np.exp2),
    lambda x, y, ans: _logaddexp_weight(y, x, np.exp2),
    "(g/(1 + 2^(y - x)), g/(1 + 2^(x - y))), unbroadcast",
)
_def2(
    "arctan2",
    np.arctan2,
    lambda y, x, ans: _safe_div(x, np.square(np.hypot(x, y))),
    lambda y, x, ans: -_safe_div(y, np.square(np.hypot(x, y))),
    "(g·x/(x²+y²), -g·y/(x²+y²)) for arctan2(y, x), 0 at the origin; unbroadcast",
)
_def2(
    "hypot",
    np.hypot,
    lambda x, y, ans: _safe_div(x, ans),
    lambda x, y, ans: _safe_div(y, ans),
    "(g·x/ans, g·y/ans), 0 at the origin; unbroadcast",
)


# -- fmax and fmin (maximum and minimum are native, above): the gradient goes to the selected
# argument, ties split evenly, and a NaN is skipped as numpy skips it


def _select_weight(x: Any, y: Any, bigger: bool) -> Any:
    """The share of the gradient that `x` receives in `fmax(x, y)` (`bigger`) or `fmin(x, y)`:
    1 where x is selected, 0 where y is, 1/2 on a tie; where one argument is NaN the other is
    selected (x when both are NaN, whose result is NaN)."""
    wins = (x > y) if bigger else (x < y)
    w = np.where(x == y, 0.5, wins.astype(np.float64))
    nx, ny = np.isnan(x), np.isnan(y)
    return np.where(nx & ~ny, 0.0, np.where(ny, 1.0, w))


def _def_select(name: str, forward: Callable[[Any, Any], Any], bigger: bool) -> None:
    _def2(
        name,
        forward,
        lambda x, y, ans: _select_weight(x, y, bigger),
        lambda x, y, ans: 1.0 - _select_weight(x, y, bigger),
        "g to the selected argument, split evenly on ties (the non-NaN argument gets it); unbroadcast",
    )


_def_select("fmax", np.fmax, True)
_def_select("fmin", np.fmin, False)


# -- sign and remainder


def _copysign_dx(x: Any, y: Any, ans: Any) -> Any:
    return np.sign(plain_value(x)) * np.sign(plain_value(ans))


_def2("copysign", np.copysign, _copysign_dx, None, "(g·sign(x)·sign(ans), 0), unbroadcast")


def _quotient(x: Any, y: Any, ans: Any) -> Any:
    """The integer quotient `q` with `ans = x - q·y` exactly (as the remainder ufuncs compute
    it), recovered from the result itself so it always matches numpy's choice of `q`. It is
    piecewise constant: computed on plain values."""
    x, y, ans = plain_value(x), plain_value(y), plain_value(ans)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.rint((x - ans) / y)


_def2(
    "remainder",
    np.remainder,
    lambda x, y, ans: 1.0,
    lambda x, y, ans: -_quotient(x, y, ans),
    "(g, -g·floor(x/y)), unbroadcast",
    "mod",
)
_def2(
    "fmod",
    np.fmod,
    lambda x, y, ans: 1.0,
    lambda x, y, ans: -_quotient(x, y, ans),
    "(g, -g·trunc(x/y)), unbroadcast",
)


# -- piecewise constant functions: zero gradient, a constant result


def _constant(name: str, forward: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """`forward` on the values; a constant BVar (no node, zero gradient) if any argument is a
    BVar, else the plain result."""
    if not any_bvar(args):
        return forward(*args)
    ans = forward(*(plain_value(a) for a in args))
    if isinstance(ans, np.ndarray) and ans.ndim == 0 or isinstance(ans, np.floating):
        ans = float(ans)
    return _core.const_var(ans)


def _def_constant(name: str, forward: Callable[..., Any], arity: int) -> None:
    def prim(*args: Any) -> Any:
        return _constant(name, forward, args)

    doc = f"numpy.{name} on BVars: the value on the plain values, with zero gradient."
    _publish(_signature_impl(name, prim, arity, doc), "0 (piecewise constant; a constant result)")


_def_constant("floor", np.floor, 1)
_def_constant("ceil", np.ceil, 1)
_def_constant("trunc", np.trunc, 1)
_def_constant("rint", np.rint, 1)
_def_constant("floor_divide", np.floor_divide, 2)
_def_constant("heaviside", np.heaviside, 2)


@implements(np.round, np.around, rule="0 (piecewise constant; a constant result)")
def round(a: Any, decimals: int = 0, out: Any = None) -> Any:
    """numpy.round on BVars: the value on the plain values, with zero gradient."""
    refuse("round", out=out)
    return _constant("round", lambda x: np.round(x, decimals), (a,))


around = round
method("round")(round)


@implements(np.fix, rule="0 (piecewise constant; a constant result)")
def fix(x: Any, out: Any = None) -> Any:
    """numpy.fix on BVars: the value on the plain values, with zero gradient."""
    refuse("fix", out=out)
    return _constant("fix", np.fix, (x,))


__all__ += ["around", "fix", "round"]


# -- sinc (a numpy function, not a ufunc)


def _sinc_deriv(x: Any, ans: Any) -> Any:
    """d/dx sin(πx)/(πx) = (cos(πx) - sinc(x))/x; near 0 (|πx| < 0.1) its Taylor series in
    t = πx, π·(-t/3 + t³/30 - t⁵/840 + t⁷/45360), which avoids the cancellation (0 at x = 0)."""
    x = float_array(x)
    t = np.pi * x
    t2 = t * t
    series = np.pi * t * (-1.0 / 3.0 + t2 * (1.0 / 30.0 + t2 * (-1.0 / 840.0 + t2 / 45360.0)))
    small = np.abs(np.pi * plain_value(x)) < 0.1
    with np.errstate(invalid="ignore", divide="ignore"):
        direct = (np.cos(t) - ans) / np.where(small, 1.0, x)
    return np.where(small, series, direct)


_sinc = defvjp("sinc", np.sinc, lambda g, ans, x: g * _sinc_deriv(x, ans))


@implements(np.sinc, rule="g·(cos(πx) - sinc(x))/x, 0 at x = 0 (series near 0)")
def sinc(x: Any) -> Any:
    """numpy.sinc on BVars: sin(πx)/(πx), 1 at 0."""
    return _sinc(x)


__all__ += ["sinc"]
