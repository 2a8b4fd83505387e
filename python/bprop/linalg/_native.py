"""Array functions backed by the Rust core's native kernels (`bprop._core`): products,
reductions, transposition and the fused softmax cross-entropy. Each records one compact node
whose backward pass runs in Rust with the GIL released.

They accept BVars and plain values (plain float64 arrays and numbers become constants); integer,
boolean and float32 arrays are converted to float64. Full reductions return float BVars.
"""

from __future__ import annotations

from typing import Any, cast, overload

from .. import _core
from .._core import BVar
from ..errors import ShapeError
from ._common import Array, ArrayC, value_shape

__all__ = [
    "dot",
    "matmul",
    "matvec",
    "mean",
    "outer",
    "reshape",
    "softmax_cross_entropy",
    "sum",
    "sum_elements",
    "tr",
    "transpose",
]


def _ndim(fn: str, v: Any, ndim: int, what: str) -> None:
    shape = value_shape(v)
    if len(shape) != ndim:
        raise ShapeError(f"{fn}: {what} must be {ndim}-D, got shape {list(shape)}")


def _inner(fn: str, a: Any, b: Any) -> None:
    sa, sb = value_shape(a), value_shape(b)
    if sa[-1] != sb[0]:
        raise ShapeError(f"{fn}: inner dimensions differ: shapes {list(sa)} and {list(sb)}")


# Plain arrays are constants (as at run time): one operand may be a plain array, and with no
# BVar operand the result is a plain array.
@overload
def matmul(a: BVar[Array], b: BVar[Array] | ArrayC) -> BVar[Array]: ...
@overload
def matmul(a: ArrayC, b: BVar[Array]) -> BVar[Array]: ...
@overload
def matmul(a: ArrayC, b: ArrayC) -> Array: ...
def matmul(a: BVar[Array] | ArrayC, b: BVar[Array] | ArrayC) -> BVar[Array] | Array:
    """`a @ b` (hmatrix's `<>`), numpy's `matmul` for 1-D and 2-D operands. Typed as an array,
    like `@` (a vector times a vector is their dot product, a float at run time: use `dot`).

    >>> a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2)
    >>> bp.eval_bp2(bp.linalg.matmul, a, b)
    array([[1., 2.],
           [3., 4.]])
    >>> bp.grad_bp(lambda m: bp.linalg.sum_elements(bp.linalg.matmul(m, b)), a)
    array([[1., 1.],
           [1., 1.]])
    """
    return cast(BVar[Array], _core.matmul(a, b))


@overload
def dot(u: BVar[Array], v: BVar[Array] | ArrayC) -> BVar[float]: ...
@overload
def dot(u: ArrayC, v: BVar[Array]) -> BVar[float]: ...
@overload
def dot(u: ArrayC, v: ArrayC) -> float: ...
def dot(u: BVar[Array] | ArrayC, v: BVar[Array] | ArrayC) -> BVar[float] | float:
    """Inner product of two vectors (hmatrix's `<.>`), a float.

    >>> bp.backprop2(bp.linalg.dot, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    (11.0, (array([3., 4.]), array([1., 2.])))
    """
    _ndim("dot", u, 1, "the first vector")
    _ndim("dot", v, 1, "the second vector")
    _inner("dot", u, v)
    return cast(BVar[float], _core.matmul(u, v))


@overload
def matvec(m: BVar[Array], v: BVar[Array] | ArrayC) -> BVar[Array]: ...
@overload
def matvec(m: ArrayC, v: BVar[Array]) -> BVar[Array]: ...
@overload
def matvec(m: ArrayC, v: ArrayC) -> Array: ...
def matvec(m: BVar[Array] | ArrayC, v: BVar[Array] | ArrayC) -> BVar[Array] | Array:
    """Matrix times vector (hmatrix's `#>`).

    >>> m, v = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])
    >>> bp.eval_bp2(bp.linalg.matvec, m, v)
    array([3., 7.])
    >>> bp.grad_bp(lambda u: bp.linalg.sum_elements(bp.linalg.matvec(m, u)), v)
    array([4., 6.])
    """
    _ndim("matvec", m, 2, "the matrix")
    _ndim("matvec", v, 1, "the vector")
    _inner("matvec", m, v)
    return cast(BVar[Array], _core.matmul(m, v))


