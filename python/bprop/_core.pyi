# Hand-written stub of the native module (rust/bprop-py). Checked against the built module by
# `python -m mypy.stubtest bprop._core`.
from collections.abc import Callable, Iterator, Sequence
from types import EllipsisType, GenericAlias
from typing import (
    Any,
    Generic,
    Literal,
    NoReturn,
    SupportsIndex,
    TypeAlias,
    TypeVar,
    final,
    overload,
)

import numpy as np
import numpy.typing as npt

__all__ = [
    "BVar",
    "Tape",
    "abs",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "const_var",
    "cos",
    "cosh",
    "div",
    "exp",
    "install_hooks",
    "join",
    "lift_custom",
    "log",
    "log_base",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "pow",
    "project",
    "recip",
    "reshape",
    "set_add",
    "signum",
    "sin",
    "sinh",
    "softmax_cross_entropy",
    "sqrt",
    "sub",
    "sum",
    "tan",
    "tanh",
    "transpose",
]

_A = TypeVar("_A")
_T = TypeVar("_T")
_K = TypeVar("_K")
# Arrays, and numpy's float scalars (`np.float64` is what a reduction of an array gives), mix
# with Python floats in arithmetic.
_N = TypeVar("_N", bound=npt.NDArray[Any] | np.floating[Any])
# The values the math functions (sin, exp, ...) work on: numbers and numeric arrays. A BVar of a
# record (a dataclass) is rejected statically (numpy's ufuncs fail on it at run time).
_X = TypeVar("_X", bound=float | complex | np.number[Any] | npt.NDArray[Any])

# For the ndarray methods and attributes of array BVars (served at run time by `__getattr__`,
# see bprop/numpy/_dispatch.py; the stubtest allowlist lists them).
_Arr: TypeAlias = npt.NDArray[np.float64]
# Plain arrays that combine with array BVars as constants (converted to float64).
_ArrC: TypeAlias = npt.NDArray[np.floating[Any] | np.integer[Any] | np.bool_]
_Axis: TypeAlias = SupportsIndex | Sequence[SupportsIndex]
_Shape: TypeAlias = SupportsIndex | Sequence[SupportsIndex]
# `dtype=` accepts float64 only (the one differentiable dtype).
_F64: TypeAlias = (
    type[float] | type[np.float64] | np.dtype[np.float64] | Literal["float64", "f8", "d"] | None
)
_Order: TypeAlias = Literal["C", "F", "A", "K"]
_Int: TypeAlias = int | np.integer[Any]
_Index: TypeAlias = SupportsIndex | Sequence[SupportsIndex] | npt.NDArray[np.integer[Any]]
# Keys of `v[key]` that always give an array: slices, `...`, `None`, integer arrays and lists,
# boolean masks, and tuples that contain one of these (integers alone may give a scalar).
_ArrayKey: TypeAlias = (
    slice
    | EllipsisType
    | None
    | list[int]
    | list[bool]
    | npt.NDArray[np.integer[Any]]
    | npt.NDArray[np.bool_]
    | tuple[Any, ...]
)

@final
class _AtIndex(Generic[_A]):
    # `v.at[index]`: JAX-style functional updates (a new BVar; `v` is unchanged).
    @overload
    def set(self: _AtIndex[_Arr], x: BVar[_Arr] | BVar[float] | _ArrC | float, /) -> BVar[_Arr]: ...
    @overload
    def set(self, x: BVar[_A] | _A, /) -> BVar[_A]: ...
    @overload
    def add(self: _AtIndex[_Arr], x: BVar[_Arr] | BVar[float] | _ArrC | float, /) -> BVar[_Arr]: ...
    @overload
    def add(self, x: BVar[_A] | _A, /) -> BVar[_A]: ...
    def get(self) -> BVar[Any]: ...

@final
class _At(Generic[_A]):
    def __getitem__(self, index: Any, /) -> _AtIndex[_A]: ...

