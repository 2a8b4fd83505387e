"""Building, taking apart and reshaping vectors and matrices, elementwise maps, and the
max-shifted softmax family (hmatrix-backprop's static interface, on numpy float64).

These are hmatrix's names over the registry's primitives (`bprop.numpy`): `concat(u, v)` is
`np.concatenate([u, v])`, `split_rows(m, p)` is `np.split(m, [p])`, `diag` is `np.diag`,
`take_diag` is `np.diagonal`, `mean_rows` is `np.mean(m, axis=0)`, `logsumexp` is
`scipy.special.logsumexp`, ..., with the same forward and the same pullback, so no derivative
rule is written twice. What this module adds is hmatrix's contract. Conventions:

* Values are numpy ``float64`` arrays. Integer (or other real) input arrays are converted to
  float64, so results and gradients are float64. Scalar arguments (``konst``'s fill value,
  ``vec2``'s components, ...) are floats.
* Scalar results (``head_tail``'s head, ``logsumexp`` with ``axis=None``, ...) are plain Python
  ``float`` values, so they behave like every other float BVar.
* Results are BVars, also for plain (constant) arguments. Every result and every gradient is a
  fresh array: never a view of an input or of the incoming gradient.
* Shape problems raise ``bprop.errors.ShapeError`` naming the function and the shapes involved,
  when the function is called and before anything is recorded on the tape.
* Multi-output functions (``split``, ``head_tail``, ``split_rows``, ``split_cols``) record one op
  (named after the function, over the registry's `np.split` rule) whose value is a tuple and
  hand back its components as BVars sharing that node (``lift_multi``): the op's pullback runs
  once, with zero gradients for unused components.
* Vectors are 1-D arrays and matrices 2-D arrays; the functions named after hmatrix's vector or
  matrix operations insist on that rank (``concat`` of a matrix is an error, not a ravel).

``vmap`` and ``zip_with_vector`` take the scalar function either as a Python function of float
BVars (hmatrix-backprop's ``BVar s ℝ -> BVar s ℝ``) or as an ``Op``. Like hmatrix-backprop's
``dvmap`` they run ``backprop`` on each element during the forward pass and keep the elementwise
derivatives, so the pullback is a single multiplication. Functions that are elementwise by
construction -- bprop's own (``bprop.tanh``, ``bprop.tanh_op``, ``bprop.mul_op``, ...) and numpy
ufuncs (``numpy.tanh``, which BVars dispatch to the registry) -- are simply applied to the whole
array (their own rule gives the gradient), and a constant argument (as under ``eval_bp``) only
evaluates ``f``. The function must not capture BVars of the enclosing run: it runs on a tape of
its own for every element, so such a BVar raises ``TapeScopeError`` (and could not receive a
gradient through this op anyway, exactly as with hmatrix-backprop's rank-2 type). In a nested run
(a derivative of a gradient) the per-element derivatives would be a first derivative only, so
there ``f`` is applied to the elements as ordinary BVar code instead, and its own derivatives are
recorded.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, cast, overload

import numpy as np
from numpy.exceptions import AxisError
from numpy.lib.array_utils import normalize_axis_tuple

from .. import _core
from .._core import BVar, const_var
from ..errors import ShapeError, TapeScopeError
from ..numpy import _reductions as _np_red
from ..numpy import _shape as _np_shape
from ..numpy import _special as _np_special
from ..numpy._registry import as_forward1, plain_value
from ..op import Op, op1, op2
from ..run import backprop, backprop2, eval_bp, eval_bp2, unnested
from ._common import Array, as_f64, named, value_shape
from ._multi import lift_multi

__all__ = [
    "col",
    "concat",
    "diag",
    "full",
    "head_tail",
    "hstack",
    "konst",
    "linspace",
    "log_softmax",
    "logsumexp",
    "mean_rows",
    "row",
    "snoc",
    "softmax",
    "split",
    "split_cols",
    "split_rows",
    "take_diag",
    "uncol",
    "unrow",
    "vec2",
    "vec3",
    "vec4",
    "vmap",
    "vstack",
    "zip_with_vector",
]

Axis: TypeAlias = int | tuple[int, ...] | None
Shape: TypeAlias = tuple[int, ...]


# ---- helpers ------------------------------------------------------------------------------


def _need_ndim(fn: str, shape: Shape, ndim: int, what: str = "argument") -> None:
    if len(shape) != ndim:
        kind = "a vector (1-D array)" if ndim == 1 else "a matrix (2-D array)"
        raise ShapeError(f"{fn}: {what} must be {kind}, got shape {shape}")


def _index(fn: str, name: str, p: Any) -> int:
    try:
        return operator.index(p)
    except TypeError:
        raise TypeError(f"{fn}: {name} must be an int, got {type(p).__qualname__}") from None


def _vars(*xs: Any) -> list[Any]:
    """The arguments for a registry primitive: as they are when one is a BVar (the plain ones
    are constants), else all as constant BVars, so the result is a (constant) BVar."""
    if any(isinstance(x, BVar) for x in xs):
        return list(xs)
    return [const_var(as_f64(x)) for x in xs]


def _var(x: Any) -> BVar[Any]:
    """One argument for a registry primitive, as a BVar (a plain value becomes a constant)."""
    return x if isinstance(x, BVar) else const_var(as_f64(x))


# ---- constructing vectors -----------------------------------------------------------------


def konst(x: BVar[float], shape: int | Sequence[int]) -> BVar[Array]:
    """An array of `shape` filled with `x` (`np.broadcast_to`). Gradient: the sum of the output
    gradient.

    >>> bp.backprop(lambda x: bp.linalg.konst(x, (2, 2)), 3.0)
    (array([[3., 3.],
           [3., 3.]]), 4.0)
    >>> bp.linalg.full is bp.linalg.konst
    True
    """
    if isinstance(shape, Sequence):
        dims: Shape = tuple(_index("konst", "shape", s) for s in shape)
    else:
        dims = (_index("konst", "shape", shape),)
    if any(s < 0 for s in dims):
        raise ShapeError(f"konst: negative dimension in shape {dims}")
    return cast(BVar[Array], _np_shape.broadcast_to(_var(x), dims))


full = konst
"""Alias of `konst` (numpy's name)."""


def vec2(a: BVar[float], b: BVar[float]) -> BVar[Array]:
    """The vector `[a, b]` (`np.stack`); each component's gradient is its entry of the output
    gradient.

    >>> bp.backprop2(lambda a, b: bp.linalg.vec2(a, b) * np.array([2.0, 3.0]), 1.0, 1.0)
    (array([2., 3.]), (2.0, 3.0))
    """
    return cast(BVar[Array], _np_shape.stack(_vars(a, b)))


def vec3(a: BVar[float], b: BVar[float], c: BVar[float]) -> BVar[Array]:
    """The vector `[a, b, c]`.

    >>> w = np.array([1.0, 2.0, 3.0])
    >>> bp.grad_bp_n(lambda a, b, c: bp.linalg.vec3(a, b, c) @ w, 0.0, 0.0, 0.0)
    (1.0, 2.0, 3.0)
    """
    return cast(BVar[Array], _np_shape.stack(_vars(a, b, c)))


def vec4(a: BVar[float], b: BVar[float], c: BVar[float], d: BVar[float]) -> BVar[Array]:
    """The vector `[a, b, c, d]`.

    >>> bp.eval_bp_n(bp.linalg.vec4, 1.0, 2.0, 3.0, 4.0)
    array([1., 2., 3., 4.])
    """
    return cast(BVar[Array], _np_shape.stack(_vars(a, b, c, d)))


def concat(u: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Vector concatenation (hmatrix's `#`, `np.concatenate`). The gradient is split back at
    `len(u)`.

    >>> w = np.array([1.0, 2.0, 3.0])
    >>> bp.backprop2(lambda u, v: bp.linalg.concat(u, v) * w, np.array([1.0]), np.array([2.0, 3.0]))
    (array([1., 4., 9.]), (array([1.]), array([2., 3.])))
    """
    _need_ndim("concat", value_shape(u), 1, "first argument")
    _need_ndim("concat", value_shape(v), 1, "second argument")
    return cast(BVar[Array], _np_shape.concatenate(_vars(u, v)))


def snoc(v: BVar[Array], x: BVar[float]) -> BVar[Array]:
    """`v` with `x` appended (hmatrix's `&`, `np.hstack`). Gradients: all but the last entry,
    and the last.

    >>> w = np.array([1.0, 2.0, 3.0])
    >>> bp.backprop2(lambda v, x: bp.linalg.snoc(v, x) * w, np.array([1.0, 1.0]), 1.0)
    (array([1., 2., 3.]), (array([1., 2.]), 3.0))
    """
    _need_ndim("snoc", value_shape(v), 1)
    return cast(BVar[Array], _np_shape.hstack(_vars(v, x)))


def linspace(lo: BVar[float], hi: BVar[float], n: int) -> BVar[Array]:
    """`n` evenly spaced points from `lo` to `hi` inclusive (numpy's `linspace`).

    Point i is `lo + t_i (hi - lo)` with `t_i = i / (n - 1)` (`t = [0]` when n == 1), so the
    gradients are `sum(d * (1 - t))` for `lo` and `sum(d * t)` for `hi`.

    >>> bp.eval_bp2(lambda lo, hi: bp.linalg.linspace(lo, hi, 3), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    >>> total = lambda lo, hi: bp.linalg.sum_elements(bp.linalg.linspace(lo, hi, 3))
    >>> bp.grad_bp2(total, 0.0, 1.0)
    (1.5, 1.5)
    """
    count = _index("linspace", "n", n)
    if count < 0:
        raise ShapeError(f"linspace: n={count} must not be negative")
    t = np.linspace(0.0, 1.0, count)

    def forward(a: float, b: float) -> tuple[Array, Callable[[Array], tuple[float, float]]]:
        def pullback(d: Array) -> tuple[float, float]:
            if isinstance(d, BVar):  # a nested run: the same sums, on the enclosing run's BVar
                up_var = cast(float, np.sum(d * t))
                return cast(float, np.sum(d)) - up_var, up_var
            d = as_f64(d)
            up = float(np.dot(d, t))
            return float(np.sum(d)) - up, up

        if isinstance(a, BVar) or isinstance(b, BVar):  # nested: the points in those BVars
            return cast(Array, a + (b - a) * t), pullback
        return np.linspace(float(a), float(b), count), pullback

    op: Op[float, float, Array] = named(op2(forward), "linspace")
    return op(lo, hi)


# ---- taking vectors and matrices apart (one node, the registry's np.split rule) ------------


def _split_op(name: str, p: int, axis: int) -> Op[Array, tuple[Array, Array]]:
    """`np.split(x, [p], axis)` as an op of its own, named `name` (built per call)."""
    plain = as_forward1(_np_shape._split_p, sections=[p], axis=axis, equal=True)

    def forward(x: Array) -> tuple[tuple[Array, Array], Callable[[Any], Array]]:
        if not isinstance(x, BVar):
            return cast("tuple[tuple[Array, Array], Callable[[Any], Array]]", plain(x))
        # a nested run: the parts are slices of the enclosing run's BVar (a tuple, so that the
        # op's components can be read), and the gradient is the parts' gradients put back together
        before = (slice(None),) * axis
        parts = (x[before + (slice(None, p),)], x[before + (slice(p, None),)])
        return parts, lambda d: cast(Array, _np_shape.concatenate([d[0], d[1]], axis=axis))

    return named(op1(forward), name)


def split(v: BVar[Array], p: int) -> tuple[BVar[Array], BVar[Array]]:
    """`(v[:p], v[p:])` as two BVars sharing one node; the gradient is their concatenation.

    >>> bp.grad_bp(lambda v: bp.linalg.split(v, 1)[1] * 2.0, np.array([1.0, 2.0, 3.0]))
    array([0., 2., 2.])
    """
    shape = value_shape(v)
    _need_ndim("split", shape, 1)
    p = _index("split", "p", p)
    if not 0 <= p <= shape[0]:
        raise ShapeError(f"split: p={p} out of range for a vector of length {shape[0]}")
    return cast("tuple[BVar[Array], BVar[Array]]", lift_multi(_split_op("split", p, 0), v))


_split_head = as_forward1(_np_shape._split_p, sections=[1], axis=0, equal=True)


def _head_tail(x: Array) -> tuple[tuple[float, Array], Callable[[tuple[float, Array]], Array]]:
    """`np.split(x, [1])` with the head as a float."""
    if isinstance(x, BVar):  # a nested run: as `_split_op`'s forward
        return (x[0], x[1:]), lambda d: cast(
            Array, _np_shape.concatenate([_np_shape.reshape(d[0], (1,)), d[1]])
        )
    (head, tail), pullback = _split_head(x)
    return (float(head[0]), tail), lambda d: cast(Array, pullback((np.reshape(d[0], (1,)), d[1])))


_head_tail_op: Op[Array, tuple[float, Array]] = named(op1(_head_tail), "head_tail")


def head_tail(v: BVar[Array]) -> tuple[BVar[float], BVar[Array]]:
    """`(v[0], v[1:])`, the head as a float BVar; both share one node.

    >>> bp.grad_bp(lambda v: bp.linalg.head_tail(v)[0] * 5.0, np.array([1.0, 2.0, 3.0]))
    array([5., 0., 0.])
    """
    shape = value_shape(v)
    _need_ndim("head_tail", shape, 1)
    if shape[0] == 0:
        raise ShapeError("head_tail: the vector is empty (shape (0,))")
    return cast("tuple[BVar[float], BVar[Array]]", lift_multi(_head_tail_op, v))


def _splitter(name: str, m: BVar[Array], p: int, axis: int) -> tuple[BVar[Array], BVar[Array]]:
    shape = value_shape(m)
    _need_ndim(name, shape, 2)
    p = _index(name, "p", p)
    if not 0 <= p <= shape[axis]:
        what = "rows" if axis == 0 else "columns"
        raise ShapeError(
            f"{name}: p={p} out of range for a matrix of shape {shape} ({shape[axis]} {what})"
        )
    return cast("tuple[BVar[Array], BVar[Array]]", lift_multi(_split_op(name, p, axis), m))


def split_rows(m: BVar[Array], p: int) -> tuple[BVar[Array], BVar[Array]]:
    """`(m[:p], m[p:])`, sharing one node; the gradient is stacked back (`vstack`).

    >>> bp.grad_bp(lambda m: bp.linalg.split_rows(m, 1)[1], np.zeros((3, 2)))
    array([[0., 0.],
           [1., 1.],
           [1., 1.]])
    """
    return _splitter("split_rows", m, p, 0)


def split_cols(m: BVar[Array], p: int) -> tuple[BVar[Array], BVar[Array]]:
    """`(m[:, :p], m[:, p:])`, sharing one node; the gradient is put side by side (`hstack`).

    >>> bp.grad_bp(lambda m: bp.linalg.split_cols(m, 1)[0], np.zeros((2, 3)))
    array([[1., 0., 0.],
           [1., 0., 0.]])
    """
    return _splitter("split_cols", m, p, 1)


# ---- vectors <-> matrices (native reshapes) -----------------------------------------------


def _reshape(v: BVar[Array], shape: Shape) -> BVar[Array]:
    return cast(BVar[Array], _np_shape.reshape(_var(v), shape))


def row(v: BVar[Array]) -> BVar[Array]:
    """A vector of length n as a 1 x n matrix.

    >>> bp.eval_bp(bp.linalg.row, np.array([1.0, 2.0]))
    array([[1., 2.]])
    """
    shape = value_shape(v)
    _need_ndim("row", shape, 1)
    return _reshape(v, (1, shape[0]))


def col(v: BVar[Array]) -> BVar[Array]:
    """A vector of length n as an n x 1 matrix.

    >>> bp.eval_bp(bp.linalg.col, np.array([1.0, 2.0]))
    array([[1.],
           [2.]])
    """
    shape = value_shape(v)
    _need_ndim("col", shape, 1)
    return _reshape(v, (shape[0], 1))


def unrow(m: BVar[Array]) -> BVar[Array]:
    """A 1 x n matrix as a vector of length n.

    >>> bp.eval_bp(bp.linalg.unrow, np.array([[1.0, 2.0]]))
    array([1., 2.])
    """
    shape = value_shape(m)
    if len(shape) != 2 or shape[0] != 1:
        raise ShapeError(f"unrow: expected a 1 x n matrix, got shape {shape}")
    return _reshape(m, (shape[1],))


def uncol(m: BVar[Array]) -> BVar[Array]:
    """An n x 1 matrix as a vector of length n.

    >>> bp.eval_bp(bp.linalg.uncol, np.array([[1.0], [2.0]]))
    array([1., 2.])
    """
    shape = value_shape(m)
    if len(shape) != 2 or shape[1] != 1:
        raise ShapeError(f"uncol: expected an n x 1 matrix, got shape {shape}")
    return _reshape(m, (shape[0],))


# ---- block matrices -----------------------------------------------------------------------


def hstack(a: BVar[Array], b: BVar[Array]) -> BVar[Array]:
    """Side by side (hmatrix's `|||`, `np.hstack`): the matrices must have the same number of
    rows.

    >>> bp.eval_bp2(bp.linalg.hstack, np.ones((2, 1)), np.zeros((2, 2)))
    array([[1., 0., 0.],
           [1., 0., 0.]])
    """
    sa, sb = value_shape(a), value_shape(b)
    _need_ndim("hstack", sa, 2, "first argument")
    _need_ndim("hstack", sb, 2, "second argument")
    if sa[0] != sb[0]:
        raise ShapeError(f"hstack: row counts differ: {sa} vs {sb}")
    return cast(BVar[Array], _np_shape.hstack(_vars(a, b)))


def vstack(a: BVar[Array], b: BVar[Array]) -> BVar[Array]:
    """One above the other (hmatrix's `===`, `np.vstack`): the matrices must have the same
    number of columns.

    >>> bp.eval_bp2(bp.linalg.vstack, np.ones((1, 2)), np.zeros((1, 2)))
    array([[1., 1.],
           [0., 0.]])
    """
    sa, sb = value_shape(a), value_shape(b)
    _need_ndim("vstack", sa, 2, "first argument")
    _need_ndim("vstack", sb, 2, "second argument")
    if sa[1] != sb[1]:
        raise ShapeError(f"vstack: column counts differ: {sa} vs {sb}")
    return cast(BVar[Array], _np_shape.vstack(_vars(a, b)))


# ---- diagonals ----------------------------------------------------------------------------


def diag(v: BVar[Array]) -> BVar[Array]:
    """The square matrix with `v` on its diagonal (`np.diag`). Gradient: the diagonal of the
    output gradient.

    >>> bp.eval_bp(bp.linalg.diag, np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    >>> bp.grad_bp(lambda v: bp.linalg.sum_elements(bp.linalg.diag(v)), np.array([1.0, 2.0]))
    array([1., 1.])
    """
    _need_ndim("diag", value_shape(v), 1)
    return cast(BVar[Array], _np_shape.diag(_var(v)))


def take_diag(m: BVar[Array]) -> BVar[Array]:
    """The main diagonal of a (possibly rectangular) matrix, length min(rows, cols)
    (`np.diagonal`). Gradient: a zero matrix with the output gradient on its diagonal.

    >>> bp.backprop(bp.linalg.take_diag, np.array([[1.0, 2.0], [3.0, 4.0]]))
    (array([1., 4.]), array([[1., 0.],
           [0., 1.]]))
    """
    _need_ndim("take_diag", value_shape(m), 2)
    return cast(BVar[Array], _np_shape.diagonal(_var(m)))


# ---- statistics ---------------------------------------------------------------------------


def mean_rows(m: BVar[Array]) -> BVar[Array]:
    """The mean of the rows of an m x n matrix, an n-vector (hmatrix's `meanL`; `np.mean(m,
    axis=0)`, a native kernel). Gradient: every row receives `d / m`.

    >>> bp.backprop(bp.linalg.mean_rows, np.array([[1.0, 2.0], [3.0, 6.0]]))
    (array([2., 4.]), array([[0.5, 0.5],
           [0.5, 0.5]]))
    """
    shape = value_shape(m)
    _need_ndim("mean_rows", shape, 2)
    if shape[0] == 0:
        raise ShapeError(f"mean_rows: the matrix has no rows (shape {shape})")
    return cast(BVar[Array], _np_red.mean(_var(m), axis=0))


# ---- elementwise maps ---------------------------------------------------------------------

# bprop's native elementwise kernels: safe to run once on a whole array instead of per element
_NATIVE_UNARY = frozenset(
    getattr(_core, name)
    for name in [
        "neg",
        "abs",
        "signum",
        "recip",
        "exp",
        "log",
        "sqrt",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "acosh",
        "atanh",
    ]
)
_NATIVE_BINARY = frozenset(
    getattr(_core, name) for name in ["add", "sub", "mul", "div", "pow", "log_base"]
)

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
    # A run made inside an op's forward while another run records is nested in it, and gives
    # its plain results as constant BVars of the enclosing run: their plain value is meant. A
    # live one comes from a BVar of the enclosing run that `f` captured, which this op cannot
    # pass a gradient to.
    layer = y
    while isinstance(layer, BVar):
        if not layer.is_constant:
            raise TapeScopeError(
                f"{fn}: f used a BVar of the enclosing run; f runs on a tape of its own for "
                "every element, so that BVar could not receive a gradient (pass it as an "
                "array argument instead)"
            )
        layer = layer.value
    y = layer
    if np.ndim(y) != 0:
        raise TypeError(f"{fn}: f must map floats to a float, got a value of shape {np.shape(y)}")
    return float(y)


def _whole(f: Callable[..., Any], *xs: Any) -> BVar[Array]:
    """An elementwise-by-construction `f` applied to whole arrays: its own rule (a native
    kernel, or the registry's ufunc) gives the gradient."""
    out = f(*_vars(*xs))
    return out if isinstance(out, BVar) else const_var(as_f64(out))


def _nested(x: Any) -> bool:
    """Whether `x` is a BVar of a nested run holding a BVar of the enclosing run."""
    return isinstance(x, BVar) and isinstance(x.value, BVar)


def _elementwise(fn: str, f: Callable[[list[Any]], Any], *arrays: Any) -> BVar[Array]:
    """`f` applied to the elements of `arrays` (one shape) one at a time, as ordinary BVar code,
    and stacked back: in a nested run this records `f`'s derivative too (the per-element
    backprop of `vmap`'s op would give a first derivative only)."""
    shape = value_shape(arrays[0])
    flat = [_np_shape.reshape(_var(a), (-1,)) for a in arrays]

    def at(i: int) -> Any:
        y = f([a[i] for a in flat])
        got = np.shape(plain_value(y))
        if got:
            raise TypeError(f"{fn}: f must map floats to a float, got a value of shape {got}")
        return y

    n = int(np.prod(shape))
    out = _np_shape.stack([at(i) for i in range(n)]) if n else np.zeros(0)
    return _var(_np_shape.reshape(out, shape))


def vmap(f: ScalarFn, v: BVar[Array]) -> BVar[Array]:
    """Apply a differentiable scalar function to every element (hmatrix's `dvmap`/`dmmap`;
    any shape). `f` is a function of a float BVar or an `Op[float, float]`.

    The forward pass runs `backprop(f, x_i)` on each element and keeps the derivatives, so the
    gradient is `d * f'(x)`. bprop's own elementwise functions and ops, and numpy ufuncs, are
    applied once to the whole array.

    >>> bp.backprop(lambda v: bp.linalg.vmap(lambda x: x * x, v), np.array([1.0, 2.0, 3.0]))
    (array([1., 4., 9.]), array([2., 4., 6.]))
    """
    if _is_native(f, 1, _NATIVE_UNARY):
        return _whole(f, v)
    g: Callable[[BVar[float]], BVar[float]] = (lambda w: f(w)) if isinstance(f, Op) else f
    if _nested(v):
        return _elementwise("vmap", lambda xs: g(xs[0]), v)

    if not isinstance(v, BVar) or v.is_constant:  # no gradient can be asked for: evaluate only
        x = as_f64(v.value if isinstance(v, BVar) else v)
        out = np.array([_as_float("vmap", eval_bp(g, float(e))) for e in x.flat]).reshape(x.shape)
        return const_var(out)

    def forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
        x = as_f64(x)
        y, dx = np.empty(x.shape), np.empty(x.shape)
        with unnested():  # plain per-element runs, on the native path
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
    `d * ∂f/∂u` and `d * ∂f/∂v`. bprop's own elementwise functions and ops, and numpy ufuncs,
    are applied once to the whole arrays.

    >>> u, v = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    >>> bp.backprop2(lambda a, b: bp.linalg.zip_with_vector(lambda x, y: x * y, a, b), u, v)
    (array([3., 8.]), (array([3., 4.]), array([1., 2.])))
    """
    su, sv = value_shape(u), value_shape(v)
    if su != sv:
        raise ShapeError(f"zip_with_vector: shapes differ: {su} vs {sv}")
    if _is_native(f, 2, _NATIVE_BINARY):
        return _whole(f, u, v)
    g: Callable[[BVar[float], BVar[float]], BVar[float]] = (
        (lambda a, b: f(a, b)) if isinstance(f, Op) else f
    )
    if _nested(u) or _nested(v):
        return _elementwise("zip_with_vector", lambda xs: g(xs[0], xs[1]), u, v)

    if all(not isinstance(w, BVar) or w.is_constant for w in (u, v)):
        x = as_f64(u.value if isinstance(u, BVar) else u)
        z = as_f64(v.value if isinstance(v, BVar) else v)
        out = [
            _as_float("zip_with_vector", eval_bp2(g, float(a), float(b)))
            for a, b in zip(x.flat, z.flat)
        ]
        return const_var(np.array(out).reshape(x.shape))

    def forward(x: Array, z: Array) -> tuple[Array, Callable[[Array], tuple[Array, Array]]]:
        x, z = as_f64(x), as_f64(z)
        y, dx, dz = np.empty(x.shape), np.empty(x.shape), np.empty(x.shape)
        with unnested():  # plain per-element runs, on the native path
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


# ---- logsumexp and softmax (scipy.special's, from the registry) ---------------------------


def _axes(fn: str, shape: Shape, axis: Axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(len(shape)))
    try:
        return tuple(normalize_axis_tuple(axis, len(shape)))
    except AxisError:
        raise ShapeError(f"{fn}: axis {axis} out of range for shape {shape}") from None
    except ValueError as e:  # a repeated axis
        raise ShapeError(f"{fn}: bad axis {axis} for shape {shape}: {e}") from None


@overload
def logsumexp(z: BVar[Array], axis: None = None) -> BVar[float]: ...
@overload
def logsumexp(z: BVar[Array], axis: int | tuple[int, ...]) -> BVar[Array]: ...
def logsumexp(z: BVar[Array], axis: Axis = None) -> BVar[float] | BVar[Array]:
    """`log(sum(exp(z), axis))`, computed stably (max-shifted). A float for `axis=None` (or
    when every axis is reduced), else an array without the reduced axes. Gradient:
    `d * softmax(z)` over `axis`.

    >>> z = np.array([0.0, np.log(3.0)])
    >>> round(bp.eval_bp(bp.linalg.logsumexp, z), 4), bp.grad_bp(bp.linalg.logsumexp, z).round(4)
    (1.3863, array([0.25, 0.75]))
    """
    axes = _axes("logsumexp", value_shape(z), axis)
    return cast(BVar[Any], _np_special.logsumexp(_var(z), axis=axes))


def softmax(z: BVar[Array], axis: Axis = -1) -> BVar[Array]:
    """`exp(z) / sum(exp(z), axis)`, computed stably (max-shifted; a slice holding +inf is all
    NaN, as in scipy). Gradient: `s * (d - sum(d * s, axis))` with `s` the softmax.

    >>> z = np.array([0.0, np.log(3.0)])
    >>> bp.eval_bp(bp.linalg.softmax, z).round(4)
    array([0.25, 0.75])
    >>> bp.grad_bp(lambda z: bp.linalg.softmax(z)[0], z).round(4)
    array([ 0.1875, -0.1875])
    """
    axes = _axes("softmax", value_shape(z), axis)
    return cast(BVar[Array], _np_special.softmax(_var(z), axis=axes))


def log_softmax(z: BVar[Array], axis: Axis = -1) -> BVar[Array]:
    """`z - logsumexp(z, axis)` (with the reduced axes kept), computed stably.
    Gradient: `d - softmax(z) * sum(d, axis)`.

    >>> z = np.array([0.0, np.log(3.0)])
    >>> bp.eval_bp(bp.linalg.log_softmax, z).round(4)
    array([-1.3863, -0.2877])
    >>> bp.grad_bp(lambda z: bp.linalg.log_softmax(z)[0], z).round(4)
    array([ 0.75, -0.75])
    """
    axes = _axes("log_softmax", value_shape(z), axis)
    return cast(BVar[Array], _np_special.log_softmax(_var(z), axis=axes))
