"""Shape functions on BVars, with numpy's signatures: `reshape`, `ravel`, `transpose`,
`swapaxes`, `moveaxis`, `expand_dims`, `squeeze`, `atleast_1d/2d/3d`, `broadcast_to`, the joins
(`concatenate`, `stack`, `vstack`, `hstack`, `column_stack`, `dstack`), the splits (`split`,
`array_split`), `repeat`, `tile`, `flip`, `fliplr`, `flipud`, `roll`, `rot90`, `tril`, `triu`,
`diag`, `diagonal`, `trace` and `pad` (constant mode), and the ndarray methods `reshape`,
`ravel`, `flatten`, `transpose`, `swapaxes`, `squeeze`, `repeat`, `diagonal`, `trace`.

* Reshapes (`reshape`, `ravel`, `expand_dims`, `squeeze`, `atleast_*d`) and the full reversal
  of axes (`transpose(v)`, `v.T`) are native kernels; other axis permutations, and the rest,
  are primitives with numpy forwards and their adjoints as pullbacks.
* Joins accept lists mixing BVars and plain arrays (the plain ones are constants); `split` and
  `array_split` return lists of BVars that share one node.

Anything bprop does not support on BVars (`order` other than 'C', `out=`, a `dtype` other
than float64, `pad` modes other than 'constant') raises `TypeError`; bad axes and shapes raise
numpy's own errors. Called with no BVar, every function here is numpy's own call.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .. import _core
from .._core import BVar
from ._registry import (
    any_bvar,
    check_float_dtype,
    defvjp,
    defvjp_n,
    float_array,
    implements,
    method,
    multi_output,
    plain_value,
    refuse,
    unbroadcast,
)

__all__ = [
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_to",
    "column_stack",
    "concatenate",
    "diag",
    "diagonal",
    "dstack",
    "expand_dims",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "moveaxis",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "rot90",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "tile",
    "trace",
    "transpose",
    "tril",
    "triu",
    "vstack",
]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(plain_value(x)))


def _dummy(shape: tuple[int, ...]) -> np.ndarray:
    """A zero-stride array of `shape` (no memory): numpy's shape functions applied to it give
    the result's shape, and numpy's errors for bad arguments."""
    return np.broadcast_to(np.float64(0.0), shape)


def _reshaped(a: Any, shape: tuple[int, ...]) -> Any:
    """`a` with the same elements in `shape` (native reshape; `a` itself if nothing changes)."""
    return a if _shape(a) == tuple(shape) else _core.reshape(a, list(shape))


def _order(fn: str, order: Any) -> None:
    if order != "C":
        raise TypeError(f"numpy.{fn}: order={order!r} is not supported on BVars (only order='C')")


def _adjoint(name: str, forward: Callable[..., Any], adjoint: Callable[..., Any]) -> Any:
    """A linear primitive of one array: `adjoint(g, shape, **params)` is its transpose, written
    with numpy functions that also take a BVar `g` (in a nested run, where it must stay
    differentiable)."""
    return defvjp(
        name,
        forward,
        lambda g, ans, x, **params: adjoint(float_array(g), np.shape(plain_value(x)), **params),
    )


# ---- reshapes (native) ------------------------------------------------------------------------


def _shape_arg(shape: Any) -> list[int]:
    if isinstance(shape, (int, np.integer)):
        return [operator.index(shape)]
    return [operator.index(n) for n in shape]


@implements(np.reshape, rule="g reshaped back", native=True)
def reshape(a: Any, /, shape: Any, order: str = "C", *, copy: Any = None) -> Any:
    """numpy.reshape on BVars (native kernel)."""
    if not isinstance(a, BVar):
        return np.reshape(a, shape, order=order, copy=copy)  # type: ignore[call-overload]
    _order("reshape", order)
    return _core.reshape(a, _shape_arg(shape))


@method("reshape")
def _reshape_method(a: Any, *shape: Any, order: str = "C", copy: Any = None) -> Any:
    if not shape:
        raise TypeError("reshape() takes exactly 1 argument (0 given)")
    target = shape[0] if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)) else shape
    return reshape(a, target, order=order, copy=copy)


@implements(np.ravel, rule="g reshaped back", native=True)
def ravel(a: Any, order: str = "C") -> Any:
    """numpy.ravel on BVars (native reshape)."""
    if not isinstance(a, BVar):
        return np.ravel(a, order=order)  # type: ignore[call-overload]
    _order("ravel", order)
    return _reshaped(a, (int(np.prod(_shape(a))),))


method("ravel", "flatten")(ravel)


@implements(np.expand_dims, rule="g reshaped back", native=True)
def expand_dims(a: Any, axis: Any) -> Any:
    """numpy.expand_dims on BVars (native reshape)."""
    if not isinstance(a, BVar):
        return np.expand_dims(a, axis)
    return _core.reshape(a, list(np.expand_dims(_dummy(_shape(a)), axis).shape))


@implements(np.squeeze, rule="g reshaped back", native=True)
def squeeze(a: Any, axis: Any = None) -> Any:
    """numpy.squeeze on BVars (native reshape)."""
    if not isinstance(a, BVar):
        return np.squeeze(a, axis)
    return _reshaped(a, np.squeeze(_dummy(_shape(a)), axis).shape)


method("squeeze")(squeeze)


def _atleast(fn: Callable[..., Any], arys: tuple[Any, ...]) -> Any:
    if not arys:
        return fn()
    out = tuple(
        _reshaped(x, fn(_dummy(_shape(x))).shape) if isinstance(x, BVar) else fn(x) for x in arys
    )
    return out[0] if len(out) == 1 else out


@implements(np.atleast_1d, rule="g reshaped back", native=True)
def atleast_1d(*arys: Any) -> Any:
    """numpy.atleast_1d on BVars (native reshape)."""
    return _atleast(np.atleast_1d, arys)


@implements(np.atleast_2d, rule="g reshaped back", native=True)
def atleast_2d(*arys: Any) -> Any:
    """numpy.atleast_2d on BVars (native reshape)."""
    return _atleast(np.atleast_2d, arys)


@implements(np.atleast_3d, rule="g reshaped back", native=True)
def atleast_3d(*arys: Any) -> Any:
    """numpy.atleast_3d on BVars (native reshape)."""
    return _atleast(np.atleast_3d, arys)


# ---- permutations of axes ---------------------------------------------------------------------

_permute = _adjoint(
    "transpose",
    lambda x, *, axes: np.transpose(x, axes),
    lambda g, shape, *, axes: np.transpose(g, np.argsort(axes)),
)


def _permuted(a: Any, perm: Sequence[int]) -> Any:
    perm = tuple(perm)
    n = len(perm)
    if perm == tuple(range(n)):
        return a
    if perm == tuple(range(n - 1, -1, -1)):
        return _core.transpose(a)
    return _permute(a, axes=perm)


@implements(np.transpose, rule="g transposed back (native for the full reversal)", native=True)
def transpose(a: Any, axes: Any = None) -> Any:
    """numpy.transpose on BVars."""
    if not isinstance(a, BVar):
        return np.transpose(a, axes)
    if axes is None:
        return _core.transpose(a)
    nd = len(_shape(a))
    perm = normalize_axis_tuple(axes, nd, "axes") if len(tuple(axes)) == nd else None
    if perm is None:
        raise ValueError("axes don't match array")
    return _permuted(a, perm)


@method("transpose")
def _transpose_method(a: Any, *axes: Any) -> Any:
    if not axes or (len(axes) == 1 and axes[0] is None):
        return transpose(a)
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        return transpose(a, tuple(axes[0]))
    return transpose(a, axes)


@implements(np.swapaxes, rule="g with the axes swapped back")
def swapaxes(a: Any, axis1: Any, axis2: Any) -> Any:
    """numpy.swapaxes on BVars."""
    if not isinstance(a, BVar):
        return np.swapaxes(a, axis1, axis2)
    nd = len(_shape(a))
    i, j = (
        normalize_axis_index(operator.index(axis1), nd),
        normalize_axis_index(operator.index(axis2), nd),
    )
    perm = list(range(nd))
    perm[i], perm[j] = j, i
    return _permuted(a, perm)


method("swapaxes")(swapaxes)


@implements(np.moveaxis, rule="g with the axes moved back")
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """numpy.moveaxis on BVars."""
    if not isinstance(a, BVar):
        return np.moveaxis(a, source, destination)
    nd = len(_shape(a))
    src = normalize_axis_tuple(source, nd, "source")
    dst = normalize_axis_tuple(destination, nd, "destination")
    if len(src) != len(dst):
        raise ValueError(
            "`source` and `destination` arguments must have the same number of elements"
        )
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permuted(a, order)


# ---- broadcast_to -----------------------------------------------------------------------------

_broadcast = _adjoint(
    "broadcast_to",
    lambda x, *, shape: np.broadcast_to(x, shape),
    lambda g, xshape, *, shape: unbroadcast(g, xshape),
)


@implements(np.broadcast_to, rule="g summed over the broadcast axes")
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """numpy.broadcast_to on BVars."""
    if not isinstance(array, BVar):
        return np.broadcast_to(array, shape, subok=subok)
    shape = tuple(_shape_arg(shape))
    if _shape(array) == shape:
        return array
    return _broadcast(array, shape=shape)


# ---- joins ------------------------------------------------------------------------------------


def _join(
    name: str, forward: Callable[..., Any], layout: Callable[..., tuple[list[tuple[int, ...]], int]]
) -> Any:
    """A join of arrays: `forward(*xs, **params)` concatenates the arrays `layout(shapes,
    **params)` says (each argument's shape once promoted, and the axis) — the pullback splits
    `g` there and reshapes each piece to its argument's shape."""

    def vjp_all(g: Any, ans: Any, live: Sequence[bool], *xs: Any, **params: Any) -> list[Any]:
        shapes = [tuple(np.shape(plain_value(x))) for x in xs]
        promoted, axis = layout(shapes, **params)
        g = float_array(g)
        ndim = np.ndim(plain_value(g))
        ax = normalize_axis_index(axis, ndim)
        out: list[Any] = []
        start = 0
        where: list[Any] = [slice(None)] * ndim
        for p, s, on in zip(promoted, shapes, live):
            stop = start + p[ax]
            if on:  # a slice of g (a view: the tape copies what it keeps)
                where[ax] = slice(start, stop)
                out.append(np.reshape(g[tuple(where)], s))
            else:
                out.append(None)
            start = stop
        return out

    return defvjp_n(name, forward, vjp_all)


def _concat_layout(
    shapes: list[tuple[int, ...]], *, axis: int | None, **_: Any
) -> tuple[list[tuple[int, ...]], int]:
    if axis is None:
        return [(int(np.prod(s)),) for s in shapes], 0
    return shapes, axis


def _stack_layout(
    shapes: list[tuple[int, ...]], *, axis: int, **_: Any
) -> tuple[list[tuple[int, ...]], int]:
    ax = normalize_axis_index(axis, len(shapes[0]) + 1)
    return [s[:ax] + (1,) + s[ax:] for s in shapes], ax


def _promoted(
    fn: Callable[..., Any], axis: Callable[[list[tuple[int, ...]]], int]
) -> Callable[..., Any]:
    def layout(shapes: list[tuple[int, ...]], **_: Any) -> tuple[list[tuple[int, ...]], int]:
        promoted = [fn(_dummy(s)).shape for s in shapes]
        return promoted, axis(shapes)

    return layout


def _column(x: np.ndarray) -> np.ndarray:
    """column_stack's promotion: 0-d and 1-D arrays become columns."""
    return x if x.ndim >= 2 else x.reshape(-1, 1)


_concat_p = _join(
    "concatenate",
    lambda *xs, axis, casting: np.concatenate(xs, axis=axis, casting=casting),
    _concat_layout,
)
_stack_p = _join(
    "stack", lambda *xs, axis, casting: np.stack(xs, axis=axis, casting=casting), _stack_layout
)
_vstack_p = _join(
    "vstack",
    lambda *xs, casting: np.vstack(xs, casting=casting),
    _promoted(np.atleast_2d, lambda shapes: 0),
)
_hstack_p = _join(
    "hstack",
    lambda *xs, casting: np.hstack(xs, casting=casting),
    _promoted(np.atleast_1d, lambda shapes: 0 if len(shapes[0]) <= 1 else 1),
)
_column_stack_p = _join(
    "column_stack", lambda *xs: np.column_stack(xs), _promoted(_column, lambda shapes: 1)
)
_dstack_p = _join("dstack", lambda *xs: np.dstack(xs), _promoted(np.atleast_3d, lambda shapes: 2))


def _arrays(arrays: Any) -> list[Any]:
    """The arrays of a join: a sequence, or the rows of one array (as numpy iterates it)."""
    return list(arrays)


def _join_checks(fn: str, out: Any, dtype: Any) -> None:
    refuse(fn, out=out)
    check_float_dtype(fn, dtype)


@implements(np.concatenate, rule="g split along the axis")
def concatenate(
    arrays: Any, /, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind"
) -> Any:
    """numpy.concatenate on BVars (plain arrays in the list are constants)."""
    xs = _arrays(arrays)
    if not any_bvar(xs):
        return np.concatenate(xs, axis=axis, out=out, dtype=dtype, casting=casting)  # type: ignore[call-overload]
    _join_checks("concatenate", out, dtype)
    return _concat_p(*xs, axis=None if axis is None else operator.index(axis), casting=casting)


@implements(np.stack, rule="g split along the new axis")
def stack(
    arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind"
) -> Any:
    """numpy.stack on BVars (plain arrays in the list are constants)."""
    xs = _arrays(arrays)
    if not any_bvar(xs):
        return np.stack(xs, axis=axis, out=out, dtype=dtype, casting=casting)  # type: ignore[call-overload]
    _join_checks("stack", out, dtype)
    return _stack_p(*xs, axis=operator.index(axis), casting=casting)


@implements(np.vstack, rule="g split along axis 0")
def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """numpy.vstack on BVars (plain arrays in the list are constants)."""
    xs = _arrays(tup)
    if not any_bvar(xs):
        return np.vstack(xs, dtype=dtype, casting=casting)  # type: ignore[call-overload]
    _join_checks("vstack", None, dtype)
    return _vstack_p(*xs, casting=casting)


@implements(np.hstack, rule="g split along axis 1 (0 for 1-D)")
def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """numpy.hstack on BVars (plain arrays in the list are constants)."""
    xs = _arrays(tup)
    if not any_bvar(xs):
        return np.hstack(xs, dtype=dtype, casting=casting)  # type: ignore[call-overload]
    _join_checks("hstack", None, dtype)
    return _hstack_p(*xs, casting=casting)


@implements(np.column_stack, rule="g split along axis 1")
def column_stack(tup: Any) -> Any:
    """numpy.column_stack on BVars (plain arrays in the list are constants)."""
    xs = _arrays(tup)
    if not any_bvar(xs):
        return np.column_stack(xs)
    return _column_stack_p(*xs)


@implements(np.dstack, rule="g split along axis 2")
def dstack(tup: Any) -> Any:
    """numpy.dstack on BVars (plain arrays in the list are constants)."""
    xs = _arrays(tup)
    if not any_bvar(xs):
        return np.dstack(xs)
    return _dstack_p(*xs)


# ---- splits -----------------------------------------------------------------------------------


def _split_vjp(g: Any, ans: Any, x: Any, *, sections: Any, axis: int, equal: bool) -> Any:
    # Each piece's gradient is added back at the slice it came from: the pieces need not
    # partition `x` (indices out of order, as in np.split(x, [3, 1]), make pieces overlap).
    shape = np.shape(plain_value(x))
    n = shape[axis]
    positions = np.arange(n)
    spans = np.split(positions, sections) if equal else np.array_split(positions, sections)
    if any(isinstance(gi, BVar) for gi in g):
        # a nested run: each piece's gradient padded with zeros to x's shape, and summed
        total: Any = np.zeros(shape)
        for gi, span in zip(g, spans):
            if span.size:
                widths = [(0, 0)] * len(shape)
                widths[axis] = (int(span[0]), n - 1 - int(span[-1]))
                total = total + np.pad(float_array(gi), widths)
        return total
    out = np.zeros(shape)
    where: list[Any] = [slice(None)] * len(shape)
    for gi, span in zip(g, spans):
        if span.size:
            where[axis] = slice(int(span[0]), int(span[-1]) + 1)
            out[tuple(where)] += gi
    return out


def _split_forward(x: Any, *, sections: Any, axis: int, equal: bool) -> tuple[Any, ...]:
    return tuple(
        np.split(x, sections, axis=axis) if equal else np.array_split(x, sections, axis=axis)
    )


_split_p = defvjp("split", _split_forward, _split_vjp)


@implements(np.split, rule="the pieces' gradients concatenated")
def split(ary: Any, indices_or_sections: Any, axis: Any = 0) -> Any:
    """numpy.split on BVars: a list of BVars sharing one node."""
    if not isinstance(ary, BVar):
        return np.split(ary, indices_or_sections, axis=axis)
    return list(
        multi_output(
            _split_p, ary, sections=indices_or_sections, axis=operator.index(axis), equal=True
        )
    )


@implements(np.array_split, rule="the pieces' gradients concatenated")
def array_split(ary: Any, indices_or_sections: Any, axis: Any = 0) -> Any:
    """numpy.array_split on BVars: a list of BVars sharing one node."""
    if not isinstance(ary, BVar):
        return np.array_split(ary, indices_or_sections, axis=axis)
    return list(
        multi_output(
            _split_p, ary, sections=indices_or_sections, axis=operator.index(axis), equal=False
        )
    )


# ---- repeat and tile --------------------------------------------------------------------------


def _repeat_adjoint(g: Any, shape: tuple[int, ...], *, repeats: Any, axis: int | None) -> Any:
    base = (int(np.prod(shape)),) if axis is None else shape
    ax = 0 if axis is None else axis
    n = base[ax]
    r = np.asarray(repeats)
    if r.size == 1:
        k = int(r.reshape(()))
        out = np.sum(np.reshape(g, base[:ax] + (n, k) + base[ax + 1 :]), axis=ax + 1)
    else:
        rows = np.repeat(np.arange(n), r)  # the row of x that each row of g repeats
        g_rows = np.moveaxis(g, ax, 0)
        moved: Any = np.zeros((n,) + base[:ax] + base[ax + 1 :])
        if isinstance(g, BVar):  # a nested run: the scatter-add as a differentiable update
            from ._indexing import index_update

            moved = index_update(moved, rows, g_rows, add=True)
        else:
            np.add.at(moved, rows, g_rows)
        out = np.moveaxis(moved, 0, ax)
    return np.reshape(out, shape)


_repeat_p = _adjoint(
    "repeat", lambda x, *, repeats, axis: np.repeat(x, repeats, axis=axis), _repeat_adjoint
)


@implements(np.repeat, rule="g summed over the repeats")
def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """numpy.repeat on BVars."""
    if not isinstance(a, BVar):
        return np.repeat(a, repeats, axis=axis)
    if isinstance(repeats, BVar):
        raise TypeError("numpy.repeat: repeats must be integers, not a BVar")
    ax = None if axis is None else normalize_axis_index(operator.index(axis), len(_shape(a)))
    return _repeat_p(a, repeats=repeats, axis=ax)


method("repeat")(repeat)


def _tile_adjoint(g: Any, shape: tuple[int, ...], *, reps: tuple[int, ...]) -> Any:
    nd = max(len(shape), len(reps))
    s = (1,) * (nd - len(shape)) + shape
    r = (1,) * (nd - len(reps)) + reps
    interleaved = tuple(n for pair in zip(r, s) for n in pair)
    return np.reshape(np.sum(np.reshape(g, interleaved), axis=tuple(range(0, 2 * nd, 2))), shape)


_tile_p = _adjoint("tile", lambda x, *, reps: np.tile(x, reps), _tile_adjoint)


@implements(np.tile, rule="g summed over the tiles")
def tile(A: Any, reps: Any) -> Any:
    """numpy.tile on BVars."""
    if not isinstance(A, BVar):
        return np.tile(A, reps)
    reps_t = tuple(_shape_arg(reps))
    return _tile_p(A, reps=reps_t)


# ---- flips, rolls, rotations ------------------------------------------------------------------

_flip_p = _adjoint(
    "flip", lambda x, *, axis: np.flip(x, axis), lambda g, shape, *, axis: np.flip(g, axis)
)


@implements(np.flip, rule="g flipped back")
def flip(m: Any, axis: Any = None) -> Any:
    """numpy.flip on BVars."""
    if not isinstance(m, BVar):
        return np.flip(m, axis)
    nd = len(_shape(m))
    axes = None if axis is None else normalize_axis_tuple(axis, nd)
    return _flip_p(m, axis=axes)


@implements(np.fliplr, rule="g flipped back")
def fliplr(m: Any) -> Any:
    """numpy.fliplr on BVars."""
    if not isinstance(m, BVar):
        return np.fliplr(m)
    if len(_shape(m)) < 2:
        raise ValueError("Input must be >= 2-d.")
    return _flip_p(m, axis=1)


@implements(np.flipud, rule="g flipped back")
def flipud(m: Any) -> Any:
    """numpy.flipud on BVars."""
    if not isinstance(m, BVar):
        return np.flipud(m)
    if len(_shape(m)) < 1:
        raise ValueError("Input must be >= 1-d.")
    return _flip_p(m, axis=0)


_roll_p = _adjoint(
    "roll",
    lambda x, *, shift, axis: np.roll(x, shift, axis),
    lambda g, shape, *, shift, axis: np.roll(g, np.negative(shift), axis),
)


@implements(np.roll, rule="g rolled back")
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """numpy.roll on BVars."""
    if not isinstance(a, BVar):
        return np.roll(a, shift, axis)
    if isinstance(shift, BVar):
        raise TypeError("numpy.roll: shift must be integers, not a BVar")
    return _roll_p(a, shift=shift, axis=axis)


_rot90_p = _adjoint(
    "rot90",
    lambda x, *, k, axes: np.rot90(x, k, axes),
    lambda g, shape, *, k, axes: np.rot90(g, -k, axes),
)


@implements(np.rot90, rule="g rotated back")
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """numpy.rot90 on BVars."""
    if not isinstance(m, BVar):
        return np.rot90(m, k, axes)
    return _rot90_p(m, k=operator.index(k), axes=tuple(axes))


# ---- triangles and diagonals ------------------------------------------------------------------

_tril_p = _adjoint(
    "tril", lambda x, *, k: np.tril(x, k), lambda g, shape, *, k: unbroadcast(np.tril(g, k), shape)
)
_triu_p = _adjoint(
    "triu", lambda x, *, k: np.triu(x, k), lambda g, shape, *, k: unbroadcast(np.triu(g, k), shape)
)


@implements(np.tril, rule="g masked to the lower triangle")
def tril(m: Any, k: int = 0) -> Any:
    """numpy.tril on BVars."""
    if not isinstance(m, BVar):
        return np.tril(m, k)
    return _tril_p(m, k=operator.index(k))


@implements(np.triu, rule="g masked to the upper triangle")
def triu(m: Any, k: int = 0) -> Any:
    """numpy.triu on BVars."""
    if not isinstance(m, BVar):
        return np.triu(m, k)
    return _triu_p(m, k=operator.index(k))


def _embed_diagonal(
    g: Any, shape: tuple[int, ...], offset: int, axis1: int, axis2: int
) -> np.ndarray:
    """The adjoint of `np.diagonal`: zeros of `shape` with `g` (diagonal last) on the diagonal."""
    out = np.zeros(shape)
    nd = len(shape)
    a1, a2 = normalize_axis_index(axis1, nd), normalize_axis_index(axis2, nd)
    view = np.moveaxis(out, (a1, a2), (-2, -1))
    n = np.shape(plain_value(g))[-1]
    rows, cols = np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0)
    if isinstance(g, BVar):  # a nested run: written by a differentiable update
        from ._indexing import index_update

        placed = index_update(np.zeros(view.shape), (Ellipsis, rows, cols), g, add=True)
        return np.moveaxis(placed, (-2, -1), (a1, a2))
    view[..., rows, cols] = g
    return out


