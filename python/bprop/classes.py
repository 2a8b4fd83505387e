"""The Backprop protocol (Haskell's `Numeric.Backprop.Class`): how gradients of a type are
zeroed, added and seeded.

`zero`, `add` and `one` dispatch on the type of the value (its MRO, then structural kinds:
dataclasses and NamedTuples are handled fieldwise). Register types you do not own with
`register_backprop`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .errors import BackpropInstanceError

__all__ = [
    "zero",
    "add",
    "one",
    "register_backprop",
    "Instance",
    "zero_num",
    "add_num",
    "one_num",
    "zero_functor",
    "one_functor",
    "add_as_list",
    "zero_vec",
    "add_vec",
    "one_vec",
]

T = TypeVar("T")


class Instance(NamedTuple):
    """A Backprop instance: the three functions of one type."""

    zero: Callable[[Any], Any]
    add: Callable[[Any, Any], Any]
    one: Callable[[Any], Any]


# ---- the Haskell-named helpers ----------------------------------------------------------


def zero_num(x: T) -> T:
    """`zeroNum`: `0` of x's numeric type."""
    return type(x)(0)  # type: ignore[call-arg]


def add_num(x: T, y: T) -> T:
    """`addNum`: `x + y`."""
    return x + y  # type: ignore[operator, no-any-return]


def one_num(x: T) -> T:
    """`oneNum`: `1` of x's numeric type."""
    return type(x)(1)  # type: ignore[call-arg]


def zero_functor(xs: Iterable[Any]) -> list[Any]:
    """`zeroFunctor`: zero of every element."""
    return [zero(x) for x in xs]


def one_functor(xs: Iterable[Any]) -> list[Any]:
    """`oneFunctor`: one of every element."""
    return [one(x) for x in xs]


def add_as_list(xs: list[Any], ys: list[Any]) -> list[Any]:
    """`addAsList`: elementwise add; the longer list's extra elements are kept (padding)."""
    n = min(len(xs), len(ys))
    out = [add(a, b) for a, b in zip(xs[:n], ys[:n])]
    out.extend(xs[n:] if len(xs) > n else ys[n:])
    return out


def zero_vec(xs: Any) -> Any:
    """`zeroVec`: zero of a numpy vector (or of each element of a sequence)."""
    return np.zeros_like(xs) if isinstance(xs, np.ndarray) else zero_functor(xs)


def add_vec(xs: Any, ys: Any) -> Any:
    """`addVec`: elementwise add of two equal-length vectors."""
    if len(xs) != len(ys):
        raise ValueError(f"add_vec: lengths differ ({len(xs)} and {len(ys)})")
    if isinstance(xs, np.ndarray):
        return xs + ys
    return [add(a, b) for a, b in zip(xs, ys)]


def one_vec(xs: Any) -> Any:
    """`oneVec`: one of a numpy vector (or of each element of a sequence)."""
    return np.ones_like(xs) if isinstance(xs, np.ndarray) else one_functor(xs)


# ---- registry -----------------------------------------------------------------------------

_REGISTRY: dict[type, Instance] = {}
_CACHE: dict[type, Instance] = {}


def register_backprop(
    cls: type[T],
    *,
    zero: Callable[[T], T],
    add: Callable[[T, T], T],
    one: Callable[[T], T],
) -> None:
    """Give `cls` (and its subclasses) a Backprop instance."""
    _REGISTRY[cls] = Instance(zero, add, one)
    _CACHE.clear()


def _tuple_instance() -> Instance:
    def check(x: tuple[Any, ...], y: tuple[Any, ...]) -> None:
        if len(x) != len(y):
            raise ValueError(f"add: tuples of different lengths ({len(x)} and {len(y)})")

    def zero_(x: tuple[Any, ...]) -> tuple[Any, ...]:
        return _rebuild(x, [zero(e) for e in x])

    def one_(x: tuple[Any, ...]) -> tuple[Any, ...]:
        return _rebuild(x, [one(e) for e in x])

    def add_(x: tuple[Any, ...], y: tuple[Any, ...]) -> tuple[Any, ...]:
        check(x, y)
        return _rebuild(x, [add(a, b) for a, b in zip(x, y)])

    return Instance(zero_, add_, one_)


def _rebuild(like: tuple[Any, ...], items: list[Any]) -> tuple[Any, ...]:
    make = getattr(type(like), "_make", None)  # NamedTuple
    return make(items) if make is not None else tuple(items)


def _dataclass_instance() -> Instance:
    def fieldwise(f: Callable[..., Any], *xs: Any) -> Any:
        x0 = xs[0]
        values = {
            fld.name: f(*(getattr(x, fld.name) for x in xs))
            for fld in dataclasses.fields(x0)
            if fld.init
        }
        return dataclasses.replace(x0, **values)

    return Instance(
        lambda x: fieldwise(zero, x),
        lambda x, y: fieldwise(add, x, y),
        lambda x: fieldwise(one, x),
    )


def _array_instance() -> Instance:
    return Instance(np.zeros_like, np.add, np.ones_like)


def _numpy_scalar_instance() -> Instance:
    return Instance(lambda x: type(x)(0), lambda x, y: x + y, lambda x: type(x)(1))


def _install_builtins() -> None:
    _REGISTRY[float] = Instance(lambda x: 0.0, lambda x, y: x + y, lambda x: 1.0)
    _REGISTRY[int] = Instance(lambda x: 0, lambda x, y: x + y, lambda x: 1)
    _REGISTRY[complex] = Instance(lambda x: 0j, lambda x, y: x + y, lambda x: 1 + 0j)
    _REGISTRY[type(None)] = Instance(lambda x: None, lambda x, y: None, lambda x: None)
    _REGISTRY[tuple] = _tuple_instance()
    _REGISTRY[list] = Instance(zero_functor, add_as_list, one_functor)
    _REGISTRY[dict] = Instance(
        lambda x: {k: zero(v) for k, v in x.items()},
        lambda x, y: {**x, **y, **{k: add(x[k], y[k]) for k in x.keys() & y.keys()}},
        lambda x: {k: one(v) for k, v in x.items()},
    )
    _REGISTRY[np.ndarray] = _array_instance()
    _REGISTRY[np.number] = _numpy_scalar_instance()


_install_builtins()


def instance_of(x: Any) -> Instance:
    """The Backprop instance used for values like `x`."""
    cls = type(x)
    inst = _CACHE.get(cls)
    if inst is not None:
        return inst
    for base in cls.__mro__:
        if base is bool:
            break  # bool is an int subclass but has no Num instance
        inst = _REGISTRY.get(base)
        if inst is not None:
            break
    else:
        inst = None
    if inst is None and dataclasses.is_dataclass(x):
        inst = _dataclass_instance()
    if inst is None:
        raise BackpropInstanceError(
            f"type {cls.__module__}.{cls.__qualname__} has no Backprop instance; register one with "
            f"bprop.register_backprop({cls.__qualname__}, zero=..., add=..., one=...) or use "
            f"bprop.explicit with zero=/add=/one= functions"
        )
    _CACHE[cls] = inst
    return inst


def zero(x: T) -> T:
    """The zero gradient of values like `x` (`zero` of Numeric.Backprop.Class)."""
    return instance_of(x).zero(x)  # type: ignore[no-any-return]


def add(x: T, y: T) -> T:
    """Sum of two gradients (`add`)."""
    return instance_of(x).add(x, y)  # type: ignore[no-any-return]


def one(x: T) -> T:
    """The gradient seed for outputs like `x` (`one`)."""
    return instance_of(x).one(x)  # type: ignore[no-any-return]
