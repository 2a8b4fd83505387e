"""Prelude functions on BVars of containers (Haskell's `Prelude.Backprop`).

Containers. A container is a `list`, a `tuple` or a numpy array of at least one dimension; the
elements of an array are its entries along axis 0 (floats for a 1-D array, rows for an (n, k)
array). Every function takes a BVar of a container, like Haskell's `BVar s (t a)`, or, for
convenience, a plain list or tuple of BVars, which is first joined into one BVar with
`collect_var`. Results keep the container kind where that makes sense: `map` over a tuple gives a
tuple, over an array an array. Gradients of containers are containers of the same kind.

Cost. `sum`, `product`, `minimum`, `maximum`, `to_list`, `pure`, `broadcast`, `from_integral`,
`real_to_frac` and `round` are each one Op (one tape node for the whole container, with a
pullback over the container value); `length` is a constant and records nothing. `map`, `foldr`,
`foldl`, `map_accum_l`, `map_accum_r` and `zip_with` call a user function on BVars, so they split
the container with `sequence_var` (one node), call it per element, and join the results with
`collect_var` (one node).

Numerics, where Haskell's backprop is wrong and this module is not:

* `product` gets its gradient from prefix and suffix products (`d/dx_i = prod_{j<i} x_j *
  prod_{j>i} x_j`), O(n) and without division, so zeros are handled exactly: with one zero only
  that element has a nonzero gradient, with two or more every gradient is zero. (Dividing the
  product by `x_i` gives NaN at zeros.)
* `minimum` and `maximum` split the gradient evenly among tied elements (k ties: `g/k` each)
  rather than giving all of it to every tied element. Elements that are arrays are compared
  entrywise (like `numpy.min(axis=0)`) and ties are split per entry. A NaN element makes the
  result NaN and then takes the gradient (shared among the NaNs).
* `round` rounds half to even (Python's and numpy's rule) and passes the gradient through
  unchanged: the straight-through estimator, since the true derivative is zero almost everywhere.
* `from_integral` passes the float gradient back unrounded (rounding it to an integer would make
  it wrong); `real_to_frac` converts it back to the input's type, as Haskell's `realToFrac` does.
* Empty containers: `sum` is `0.0`, `product` is `1.0`; `minimum`/`maximum` raise `ValueError`.
"""

from __future__ import annotations

import builtins
import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar, overload

import numpy as np
import numpy.typing as npt

from ._containers import container_of
from ._core import BVar, const_var
from .classes import add, zero
from .op import Op, named, op1, op2

__all__ = [
    "broadcast",
    "foldl",
    "foldr",
    "from_integral",
    "length",
    "map",
    "map_accum_l",
    "map_accum_r",
    "maximum",
    "minimum",
    "product",
    "pure",
    "real_to_frac",
    "round",
    "sum",
    "to_list",
    "zip_with",
]

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")

Array: TypeAlias = npt.NDArray[Any]
ListLike: TypeAlias = BVar[list[A]] | list[BVar[A]]
"""A BVar of a list, or a list of BVars."""
TupleLike: TypeAlias = BVar[tuple[A, ...]] | tuple[BVar[A], ...]
"""A BVar of a tuple, or a tuple of BVars."""
Elems: TypeAlias = ListLike[A] | TupleLike[A] | BVar[Sequence[A]] | Sequence[BVar[A]]
"""Any container of `A`s given as a BVar, or a sequence of BVars."""


# ---- container values -----------------------------------------------------------------------


def _is_array(name: str, x: object) -> bool:
    """Whether the container value `x` is an array (else a list or tuple); anything else is an error."""
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            raise TypeError(f"{name}: a 0-d array is not a container")
        return True
    if isinstance(x, (list, tuple)):
        return False
    raise TypeError(f"{name}: expected a list, tuple or numpy array, got {type(x).__qualname__}")


def _plain(x: Any) -> Any:
    """A 0-d array or numpy scalar as the Python scalar (1-D array elements are floats)."""
    return x.item() if isinstance(x, (np.ndarray, np.generic)) and x.ndim == 0 else x


def _rebuild(like: Sequence[Any] | Array, items: Sequence[Any]) -> Any:
    """The gradient of container `like` whose elements' gradients are `items`: the same kind
    (a NamedTuple stays one), and for arrays the same shape in float."""
    return container_of(like).embed(like, items)


