"""`scipy.special` on BVars: its elementwise functions are numpy ufuncs, so `expit(v)`,
`gammaln(v)`, `xlogy(x, v)` reach `BVar.__array_ufunc__`, which finds them here by the ufunc's
`__name__` (none of these names is also a numpy ufunc's; scipy's `expm1`, `log1p`, `cbrt` and
`exp2` share numpy's names and are served by numpy's entries, with the same values).

scipy is imported lazily, by the forwards and pullbacks, so bprop does not depend on it.

`scipy.special.logsumexp`, `softmax` and `log_softmax` are Python functions that convert their
argument with `np.asarray`, which a BVar refuses (TypeError); `logsumexp`, `softmax` and
`log_softmax` below have scipy's signatures and semantics (`axis=None` means every axis) and
work on BVars. `scipy.special.softplus` is `np.logaddexp(0, x)` and works as it is.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .._core import BVar
from ._registry import (
    TABLE,
    UFUNCS,
    Entry,
    Primitive,
    defvjp,
    float_array,
    normalize_axis,
    plain_value,
)
from ._ufuncs import binary, unary

__all__ = [
    "digamma",
    "erf",
    "erfc",
    "erfcinv",
    "erfinv",
    "expit",
    "gammaln",
    "log_expit",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "ndtr",
    "ndtri",
    "psi",
    "softmax",
    "xlog1py",
    "xlogy",
]


def _sc() -> ModuleType:
    return importlib.import_module("scipy.special")


def _lazy(name: str) -> Callable[..., Any]:
    """`scipy.special.<name>`, looked up when called."""

    def call(*args: Any) -> Any:
        return getattr(_sc(), name)(*args)

    call.__name__ = name
    return call


def _register(name: str, impl: Callable[..., Any], rule: str, *aliases: str) -> None:
    """Serve plain calls of the scipy ufunc whose `__name__` is `name`, and list the function
    (and its aliases, other names of the same ufunc) in the docs table as `scipy.special.*`."""
    impl.__name__ = impl.__qualname__ = name
    UFUNCS[name] = impl
    for n in (name, *aliases):
        TABLE[f"scipy.special.{n}"] = Entry(f"scipy.special.{n}", rule, False)
        globals()[n] = impl


def _def1(name: str, deriv: Callable[[Any, Any], Any], rule: str, *aliases: str) -> None:
    _register(name, unary(name, _lazy(name), deriv, rule, prefix="scipy.special"), rule, *aliases)


def _def2(
    name: str, dx: Callable[[Any, Any, Any], Any], dy: Callable[[Any, Any, Any], Any], rule: str
) -> None:
    _register(name, binary(name, _lazy(name), dx, dy, rule, prefix="scipy.special"), rule)


_SQRT_PI = math.sqrt(math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _where_x(x: Any, value: Any) -> Any:
    """`value` where `x != 0`, else 0 (so that `0 · log 0` and `0 / 0` give 0, as `xlogy` does)."""
    x = np.asarray(plain_value(x), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x != 0, value, 0.0)


_def1("expit", lambda x, ans: ans * (1.0 - ans), "g·expit(x)·(1 - expit(x))")
_def1("logit", lambda x, ans: 1.0 / (x * (1.0 - x)), "g/(x(1-x))")
_def1("log_expit", lambda x, ans: _sc().expit(-x), "g·expit(-x)")
_def1("gammaln", lambda x, ans: _sc().digamma(x), "g·digamma(x)")


def _polygamma_forward(x: Any, *, n: int) -> Any:
    return _sc().polygamma(n, x)


# polygamma(n, x) as a primitive of x (scipy's own converts its arguments with np.asarray),
# so that psi's derivative is differentiable in turn
_polygamma: Primitive = defvjp(
    "polygamma", _polygamma_forward, lambda g, ans, x, *, n: g * _polygamma(x, n=n + 1)
)
_polygamma.name = "scipy.special.polygamma"

_def1("psi", lambda x, ans: _polygamma(x, n=1), "g·polygamma(1, x)", "digamma")
_def1("erf", lambda x, ans: (2.0 / _SQRT_PI) * np.exp(-np.square(x)), "g·2/√π·exp(-x²)")
_def1("erfc", lambda x, ans: (-2.0 / _SQRT_PI) * np.exp(-np.square(x)), "-g·2/√π·exp(-x²)")
_def1("erfinv", lambda x, ans: (_SQRT_PI / 2.0) * np.exp(np.square(ans)), "g·√π/2·exp(ans²)")
_def1("erfcinv", lambda x, ans: (-_SQRT_PI / 2.0) * np.exp(np.square(ans)), "-g·√π/2·exp(ans²)")
_def1(
    "ndtr",
    lambda x, ans: np.exp(-0.5 * np.square(x) - _LOG_SQRT_2PI),
    "g·φ(x) (the normal density)",
)
_def1(
    "log_ndtr",
    lambda x, ans: np.exp(-0.5 * np.square(x) - _LOG_SQRT_2PI - ans),
    "g·φ(x)/Φ(x), as exp(-x²/2 - log√(2π) - ans) (stable in the lower tail)",
)
_def1("ndtri", lambda x, ans: np.exp(0.5 * np.square(ans) + _LOG_SQRT_2PI), "g/φ(ans)")


def _xlogy_dx(x: Any, y: Any, ans: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(y)


def _xlogy_dy(x: Any, y: Any, ans: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where_x(x, x / y)


def _xlog1py_dx(x: Any, y: Any, ans: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(y)


def _xlog1py_dy(x: Any, y: Any, ans: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where_x(x, x / (1.0 + y))


_def2("xlogy", _xlogy_dx, _xlogy_dy, "(g·log y, g·x/y (0 where x = 0)), unbroadcast")
_def2("xlog1py", _xlog1py_dx, _xlog1py_dy, "(g·log1p(y), g·x/(1+y) (0 where x = 0)), unbroadcast")

expit: Callable[..., Any]
logit: Callable[..., Any]
log_expit: Callable[..., Any]
gammaln: Callable[..., Any]
digamma: Callable[..., Any]
psi: Callable[..., Any]
erf: Callable[..., Any]
erfc: Callable[..., Any]
erfinv: Callable[..., Any]
erfcinv: Callable[..., Any]
ndtr: Callable[..., Any]
log_ndtr: Callable[..., Any]
ndtri: Callable[..., Any]
xlogy: Callable[..., Any]
xlog1py: Callable[..., Any]


# ---- logsumexp, softmax, log_softmax with scipy's signatures -------------------------------


def _shifted(x: Any, axes: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """(max over `axes` kept as 1s, with non-finite maxima replaced by 0; exp(x - max); its
    sum over `axes`, kept)."""
    x = np.asarray(x, dtype=np.float64)
    top = (
        np.max(x, axis=axes, keepdims=True)
        if x.size
        else np.zeros([1 if i in axes else n for i, n in enumerate(x.shape)])
    )
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(x - top)
    return top, e, np.sum(e, axis=axes, keepdims=True)


def _lse_forward(x: Any, *, axes: tuple[int, ...], keepdims: bool) -> Any:
    top, _, total = _shifted(x, axes)
    with np.errstate(divide="ignore"):
        out = np.log(total) + top
    return out if keepdims else np.squeeze(out, axis=axes)


def _lse_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], keepdims: bool) -> Any:
    g = float_array(g)
    if not keepdims:
        g = np.expand_dims(g, axes)
    if isinstance(x, BVar):  # a nested run: softmax as a differentiable primitive
        return g * _softmax(x, axes=axes)
    _, e, total = _shifted(x, axes)
    return g * (e / total)


_logsumexp = defvjp("logsumexp", _lse_forward, _lse_vjp)
_logsumexp.name = "scipy.special.logsumexp"


def _softmax_forward(x: Any, *, axes: tuple[int, ...]) -> Any:
    _, e, total = _shifted(x, axes)
    with np.errstate(invalid="ignore"):
        # a +inf entry makes the whole slice NaN, as in scipy (inf/inf alone would leave the
        # finite entries at 0); finite inputs have total <= n after the shift
        return np.where(np.isfinite(total), e / total, np.nan)


def _softmax_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...]) -> Any:
    g = float_array(g)
    return ans * (g - np.sum(g * ans, axis=axes, keepdims=True))


_softmax = defvjp("softmax", _softmax_forward, _softmax_vjp)
_softmax.name = "scipy.special.softmax"


def _log_softmax_forward(x: Any, *, axes: tuple[int, ...]) -> Any:
    top, _, total = _shifted(x, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.asarray(x, dtype=np.float64) - top) - np.log(total)


def _log_softmax_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...]) -> Any:
    g = float_array(g)
    if isinstance(x, BVar):  # a nested run: softmax as a differentiable primitive
        return g - _softmax(x, axes=axes) * np.sum(g, axis=axes, keepdims=True)
    _, e, total = _shifted(x, axes)
    return g - (e / total) * np.sum(g, axis=axes, keepdims=True)


_log_softmax = defvjp("log_softmax", _log_softmax_forward, _log_softmax_vjp)
_log_softmax.name = "scipy.special.log_softmax"


def _axes(fn: str, x: Any, axis: Any) -> tuple[int, ...]:
    return normalize_axis(fn, axis, np.ndim(plain_value(x)))


def logsumexp(
    a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False
) -> Any:
    """scipy.special.logsumexp on BVars: log(sum(exp(a), axis)), max-shifted. Gradient:
    g·softmax(a) over `axis`. (`b=` and `return_sign=` are not supported.)"""
    if b is not None or return_sign:
        raise TypeError(
            "scipy.special.logsumexp: the arguments b= and return_sign= are not supported on BVars"
        )
    return _logsumexp(a, axes=_axes("logsumexp", a, axis), keepdims=bool(keepdims))


def softmax(x: Any, axis: Any = None) -> Any:
    """scipy.special.softmax on BVars: exp(x)/sum(exp(x), axis) (`axis=None`: every axis).
    Gradient: s·(g - sum(g·s, axis))."""
    return _softmax(x, axes=_axes("softmax", x, axis))


def log_softmax(x: Any, axis: Any = None) -> Any:
    """scipy.special.log_softmax on BVars: x - logsumexp(x, axis, keepdims=True) (`axis=None`:
    every axis). Gradient: g - softmax(x)·sum(g, axis)."""
    return _log_softmax(x, axes=_axes("log_softmax", x, axis))


for _name in ("logsumexp", "softmax", "log_softmax"):
    TABLE[f"scipy.special.{_name}"] = Entry(
        f"scipy.special.{_name}",
        "use bprop.numpy.special."
        + _name
        + " (scipy's own converts BVars with np.asarray: TypeError)",
        False,
    )
