# Typed signatures of `bprop.numpy.linalg`: numpy.linalg's names and parameters, with BVar types
# (the rules are those of bprop/numpy/__init__.pyi). `python -m mypy.stubtest bprop.numpy.linalg`
# checks it against the runtime, and tests/typing/check_numpy.py checks what it accepts and
# rejects.
#
# Matrix functions are typed for one matrix: `det` gives a float BVar, `inv` an array BVar.
# Stacked matrices (..., M, M) are supported at run time and give arrays where one matrix gives
# a float; type such results as arrays with an explicit annotation of your own.
# Functions with several results return numpy's named tuples, whose components are BVars.
from collections.abc import Sequence
from typing import Any, Generic, Literal, NamedTuple, SupportsIndex, TypeAlias, TypeVar, overload

import numpy as np
import numpy.typing as npt

from bprop._core import BVar

__all__ = [
    "EighResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matrix_power",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
]

_Arr: TypeAlias = npt.NDArray[np.float64]
_ArrC: TypeAlias = npt.NDArray[np.floating[Any] | np.integer[Any] | np.bool_]
_AV: TypeAlias = BVar[npt.NDArray[np.float64]]
_FV: TypeAlias = BVar[float]
_Axis: TypeAlias = SupportsIndex | tuple[SupportsIndex, SupportsIndex]
# `ord` of numpy.linalg.norm: a number (inf, -inf, 0, 1, 2, p, ...) or a matrix norm's name.
_Ord: TypeAlias = float | Literal["fro", "nuc"] | None
_UPLO: TypeAlias = Literal["L", "U", "l", "u"]
_T = TypeVar("_T")

class SlogdetResult(NamedTuple, Generic[_T]):
    sign: _T
    logabsdet: _T

class EighResult(NamedTuple, Generic[_T]):
    eigenvalues: _T
    eigenvectors: _T

class SVDResult(NamedTuple, Generic[_T]):
    U: _T
    S: _T
    Vh: _T

class QRResult(NamedTuple, Generic[_T]):
    Q: _T
    R: _T

# A norm over all of `x` (`axis=None`, no `keepdims`) is a float; with an axis (an int: vector
# norms; a pair: matrix norms) or `keepdims=True`, an array.
@overload
def norm(x: _AV, ord: _Ord = None, axis: None = None, keepdims: Literal[False] = False) -> _FV: ...
@overload
def norm(x: _AV, ord: _Ord, axis: _Axis, keepdims: bool = False) -> _AV: ...
@overload
def norm(x: _AV, ord: _Ord = None, *, axis: _Axis, keepdims: bool = False) -> _AV: ...
@overload
def norm(x: _AV, ord: _Ord = None, axis: _Axis | None = None, *, keepdims: Literal[True]) -> _AV: ...
@overload
def norm(x: _AV, ord: _Ord = None, axis: _Axis | None = None, keepdims: bool = False) -> _AV | _FV: ...
@overload
def norm(x: _FV, ord: _Ord = None, axis: _Axis | None = None, keepdims: bool = False) -> _FV: ...
@overload
def norm(x: _Arr, ord: _Ord = None, axis: None = None, keepdims: Literal[False] = False) -> float: ...
@overload
def norm(x: _Arr, ord: _Ord, axis: _Axis, keepdims: bool = False) -> _Arr: ...
@overload
def norm(x: _Arr, ord: _Ord = None, *, axis: _Axis, keepdims: bool = False) -> _Arr: ...
@overload
def norm(x: _Arr, ord: _Ord = None, axis: _Axis | None = None, *, keepdims: Literal[True]) -> _Arr: ...
@overload
def norm(x: _Arr, ord: _Ord = None, axis: _Axis | None = None, keepdims: bool = False) -> _Arr | float: ...
@overload
def norm(x: float, ord: _Ord = None, axis: _Axis | None = None, keepdims: bool = False) -> float: ...
@overload
def det(a: _AV) -> _FV: ...
@overload
def det(a: _Arr) -> float: ...

# (sign, log|det a|); the sign carries no gradient.
@overload
def slogdet(a: _AV) -> SlogdetResult[_FV]: ...
@overload
def slogdet(a: _Arr) -> SlogdetResult[float]: ...
@overload
def inv(a: _AV) -> _AV: ...
@overload
def inv(a: _Arr) -> _Arr: ...
@overload
def solve(a: _AV, b: _AV | _ArrC) -> _AV: ...
@overload
def solve(a: _ArrC, b: _AV) -> _AV: ...
@overload
def solve(a: _Arr, b: _Arr) -> _Arr: ...
@overload
def cholesky(a: _AV, /, *, upper: bool = False) -> _AV: ...
@overload
def cholesky(a: _Arr, /, *, upper: bool = False) -> _Arr: ...
@overload
def eigh(a: _AV, UPLO: _UPLO = "L") -> EighResult[_AV]: ...
@overload
def eigh(a: _Arr, UPLO: _UPLO = "L") -> EighResult[_Arr]: ...
@overload
def eigvalsh(a: _AV, UPLO: _UPLO = "L") -> _AV: ...
@overload
def eigvalsh(a: _Arr, UPLO: _UPLO = "L") -> _Arr: ...

# `compute_uv=False`: the singular values only. On BVars, `(U, S, Vh)` needs
# `full_matrices=False` (a TypeError otherwise, at run time).
@overload
def svd(a: _AV, full_matrices: bool = True, compute_uv: Literal[True] = True, hermitian: bool = False) -> SVDResult[_AV]: ...
@overload
def svd(a: _AV, full_matrices: bool, compute_uv: Literal[False], hermitian: bool = False) -> _AV: ...
@overload
def svd(a: _AV, full_matrices: bool = True, *, compute_uv: Literal[False], hermitian: bool = False) -> _AV: ...
@overload
def svd(a: _Arr, full_matrices: bool = True, compute_uv: Literal[True] = True, hermitian: bool = False) -> SVDResult[_Arr]: ...
@overload
def svd(a: _Arr, full_matrices: bool, compute_uv: Literal[False], hermitian: bool = False) -> _Arr: ...
@overload
def svd(a: _Arr, full_matrices: bool = True, *, compute_uv: Literal[False], hermitian: bool = False) -> _Arr: ...
@overload
def pinv(a: _AV, rcond: float | None = None, hermitian: bool = False, *, rtol: float | None = None) -> _AV: ...
@overload
def pinv(a: _Arr, rcond: float | None = None, hermitian: bool = False, *, rtol: float | None = None) -> _Arr: ...

# `mode='r'`: R only.
@overload
def qr(a: _AV, mode: Literal["reduced", "complete"] = "reduced") -> QRResult[_AV]: ...
@overload
def qr(a: _AV, mode: Literal["r"]) -> _AV: ...
@overload
def qr(a: _Arr, mode: Literal["reduced", "complete"] = "reduced") -> QRResult[_Arr]: ...
@overload
def qr(a: _Arr, mode: Literal["r"]) -> _Arr: ...
@overload
def matrix_power(a: _AV, n: SupportsIndex) -> _AV: ...
@overload
def matrix_power(a: _Arr, n: SupportsIndex) -> _Arr: ...
# Plain arrays only give a plain array (pyright: a sequence of plain arrays also fits the
# second overload; the first, listed first, is the one chosen).
@overload
def multi_dot(arrays: Sequence[_Arr], *, out: None = None) -> _Arr: ...  # pyright: ignore[reportOverlappingOverload]
@overload
def multi_dot(arrays: Sequence[_AV | _ArrC], *, out: None = None) -> _AV: ...