def _copies(g: Any, n: int) -> list[Any]:
    """`n` copies of the gradient `g` (separate arrays, so no consumer sees another's buffer)."""
    return [g.copy() for _ in builtins.range(n)] if isinstance(g, np.ndarray) else [g] * n


def _joined(v: Any) -> Any:
    """A BVar of the container: a list or tuple holding BVars is joined with `collect_var`; a
    BVar, or a container of plain values (a constant), is returned as is."""
    if isinstance(v, (list, tuple)) and builtins.any(isinstance(e, BVar) for e in v):
        from .optics import collect_var

        return collect_var(v)
    return v


# ---- one-node reductions and conversions ----------------------------------------------------


def _sum(x: Any) -> tuple[Any, Callable[[Any], Any]]:
    if _is_array("sum", x):
        return _plain(x.sum(axis=0)), lambda g: np.array(np.broadcast_to(g, x.shape))
    value = functools.reduce(operator.add, x) if x else 0.0
    return value, lambda g: _rebuild(x, _copies(g, len(x)))


def _exclusive_products(x: Any) -> tuple[Any, Any]:
    """`(prefix, suffix)` with `prefix[i] = x_0 ... x_{i-1}` and `suffix[i] = x_{i+1} ... x_{n-1}`;
    `None` stands for an empty product in lists (whose elements' unit is unknown)."""
    if isinstance(x, np.ndarray):
        ones = np.ones_like(x[:1])
        prefix = np.concatenate([ones, np.cumprod(x[:-1], axis=0)])
        suffix = np.concatenate([np.cumprod(x[:0:-1], axis=0)[::-1], ones])
        return prefix, suffix
    prefix_l: list[Any] = []
    suffix_l: list[Any] = []
    for out, items in ((prefix_l, x), (suffix_l, x[::-1])):
        acc = None
        for e in items:
            out.append(acc)
            acc = e if acc is None else acc * e
    return prefix_l, suffix_l[::-1]


def _product(x: Any) -> tuple[Any, Callable[[Any], Any]]:
    is_array = _is_array("product", x)

    def pullback(g: Any) -> Any:
        prefix, suffix = _exclusive_products(x)
        if is_array:
            return prefix * suffix * np.asarray(g)
        factors = ([f for f in (p, s) if f is not None] for p, s in zip(prefix, suffix))
        return _rebuild(x, [functools.reduce(operator.mul, fs, g) for fs in factors])

    if is_array:
        return _plain(x.prod(axis=0)), pullback
    return (functools.reduce(operator.mul, x) if x else 1.0), pullback


def _extreme(
    name: str, reduce: Callable[..., Any]
) -> Callable[[Any], tuple[Any, Callable[[Any], Any]]]:
    """Forward of `minimum`/`maximum`: `reduce` is `np.min` or `np.max` (entrywise over axis 0);
    the gradient is shared evenly among the elements equal to the result."""

    def forward(x: Any) -> tuple[Any, Callable[[Any], Any]]:
        is_array = _is_array(name, x)
        if len(x) == 0:
            raise ValueError(f"{name}: empty container")
        stacked = x if is_array else np.asarray(x)
        m = reduce(stacked, axis=0)
        # NaN != NaN: a NaN result comes from the NaN elements, so they are the "ties"
        hit = (stacked == m) | ((stacked != stacked) & (m != m))  # noqa: PLR0124 (x != x: NaN)

        def pullback(g: Any) -> Any:
            share = np.where(hit, np.asarray(g) / hit.sum(axis=0), 0.0)
            return share if is_array else _rebuild(x, [_plain(s) for s in share])

        if is_array:
            return _plain(m), pullback
        # scalar elements: the element itself (keeps its type); array elements: entrywise extreme
        return (x[int(np.argmax(hit))] if stacked.ndim == 1 else m), pullback

    return forward


def _to_list(x: Any) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    items = [_plain(e) for e in x] if _is_array("to_list", x) else list(x)
    return items, lambda g: _rebuild(x, g)


def _to_array(xs: list[Any]) -> tuple[Array, Callable[[Array], list[Any]]]:
    """A list of floats or equally shaped arrays stacked into one array (the inverse of `to_list`)."""
    value = np.array(xs) if xs else np.zeros(0)
    return value, lambda g: [_plain(r) for r in g]


