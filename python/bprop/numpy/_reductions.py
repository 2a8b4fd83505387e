"""Reductions and scans on BVars: `sum`, `mean`, `prod`, `max`/`min` (`amax`/`amin`), `var`,
`std`, `ptp`, `average`, `nansum`, `nanmean`, `cumsum`, `cumprod`, with numpy's signatures
(`axis` None, int or tuple, negative axes, `keepdims`, `ddof`), and the ndarray methods of the
same names. `np.add.reduce`, `np.multiply.reduce`, `np.maximum.reduce`, `np.minimum.reduce`,
`np.add.accumulate` and `np.multiply.accumulate` reach these through `__array_ufunc__`.

* `sum` and `mean` run on the native kernels (one node per reduced axis, plus a native reshape
  for `keepdims`): they are the hot path of numpy-style model code.
* `prod` and `cumprod` have exact gradients with zeros in the input: no division, the
  gradient of each element is the product of the others (prefix and suffix products).
* `max`/`min` split the gradient evenly among tied extrema along the reduced axes.
* `std` gives a zero gradient where the standard deviation is zero (numpy's value there is 0;
  `std` is convex and minimal there, so 0 is a subgradient; torch does the same).

Arguments bprop does not support on BVars (`out=`, `where=`, `initial=`, a `dtype` other than
float64, `var(mean=...)`) raise `TypeError`; bad axes raise numpy's `AxisError`/`ValueError`.
Called with no BVar, every function here is numpy's own call.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .. import _core
from .._core import BVar
from ._registry import (
    check_float_dtype,
    defvjp,
    float_array,
    implements,
    method,
    plain_value,
    refuse,
)

__all__ = [
    "amax",
    "amin",
    "average",
    "cumprod",
    "cumsum",
    "max",
    "mean",
    "min",
    "nanmean",
    "nansum",
    "prod",
    "ptp",
    "std",
    "sum",
    "var",
]

_NoValue: Any = getattr(np, "_NoValue", None)
_np: Any = np  # numpy untyped, for the plain calls that pass numpy's arguments through

# ---- axis helpers ----------------------------------------------------------------------------


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(plain_value(x)))


def _keep(keepdims: Any) -> bool:
    return False if keepdims is _NoValue else bool(keepdims)


def _axes(axis: Any, ndim: int, *, ufunc_like: bool) -> tuple[int, ...]:
    """`axis` as a sorted tuple of non-negative axes, validated as numpy does (`AxisError` out
    of range, `ValueError` for a repeated axis, `TypeError` for a non-integer). numpy's
    ufunc-based reductions (`sum`, `prod`, `max`, `min`) also accept the integer axis 0 or -1
    on a 0-d array."""
    if axis is None:
        return tuple(range(ndim))
    # numpy's reductions take an int or a tuple of ints only: not a bool, list or array (which
    # `normalize_axis_tuple` would accept, reading `True` as axis 1)
    for a in axis if isinstance(axis, tuple) else (axis,):
        if isinstance(a, (bool, np.bool_)) or not hasattr(a, "__index__") or np.ndim(a) != 0:
            raise TypeError(f"an integer is required for the axis, got {a!r}")
    if ndim == 0 and ufunc_like and not isinstance(axis, tuple) and operator.index(axis) in (0, -1):
        return ()
    try:
        return tuple(sorted(normalize_axis_tuple(axis, ndim)))
    except OverflowError:  # an axis beyond a C int: out of range, a ValueError as numpy's own
        msg = f"axis {axis!r} is out of bounds for an array of dimension {ndim}"
        raise np.exceptions.AxisError(msg) from None


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return math.prod(shape[i] for i in axes)


def _expand(g: Any, shape: tuple[int, ...], axes: tuple[int, ...]) -> Any:
    """A reduction's cotangent reshaped to keepdims form (broadcastable against the input)."""
    return np.reshape(float_array(g), _kept_shape(shape, axes))


def _checks(fn: str, *, dtype: Any = None, **refused: Any) -> None:
    refuse(fn, **refused)
    check_float_dtype(fn, dtype)


# ---- sum and mean: native kernels --------------------------------------------------------------


