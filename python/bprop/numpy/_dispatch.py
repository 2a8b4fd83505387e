"""numpy's protocols on BVars, as the extension calls them (installed by `bprop._hooks`):
`__array_function__` (NEP 18), the non-native part of `__array_ufunc__` (NEP 13), ndarray
methods and attributes, indexing and iteration. Everything goes through the registry; anything
not in it raises `TypeError` naming the function, never a wrong value.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, cast

import numpy as np

from .._core import BVar
from ._registry import FUNCTIONS, METHODS, UFUNCS, plain_value

__all__ = ["array_function", "array_ufunc", "getattr_", "getitem", "iterate", "unsupported"]


def unsupported(what: str) -> TypeError:
    return TypeError(
        f"{what} is not supported on BVars (bprop has no gradient rule for it): define it as a "
        "primitive with bp.op1 / bp.op_n (forward value and pullback), or apply it to v.value "
        "if no gradient should flow"
    )


def _func_name(func: Any) -> str:
    mod = getattr(func, "__module__", None) or "numpy"
    return f"{mod}.{getattr(func, '__name__', repr(func))}"


def array_function(func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    impl = FUNCTIONS.get(func)
    if impl is None:
        raise unsupported(_func_name(func))
    return impl(*args, **kwargs)


@functools.cache
def _is_predicate(ufunc: np.ufunc) -> bool:
    """Comparisons and predicates (`greater`, `isfinite`, `logical_and`, ...): on floats they
    give booleans, so there is no gradient and the result is a plain array."""
    try:
        dtypes = ufunc.resolve_dtypes((np.dtype(np.float64),) * ufunc.nin + (None,) * ufunc.nout)
    except (TypeError, ValueError):  # no loop for floats at all
        return False
    return all(d == np.bool_ for d in dtypes[ufunc.nin :])


_REDUCE = {
    "add": np.sum,
    "multiply": np.prod,
    "maximum": np.max,
    "minimum": np.min,
    "fmax": np.max,
    "fmin": np.min,
}
_NAN_IGNORING = {"fmax": -np.inf, "fmin": np.inf}  # reductions that skip NaNs: NaN -> this first
_ACCUMULATE = {"add": np.cumsum, "multiply": np.cumprod}


def array_ufunc(
    ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any] | None
) -> Any:
    kwargs = kwargs or {}
    name = ufunc.__name__
    if _is_predicate(ufunc):
        return getattr(ufunc, method)(*(plain_value(x) for x in inputs), **kwargs)
    if method == "__call__":
        impl = UFUNCS.get(name)
        if impl is None:
            raise unsupported(f"numpy.{name}")
        return impl(*inputs, **kwargs)
    if method in ("reduce", "accumulate"):
        table = _REDUCE if method == "reduce" else _ACCUMULATE
        target = table.get(name)
        if target is None or target not in FUNCTIONS:
            raise unsupported(f"numpy.{name}.{method}")
        (x,) = inputs
        kwargs.setdefault("axis", 0)  # a ufunc method works along axis 0 unless told otherwise
        if method == "accumulate" and np.ndim(plain_value(x)) == 0:
            raise TypeError("cannot accumulate on a scalar")
        if method == "accumulate" and kwargs["axis"] is None and np.ndim(plain_value(x)) != 1:
            raise ValueError(f"numpy.{name}.accumulate does not allow multiple axes (axis=None)")
        fill = _NAN_IGNORING.get(name) if method == "reduce" else None
        if fill is not None and isinstance(x, BVar) and np.isnan(plain_value(x)).any():
            # fmax/fmin skip NaNs (max/min propagate them): reduce with the NaNs replaced by
            # -inf/+inf (no gradient to them), and give NaN only where every element was NaN
            nan = np.isnan(plain_value(x))
            kept = FUNCTIONS[target](FUNCTIONS[np.where](nan, fill, x), **kwargs)
            params = {k: v for k, v in kwargs.items() if k in ("axis", "keepdims")}
            return FUNCTIONS[np.where](np.all(nan, **params), np.nan, kept)
        return FUNCTIONS[target](x, **kwargs)
    raise unsupported(f"numpy.{name}.{method}")


class _At:
    """`v.at[index]`: JAX's functional updates of an immutable array."""

    __slots__ = ("_v",)

    def __init__(self, v: BVar[Any]) -> None:
        self._v = v

    def __getitem__(self, index: Any) -> _AtIndex:
        return _AtIndex(self._v, index)