def _broadcast(x: Any, like: Any) -> tuple[Any, Callable[[Any], tuple[Any, None]]]:
    if _is_array("broadcast", like):
        row = np.asarray(x)
        value: Any = np.repeat(row[np.newaxis], len(like), axis=0)
        return value, lambda g: (_plain(np.sum(g, axis=0)), None)
    value = [x] * len(like) if isinstance(like, list) else (x,) * len(like)
    return value, lambda g: (functools.reduce(add, g) if len(g) else zero(x), None)


def _from_integral(x: Any) -> tuple[Any, Callable[[Any], Any]]:
    # the tape stores every real array as float64, so an integer array arrives as whole floats
    whole = isinstance(x, np.ndarray) and x.dtype.kind in "iuf" and bool(np.all(x == np.trunc(x)))
    if not (whole or isinstance(x, (int, np.integer)) and not isinstance(x, bool)):
        raise TypeError(
            f"from_integral: expected an integer or an array of whole numbers, got {x!r}"
        )
    value = x.astype(np.float64) if isinstance(x, np.ndarray) else float(x)
    return value, lambda g: g  # unrounded: an integer gradient would be wrong


def _real_to_frac(x: Any) -> tuple[Any, Callable[[Any], Any]]:
    if np.asarray(x).dtype.kind in "biuc":
        raise TypeError(
            f"real_to_frac: expected a real, non-integral number, got {x!r} (from_integral takes integers)"
        )
    if isinstance(x, np.ndarray):
        return x.astype(np.float64), lambda g: np.asarray(g).astype(x.dtype)
    return float(x), lambda g: type(x)(g)


def _round(x: Any) -> tuple[Any, Callable[[Any], Any]]:
    # np.round and builtins.round both round half to even; keep the input's type
    value = x.round() if isinstance(x, (np.ndarray, np.generic)) else type(x)(builtins.round(x))
    return value, lambda g: g  # straight-through


_sum_op: Op[Any, Any] = named(op1(_sum), "sum")
_product_op: Op[Any, Any] = named(op1(_product), "product")
_minimum_op: Op[Any, Any] = named(op1(_extreme("minimum", np.min)), "minimum")
_maximum_op: Op[Any, Any] = named(op1(_extreme("maximum", np.max)), "maximum")
_to_list_op: Op[Any, list[Any]] = named(op1(_to_list), "to_list")
_to_array_op: Op[list[Any], Array] = named(op1(_to_array), "to_array")
_broadcast_op: Op[Any, Any, Any] = named(op2(_broadcast), "broadcast")
_from_integral_op: Op[Any, float] = named(op1(_from_integral), "from_integral")
_real_to_frac_op: Op[Any, float] = named(op1(_real_to_frac), "real_to_frac")
_round_op: Op[Any, Any] = named(op1(_round), "round")
_pure_ops: dict[type, Op[Any, Any]] = {
    list: named(op1(lambda x: ([x], lambda g: g[0])), "pure"),
    tuple: named(op1(lambda x: ((x,), lambda g: g[0])), "pure"),
    np.ndarray: named(op1(lambda x: (np.asarray(x)[np.newaxis], lambda g: _plain(g[0]))), "pure"),
}


@overload
def sum(v: Elems[A]) -> BVar[A]: ...
@overload
def sum(v: BVar[Array]) -> BVar[Any]: ...
def sum(v: Any) -> Any:
    """Sum of the elements (`0.0` for an empty container); every element gets the gradient.

    >>> bp.backprop(bp.prelude.sum, [1.0, 2.0, 3.0])
    (6.0, [1.0, 1.0, 1.0])
    >>> bp.grad_bp(bp.prelude.sum, np.ones(3))
    array([1., 1., 1.])
    """
    return _sum_op(_joined(v))


@overload
def product(v: Elems[A]) -> BVar[A]: ...
@overload
def product(v: BVar[Array]) -> BVar[Any]: ...
def product(v: Any) -> Any:
    """Product of the elements (`1.0` for an empty container), with the exact gradient at zeros.

    >>> bp.backprop(bp.prelude.product, [2.0, 0.0, 4.0])
    (0.0, [0.0, 8.0, 0.0])
    """
    return _product_op(_joined(v))