def _native_reduce(kernel: Any, a: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Reduce `a` over `axes` with a native one-axis kernel (`_core.sum`/`_core.mean`)."""
    shape = _shape(a)
    if len(axes) == len(shape) and not keepdims:  # a full reduction, to a float
        return kernel(a, None)
    if not axes:  # nothing to reduce (axis=(), or a 0-d input kept 0-d)
        return a
    if len(axes) == len(shape):
        out = kernel(a, None)
    else:
        out = a
        for ax in reversed(axes):  # from the last, so that the remaining indices stay valid
            out = kernel(out, ax)
    if keepdims:
        out = _core.reshape(out, list(_kept_shape(shape, axes)))
    return out


@implements(np.sum, rule="g broadcast back over the reduced axes", native=True)
def sum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """numpy.sum on BVars (native kernel)."""
    if not isinstance(a, BVar):
        return np.sum(
            a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where
        )
    _checks("sum", dtype=dtype, out=out, initial=initial, where=where)
    return _native_reduce(
        _core.sum, a, _axes(axis, len(_shape(a)), ufunc_like=True), _keep(keepdims)
    )


@implements(np.mean, rule="g/n broadcast back over the reduced axes", native=True)
def mean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
) -> Any:
    """numpy.mean on BVars (native kernel)."""
    if not isinstance(a, BVar):
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)
    _checks("mean", dtype=dtype, out=out, where=where)
    axes = _axes(axis, len(_shape(a)), ufunc_like=False)
    return _native_reduce(_core.mean, a, axes, _keep(keepdims))


# ---- prod -------------------------------------------------------------------------------------


def _others_product(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """For each element, the product of the other elements of its slice along `axes` (prefix
    times suffix products: exact with zeros, no division)."""
    keep = [i for i in range(x.ndim) if i not in axes]
    perm = keep + list(axes)
    xt = np.transpose(x, perm)
    lead: tuple[int, ...] = tuple(xt.shape[: len(keep)])
    flat: np.ndarray = xt.reshape(lead + (_count(x.shape, axes),))
    left = np.ones_like(flat)
    right = np.ones_like(flat)
    if flat.shape[-1] > 1:
        np.cumprod(flat[..., :-1], axis=-1, out=left[..., 1:])
        right[..., :-1] = np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1]
    return np.transpose((left * right).reshape(xt.shape), np.argsort(perm))


def _others_product_bvar(x: Any, axes: tuple[int, ...]) -> Any:
    """`_others_product` of a nested run's BVar, with differentiable operations (the exclusive
    prefix and suffix products are `cumprod`s, whose pullback is differentiable too)."""
    shape = np.shape(plain_value(x))
    if _count(shape, axes) <= 1:
        return np.ones(shape)
    keep = [i for i in range(len(shape)) if i not in axes]
    perm = keep + list(axes)
    xt = np.transpose(x, perm)
    lead = tuple(shape[i] for i in keep)
    flat = np.reshape(xt, lead + (_count(shape, axes),))
    ones = np.ones(lead + (1,))
    left = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
    suffix = np.cumprod(np.flip(flat[..., 1:], -1), axis=-1)
    right = np.concatenate([np.flip(suffix, -1), ones], axis=-1)
    return np.transpose(np.reshape(left * right, np.shape(plain_value(xt))), np.argsort(perm))


def _prod_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], keepdims: bool) -> Any:
    if isinstance(x, BVar):
        return _expand(g, np.shape(plain_value(x)), axes) * _others_product_bvar(x, axes)
    x = np.asarray(x)
    return _expand(g, x.shape, axes) * _others_product(x, axes)


_prod = defvjp(
    "prod", lambda x, *, axes, keepdims: np.prod(x, axis=axes, keepdims=keepdims), _prod_vjp
)


@implements(np.prod, rule="g · product of the other elements (exact with zeros)")
def prod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """numpy.prod on BVars."""
    if not isinstance(a, BVar):
        return np.prod(
            a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where
        )
    _checks("prod", dtype=dtype, out=out, initial=initial, where=where)
    axes = _axes(axis, len(_shape(a)), ufunc_like=True)
    return _prod(a, axes=axes, keepdims=_keep(keepdims))


# ---- max and min ------------------------------------------------------------------------------


def _extremum_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], keepdims: bool) -> Any:
    # where the extrema are is piecewise constant: computed on plain values
    x = np.asarray(plain_value(x))
    m = _expand(plain_value(ans), x.shape, axes)
    hit = (x == m) | (np.isnan(x) & np.isnan(m))
    count = hit.sum(axis=axes, keepdims=True)
    return _expand(g, x.shape, axes) * hit / count


_amax = defvjp(
    "max", lambda x, *, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims), _extremum_vjp
)
_amin = defvjp(
    "min", lambda x, *, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims), _extremum_vjp
)


def _extremum(kernel: Any, prim: Any, a: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """max/min over `axes`: the native kernel for one axis or all of them (the hot case,
    `np.max(z, axis=1, keepdims=True)`), the primitive for several axes, 0-d inputs and empty
    reductions (numpy's own error)."""
    shape = _shape(a)
    if not shape or len(axes) not in (1, len(shape)) or _count(shape, axes) == 0:
        return prim(a, axes=axes, keepdims=keepdims)
    out = kernel(a, axes[0] if len(axes) == 1 and len(shape) > 1 else None)
    return _core.reshape(out, list(_kept_shape(shape, axes))) if keepdims else out


@implements(np.max, np.amax, rule="g split evenly among the maxima", native=True)
def max(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """numpy.max on BVars."""
    if not isinstance(a, BVar):
        return np.max(a, axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)
    _checks("max", out=out, initial=initial, where=where)
    return _extremum(
        _core.max, _amax, a, _axes(axis, len(_shape(a)), ufunc_like=True), _keep(keepdims)
    )


@implements(np.min, np.amin, rule="g split evenly among the minima", native=True)
def min(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """numpy.min on BVars."""
    if not isinstance(a, BVar):
        return np.min(a, axis=axis, out=out, keepdims=keepdims, initial=initial, where=where)
    _checks("min", out=out, initial=initial, where=where)
    return _extremum(
        _core.min, _amin, a, _axes(axis, len(_shape(a)), ufunc_like=True), _keep(keepdims)
    )


amax = max
amin = min


@implements(np.ptp, rule="max − min (gradients of both)")
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NoValue) -> Any:
    """numpy.ptp on BVars: max − min."""
    if not isinstance(a, BVar):
        return np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    _checks("ptp", out=out)
    return _core.sub(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


# ---- var and std ------------------------------------------------------------------------------


def _centered(x: Any, axes: tuple[int, ...]) -> Any:
    x = float_array(x)
    return x - np.mean(x, axis=axes, keepdims=True)


def _var_vjp(
    g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], ddof: float, keepdims: bool
) -> Any:
    shape = np.shape(plain_value(x))
    return _expand(g, shape, axes) * (2.0 / (_count(shape, axes) - ddof)) * _centered(x, axes)


def _std_vjp(
    g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], ddof: float, keepdims: bool
) -> Any:
    shape = np.shape(plain_value(x))
    s = _expand(ans, shape, axes)
    n = _count(shape, axes) - ddof
    if any(isinstance(v, BVar) for v in (g, s, x)):  # a nested run: differentiable operations
        zero = plain_value(s) == 0
        scale = np.where(zero, 0.0, _expand(g, shape, axes) / np.where(zero, 1.0, s * n))
    else:
        scale = np.divide(_expand(g, shape, axes), s * n, out=np.zeros(s.shape), where=s != 0)
    return scale * _centered(x, axes)


_var = defvjp(
    "var",
    lambda x, *, axes, ddof, keepdims: np.var(x, axis=axes, ddof=ddof, keepdims=keepdims),
    _var_vjp,
)
_std = defvjp(
    "std",
    lambda x, *, axes, ddof, keepdims: np.std(x, axis=axes, ddof=ddof, keepdims=keepdims),
    _std_vjp,
)


def _ddof(fn: str, ddof: Any, correction: Any) -> float:
    if correction is not _NoValue:
        if ddof != 0:
            raise ValueError(f"numpy.{fn}: ddof and correction can't be provided simultaneously.")
        ddof = correction
    return float(ddof)


@implements(np.var, rule="g · 2(x − mean)/(n − ddof)")
def var(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
    mean: Any = _NoValue,
    correction: Any = _NoValue,
) -> Any:
    """numpy.var on BVars."""
    if not isinstance(a, BVar):
        return np.var(
            a,
            axis=axis,
            dtype=dtype,
            out=out,
            ddof=ddof,
            keepdims=keepdims,
            where=where,
            mean=mean,
            correction=correction,
        )
    _checks("var", dtype=dtype, out=out, where=where, mean=mean)
    axes = _axes(axis, len(_shape(a)), ufunc_like=False)
    return _var(a, axes=axes, ddof=_ddof("var", ddof, correction), keepdims=_keep(keepdims))


@implements(np.std, rule="g · (x − mean)/((n − ddof)·std); 0 where std = 0")
def std(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
    mean: Any = _NoValue,
    correction: Any = _NoValue,
) -> Any:
    """numpy.std on BVars (zero gradient where the deviation is zero)."""
    if not isinstance(a, BVar):
        return np.std(
            a,
            axis=axis,
            dtype=dtype,
            out=out,
            ddof=ddof,
            keepdims=keepdims,
            where=where,
            mean=mean,
            correction=correction,
        )
    _checks("std", dtype=dtype, out=out, where=where, mean=mean)
    axes = _axes(axis, len(_shape(a)), ufunc_like=False)
    return _std(a, axes=axes, ddof=_ddof("std", ddof, correction), keepdims=_keep(keepdims))


# ---- average, nansum, nanmean -------------------------------------------------------------------


@implements(np.average, rule="sum(a·w)/sum(w) (gradients for a and weights)")
def average(
    a: Any,
    axis: Any = None,
    weights: Any = None,
    returned: bool = False,
    *,
    keepdims: Any = _NoValue,
) -> Any:
    """numpy.average on BVars (`a` and `weights` differentiable)."""
    if not isinstance(a, BVar) and not isinstance(weights, BVar):
        return _np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    if not isinstance(a, BVar):
        a = np.asarray(a, dtype=np.float64)
    shape = _shape(a)
    if axis is not None and not isinstance(axis, tuple):  # numpy's average also takes a list
        axis = tuple(normalize_axis_tuple(axis, len(shape)))
    _axes(axis, len(shape), ufunc_like=False)  # numpy's axis errors, before any work
    keep = _keep(keepdims)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keep)
        scl: Any = np.float64(math.prod(shape) / math.prod(_shape(avg)))
    else:
        if not isinstance(weights, BVar):
            weights = np.asarray(weights, dtype=np.float64)
        wshape = _shape(weights)
        w = weights
        if wshape != shape:
            if axis is None:
                raise TypeError(
                    "numpy.average: axis must be specified when shapes of a and weights differ."
                )
            given = normalize_axis_tuple(axis, len(shape))
            if wshape != tuple(shape[i] for i in given):
                raise ValueError(
                    "numpy.average: shape of weights must be consistent with shape of a along "
                    "specified axis."
                )
            # put the weights' axes where `given` says, with length-1 axes elsewhere
            order = np.argsort(given)
            w = _transpose_axes(w, tuple(int(i) for i in order))
            w = _core.reshape(w, [n if i in given else 1 for i, n in enumerate(shape)])
        full = w if _shape(w) == shape else _core.mul(w, np.ones(shape))  # count broadcast weights
        scl = sum(full, axis=axis, keepdims=keep)
        if np.any(np.asarray(plain_value(scl)) == 0.0):
            raise ZeroDivisionError("numpy.average: weights sum to zero, can't be normalized")
        avg = _core.div(sum(_core.mul(a, w), axis=axis, keepdims=keep), scl)
    if not returned:
        return avg
    if _shape(scl) != _shape(avg):
        scl = _core.mul(scl, np.ones(_shape(avg)))
    return avg, scl


