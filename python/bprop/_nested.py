"""The native kernels as Python-level ops, for nested runs.

A run started while another is recording on the same thread (`bp.grad_bp(f, x)` inside the
function of an outer `bp.grad_bp`) is *nested* in it: the values of its BVars are BVars of the
enclosing run, and its reverse sweep must itself be recorded on the enclosing tape, so that the
inner gradient can be differentiated again. The Rust kernels cannot compute on BVars, so on a
nested tape every op is a Python-level op whose forward applies the same kernel to the values
(recording on the enclosing tape) and whose pullback is written with kernels too, hence is
differentiable in turn, to any depth. Scalar math takes the generic path (`bprop._generic`),
numpy functions the registry; this module covers the kernels the extension calls directly
(`_core.sum`, `matmul`, `reshape`, ...), through the `nested_kernel` hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _core
from ._core import BVar
from .errors import NoGradientError
from .numpy._registry import Primitive, plain_value

__all__ = ["forward", "kernel"]


# Shapes read on the plain values: `np.shape` of a BVar would go through numpy's dispatch.
def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(plain_value(x))


def _ndim(x: Any) -> int:
    return np.ndim(plain_value(x))


def _spread(g: Any, shape: tuple[int, ...], axis: int | None) -> Any:
    """The gradient `g` of a sum of an array of `shape` over `axis` (None: all), spread back over
    the summed axis, as a product with ones (differentiable in `g`)."""
    ones = np.ones(shape)
    if axis is None or _ndim(g) == 0:
        return g * ones
    kept = list(shape)
    kept[axis % len(shape)] = 1
    return _core.reshape(g, kept) * ones


def _count(shape: tuple[int, ...], axis: int | None) -> int:
    return int(np.prod(shape)) if axis is None else shape[axis % len(shape)]


def _sum_vjp(g: Any, ans: Any, a: Any, *, axis: int | None) -> Any:
    return _spread(g, _shape(a), axis)


def _mean_vjp(g: Any, ans: Any, a: Any, *, axis: int | None) -> Any:
    shape = _shape(a)
    return _spread(g, shape, axis) / _count(shape, axis)


def _extremum_vjp(pick: Callable[..., Any]) -> Callable[..., Any]:
    """The pullback of `max`/`min` (the kernels' rule): the gradient goes to the elements equal to
    the extremum, shared equally at a tie, to the NaNs where one propagated."""

    def vjp(g: Any, ans: Any, a: Any, *, axis: int | None) -> Any:
        av = np.asarray(plain_value(a), dtype=np.float64)
        m = pick(av, axis=axis, keepdims=True)
        hit = (av == m) | (np.isnan(av) & np.isnan(m))
        share = hit / hit.sum(axis=axis, keepdims=True)
        if axis is None or _ndim(g) == 0:
            return g * share
        kept = list(av.shape)
        kept[axis % av.ndim] = 1
        return _core.reshape(g, kept) * share

    return vjp


def _outer(u: Any, v: Any) -> Any:
    return _core.reshape(u, [-1, 1]) * _core.reshape(v, [1, -1])


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = _ndim(a), _ndim(b)
    if na == 1 and nb == 1:
        return g * b
    if nb == 1:  # (m, k) @ (k,) -> (m,)
        return _outer(g, b)
    if na == 1:  # (k,) @ (k, n) -> (n,)
        return _core.matmul(b, g)
    return _core.matmul(g, _core.transpose(b))


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = _ndim(a), _ndim(b)
    if na == 1 and nb == 1:
        return g * a
    if na == 1:  # (k,) @ (k, n) -> (n,)
        return _outer(a, g)
    return _core.matmul(_core.transpose(a), g)


def _log_softmax(z: Any) -> Any:
    """log_softmax over the last axis, shifted by the (constant) row maximum."""
    m = np.max(plain_value(z), axis=-1, keepdims=True)
    s = z - np.where(np.isfinite(m), m, 0.0)
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def _rows(z: Any) -> int:
    return 1 if _ndim(z) == 1 else int(_shape(z)[0])


def _xent_vjp_z(g: Any, ans: Any, z: Any, t: Any) -> Any:
    p = np.exp(_log_softmax(z))
    return g * (p * np.sum(t, axis=-1, keepdims=True) - t) / _rows(z)


def _xent_vjp_t(g: Any, ans: Any, z: Any, t: Any) -> Any:
    return -g * _log_softmax(z) / _rows(z)


def defvjp(name: str, forward: Callable[..., Any], *vjps: Callable[..., Any]) -> Primitive:
    """A kernel as a primitive whose forward is the kernel itself, run on the enclosing run's
    BVars: it records a native node there (a Python one only if that run is nested too)."""
    return Primitive(name, forward, vjps, bvar_forward=True)


_KERNELS: dict[str, tuple[Primitive, tuple[str, ...]]] = {
    "sum": (defvjp("sum", lambda a, *, axis: _core.sum(a, axis), _sum_vjp), ("axis",)),
    "mean": (defvjp("mean", lambda a, *, axis: _core.mean(a, axis), _mean_vjp), ("axis",)),
    "max": (
        defvjp("max", lambda a, *, axis: _core.max(a, axis), _extremum_vjp(np.max)),
        ("axis",),
    ),
    "min": (
        defvjp("min", lambda a, *, axis: _core.min(a, axis), _extremum_vjp(np.min)),
        ("axis",),
    ),
    "reshape": (
        defvjp(
            "reshape",
            lambda a, *, shape: _core.reshape(a, shape),
            lambda g, ans, a, *, shape: _core.reshape(g, list(_shape(a))),
        ),
        ("shape",),
    ),
    "transpose": (
        defvjp("transpose", _core.transpose, lambda g, ans, a: _core.transpose(g)),
        (),
    ),
    "matmul": (defvjp("matmul", _core.matmul, _matmul_vjp_a, _matmul_vjp_b), ()),
    "softmax_cross_entropy": (
        defvjp("softmax_cross_entropy", _core.softmax_cross_entropy, _xent_vjp_z, _xent_vjp_t),
        (),
    ),
}


def kernel(name: str, args: tuple[Any, ...], params: tuple[Any, ...]) -> Any:
    """The extension's kernel `name` applied to a nested run's BVars (the `nested_kernel` hook)."""
    prim, names = _KERNELS[name]
    return prim(*args, **dict(zip(names, params)))


# ---- custom ops --------------------------------------------------------------------------


def _op_name(op: Any) -> str:
    return str(getattr(op, "name", None) or repr(op))


class _Opaque:
    """The enclosing run's node holding a gradient that an op's pullback computed on plain
    values: right as a value, but with no derivative of its own."""

    def __init__(self, op: Any) -> None:
        self.op = _op_name(op)
        self.name = f"{self.op} (its gradient, computed on plain values)"

    def refuse(self, _g: Any) -> Any:
        raise NoGradientError(
            f"{self.op}: a second derivative reached this op, whose "
            "pullback computes on plain values (its code cannot run on BVars), so its gradient "
            "cannot be differentiated; write the forward and pullback with numpy operations on "
            "the op's arguments (they are then BVars of the enclosing run in a nested run)"
        )


def _with_refusing_derivative(op: Any, g: Any, deps: tuple[BVar[Any], ...]) -> Any:
    """The plain gradient `g` as a BVar of the enclosing run depending on `deps`, whose own
    pullback raises (a second derivative through it would silently be missing terms)."""
    if g is None or not deps:
        return g
    marker = _Opaque(op)
    return _core.lift_custom(marker, lambda *_: (g, marker.refuse), False, deps)


def _plain_pullback(
    op: Any, fwd: Callable[..., Any], bare: bool, values: tuple[Any, ...]
) -> Callable[[Any], Any]:
    """`op`'s pullback computed on plain values, its gradients marked as not differentiable."""

    def pullback(d: Any) -> Any:
        _, plain = fwd(*(plain_value(v) for v in values))
        grads = plain(plain_value(d))
        deps = tuple(x for x in (d, *values) if isinstance(x, BVar) and not x.is_constant)
        if bare:
            return _with_refusing_derivative(op, grads, deps)
        return tuple(_with_refusing_derivative(op, g, deps) for g in grads)

    return pullback


def forward(
    op: Any, fwd: Callable[..., Any], bare: bool, values: tuple[Any, ...]
) -> tuple[Any, Callable[[Any], Any]]:
    """An op's forward on a nested run's values (the `nested_forward` hook), which are BVars of
    the enclosing run (or plain constants).

    Code written with numpy on its arguments computes on those BVars: its value and its
    pullback's gradients are BVars of the enclosing run, differentiable again. Code that cannot
    (it converts its argument to a plain array, calls a library numpy does not dispatch, ...)
    raises a TypeError there; then a user Op is applied one level up instead (so its value still
    carries its first derivative through the enclosing run), and its pullback runs on plain
    values, with gradients that raise `NoGradientError` naming the op if a second derivative
    reaches them. A pullback that fails on BVars falls back the same way.
    """
    from .op import Op

    try:
        y, pullback = fwd(*values)
    except TypeError:
        if not isinstance(op, Op):
            raise
        fwd(*(plain_value(v) for v in values))  # an error of the op itself is raised here
        return op(*values), _plain_pullback(op, fwd, bare, values)

    def guarded(d: Any) -> Any:
        try:
            return pullback(d)
        except TypeError:
            return _plain_pullback(op, fwd, bare, values)(d)

    return y, guarded