_diagonal_p = _adjoint(
    "diagonal",
    lambda x, *, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2),
    lambda g, shape, *, offset, axis1, axis2: _embed_diagonal(g, shape, offset, axis1, axis2),
)


@implements(np.diagonal, rule="g placed on the diagonal")
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """numpy.diagonal on BVars."""
    if not isinstance(a, BVar):
        return np.diagonal(a, offset, axis1, axis2)
    return _diagonal_p(
        a, offset=operator.index(offset), axis1=operator.index(axis1), axis2=operator.index(axis2)
    )


method("diagonal")(diagonal)


def _diag_adjoint(g: Any, shape: tuple[int, ...], *, k: int) -> Any:
    if len(shape) == 1:
        d = np.diagonal(g, k)
        return d if isinstance(d, BVar) else d.copy()
    return _embed_diagonal(g, shape, k, 0, 1)


_diag_p = _adjoint("diag", lambda x, *, k: np.diag(x, k), _diag_adjoint)


@implements(np.diag, rule="g's diagonal (1-D input) or g placed on the diagonal (2-D input)")
def diag(v: Any, k: int = 0) -> Any:
    """numpy.diag on BVars, both directions."""
    if not isinstance(v, BVar):
        return np.diag(v, k)
    return _diag_p(v, k=operator.index(k))