def _transpose_axes(x: Any, perm: tuple[int, ...]) -> Any:
    if perm == tuple(range(len(perm))):
        return x
    from ._shape import transpose

    return transpose(x, perm)


def _nansum_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], keepdims: bool) -> Any:
    x = np.asarray(plain_value(x))
    return _expand(g, x.shape, axes) * ~np.isnan(x)


def _nanmean_vjp(g: Any, ans: Any, x: Any, *, axes: tuple[int, ...], keepdims: bool) -> Any:
    x = np.asarray(plain_value(x))
    ok = ~np.isnan(x)
    count = ok.sum(axis=axes, keepdims=True)
    return _expand(g, x.shape, axes) * np.divide(ok, count, out=np.zeros(x.shape), where=count > 0)


_nansum = defvjp(
    "nansum", lambda x, *, axes, keepdims: np.nansum(x, axis=axes, keepdims=keepdims), _nansum_vjp
)
_nanmean = defvjp(
    "nanmean",
    lambda x, *, axes, keepdims: np.nanmean(x, axis=axes, keepdims=keepdims),
    _nanmean_vjp,
)


@implements(np.nansum, rule="g where x is not NaN, else 0")
def nansum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    initial: Any = _NoValue,
    where: Any = _NoValue,
) -> Any:
    """numpy.nansum on BVars."""
    if not isinstance(a, BVar):
        return np.nansum(
            a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial, where=where
        )
    _checks("nansum", dtype=dtype, out=out, initial=initial, where=where)
    return _nansum(a, axes=_axes(axis, len(_shape(a)), ufunc_like=True), keepdims=_keep(keepdims))