class _AtIndex:
    __slots__ = ("_index", "_v")

    def __init__(self, v: BVar[Any], index: Any) -> None:
        self._v, self._index = v, index

    def set(self, x: Any) -> BVar[Any]:
        """A new BVar equal to `v` with `v[index]` replaced by `x` (broadcast to it)."""
        from ._indexing import index_update

        return cast(BVar[Any], index_update(self._v, self._index, x, add=False))

    def add(self, x: Any) -> BVar[Any]:
        """A new BVar equal to `v` with `x` added at `v[index]` (repeated indices add once each)."""
        from ._indexing import index_update

        return cast(BVar[Any], index_update(self._v, self._index, x, add=True))

    def get(self) -> BVar[Any]:
        """`v[index]`."""
        return getitem(self._v, self._index)


def _namespace(v: BVar[Any]) -> Any:
    def __array_namespace__(*, api_version: str | None = None) -> Any:
        from .. import numpy as bnp

        return bnp

    return __array_namespace__


def _astype(v: BVar[Any]) -> Any:
    def astype(
        dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True, copy: bool = True
    ) -> BVar[Any]:
        if np.dtype(dtype) != np.float64:
            raise TypeError(
                f"BVar.astype({np.dtype(dtype)}): only float64 is differentiable; "
                "use v.value.astype(...) for a plain array without a gradient"
            )
        return v  # BVars are immutable: the same value serves as the copy

    return astype


def _drops(what: str) -> Any:
    """A method that would turn a BVar into plain Python values: calling it is a TypeError."""

    def method(v: BVar[Any]) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise TypeError(
                f"BVar.{what}() would silently drop the gradient; use v.value.{what}() for the plain value"
            )

        return refuse

    return method


_ATTRIBUTES = {
    "size": lambda v: int(np.size(plain_value(v))),
    "dtype": lambda v: np.asarray(plain_value(v)).dtype,
    "itemsize": lambda v: np.asarray(plain_value(v)).itemsize,
    "nbytes": lambda v: np.asarray(plain_value(v)).nbytes,
    "at": _At,
    "__array_namespace__": _namespace,
    # real values: their own real part and conjugate, a zero imaginary part
    "real": lambda v: v,
    "imag": lambda v: np.zeros_like(plain_value(v)),
    "conj": lambda v: lambda: v,
    "conjugate": lambda v: lambda: v,
    "mT": lambda v: np.swapaxes(v, -1, -2),
    "astype": _astype,
    "item": _drops("item"),
    "tolist": _drops("tolist"),
}


def getattr_(v: BVar[Any], name: str) -> Any:
    attr = _ATTRIBUTES.get(name)
    if attr is not None:
        return attr(v)
    impl = METHODS.get(name)
    if impl is not None and isinstance(plain_value(v), (np.ndarray, float)):
        return functools.partial(impl, v)
    raise AttributeError(
        f"'BVar' object has no attribute {name!r}"
        + (
            " (numpy arrays have it, but bprop has no gradient rule for it)"
            if hasattr(np.ndarray, name)
            else ""
        )
    )


def getitem(v: BVar[Any], key: Any) -> BVar[Any]:
    """`v[key]`: numpy indexing for arrays (single integers read rows as components, so that
    reading many rows adds their gradients slot by slot), components of containers."""
    from ..optics import getitem as component

    plain = plain_value(v)
    # (a nested run's array BVar, whose value is a BVar, reads rows by numpy indexing too: its
    # rows are not components of a container value)
    if isinstance(plain, np.ndarray) and (
        isinstance(v.value, BVar)
        or not (isinstance(key, (int, np.integer)) and not isinstance(key, bool))
    ):
        from ._indexing import take_index

        return cast(BVar[Any], take_index(v, key))
    if isinstance(plain, float):
        raise TypeError("BVar indexing: a float value has no items (it is 0-d)")
    return component(v, key)


def iterate(v: BVar[Any]) -> Iterator[Any]:
    """`iter(v)`: the rows of an array, the items of a tuple or list, the keys of a dict."""
    from ..optics import sequence_var

    value = plain_value(v)
    if isinstance(value, dict):
        return iter(list(value))
    if isinstance(value, float) or (isinstance(value, np.ndarray) and value.ndim == 0):
        raise TypeError("iteration over a 0-d BVar")
    if isinstance(v.value, BVar) and isinstance(value, np.ndarray):  # a nested run's array
        return iter([getitem(v, i) for i in range(len(value))])
    return iter(sequence_var(v))