def _trace_adjoint(g: Any, shape: tuple[int, ...], *, offset: int, axis1: int, axis2: int) -> Any:
    diag_shape = np.diagonal(_dummy(shape), offset, axis1, axis2).shape
    column = np.reshape(g, np.shape(plain_value(g)) + (1,))
    return _embed_diagonal(np.broadcast_to(column, diag_shape), shape, offset, axis1, axis2)


_trace_p = _adjoint(
    "trace",
    lambda x, *, offset, axis1, axis2: np.trace(x, offset, axis1, axis2),
    _trace_adjoint,
)


@implements(np.trace, rule="g placed on the diagonal")
def trace(
    a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
) -> Any:
    """numpy.trace on BVars."""
    if not isinstance(a, BVar):
        return np.trace(a, offset, axis1, axis2, dtype, out)
    refuse("trace", out=out)
    check_float_dtype("trace", dtype)
    return _trace_p(
        a, offset=operator.index(offset), axis1=operator.index(axis1), axis2=operator.index(axis2)
    )


method("trace")(trace)


# ---- pad --------------------------------------------------------------------------------------


def _pad_adjoint(g: Any, shape: tuple[int, ...], *, pad_width: Any, constant_values: Any) -> Any:
    inside = np.pad(np.ones(shape, dtype=bool), pad_width, mode="constant", constant_values=False)
    return np.reshape(g[inside], shape)


_pad_p = _adjoint(
    "pad",
    lambda x, *, pad_width, constant_values: np.pad(
        x, pad_width, mode="constant", constant_values=constant_values
    ),
    _pad_adjoint,
)


def _has_bvar(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return any(_has_bvar(e) for e in x)
    return isinstance(x, BVar)


@implements(np.pad, rule="g with the padding cut off (mode='constant')")
def pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """numpy.pad on BVars, mode='constant' only."""
    if not isinstance(array, BVar):
        return np.pad(array, pad_width, mode=mode, **kwargs)
    if mode != "constant":
        raise TypeError(
            f"numpy.pad: mode={mode!r} is not supported on BVars (only mode='constant')"
        )
    extra = set(kwargs) - {"constant_values"}
    if extra:
        raise TypeError(f"numpy.pad: the argument {min(extra)}= is not supported on BVars")
    cv = kwargs.get("constant_values", 0)
    if _has_bvar(cv):
        raise TypeError(
            "numpy.pad: constant_values must be plain numbers on BVars (no gradient flows to them)"
        )
    return _pad_p(array, pad_width=pad_width, constant_values=cv)