@overload
def minimum(v: Elems[A]) -> BVar[A]: ...
@overload
def minimum(v: BVar[Array]) -> BVar[Any]: ...
def minimum(v: Any) -> Any:
    """Smallest element; tied elements share the gradient evenly. `ValueError` if empty.

    >>> bp.backprop(bp.prelude.minimum, [2.0, 1.0, 5.0])
    (1.0, [0.0, 1.0, 0.0])
    """
    return _minimum_op(_joined(v))


@overload
def maximum(v: Elems[A]) -> BVar[A]: ...
@overload
def maximum(v: BVar[Array]) -> BVar[Any]: ...
def maximum(v: Any) -> Any:
    """Largest element; tied elements share the gradient evenly. `ValueError` if empty.

    >>> bp.backprop(bp.prelude.maximum, [1.0, 3.0, 3.0])
    (3.0, [0.0, 0.5, 0.5])
    """
    return _maximum_op(_joined(v))


def length(v: Elems[Any] | BVar[Array]) -> BVar[float]:
    """Number of elements, as a constant float (no gradient, no node).

    >>> bp.eval_bp(bp.prelude.length, [1.0, 2.0, 3.0])
    3.0
    """
    x = v.value if isinstance(v, BVar) else v
    _is_array("length", x)
    return const_var(float(len(x)))


@overload
def to_list(v: Elems[A]) -> BVar[list[A]]: ...
@overload
def to_list(v: BVar[Array]) -> BVar[list[Any]]: ...
def to_list(v: Any) -> Any:
    """The elements as a list (an array's rows, or floats for a 1-D array).

    >>> bp.grad_bp(lambda v: bp.prelude.to_list(v)[0] * 2.0, np.array([1.0, 2.0]))
    array([2., 0.])
    """
    return _to_list_op(_joined(v))


@overload
def pure(x: BVar[A]) -> BVar[list[A]]: ...
@overload
def pure(x: BVar[A], kind: type[list[Any]]) -> BVar[list[A]]: ...
@overload
def pure(x: BVar[A], kind: type[tuple[Any, ...]]) -> BVar[tuple[A]]: ...
@overload
def pure(x: BVar[Any], kind: type[Array]) -> BVar[Array]: ...
def pure(x: Any, kind: type = list) -> Any:
    """A one-element container of `kind` (`list`, `tuple` or `numpy.ndarray`) holding `x`.

    >>> bp.backprop(lambda x: bp.prelude.pure(x), 2.0)
    ([2.0], 1.0)
    """
    op = _pure_ops.get(kind)
    if op is None:
        raise TypeError(f"pure: kind must be list, tuple or numpy.ndarray, got {kind!r}")
    return op(x)


@overload
def broadcast(x: BVar[A], like: ListLike[Any]) -> BVar[list[A]]: ...
@overload
def broadcast(x: BVar[A], like: TupleLike[Any]) -> BVar[tuple[A, ...]]: ...
@overload
def broadcast(x: BVar[Any], like: BVar[Array] | Array) -> BVar[Array]: ...
def broadcast(x: Any, like: Any) -> Any:
    """Every element of `like` replaced by `x` (Haskell's `x <$ like`). `x` gets the sum of the
    elements' gradients; `like` only gives the shape, so it gets no gradient.

    >>> bp.backprop2(lambda x, xs: bp.prelude.broadcast(x, xs), 2.0, [1.0, 1.0, 1.0])
    ([2.0, 2.0, 2.0], (3.0, [0.0, 0.0, 0.0]))
    """
    if isinstance(like, (list, tuple)):
        like = (
            [None] * len(like) if isinstance(like, list) else (None,) * len(like)
        )  # only the shape matters
    return _broadcast_op(x, like)


def from_integral(v: BVar[int] | BVar[Array]) -> BVar[float]:
    """An integer (or integer array) as a float (float64 array); the gradient passes back as is.

    >>> bp.backprop(bp.prelude.from_integral, 3)
    (3.0, 1.0)
    """
    return _from_integral_op(v)


def real_to_frac(v: BVar[Any]) -> BVar[float]:
    """A real number (or array) as a float (float64 array); the gradient is converted back to
    the input's type (e.g. `numpy.float32`).

    >>> bp.backprop(bp.prelude.real_to_frac, np.float32(1.5))
    (1.5, np.float32(1.0))
    """
    return _real_to_frac_op(v)