@implements(np.nanmean, rule="g/count where x is not NaN, else 0")
def nanmean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = _NoValue,
    *,
    where: Any = _NoValue,
) -> Any:
    """numpy.nanmean on BVars."""
    if not isinstance(a, BVar):
        return np.nanmean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)
    _checks("nanmean", dtype=dtype, out=out, where=where)
    return _nanmean(a, axes=_axes(axis, len(_shape(a)), ufunc_like=False), keepdims=_keep(keepdims))


# ---- cumsum and cumprod -----------------------------------------------------------------------


def _scan_axis(axis: Any, shape: tuple[int, ...]) -> int | None:
    """numpy's scan axis: None (scan the flattened array) or a non-negative int."""
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError("an integer is required for the axis")
    if not shape:
        if operator.index(axis) not in (0, -1):
            raise np.exceptions.AxisError(operator.index(axis), 0)
        return None  # numpy scans a 0-d array as a 1-element vector
    return int(normalize_axis_index(operator.index(axis), len(shape)))


def _cumsum_vjp(g: Any, ans: Any, x: Any, *, axis: int | None) -> Any:
    g = float_array(g)
    ax = -1 if axis is None else axis
    back = np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)
    return np.reshape(back, np.shape(plain_value(x)))


def _scan_forward(g: Any, a: Any) -> np.ndarray:
    """The linear recurrence y_k = g_k + a_k · y_{k-1} along the last axis (y_0 = g_0)."""
    g = np.asarray(g, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    n = g.shape[-1]
    if g.ndim == 1:  # on Python floats: a loop over numpy scalars is slower
        gs, as_ = g.tolist(), a.tolist()
        out = gs[:1]
        for k in range(1, n):
            out.append(gs[k] + as_[k] * out[-1])
        return np.array(out, dtype=np.float64)
    y = np.empty(g.shape)
    # the scanned axis first: y[k] is then one contiguous row
    yt, gt, at = np.moveaxis(y, -1, 0), np.moveaxis(g, -1, 0), np.moveaxis(a, -1, 0)
    if n:
        yt[0] = gt[0]
    for k in range(1, n):
        yt[k] = gt[k] + at[k] * yt[k - 1]
    return y


def _edge(x: Any, fill: float) -> np.ndarray:
    """A plain slice of `fill`s to put before or after `x` along its last axis."""
    return np.full(np.shape(plain_value(x))[:-1] + (1,), fill)


def _reverse_scan(h: Any, a: Any) -> Any:
    """λ_k = h_k + a_{k+1} · λ_{k+1} (λ_{n-1} = h_{n-1}): the scan run backwards, which is its
    transpose in `h`."""
    next_a = np.concatenate([a[..., 1:], _edge(a, 0.0)], axis=-1)
    return np.flip(_scan(np.flip(h, -1), np.flip(next_a, -1)), -1)


def _scan_vjp_g(h: Any, y: Any, g: Any, a: Any) -> Any:
    return _reverse_scan(h, a)


def _scan_vjp_a(h: Any, y: Any, g: Any, a: Any) -> Any:
    previous_y = np.concatenate([_edge(y, 0.0), y[..., :-1]], axis=-1)
    return _reverse_scan(h, a) * previous_y


# a primitive whose pullback is written with itself: differentiable to any order, O(n) each
_scan = defvjp("linear_scan", _scan_forward, _scan_vjp_g, _scan_vjp_a)


def _cumprod_vjp(g: Any, ans: Any, x: Any, *, axis: int | None) -> Any:
    # y_i = x_0 ⋯ x_i, so dL/dx_k = (x_0 ⋯ x_{k-1}) · S_k with S_k = Σ_{i≥k} g_i x_{k+1} ⋯ x_i,
    # i.e. S_{n-1} = g_{n-1}, S_k = g_k + x_{k+1} S_{k+1}: exact with zeros, no division.
    if any(isinstance(v, BVar) for v in (g, ans, x)):
        return _cumprod_vjp_nested(g, ans, x, axis=axis)
    shape = np.shape(x)
    xa = np.ravel(x) if axis is None else np.moveaxis(np.asarray(x), axis, -1)
    ga = np.asarray(g) if axis is None else np.moveaxis(np.asarray(g), axis, -1)
    n = xa.shape[-1]
    left = np.ones_like(xa)
    if n > 1:
        np.cumprod(xa[..., :-1], axis=-1, out=left[..., 1:])
    s = np.empty_like(xa)
    if n:
        s[..., n - 1] = ga[..., n - 1]
    for k in range(n - 2, -1, -1):
        s[..., k] = ga[..., k] + xa[..., k + 1] * s[..., k + 1]
    out = left * s
    return out.reshape(shape) if axis is None else np.moveaxis(out, -1, axis)


def _cumprod_vjp_nested(g: Any, ans: Any, x: Any, *, axis: int | None) -> Any:
    """`_cumprod_vjp` with BVars (a nested run): the prefix products are `ans` shifted, and S is
    a reverse `_scan`, so the gradient is differentiable again."""
    shape = np.shape(plain_value(x))
    g, ans, x = float_array(g), float_array(ans), float_array(x)
    if axis is None:
        xa, ga, ya = np.ravel(x), g, ans
    else:
        xa, ga, ya = (np.moveaxis(v, axis, -1) for v in (x, g, ans))
    if np.shape(plain_value(xa))[-1] == 0:
        return np.zeros(shape)
    left = np.concatenate([_edge(ya, 1.0), ya[..., :-1]], axis=-1)
    out = left * _reverse_scan(ga, xa)
    return np.reshape(out, shape) if axis is None else np.moveaxis(out, -1, axis)


_cumsum = defvjp("cumsum", lambda x, *, axis: np.cumsum(x, axis=axis), _cumsum_vjp)
_cumprod = defvjp("cumprod", lambda x, *, axis: np.cumprod(x, axis=axis), _cumprod_vjp)


@implements(np.cumsum, rule="reversed cumulative sum of g")
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """numpy.cumsum on BVars."""
    if not isinstance(a, BVar):
        return np.cumsum(a, axis=axis, dtype=dtype, out=out)
    _checks("cumsum", dtype=dtype, out=out)
    return _cumsum(a, axis=_scan_axis(axis, _shape(a)))


@implements(np.cumprod, rule="Σ_{i≥k} g_i · ∏_{j≤i, j≠k} x_j (exact with zeros)")
def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """numpy.cumprod on BVars."""
    if not isinstance(a, BVar):
        return np.cumprod(a, axis=axis, dtype=dtype, out=out)
    _checks("cumprod", dtype=dtype, out=out)
    return _cumprod(a, axis=_scan_axis(axis, _shape(a)))


# ---- ndarray methods --------------------------------------------------------------------------

method("sum")(sum)
method("mean")(mean)
method("prod")(prod)
method("max")(max)
method("min")(min)
method("var")(var)
method("std")(std)
method("cumsum")(cumsum)
method("cumprod")(cumprod)