@overload
def outer(u: BVar[Array], v: BVar[Array] | ArrayC) -> BVar[Array]: ...
@overload
def outer(u: ArrayC, v: BVar[Array]) -> BVar[Array]: ...
def outer(u: BVar[Array] | ArrayC, v: BVar[Array] | ArrayC) -> BVar[Array]:
    """Outer product `u vᵀ` of two vectors: a column times a row, recorded as two reshapes and
    one broadcast multiply (the registry's `numpy.outer`).

    >>> u, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    >>> bp.eval_bp2(bp.linalg.outer, u, w)
    array([[3., 4.],
           [6., 8.]])
    >>> bp.grad_bp(lambda u: bp.linalg.sum_elements(bp.linalg.outer(u, w)), u)
    array([7., 7.])
    """
    from ..numpy._products import outer as np_outer

    _ndim("outer", u, 1, "the first vector")
    _ndim("outer", v, 1, "the second vector")
    return cast(BVar[Array], np_outer(u, v))


def transpose(m: BVar[Array]) -> BVar[Array]:
    """The axes reversed (hmatrix's `tr`; `m.T` on BVars).

    >>> bp.grad_bp(lambda m: bp.linalg.transpose(m)[0, 1], np.zeros((2, 2)))
    array([[0., 0.],
           [1., 0.]])
    >>> bp.linalg.tr is bp.linalg.transpose
    True
    """
    return cast(BVar[Array], _core.transpose(m))


tr = transpose


def reshape(v: BVar[Array], shape: tuple[int, ...] | list[int]) -> BVar[Array]:
    """`v` in a new shape of the same size (C order; one entry may be -1).

    >>> bp.grad_bp(lambda v: bp.linalg.reshape(v, (2, 2))[0, 1], np.arange(4.0))
    array([0., 1., 0., 0.])
    """
    return cast(BVar[Array], _core.reshape(v, list(shape)))


# Reductions: the whole array gives a float; along an axis, an array (typed so, as numpy's
# stubs type `sum(axis=...)`: a 1-D array reduced along its axis gives a float at run time).
@overload
def sum(v: BVar[Array], axis: None = None) -> BVar[float]: ...
@overload
def sum(v: BVar[Array], axis: int) -> BVar[Array]: ...
def sum(v: BVar[Array], axis: int | None = None) -> BVar[float] | BVar[Array]:
    """Sum of the elements (a float), or along `axis` (an array).

    >>> bp.backprop(lambda m: bp.linalg.sum(m, axis=0), np.array([[1.0, 2.0], [3.0, 4.0]]))
    (array([4., 6.]), array([[1., 1.],
           [1., 1.]]))
    """
    return cast(BVar[Any], _core.sum(v, axis))


def sum_elements(v: BVar[Array]) -> BVar[float]:
    """Sum of all elements (hmatrix's `sumElements`).

    >>> bp.backprop(bp.linalg.sum_elements, np.array([[1.0, 2.0], [3.0, 4.0]]))
    (10.0, array([[1., 1.],
           [1., 1.]]))
    """
    return cast(BVar[float], _core.sum(v, None))


@overload
def mean(v: BVar[Array], axis: None = None) -> BVar[float]: ...
@overload
def mean(v: BVar[Array], axis: int) -> BVar[Array]: ...
def mean(v: BVar[Array], axis: int | None = None) -> BVar[float] | BVar[Array]:
    """Mean of the elements (a float) or along `axis`; divides by the number of elements, zeros
    included (hmatrix-backprop divides by the count of non-zero elements, which is wrong).

    >>> bp.backprop(bp.linalg.mean, np.array([1.0, 2.0, 3.0, 6.0]))
    (3.0, array([0.25, 0.25, 0.25, 0.25]))
    """
    return cast(BVar[Any], _core.mean(v, axis))


def softmax_cross_entropy(logits: BVar[Array], targets: BVar[Array] | ArrayC) -> BVar[float]:
    """Mean over rows of `-sum(targets * log_softmax(logits, axis=-1), axis=-1)`, fused into one
    native node (max-shifted, so large logits do not overflow). `logits` and `targets` are
    1-D (one row) or 2-D arrays of one shape; targets may be one-hot or any distribution.

    >>> logits = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> loss, g = bp.backprop(lambda z: bp.linalg.softmax_cross_entropy(z, targets), logits)
    >>> round(loss, 4), g
    (0.6931, array([[-0.25,  0.25],
           [ 0.25, -0.25]]))
    """
    return cast(BVar[float], _core.softmax_cross_entropy(logits, targets))