def round(v: BVar[A]) -> BVar[A]:
    """Rounded half to even, of the same type; the gradient passes through unchanged (the
    straight-through estimator: the true derivative is zero almost everywhere).

    >>> bp.backprop(bp.prelude.round, 2.5)
    (2.0, 1.0)
    """
    return _round_op(v)


# ---- traversals with user functions ---------------------------------------------------------


def _split(name: str, v: Any) -> tuple[list[BVar[Any]], type]:
    """The element BVars of a container and the kind (`list`, `tuple`, `np.ndarray`) of results."""
    if isinstance(v, BVar):
        from .optics import sequence_var

        value = v.value
        kind: type = (
            np.ndarray if _is_array(name, value) else (tuple if isinstance(value, tuple) else list)
        )
        return list(sequence_var(v)), kind
    if isinstance(v, np.ndarray):
        _is_array(name, v)
        return [const_var(_plain(e)) for e in v], np.ndarray
    kind = tuple if isinstance(v, tuple) else list
    return [e if isinstance(e, BVar) else const_var(e) for e in v], kind


def _pack(kind: type, items: list[BVar[Any]]) -> Any:
    """One BVar of a container of `kind` from element BVars."""
    from .optics import collect_var

    if kind is tuple:
        return collect_var(tuple(items))
    joined = collect_var(items)
    return _to_array_op(joined) if kind is np.ndarray else joined


def _var(z: Any) -> BVar[Any]:
    return z if isinstance(z, BVar) else const_var(z)


@overload
def map(f: Callable[[BVar[A]], BVar[B]], v: ListLike[A]) -> BVar[list[B]]: ...
@overload
def map(f: Callable[[BVar[A]], BVar[B]], v: TupleLike[A]) -> BVar[tuple[B, ...]]: ...
@overload
def map(f: Callable[[BVar[Any]], BVar[Any]], v: BVar[Array]) -> BVar[Array]: ...
def map(f: Callable[[BVar[Any]], BVar[Any]], v: Any) -> Any:
    """`f` applied to every element (Haskell's `fmap`); the result is the same kind of container.

    >>> bp.backprop(lambda xs: bp.prelude.map(lambda x: x * x, xs), [1.0, 2.0])
    ([1.0, 4.0], [2.0, 4.0])
    """
    items, kind = _split("map", v)
    return _pack(kind, [f(x) for x in items])


@overload
def foldr(f: Callable[[BVar[A], BVar[B]], BVar[B]], z: BVar[B], v: Elems[A]) -> BVar[B]: ...
@overload
def foldr(f: Callable[[BVar[Any], BVar[B]], BVar[B]], z: BVar[B], v: BVar[Array]) -> BVar[B]: ...
def foldr(f: Callable[[BVar[Any], BVar[Any]], BVar[Any]], z: Any, v: Any) -> Any:
    """Right fold: `f(x0, f(x1, ... f(x_{n-1}, z)))`.

    >>> bp.backprop(lambda xs: bp.prelude.foldr(lambda x, acc: x - acc, 0.0, xs), [3.0, 2.0, 1.0])
    (2.0, [1.0, -1.0, 1.0])
    """
    acc = _var(z)
    for x in reversed(_split("foldr", v)[0]):
        acc = f(x, acc)
    return acc


@overload
def foldl(f: Callable[[BVar[B], BVar[A]], BVar[B]], z: BVar[B], v: Elems[A]) -> BVar[B]: ...
@overload
def foldl(f: Callable[[BVar[B], BVar[Any]], BVar[B]], z: BVar[B], v: BVar[Array]) -> BVar[B]: ...
def foldl(f: Callable[[BVar[Any], BVar[Any]], BVar[Any]], z: Any, v: Any) -> Any:
    """Left fold: `f(... f(f(z, x0), x1) ..., x_{n-1})`.

    >>> bp.backprop(lambda xs: bp.prelude.foldl(lambda acc, x: acc * x, 1.0, xs), [2.0, 3.0, 4.0])
    (24.0, [12.0, 8.0, 6.0])
    """
    acc = _var(z)
    for x in _split("foldl", v)[0]:
        acc = f(acc, x)
    return acc