@final
class BVar(Generic[_A]):
    """A value recorded on one backprop run's tape (or a constant)."""

    @property
    def value(self) -> _A: ...
    @property
    def is_constant(self) -> bool: ...
    # An array BVar combines with floats (scalar broadcasting), and a float BVar with arrays.
    @overload
    def __add__(self, other: BVar[_A] | _A, /) -> BVar[_A]: ...
    @overload
    def __add__(self: BVar[_N], other: float | BVar[float], /) -> BVar[_N]: ...
    @overload
    def __add__(self: BVar[float], other: _N | BVar[_N], /) -> BVar[_N]: ...
    @overload
    def __radd__(self, other: _A, /) -> BVar[_A]: ...
    @overload
    def __radd__(self: BVar[_N], other: float, /) -> BVar[_N]: ...
    @overload
    def __radd__(self: BVar[float], other: _N, /) -> BVar[_N]: ...
    # An array BVar combines with floats (scalar broadcasting), and a float BVar with arrays.
    @overload
    def __sub__(self, other: BVar[_A] | _A, /) -> BVar[_A]: ...
    @overload
    def __sub__(self: BVar[_N], other: float | BVar[float], /) -> BVar[_N]: ...
    @overload
    def __sub__(self: BVar[float], other: _N | BVar[_N], /) -> BVar[_N]: ...
    @overload
    def __rsub__(self, other: _A, /) -> BVar[_A]: ...
    @overload
    def __rsub__(self: BVar[_N], other: float, /) -> BVar[_N]: ...
    @overload
    def __rsub__(self: BVar[float], other: _N, /) -> BVar[_N]: ...
    # An array BVar combines with floats (scalar broadcasting), and a float BVar with arrays.
    @overload
    def __mul__(self, other: BVar[_A] | _A, /) -> BVar[_A]: ...
    @overload
    def __mul__(self: BVar[_N], other: float | BVar[float], /) -> BVar[_N]: ...
    @overload
    def __mul__(self: BVar[float], other: _N | BVar[_N], /) -> BVar[_N]: ...
    @overload
    def __rmul__(self, other: _A, /) -> BVar[_A]: ...
    @overload
    def __rmul__(self: BVar[_N], other: float, /) -> BVar[_N]: ...
    @overload
    def __rmul__(self: BVar[float], other: _N, /) -> BVar[_N]: ...
    # An array BVar combines with floats (scalar broadcasting), and a float BVar with arrays.
    @overload
    def __truediv__(self, other: BVar[_A] | _A, /) -> BVar[_A]: ...
    @overload
    def __truediv__(self: BVar[_N], other: float | BVar[float], /) -> BVar[_N]: ...
    @overload
    def __truediv__(self: BVar[float], other: _N | BVar[_N], /) -> BVar[_N]: ...
    @overload
    def __rtruediv__(self, other: _A, /) -> BVar[_A]: ...
    @overload
    def __rtruediv__(self: BVar[_N], other: float, /) -> BVar[_N]: ...
    @overload
    def __rtruediv__(self: BVar[float], other: _N, /) -> BVar[_N]: ...
    # `**` broadcasts like `*` (so `w ** 2`, `w ** x` and `2.0 ** w` are array BVars).
    @overload
    def __pow__(self, other: BVar[_A] | _A, modulo: None = None, /) -> BVar[_A]: ...
    @overload
    def __pow__(self: BVar[_N], other: float | BVar[float], modulo: None = None, /) -> BVar[_N]: ...
    @overload
    def __pow__(self: BVar[float], other: _N | BVar[_N], modulo: None = None, /) -> BVar[_N]: ...
    @overload
    def __rpow__(self, other: _A, modulo: None = None, /) -> BVar[_A]: ...
    @overload
    def __rpow__(self: BVar[_N], other: float, modulo: None = None, /) -> BVar[_N]: ...
    @overload
    def __rpow__(self: BVar[float], other: _N, modulo: None = None, /) -> BVar[_N]: ...
    def __floordiv__(self, other: BVar[_A] | _A, /) -> BVar[_A]: ...
    def __rfloordiv__(self, other: _A, /) -> BVar[_A]: ...
    def __mod__(self, other: BVar[_A] | _A, /) -> BVar[_A]: ...
    def __rmod__(self, other: _A, /) -> BVar[_A]: ...
    def __neg__(self) -> BVar[_A]: ...
    def __pos__(self) -> BVar[_A]: ...
    def __abs__(self) -> BVar[_A]: ...
    def __lt__(self, other: BVar[_A] | _A, /) -> Any: ...
    def __le__(self, other: BVar[_A] | _A, /) -> Any: ...
    def __gt__(self, other: BVar[_A] | _A, /) -> Any: ...
    def __ge__(self, other: BVar[_A] | _A, /) -> Any: ...
    def __eq__(self, other: object, /) -> Any: ...
    def __ne__(self, other: object, /) -> Any: ...
    def __hash__(self) -> int: ...
    def __bool__(self) -> NoReturn: ...
    def __class_getitem__(cls, item: Any) -> GenericAlias: ...
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any: ...
    # Integer keys give a row or an element (the rank is not known statically); every other
    # key on an array BVar gives an array BVar. Lists, tuples and dicts give their items by one
    # integer or key; floats and records (dataclasses: use `attr`) have no items. (A NamedTuple
    # BVar is read with `attr`/`item`: a self type bound to tuples would let mypy accept floats.)
    @overload
    def __getitem__(self: BVar[_Arr], key: _Int | tuple[_Int, ...], /) -> BVar[Any]: ...
    @overload
    def __getitem__(self: BVar[_Arr], key: _ArrayKey, /) -> BVar[_Arr]: ...
    @overload
    def __getitem__(self: BVar[list[_T]], key: SupportsIndex, /) -> BVar[_T]: ...
    @overload
    def __getitem__(self: BVar[dict[_K, _T]], key: _K, /) -> BVar[_T]: ...
    @overload
    def __getitem__(self: BVar[tuple[Any, ...]], key: SupportsIndex, /) -> BVar[Any]: ...
    def __setitem__(self, key: Any, value: Any, /) -> NoReturn: ...
    # Containers have a length and items (a dict BVar iterates over its keys, plain values);
    # a float or a record (dataclass) BVar has neither.
    def __len__(
        self: BVar[_Arr] | BVar[list[Any]] | BVar[tuple[Any, ...]] | BVar[dict[Any, Any]],
    ) -> int: ...
    @overload
    def __iter__(self: BVar[list[_T]]) -> Iterator[BVar[_T]]: ...
    @overload
    def __iter__(self: BVar[dict[_K, Any]]) -> Iterator[_K]: ...
    @overload
    def __iter__(self: BVar[_Arr] | BVar[tuple[Any, ...]]) -> Iterator[BVar[Any]]: ...
    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any: ...
    # `@` of array operands is typed as an array (as numpy's stubs type it; two 1-D operands
    # give a float at run time: use bprop.numpy.vdot for a typed inner product).
    def __matmul__(self: BVar[_Arr], other: BVar[_Arr] | _ArrC, /) -> BVar[_Arr]: ...
    def __rmatmul__(self: BVar[_Arr], other: _ArrC, /) -> BVar[_Arr]: ...
    @property
    def T(self) -> BVar[_A]: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def ndim(self) -> int: ...
    # ndarray methods and attributes of array (and float) BVars. They exist at run time through
    # `__getattr__` (bprop/numpy/_dispatch.py: the registry's METHODS), so stubtest does not see
    # them: tests/typing/stubtest_allowlist.txt lists them. Full reductions (no axis, no keepdims)
    # give float BVars, as numpy's give scalars; `keepdims` given as a plain bool gives either.
    @overload
    def sum(
        self: BVar[_Arr],
        axis: None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: Literal[False] = False,
    ) -> BVar[float]: ...
    @overload
    def sum(
        self: BVar[_Arr],
        axis: _Axis,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr]: ...
    @overload
    def sum(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: Literal[True],
    ) -> BVar[_Arr]: ...
    @overload
    def sum(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def sum(
        self: BVar[float],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[float]: ...
    @overload
    def mean(
        self: BVar[_Arr],
        axis: None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: Literal[False] = False,
    ) -> BVar[float]: ...
    @overload
    def mean(
        self: BVar[_Arr],
        axis: _Axis,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr]: ...
    @overload
    def mean(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: Literal[True],
    ) -> BVar[_Arr]: ...
    @overload
    def mean(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def mean(
        self: BVar[float],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[float]: ...
    @overload
    def prod(
        self: BVar[_Arr],
        axis: None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: Literal[False] = False,
    ) -> BVar[float]: ...
    @overload
    def prod(
        self: BVar[_Arr],
        axis: _Axis,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr]: ...
    @overload
    def prod(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: Literal[True],
    ) -> BVar[_Arr]: ...
    @overload
    def prod(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def prod(
        self: BVar[float],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> BVar[float]: ...
    @overload
    def max(
        self: BVar[_Arr], axis: None = None, out: None = None, *, keepdims: Literal[False] = False
    ) -> BVar[float]: ...
    @overload
    def max(
        self: BVar[_Arr], axis: _Axis, out: None = None, *, keepdims: bool = False
    ) -> BVar[_Arr]: ...
    @overload
    def max(
        self: BVar[_Arr], axis: _Axis | None = None, out: None = None, *, keepdims: Literal[True]
    ) -> BVar[_Arr]: ...
    @overload
    def max(
        self: BVar[_Arr], axis: _Axis | None = None, out: None = None, *, keepdims: bool = False
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def max(
        self: BVar[float], axis: _Axis | None = None, out: None = None, *, keepdims: bool = False
    ) -> BVar[float]: ...
    @overload
    def min(
        self: BVar[_Arr], axis: None = None, out: None = None, *, keepdims: Literal[False] = False
    ) -> BVar[float]: ...
    @overload
    def min(
        self: BVar[_Arr], axis: _Axis, out: None = None, *, keepdims: bool = False
    ) -> BVar[_Arr]: ...
    @overload
    def min(
        self: BVar[_Arr], axis: _Axis | None = None, out: None = None, *, keepdims: Literal[True]
    ) -> BVar[_Arr]: ...
    @overload
    def min(
        self: BVar[_Arr], axis: _Axis | None = None, out: None = None, *, keepdims: bool = False
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def min(
        self: BVar[float], axis: _Axis | None = None, out: None = None, *, keepdims: bool = False
    ) -> BVar[float]: ...
    @overload
    def var(
        self: BVar[_Arr],
        axis: None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: Literal[False] = False,
    ) -> BVar[float]: ...
    @overload
    def var(
        self: BVar[_Arr],
        axis: _Axis,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr]: ...
    @overload
    def var(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: Literal[True],
    ) -> BVar[_Arr]: ...
    @overload
    def var(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def var(
        self: BVar[float],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: bool = False,
    ) -> BVar[float]: ...
    @overload
    def std(
        self: BVar[_Arr],
        axis: None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: Literal[False] = False,
    ) -> BVar[float]: ...
    @overload
    def std(
        self: BVar[_Arr],
        axis: _Axis,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr]: ...
    @overload
    def std(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: Literal[True],
    ) -> BVar[_Arr]: ...
    @overload
    def std(
        self: BVar[_Arr],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: bool = False,
    ) -> BVar[_Arr] | BVar[float]: ...
    @overload
    def std(
        self: BVar[float],
        axis: _Axis | None = None,
        dtype: _F64 = None,
        out: None = None,
        ddof: float = 0,
        *,
        keepdims: bool = False,
    ) -> BVar[float]: ...
    def cumsum(
        self: BVar[_Arr], axis: SupportsIndex | None = None, dtype: _F64 = None, out: None = None
    ) -> BVar[_Arr]: ...
    def cumprod(
        self: BVar[_Arr], axis: SupportsIndex | None = None, dtype: _F64 = None, out: None = None
    ) -> BVar[_Arr]: ...
    @overload
    def reshape(
        self: BVar[_Arr], shape: _Shape, /, *, order: _Order = "C", copy: bool | None = None
    ) -> BVar[_Arr]: ...
    @overload
    def reshape(
        self: BVar[_Arr], *shape: SupportsIndex, order: _Order = "C", copy: bool | None = None
    ) -> BVar[_Arr]: ...
    def ravel(self: BVar[_Arr], order: _Order = "C") -> BVar[_Arr]: ...
    def flatten(self: BVar[_Arr], order: _Order = "C") -> BVar[_Arr]: ...
    @overload
    def transpose(
        self: BVar[_Arr], axes: Sequence[SupportsIndex] | None = None, /
    ) -> BVar[_Arr]: ...
    @overload
    def transpose(self: BVar[_Arr], *axes: SupportsIndex) -> BVar[_Arr]: ...
    def swapaxes(self: BVar[_Arr], axis1: SupportsIndex, axis2: SupportsIndex, /) -> BVar[_Arr]: ...
    def squeeze(self: BVar[_Arr], axis: _Axis | None = None) -> BVar[_Arr]: ...
    # Like `@`: array operands give an array (two 1-D operands give a float at run time).
    @overload
    def dot(self: BVar[_Arr], b: BVar[_Arr] | _ArrC, /, out: None = None) -> BVar[_Arr]: ...
    @overload
    def dot(self: BVar[_Arr], b: BVar[float] | float, /, out: None = None) -> BVar[_Arr]: ...
    @overload
    def dot(self: BVar[float], b: BVar[float] | float, /, out: None = None) -> BVar[float]: ...
    @overload
    def clip(
        self: BVar[_Arr],
        min: BVar[_Arr] | BVar[float] | _ArrC | float | None = None,
        max: BVar[_Arr] | BVar[float] | _ArrC | float | None = None,
        out: None = None,
    ) -> BVar[_Arr]: ...
    @overload
    def clip(
        self: BVar[float],
        min: BVar[float] | float | None = None,
        max: BVar[float] | float | None = None,
        out: None = None,
    ) -> BVar[float]: ...
    @overload
    def take(
        self: BVar[_Arr],
        indices: Sequence[SupportsIndex] | npt.NDArray[np.integer[Any]],
        axis: SupportsIndex | None = None,
        out: None = None,
        mode: Literal["raise", "wrap", "clip"] = "raise",
    ) -> BVar[_Arr]: ...
    @overload
    def take(
        self: BVar[_Arr],
        indices: int | np.integer[Any],
        axis: None = None,
        out: None = None,
        mode: Literal["raise", "wrap", "clip"] = "raise",
    ) -> BVar[float]: ...
    @overload
    def take(
        self: BVar[_Arr],
        indices: int | np.integer[Any],
        axis: SupportsIndex,
        out: None = None,
        mode: Literal["raise", "wrap", "clip"] = "raise",
    ) -> BVar[_Arr]: ...
    def repeat(
        self: BVar[_Arr], repeats: _Index, axis: SupportsIndex | None = None
    ) -> BVar[_Arr]: ...
    def diagonal(
        self: BVar[_Arr],
        offset: SupportsIndex = 0,
        axis1: SupportsIndex = 0,
        axis2: SupportsIndex = 1,
    ) -> BVar[_Arr]: ...
    # The trace of a matrix (an array of them for stacked matrices at run time).
    def trace(
        self: BVar[_Arr],
        offset: SupportsIndex = 0,
        axis1: SupportsIndex = 0,
        axis2: SupportsIndex = 1,
        dtype: _F64 = None,
        out: None = None,
    ) -> BVar[float]: ...
    def copy(self, order: _Order = "C") -> BVar[_A]: ...
    # Index results carry no gradient: plain integers and integer arrays.
    @overload
    def argmax(
        self: BVar[_Arr] | BVar[float],
        axis: None = None,
        out: None = None,
        *,
        keepdims: Literal[False] = False,
    ) -> np.intp: ...
    @overload
    def argmax(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> npt.NDArray[np.intp]: ...
    @overload
    def argmax(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex | None = None,
        out: None = None,
        *,
        keepdims: Literal[True],
    ) -> npt.NDArray[np.intp]: ...
    @overload
    def argmax(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex | None = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> np.intp | npt.NDArray[np.intp]: ...
    @overload
    def argmin(
        self: BVar[_Arr] | BVar[float],
        axis: None = None,
        out: None = None,
        *,
        keepdims: Literal[False] = False,
    ) -> np.intp: ...
    @overload
    def argmin(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> npt.NDArray[np.intp]: ...
    @overload
    def argmin(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex | None = None,
        out: None = None,
        *,
        keepdims: Literal[True],
    ) -> npt.NDArray[np.intp]: ...
    @overload
    def argmin(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex | None = None,
        out: None = None,
        *,
        keepdims: bool = False,
    ) -> np.intp | npt.NDArray[np.intp]: ...
    def argsort(
        self: BVar[_Arr] | BVar[float],
        axis: SupportsIndex | None = -1,
        kind: Literal["quicksort", "mergesort", "heapsort", "stable"] | None = None,
        order: None = None,
        *,
        stable: bool | None = None,
    ) -> npt.NDArray[np.intp]: ...
    @property
    def size(self) -> int: ...
    @property
    def dtype(self) -> np.dtype[np.float64]: ...
    @property
    def at(self) -> _At[_A]: ...
    # Rounding has a zero gradient (a constant result); astype only to float64.
    def round(self, decimals: SupportsIndex = 0, out: None = None) -> BVar[_A]: ...
    def astype(
        self,
        dtype: type[np.float64] | np.dtype[np.float64] | Literal["float64", "f8", "d"],
        order: _Order = "K",
        casting: str = "unsafe",
        subok: bool = True,
        copy: bool = True,
    ) -> BVar[_A]: ...
    def conj(self) -> BVar[_A]: ...
    def conjugate(self) -> BVar[_A]: ...
    @property
    def real(self) -> BVar[_A]: ...
    @property
    def imag(self: BVar[_Arr]) -> npt.NDArray[np.float64]: ...
    @property
    def mT(self: BVar[_Arr]) -> BVar[_Arr]: ...
    # Truth values have no gradient: plain booleans.
    def any(
        self, axis: SupportsIndex | None = None, out: None = None, keepdims: bool = False
    ) -> Any: ...
    def all(
        self, axis: SupportsIndex | None = None, out: None = None, keepdims: bool = False
    ) -> Any: ...
    @property
    def itemsize(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    # item() and tolist() would drop the gradient: they exist only to raise TypeError, and are
    # left out of this stub so that mypy rejects them statically (as float(v)).
    # __float__, __int__ and __complex__ exist only to raise TypeError; they are left out of
    # this stub so that mypy rejects float(v) statically.

@final
class Tape:
    """The tape of one run. Used by the runners; users rarely need it."""

    def __new__(cls, parent: Tape | None = None) -> Tape: ...
    def input(self, value: _A) -> BVar[_A]: ...
    @property
    def nested(self) -> bool: ...
    def close(self) -> None: ...
    def __len__(self) -> int: ...
    def backward(
        self, output: BVar[Any], seed: Any, inputs: Sequence[BVar[Any]]
    ) -> list[Any | None]: ...

def const_var(x: _A) -> BVar[_A]: ...
def install_hooks(**hooks: Any) -> None: ...
def set_add(var: BVar[Any], add: Callable[[Any, Any], Any]) -> None: ...
def project(
    v: BVar[Any], length: int, indices: Sequence[int], values: Sequence[Any]
) -> list[BVar[Any]]: ...
def join(name: str, value: Any, parts: Sequence[Any]) -> BVar[Any]: ...
def lift_custom(
    op: object,
    forward: Callable[..., tuple[Any, Callable[[Any], Any]]] | None,
    bare: bool,
    args: tuple[Any, ...],
) -> BVar[Any]: ...

# Native kernels: BVars give BVars, plain floats give floats, numpy arrays give arrays.
@overload
def neg(x: BVar[_X]) -> BVar[_X]: ...
@overload
def neg(x: float) -> float: ...
@overload
def neg(x: _N) -> _N: ...
@overload
def abs(x: BVar[_X]) -> BVar[_X]: ...
@overload
def abs(x: float) -> float: ...
@overload
def abs(x: _N) -> _N: ...
@overload
def signum(x: BVar[_X]) -> BVar[_X]: ...
@overload
def signum(x: float) -> float: ...
@overload
def signum(x: _N) -> _N: ...
@overload
def recip(x: BVar[_X]) -> BVar[_X]: ...
@overload
def recip(x: float) -> float: ...
@overload
def recip(x: _N) -> _N: ...
@overload
def exp(x: BVar[_X]) -> BVar[_X]: ...
@overload
def exp(x: float) -> float: ...
@overload
def exp(x: _N) -> _N: ...
@overload
def log(x: BVar[_X]) -> BVar[_X]: ...
@overload
def log(x: float) -> float: ...
@overload
def log(x: _N) -> _N: ...
@overload
def sqrt(x: BVar[_X]) -> BVar[_X]: ...
@overload
def sqrt(x: float) -> float: ...
@overload
def sqrt(x: _N) -> _N: ...
@overload
def sin(x: BVar[_X]) -> BVar[_X]: ...
@overload
def sin(x: float) -> float: ...
@overload
def sin(x: _N) -> _N: ...
@overload
def cos(x: BVar[_X]) -> BVar[_X]: ...
@overload
def cos(x: float) -> float: ...
@overload
def cos(x: _N) -> _N: ...
@overload
def tan(x: BVar[_X]) -> BVar[_X]: ...
@overload
def tan(x: float) -> float: ...
@overload
def tan(x: _N) -> _N: ...
@overload
def asin(x: BVar[_X]) -> BVar[_X]: ...
@overload
def asin(x: float) -> float: ...
@overload
def asin(x: _N) -> _N: ...
@overload
def acos(x: BVar[_X]) -> BVar[_X]: ...
@overload
def acos(x: float) -> float: ...
@overload
def acos(x: _N) -> _N: ...
@overload
def atan(x: BVar[_X]) -> BVar[_X]: ...
@overload
def atan(x: float) -> float: ...
@overload
def atan(x: _N) -> _N: ...
@overload
def sinh(x: BVar[_X]) -> BVar[_X]: ...
@overload
def sinh(x: float) -> float: ...
@overload
def sinh(x: _N) -> _N: ...
@overload
def cosh(x: BVar[_X]) -> BVar[_X]: ...
@overload
def cosh(x: float) -> float: ...
@overload
def cosh(x: _N) -> _N: ...
@overload
def tanh(x: BVar[_X]) -> BVar[_X]: ...
@overload
def tanh(x: float) -> float: ...
@overload
def tanh(x: _N) -> _N: ...
@overload
def asinh(x: BVar[_X]) -> BVar[_X]: ...
@overload
def asinh(x: float) -> float: ...
@overload
def asinh(x: _N) -> _N: ...
@overload
def acosh(x: BVar[_X]) -> BVar[_X]: ...
@overload
def acosh(x: float) -> float: ...
@overload
def acosh(x: _N) -> _N: ...
@overload
def atanh(x: BVar[_X]) -> BVar[_X]: ...
@overload
def atanh(x: float) -> float: ...
@overload
def atanh(x: _N) -> _N: ...
@overload
def add(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def add(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def add(x: float, y: float) -> float: ...
@overload
def sub(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def sub(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def sub(x: float, y: float) -> float: ...
@overload
def mul(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def mul(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def mul(x: float, y: float) -> float: ...
@overload
def div(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def div(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def div(x: float, y: float) -> float: ...
@overload
def pow(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def pow(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def pow(x: float, y: float) -> float: ...
@overload
def log_base(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def log_base(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def log_base(x: float, y: float) -> float: ...
@overload
def maximum(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def maximum(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def maximum(x: float, y: float) -> float: ...
@overload
def minimum(x: BVar[_X], y: BVar[_X] | _X) -> BVar[_X]: ...
@overload
def minimum(x: _X, y: BVar[_X]) -> BVar[_X]: ...
@overload
def minimum(x: float, y: float) -> float: ...

# Native array kernels (float64; plain arrays and numbers are constants).
def matmul(a: Any, b: Any) -> Any: ...
def transpose(a: Any) -> Any: ...
def reshape(a: Any, shape: Sequence[int]) -> Any: ...
def sum(a: Any, axis: int | None = None) -> Any: ...
def mean(a: Any, axis: int | None = None) -> Any: ...
def max(a: Any, axis: int | None = None) -> Any: ...
def min(a: Any, axis: int | None = None) -> Any: ...
def softmax_cross_entropy(logits: Any, targets: Any) -> Any: ...
