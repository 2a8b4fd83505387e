"""Array functions backed by the Rust core's native kernels (`bprop._core`): products,
reductions, transposition and the fused softmax cross-entropy. Each records one compact node
whose backward pass runs in Rust with the GIL released.

They accept BVars and plain values (plain float64 arrays and numbers become constants); integer,
boolean and float32 arrays are converted to float64. Full reductions return float BVars.
"""

from __future__ import annotations

from typing import Any, cast

from .. import _core
from .._core import BVar
from ..errors import ShapeError
from ._common import Array, value_shape

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


def matmul(a: BVar[Array], b: BVar[Array]) -> BVar[Any]:
    """`a @ b` (hmatrix's `<>`), numpy's `matmul` for 1-D and 2-D operands: a vector times a
    vector is their dot product (a float)."""
    return cast(BVar[Any], _core.matmul(a, b))


def dot(u: BVar[Array], v: BVar[Array]) -> BVar[float]:
    """Inner product of two vectors (hmatrix's `<.>`), a float."""
    _ndim("dot", u, 1, "the first vector")
    _ndim("dot", v, 1, "the second vector")
    _inner("dot", u, v)
    return cast(BVar[float], _core.matmul(u, v))


def matvec(m: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Matrix times vector (hmatrix's `#>`)."""
    _ndim("matvec", m, 2, "the matrix")
    _ndim("matvec", v, 1, "the vector")
    _inner("matvec", m, v)
    return cast(BVar[Array], _core.matmul(m, v))


def outer(u: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Outer product `u vᵀ` of two vectors: a column times a row, recorded as two reshapes and
    one broadcast multiply (the registry's `numpy.outer`)."""
    from ..numpy._products import outer as np_outer

    _ndim("outer", u, 1, "the first vector")
    _ndim("outer", v, 1, "the second vector")
    return cast(BVar[Array], np_outer(u, v))


def transpose(m: BVar[Array]) -> BVar[Array]:
    """The axes reversed (hmatrix's `tr`; `m.T` on BVars)."""
    return cast(BVar[Array], _core.transpose(m))


tr = transpose


def reshape(v: BVar[Array], shape: tuple[int, ...] | list[int]) -> BVar[Array]:
    """`v` in a new shape of the same size (C order; one entry may be -1)."""
    return cast(BVar[Array], _core.reshape(v, list(shape)))


def sum(v: BVar[Array], axis: int | None = None) -> BVar[Any]:
    """Sum of the elements (a float), or along `axis` (an array)."""
    return cast(BVar[Any], _core.sum(v, axis))


def sum_elements(v: BVar[Array]) -> BVar[float]:
    """Sum of all elements (hmatrix's `sumElements`)."""
    return cast(BVar[float], _core.sum(v, None))


def mean(v: BVar[Array], axis: int | None = None) -> BVar[Any]:
    """Mean of the elements (a float) or along `axis`; divides by the number of elements, zeros
    included (hmatrix-backprop divides by the count of non-zero elements, which is wrong)."""
    return cast(BVar[Any], _core.mean(v, axis))


def softmax_cross_entropy(logits: BVar[Array], targets: BVar[Array] | Array) -> BVar[float]:
    """Mean over rows of `-sum(targets * log_softmax(logits, axis=-1), axis=-1)`, fused into one
    native node (max-shifted, so large logits do not overflow). `logits` and `targets` are
    1-D (one row) or 2-D arrays of one shape; targets may be one-hot or any distribution."""
    return cast(BVar[float], _core.softmax_cross_entropy(logits, targets))
