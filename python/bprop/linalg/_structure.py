"""Building, taking apart and reshaping vectors and matrices, elementwise maps, and the
max-shifted softmax family (hmatrix-backprop's static interface, on numpy float64).

Every function here is one bprop Op: a numpy forward and a hand-written pullback. Conventions:

* Values are numpy ``float64`` arrays. Integer (or other real) input arrays are converted with
  ``numpy.asarray(x, dtype=numpy.float64)`` before use, so results and gradients are float64.
  Scalar arguments (``konst``'s fill value, ``vec2``'s components, ...) are taken as ``float``.
* Scalar results (``head_tail``'s head, ``logsumexp`` with ``axis=None``, ...) are plain Python
  ``float`` values, so they behave like every other float BVar.
* Every result and every gradient is a fresh array: never a view of an input or of the incoming
  gradient, so callers (and the core's in-place accumulation) may write to them.
* Shape problems raise ``bprop.errors.ShapeError`` naming the function and the shapes involved,
  when the function is called and before anything is recorded on the tape.
* Multi-output functions (``split``, ``head_tail``, ``split_rows``, ``split_cols``) record one op
  whose value is a tuple and hand back its components as BVars sharing that node
  (``lift_multi``): the op's pullback runs once, with zero gradients for unused components.
* Vectors are 1-D arrays and matrices 2-D arrays; the functions named after hmatrix's vector or
  matrix operations insist on that rank (``concat`` of a matrix is an error, not a ravel).

``vmap`` and ``zip_with_vector`` take the scalar function either as a Python function of float
BVars (hmatrix-backprop's ``BVar s ℝ -> BVar s ℝ``) or as an ``Op``. Like hmatrix-backprop's
``dvmap`` they run ``backprop`` on each element during the forward pass and keep the elementwise
derivatives, so the pullback is a single multiplication. Two shortcuts: functions that are
elementwise by construction -- bprop's own (``bprop.tanh``, ``bprop.tanh_op``, ``bprop.mul_op``,
...) and numpy ufuncs (``numpy.tanh``, which BVars dispatch to bprop's kernels) -- run once on the
whole array instead of element by element, and a constant argument (as under ``eval_bp``) only
evaluates ``f``. The function must not capture BVars of the enclosing run: it runs on a tape of
its own for every element, so such a BVar raises ``TapeScopeError`` (and could not receive a
gradient through this op anyway, exactly as with hmatrix-backprop's rank-2 type).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, cast

import numpy as np
from numpy.exceptions import AxisError
from numpy.lib.array_utils import normalize_axis_tuple

from .. import _core
from .._core import BVar, const_var
from ..errors import ShapeError
from ..op import Op, op1, op2, op3, op_n
from ..run import backprop, backprop2, eval_bp, eval_bp2
from ._multi import lift_multi
from ._common import Array, as_f64, named, value_shape

__all__ = [
    "konst",
    "full",
    "vec2",
    "vec3",
    "vec4",
    "concat",
    "snoc",
    "split",
    "head_tail",
    "row",
    "col",
    "unrow",
    "uncol",
    "hstack",
    "vstack",
    "split_rows",
    "split_cols",
    "diag",
    "take_diag",
    "linspace",
    "vmap",
    "zip_with_vector",
    "mean_rows",
    "logsumexp",
    "softmax",
    "log_softmax",
]

Axis: TypeAlias = int | tuple[int, ...] | None
Shape: TypeAlias = tuple[int, ...]


# ---- helpers ------------------------------------------------------------------------------


def _fresh(x: Any) -> Array:
    """A float64 copy of `x` that shares no memory with it."""
    return np.array(x, dtype=np.float64, copy=True)


def _scalar(x: Any) -> float:
    return float(x)


def _need_ndim(fn: str, shape: Shape, ndim: int, what: str = "argument") -> None:
    if len(shape) != ndim:
        kind = "a vector (1-D array)" if ndim == 1 else "a matrix (2-D array)"
        raise ShapeError(f"{fn}: {what} must be {kind}, got shape {shape}")


def _index(fn: str, name: str, p: Any) -> int:
    try:
        return operator.index(p)
    except TypeError:
        raise TypeError(f"{fn}: {name} must be an int, got {type(p).__qualname__}") from None


# ---- constructing vectors -----------------------------------------------------------------


def konst(x: BVar[float], shape: int | Sequence[int]) -> BVar[Array]:
    """An array of `shape` filled with `x`. Gradient: the sum of the output gradient."""
    if isinstance(shape, Sequence):
        dims: Shape = tuple(_index("konst", "shape", s) for s in shape)
    else:
        dims = (_index("konst", "shape", shape),)
    if any(s < 0 for s in dims):
        raise ShapeError(f"konst: negative dimension in shape {dims}")

    def forward(v: float) -> tuple[Array, Callable[[Array], float]]:
        return np.full(dims, _scalar(v)), lambda d: float(np.sum(d))

    op: Op[float, Array] = named(op1(forward), "konst")
    return op(x)


full = konst
"""Alias of `konst` (numpy's name)."""


def _vec2(a: float, b: float) -> tuple[Array, Callable[[Array], tuple[float, float]]]:
    def pullback(d: Array) -> tuple[float, float]:
        d = as_f64(d)
        return float(d[0]), float(d[1])

    return np.array([_scalar(a), _scalar(b)]), pullback


def _vec3(a: float, b: float, c: float) -> tuple[Array, Callable[[Array], tuple[float, float, float]]]:
    def pullback(d: Array) -> tuple[float, float, float]:
        d = as_f64(d)
        return float(d[0]), float(d[1]), float(d[2])

    return np.array([_scalar(a), _scalar(b), _scalar(c)]), pullback


def _vec4(
    a: float, b: float, c: float, e: float
) -> tuple[Array, Callable[[Array], tuple[float, float, float, float]]]:
    def pullback(d: Array) -> tuple[float, float, float, float]:
        d = as_f64(d)
        return float(d[0]), float(d[1]), float(d[2]), float(d[3])

    return np.array([_scalar(a), _scalar(b), _scalar(c), _scalar(e)]), pullback


_vec2_op: Op[float, float, Array] = named(op2(_vec2), "vec2")
_vec3_op: Op[float, float, float, Array] = named(op3(_vec3), "vec3")
_vec4_op: Op[float, float, float, float, Array] = named(op_n(_vec4), "vec4")


def vec2(a: BVar[float], b: BVar[float]) -> BVar[Array]:
    """The vector `[a, b]`; each component's gradient is its entry of the output gradient."""
    return _vec2_op(a, b)


def vec3(a: BVar[float], b: BVar[float], c: BVar[float]) -> BVar[Array]:
    """The vector `[a, b, c]`."""
    return _vec3_op(a, b, c)


def vec4(a: BVar[float], b: BVar[float], c: BVar[float], d: BVar[float]) -> BVar[Array]:
    """The vector `[a, b, c, d]`."""
    return _vec4_op(a, b, c, d)


def _concat(u: Array, v: Array) -> tuple[Array, Callable[[Array], tuple[Array, Array]]]:
    u, v = as_f64(u), as_f64(v)
    n = u.shape[0]

    def pullback(d: Array) -> tuple[Array, Array]:
        d = as_f64(d)
        return _fresh(d[:n]), _fresh(d[n:])

    return np.concatenate([u, v]), pullback


_concat_op: Op[Array, Array, Array] = named(op2(_concat), "concat")


def concat(u: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Vector concatenation (hmatrix's `#`). The gradient is split back at `len(u)`."""
    _need_ndim("concat", value_shape(u), 1, "first argument")
    _need_ndim("concat", value_shape(v), 1, "second argument")
    return _concat_op(u, v)


def _snoc(v: Array, x: float) -> tuple[Array, Callable[[Array], tuple[Array, float]]]:
    v = as_f64(v)

    def pullback(d: Array) -> tuple[Array, float]:
        d = as_f64(d)
        return _fresh(d[:-1]), float(d[-1])

    return np.append(v, _scalar(x)), pullback


_snoc_op: Op[Array, float, Array] = named(op2(_snoc), "snoc")


def snoc(v: BVar[Array], x: BVar[float]) -> BVar[Array]:
    """`v` with `x` appended (hmatrix's `&`). Gradients: all but the last entry, and the last."""
    _need_ndim("snoc", value_shape(v), 1)
    return _snoc_op(v, x)


def linspace(lo: BVar[float], hi: BVar[float], n: int) -> BVar[Array]:
    """`n` evenly spaced points from `lo` to `hi` inclusive (numpy's `linspace`).

    Point i is `lo + t_i (hi - lo)` with `t_i = i / (n - 1)` (`t = [0]` when n == 1), so the
    gradients are `sum(d * (1 - t))` for `lo` and `sum(d * t)` for `hi`."""
    count = _index("linspace", "n", n)
    if count < 0:
        raise ShapeError(f"linspace: n={count} must not be negative")
    t = np.linspace(0.0, 1.0, count)

    def forward(a: float, b: float) -> tuple[Array, Callable[[Array], tuple[float, float]]]:
        def pullback(d: Array) -> tuple[float, float]:
            d = as_f64(d)
            up = float(np.dot(d, t))
            return float(np.sum(d)) - up, up

        return np.linspace(_scalar(a), _scalar(b), count), pullback

    op: Op[float, float, Array] = named(op2(forward), "linspace")
    return op(lo, hi)


# ---- taking vectors apart -----------------------------------------------------------------


def split(v: BVar[Array], p: int) -> tuple[BVar[Array], BVar[Array]]:
    """`(v[:p], v[p:])` as two BVars sharing one node; the gradient is their concatenation."""
    shape = value_shape(v)
    _need_ndim("split", shape, 1)
    p = _index("split", "p", p)
    if not 0 <= p <= shape[0]:
        raise ShapeError(f"split: p={p} out of range for a vector of length {shape[0]}")

    def forward(x: Array) -> tuple[tuple[Array, Array], Callable[[tuple[Array, Array]], Array]]:
        x = as_f64(x)

        def pullback(d: tuple[Array, Array]) -> Array:
            return np.concatenate([as_f64(d[0]), as_f64(d[1])])

        return (_fresh(x[:p]), _fresh(x[p:])), pullback

    op: Op[Array, tuple[Array, Array]] = named(op1(forward), "split")
    head, tail = lift_multi(op, v)
    return cast("BVar[Array]", head), cast("BVar[Array]", tail)


def _head_tail(x: Array) -> tuple[tuple[float, Array], Callable[[tuple[float, Array]], Array]]:
    x = as_f64(x)

    def pullback(d: tuple[float, Array]) -> Array:
        return np.concatenate([[_scalar(d[0])], as_f64(d[1])])

    return (float(x[0]), _fresh(x[1:])), pullback


_head_tail_op: Op[Array, tuple[float, Array]] = named(op1(_head_tail), "head_tail")


def head_tail(v: BVar[Array]) -> tuple[BVar[float], BVar[Array]]:
    """`(v[0], v[1:])`, the head as a float BVar; both share one node."""
    shape = value_shape(v)
    _need_ndim("head_tail", shape, 1)
    if shape[0] == 0:
        raise ShapeError("head_tail: the vector is empty (shape (0,))")
    head, tail = lift_multi(_head_tail_op, v)
    return cast("BVar[float]", head), cast("BVar[Array]", tail)


# ---- vectors <-> matrices -----------------------------------------------------------------


def _reshaper(name: str, to: Callable[[Shape], Shape]) -> Op[Array, Array]:
    """An op that only reshapes (row, col, unrow, uncol): the gradient is reshaped back."""

    def forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
        x = as_f64(x)
        shape = x.shape
        return _fresh(x.reshape(to(shape))), lambda d: _fresh(as_f64(d).reshape(shape))

    op: Op[Array, Array] = named(op1(forward), name)
    return op


_row_op = _reshaper("row", lambda s: (1, s[0]))
_col_op = _reshaper("col", lambda s: (s[0], 1))
_unrow_op = _reshaper("unrow", lambda s: (s[1],))
_uncol_op = _reshaper("uncol", lambda s: (s[0],))


def row(v: BVar[Array]) -> BVar[Array]:
    """A vector of length n as a 1 x n matrix."""
    _need_ndim("row", value_shape(v), 1)
    return _row_op(v)


def col(v: BVar[Array]) -> BVar[Array]:
    """A vector of length n as an n x 1 matrix."""
    _need_ndim("col", value_shape(v), 1)
    return _col_op(v)


def unrow(m: BVar[Array]) -> BVar[Array]:
    """A 1 x n matrix as a vector of length n."""
    shape = value_shape(m)
    if len(shape) != 2 or shape[0] != 1:
        raise ShapeError(f"unrow: expected a 1 x n matrix, got shape {shape}")
    return _unrow_op(m)


def uncol(m: BVar[Array]) -> BVar[Array]:
    """An n x 1 matrix as a vector of length n."""
    shape = value_shape(m)
    if len(shape) != 2 or shape[1] != 1:
        raise ShapeError(f"uncol: expected an n x 1 matrix, got shape {shape}")
    return _uncol_op(m)


# ---- block matrices -----------------------------------------------------------------------


def _stacker(name: str, axis: int) -> Op[Array, Array, Array]:
    """hstack (axis 1) / vstack (axis 0); the gradient is cut back along the same axis."""

    def forward(a: Array, b: Array) -> tuple[Array, Callable[[Array], tuple[Array, Array]]]:
        a, b = as_f64(a), as_f64(b)
        k = a.shape[axis]

        def pullback(d: Array) -> tuple[Array, Array]:
            d = as_f64(d)
            first, second = (d[:, :k], d[:, k:]) if axis == 1 else (d[:k], d[k:])
            return _fresh(first), _fresh(second)

        return np.concatenate([a, b], axis=axis), pullback

    op: Op[Array, Array, Array] = named(op2(forward), name)
    return op


_hstack_op = _stacker("hstack", 1)
_vstack_op = _stacker("vstack", 0)


def hstack(a: BVar[Array], b: BVar[Array]) -> BVar[Array]:
    """Side by side (hmatrix's `|||`): the matrices must have the same number of rows."""
    sa, sb = value_shape(a), value_shape(b)
    _need_ndim("hstack", sa, 2, "first argument")
    _need_ndim("hstack", sb, 2, "second argument")
    if sa[0] != sb[0]:
        raise ShapeError(f"hstack: row counts differ: {sa} vs {sb}")
    return _hstack_op(a, b)


def vstack(a: BVar[Array], b: BVar[Array]) -> BVar[Array]:
    """One above the other (hmatrix's `===`): the matrices must have the same number of columns."""
    sa, sb = value_shape(a), value_shape(b)
    _need_ndim("vstack", sa, 2, "first argument")
    _need_ndim("vstack", sb, 2, "second argument")
    if sa[1] != sb[1]:
        raise ShapeError(f"vstack: column counts differ: {sa} vs {sb}")
    return _vstack_op(a, b)


def _splitter(name: str, m: BVar[Array], p: int, axis: int) -> tuple[BVar[Array], BVar[Array]]:
    shape = value_shape(m)
    _need_ndim(name, shape, 2)
    p = _index(name, "p", p)
    if not 0 <= p <= shape[axis]:
        what = "rows" if axis == 0 else "columns"
        raise ShapeError(f"{name}: p={p} out of range for a matrix of shape {shape} ({shape[axis]} {what})")

    def forward(x: Array) -> tuple[tuple[Array, Array], Callable[[tuple[Array, Array]], Array]]:
        x = as_f64(x)
        first, second = (x[:p], x[p:]) if axis == 0 else (x[:, :p], x[:, p:])

        def pullback(d: tuple[Array, Array]) -> Array:
            return np.concatenate([as_f64(d[0]), as_f64(d[1])], axis=axis)

        return (_fresh(first), _fresh(second)), pullback

    op: Op[Array, tuple[Array, Array]] = named(op1(forward), name)
    top, rest = lift_multi(op, m)
    return cast("BVar[Array]", top), cast("BVar[Array]", rest)


def split_rows(m: BVar[Array], p: int) -> tuple[BVar[Array], BVar[Array]]:
    """`(m[:p], m[p:])`, sharing one node; the gradient is stacked back (`vstack`)."""
    return _splitter("split_rows", m, p, 0)


def split_cols(m: BVar[Array], p: int) -> tuple[BVar[Array], BVar[Array]]:
    """`(m[:, :p], m[:, p:])`, sharing one node; the gradient is put side by side (`hstack`)."""
    return _splitter("split_cols", m, p, 1)


# ---- diagonals ----------------------------------------------------------------------------


def _diag(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    # np.diag of a matrix is a read-only view: copy it
    return np.diag(as_f64(x)), lambda d: _fresh(np.diagonal(as_f64(d)))


def _take_diag(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    x = as_f64(x)
    shape = x.shape

    def pullback(d: Array) -> Array:
        g = np.zeros(shape)
        k = min(shape)
        g[np.arange(k), np.arange(k)] = as_f64(d)
        return g

    return _fresh(np.diagonal(x)), pullback


_diag_op: Op[Array, Array] = named(op1(_diag), "diag")
_take_diag_op: Op[Array, Array] = named(op1(_take_diag), "take_diag")


def diag(v: BVar[Array]) -> BVar[Array]:
    """The square matrix with `v` on its diagonal. Gradient: the diagonal of the output gradient."""
    _need_ndim("diag", value_shape(v), 1)
    return _diag_op(v)


def take_diag(m: BVar[Array]) -> BVar[Array]:
    """The main diagonal of a (possibly rectangular) matrix, length min(rows, cols).
    Gradient: a zero matrix with the output gradient on its diagonal."""
    _need_ndim("take_diag", value_shape(m), 2)
    return _take_diag_op(m)


# ---- statistics ---------------------------------------------------------------------------


def _mean_rows(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    x = as_f64(x)
    m, n = x.shape
    return np.mean(x, axis=0), lambda d: np.repeat(as_f64(d).reshape(1, n) / m, m, axis=0)


_mean_rows_op: Op[Array, Array] = named(op1(_mean_rows), "mean_rows")


def mean_rows(m: BVar[Array]) -> BVar[Array]:
    """The mean of the rows of an m x n matrix, an n-vector (hmatrix's `meanL`).
    Gradient: every row receives `d / m`."""
    shape = value_shape(m)
    _need_ndim("mean_rows", shape, 2)
    if shape[0] == 0:
        raise ShapeError(f"mean_rows: the matrix has no rows (shape {shape})")
    return _mean_rows_op(m)


# ---- elementwise maps ---------------------------------------------------------------------

# bprop's native elementwise kernels: safe to run once on a whole array instead of per element
_NATIVE_UNARY = frozenset(
    getattr(_core, name)
    for name in (
        "neg abs signum recip exp log sqrt sin cos tan asin acos atan "
        "sinh cosh tanh asinh acosh atanh"
    ).split()
)
_NATIVE_BINARY = frozenset(getattr(_core, name) for name in "add sub mul div pow log_base".split())

ScalarFn: TypeAlias = "Callable[[BVar[float]], BVar[float]] | Op[float, float]"
ScalarFn2: TypeAlias = "Callable[[BVar[float], BVar[float]], BVar[float]] | Op[float, float, float]"


def _is_native(f: object, arity: int, table: frozenset[Any]) -> bool:
    """Is `f` elementwise by construction (so running it on whole arrays is the same map)?"""
    if isinstance(f, Op):
        return f._native is not None and f.arity == arity
    if isinstance(f, np.ufunc):  # dispatched to bprop's kernels through BVar.__array_ufunc__
        return f.nin == arity and f.nout == 1
    try:
        return f in table
    except TypeError:  # unhashable callable
        return False


def _as_float(fn: str, y: Any) -> float:
    if np.ndim(y) != 0:
        raise TypeError(f"{fn}: f must map floats to a float, got a value of shape {np.shape(y)}")
    return float(y)


def vmap(f: ScalarFn, v: BVar[Array]) -> BVar[Array]:
    """Apply a differentiable scalar function to every element (hmatrix's `dvmap`/`dmmap`;
    any shape). `f` is a function of a float BVar or an `Op[float, float]`.

    The forward pass runs `backprop(f, x_i)` on each element and keeps the derivatives, so the
    gradient is `d * f'(x)`. bprop's own elementwise functions and ops, and numpy ufuncs, run
    once on the whole array."""
    g: Callable[[BVar[float]], BVar[float]] = (lambda w: f(w)) if isinstance(f, Op) else f
    native = _is_native(f, 1, _NATIVE_UNARY)
    constant = not isinstance(v, BVar) or v.is_constant

    if constant:  # no gradient can be asked for: evaluate only (e.g. under eval_bp)
        x = as_f64(v.value if isinstance(v, BVar) else v)
        if native:
            return const_var(_fresh(eval_bp(cast("Callable[[BVar[Array]], BVar[Array]]", g), x)))
        out = np.array([_as_float("vmap", eval_bp(g, float(e))) for e in x.flat]).reshape(x.shape)
        return const_var(out)

    def forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
        x = as_f64(x)
        if native:
            y, dx = backprop(cast("Callable[[BVar[Array]], BVar[Array]]", g), x)
            y, dx = _fresh(y), as_f64(dx)
        else:
            y, dx = np.empty(x.shape), np.empty(x.shape)
            for i, e in enumerate(x.flat):
                yi, di = backprop(g, float(e))
                y.flat[i], dx.flat[i] = _as_float("vmap", yi), _as_float("vmap", di)
        return y, lambda d: as_f64(d) * dx

    op: Op[Array, Array] = named(op1(forward), "vmap")
    return op(v)


def zip_with_vector(f: ScalarFn2, u: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Combine two arrays of the same shape elementwise with a differentiable function of two
    float BVars (or an `Op[float, float, float]`); hmatrix's `zipWithVector`.

    The forward pass runs `backprop2(f, u_i, v_i)` per element pair, so the gradients are
    `d * ∂f/∂u` and `d * ∂f/∂v`."""
    su, sv = value_shape(u), value_shape(v)
    if su != sv:
        raise ShapeError(f"zip_with_vector: shapes differ: {su} vs {sv}")
    g: Callable[[BVar[float], BVar[float]], BVar[float]] = (lambda a, b: f(a, b)) if isinstance(f, Op) else f
    native = _is_native(f, 2, _NATIVE_BINARY)
    g_arr = cast("Callable[[BVar[Array], BVar[Array]], BVar[Array]]", g)
    constant = all(not isinstance(w, BVar) or w.is_constant for w in (u, v))

    if constant:
        x = as_f64(u.value if isinstance(u, BVar) else u)
        z = as_f64(v.value if isinstance(v, BVar) else v)
        if native:
            return const_var(_fresh(eval_bp2(g_arr, x, z)))
        out = [_as_float("zip_with_vector", eval_bp2(g, float(a), float(b))) for a, b in zip(x.flat, z.flat)]
        return const_var(np.array(out).reshape(x.shape))

    def forward(x: Array, z: Array) -> tuple[Array, Callable[[Array], tuple[Array, Array]]]:
        x, z = as_f64(x), as_f64(z)
        if native:
            y, (dx, dz) = backprop2(g_arr, x, z)
            y, dx, dz = _fresh(y), as_f64(dx), as_f64(dz)
        else:
            y, dx, dz = np.empty(x.shape), np.empty(x.shape), np.empty(x.shape)
            for i, (a, b) in enumerate(zip(x.flat, z.flat)):
                yi, (da, db) = backprop2(g, float(a), float(b))
                y.flat[i] = _as_float("zip_with_vector", yi)
                dx.flat[i] = _as_float("zip_with_vector", da)
                dz.flat[i] = _as_float("zip_with_vector", db)

        def pullback(d: Array) -> tuple[Array, Array]:
            d = as_f64(d)
            return d * dx, d * dz

        return y, pullback

    op: Op[Array, Array, Array] = named(op2(forward), "zip_with_vector")
    return op(u, v)


# ---- logsumexp and softmax ----------------------------------------------------------------


def _axes(fn: str, shape: Shape, axis: Axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(len(shape)))
    try:
        return tuple(normalize_axis_tuple(axis, len(shape)))
    except AxisError:
        raise ShapeError(f"{fn}: axis {axis} out of range for shape {shape}") from None
    except ValueError as e:  # a repeated axis
        raise ShapeError(f"{fn}: bad axis {axis} for shape {shape}: {e}") from None


def _shifted_exp(x: Array, axes: tuple[int, ...]) -> tuple[Array, Array, Array, Array]:
    """`(top, x - top, exp(x - top), sum of that over axes)`, reduced axes kept as size 1.

    Shifting by the maximum keeps exp from overflowing, and the softmax `e / total` computed
    from it is accurate to a few ulps even for large inputs (exp(x - logsumexp) is not: the
    rounding of a large logsumexp is amplified). A non-finite maximum (an all -inf or empty
    slice, or a +inf) is not used as the shift, so NaN/inf propagate as in plain numpy."""
    top: Array = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0.0)
    shifted = x - top
    e = np.exp(shifted)
    total: Array = np.sum(e, axis=axes, keepdims=True)
    return top, shifted, e, total


def _softmax_of(e: Array, total: Array) -> Array:
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 only for all -inf slices
        out: Array = e / total
    return out


def _log(total: Array) -> Array:
    with np.errstate(divide="ignore"):  # log(0) = -inf for an all -inf or empty slice
        out: Array = np.log(total)
    return out


def _out(y: Array) -> Any:
    """Scalar results as plain floats, arrays as they are."""
    return float(y) if y.ndim == 0 else y


def logsumexp(z: BVar[Array], axis: Axis = None) -> BVar[Any]:
    """`log(sum(exp(z), axis))`, computed stably. A float for `axis=None` (or when every axis is
    reduced), else an array without the reduced axes. Gradient: `d * softmax(z)` over `axis`."""
    axes = _axes("logsumexp", value_shape(z), axis)

    def forward(x: Array) -> tuple[Any, Callable[[Any], Array]]:
        top, _, e, total = _shifted_exp(as_f64(x), axes)

        def pullback(d: Any) -> Array:
            grad: Array = np.expand_dims(as_f64(d), axes) * _softmax_of(e, total)
            return grad

        return _out(np.squeeze(_log(total) + top, axis=axes)), pullback

    op: Op[Array, Any] = named(op1(forward), "logsumexp")
    return op(z)


def softmax(z: BVar[Array], axis: Axis = -1) -> BVar[Array]:
    """`exp(z) / sum(exp(z), axis)`, computed stably (max-shifted).
    Gradient: `s * (d - sum(d * s, axis))` with `s` the softmax."""
    axes = _axes("softmax", value_shape(z), axis)

    def forward(x: Array) -> tuple[Any, Callable[[Any], Array]]:
        _, _, e, total = _shifted_exp(as_f64(x), axes)
        s = _softmax_of(e, total)

        def pullback(d: Any) -> Array:
            g = as_f64(d)
            inner: Array = np.sum(g * s, axis=axes, keepdims=True)
            return s * (g - inner)

        return _out(s), pullback

    op: Op[Array, Array] = named(op1(forward), "softmax")
    return op(z)


def log_softmax(z: BVar[Array], axis: Axis = -1) -> BVar[Array]:
    """`z - logsumexp(z, axis)` (with the reduced axes kept), computed stably.
    Gradient: `d - softmax(z) * sum(d, axis)`."""
    axes = _axes("log_softmax", value_shape(z), axis)

    def forward(x: Array) -> tuple[Any, Callable[[Any], Array]]:
        _, shifted, e, total = _shifted_exp(as_f64(x), axes)
        with np.errstate(invalid="ignore"):  # -inf - -inf for an all -inf slice
            out = shifted - _log(total)

        def pullback(d: Any) -> Array:
            g = as_f64(d)
            g_sum: Array = np.sum(g, axis=axes, keepdims=True)
            return g - _softmax_of(e, total) * g_sum

        return _out(out), pullback

    op: Op[Array, Array] = named(op1(forward), "log_softmax")
    return op(z)