Step: TypeAlias = Callable[[BVar[A], BVar[B]], tuple[BVar[A], BVar[C]]]
"""A `map_accum` step: (accumulator, element) -> (new accumulator, output element)."""


def _map_accum(
    f: Step[Any, Any, Any], s: Any, v: Any, *, from_right: bool
) -> tuple[BVar[Any], Any]:
    items, kind = _split("map_accum_r" if from_right else "map_accum_l", v)
    acc = _var(s)
    outs: list[BVar[Any]] = []
    for x in reversed(items) if from_right else items:
        acc, y = f(acc, x)
        outs.append(y)
    if from_right:
        outs.reverse()  # outputs stay at their elements' positions
    return acc, _pack(kind, outs)


@overload
def map_accum_l(f: Step[A, B, C], s: BVar[A], v: ListLike[B]) -> tuple[BVar[A], BVar[list[C]]]: ...
@overload
def map_accum_l(
    f: Step[A, B, C], s: BVar[A], v: TupleLike[B]
) -> tuple[BVar[A], BVar[tuple[C, ...]]]: ...
@overload
def map_accum_l(
    f: Step[A, Any, Any], s: BVar[A], v: BVar[Array]
) -> tuple[BVar[A], BVar[Array]]: ...
def map_accum_l(f: Step[Any, Any, Any], s: Any, v: Any) -> Any:
    """Thread an accumulator left to right, mapping every element (Haskell's `mapAccumL`);
    returns the final accumulator and the container of outputs.

    >>> running = lambda acc, x: (acc + x, acc + x)
    >>> bp.backprop(lambda xs: bp.prelude.map_accum_l(running, 0.0, xs)[1], [1.0, 2.0, 3.0])
    ([1.0, 3.0, 6.0], [3.0, 2.0, 1.0])
    """
    return _map_accum(f, s, v, from_right=False)


@overload
def map_accum_r(f: Step[A, B, C], s: BVar[A], v: ListLike[B]) -> tuple[BVar[A], BVar[list[C]]]: ...
@overload
def map_accum_r(
    f: Step[A, B, C], s: BVar[A], v: TupleLike[B]
) -> tuple[BVar[A], BVar[tuple[C, ...]]]: ...
@overload
def map_accum_r(
    f: Step[A, Any, Any], s: BVar[A], v: BVar[Array]
) -> tuple[BVar[A], BVar[Array]]: ...
def map_accum_r(f: Step[Any, Any, Any], s: Any, v: Any) -> Any:
    """`map_accum_l` threading the accumulator right to left (Haskell's `mapAccumR`).

    >>> running = lambda acc, x: (acc + x, acc + x)
    >>> bp.backprop(lambda xs: bp.prelude.map_accum_r(running, 0.0, xs)[1], [1.0, 2.0, 3.0])
    ([6.0, 5.0, 3.0], [1.0, 2.0, 3.0])
    """
    return _map_accum(f, s, v, from_right=True)


@overload
def zip_with(
    f: Callable[[BVar[A], BVar[B]], BVar[C]], xs: ListLike[A], ys: Elems[B]
) -> BVar[list[C]]: ...
@overload
def zip_with(
    f: Callable[[BVar[A], BVar[B]], BVar[C]], xs: TupleLike[A], ys: Elems[B]
) -> BVar[tuple[C, ...]]: ...
@overload
def zip_with(
    f: Callable[[BVar[Any], BVar[Any]], BVar[Any]], xs: BVar[Array], ys: Elems[Any] | BVar[Array]
) -> BVar[Array]: ...
def zip_with(f: Callable[[BVar[Any], BVar[Any]], BVar[Any]], xs: Any, ys: Any) -> Any:
    """`f` on corresponding elements, truncated to the shorter container (Haskell's `zipWith`;
    used as `liftA2`). The result has the kind of `xs`.

    >>> products = lambda xs, ys: bp.prelude.zip_with(lambda x, y: x * y, xs, ys)
    >>> bp.backprop2(products, [1.0, 2.0], [3.0, 4.0, 5.0])
    ([3.0, 8.0], ([3.0, 4.0], [1.0, 2.0, 0.0]))
    """
    left, kind = _split("zip_with", xs)
    right, _ = _split("zip_with", ys)
    return _pack(kind, [f(x, y) for x, y in zip(left, right)])
