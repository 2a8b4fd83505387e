"""The structure of the built-in containers, as optics and the tape need it.

A container is a value made of *components* in a fixed order: the items of a tuple, list or
NamedTuple, the values of a dict (in key order), the fields of a dataclass, the rows (axis 0)
of a numpy array. For each kind this module knows how to list the components, find one by index,
key or field name, rebuild the container around new components, and *embed* component gradients
into a whole gradient (unreached components get `zero`). The bindings call `embed` and
`components` when a gradient given by parts must become a whole value, or the reverse.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .classes import build_dataclass, zero

__all__ = ["Container", "components", "container_of", "embed"]


class Container:
    """How one kind of container is taken apart and put back together."""

    kind = "container"

    def components(self, x: Any) -> list[Any]:
        raise NotImplementedError

    def component(self, x: Any, i: int) -> Any:
        return self.components(x)[i]

    def length(self, x: Any) -> int:
        return len(x)

    def at(self, x: Any, how: str, key: Any) -> tuple[int, Any]:
        """Position and value of the component that `item(key)`, `key(key)` or `attr(key)`
        names."""
        i = self.index(x, how, key)
        return i, self.component(x, i)

    def index(self, x: Any, how: str, key: Any) -> int:
        """Position of the component that `item(key)`, `key(key)` or `attr(key)` names."""
        raise TypeError(
            f"{how}({key!r}): a {_type_name(x)} has no components by {_by[how]}{_hint[how]}"
        )

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        """A container like `x` holding `comps`, made with the type's constructor."""
        raise NotImplementedError

    def holder(self, x: Any, comps: Sequence[Any]) -> Any:
        """Like `rebuild`, for components that are BVars (an array gives a list of them)."""
        return self.rebuild(x, comps)

    def embed(self, x: Any, slots: Sequence[Any]) -> Any:
        """The whole gradient of `x` whose component gradients are `slots` (None: zero)."""
        return self.rebuild(
            x, [zero(c) if g is None else g for c, g in zip(self.components(x), slots)]
        )


_by = {"item": "position", "key": "key", "attr": "field name"}
_hint = {
    "item": " (use key(...) for dicts, attr(...) for dataclass fields)",
    "key": " (key(...) is for dicts; use item(...) for sequences)",
    "attr": " (attr(...) is for dataclasses and NamedTuples)",
}


def _type_name(x: Any) -> str:
    t = type(x)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _position(x: Any, key: Any, n: int) -> int:
    try:
        i = operator.index(key)
    except TypeError:
        raise TypeError(f"item({key!r}): a {_type_name(x)} is indexed by an int") from None
    if isinstance(key, bool):
        raise TypeError(f"item({key!r}): a {_type_name(x)} is indexed by an int, not a bool")
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexError(f"item({i}): index out of range for a {_type_name(x)} of length {n}")
    return j


class _Tuple(Container):
    kind = "tuple"

    def components(self, x: Any) -> list[Any]:
        return list(x)

    def component(self, x: Any, i: int) -> Any:
        return x[i]

    def index(self, x: Any, how: str, key: Any) -> int:
        if how != "item":
            return super().index(x, how, key)
        return _position(x, key, len(x))

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        return tuple(comps) if type(x) is tuple else type(x)(comps)


class _NamedTuple(_Tuple):
    kind = "NamedTuple"

    def index(self, x: Any, how: str, key: Any) -> int:
        if how != "attr":
            return super().index(x, how, key)
        fields: tuple[str, ...] = type(x)._fields
        try:
            return fields.index(key)
        except ValueError:
            raise AttributeError(
                f"attr({key!r}): {_type_name(x)} has no field {key!r} (fields: {', '.join(fields)})"
            ) from None

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        return type(x)._make(comps)


class _List(_Tuple):
    kind = "list"

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        return list(comps) if type(x) is list else type(x)(comps)


class _Dict(Container):
    """Values in key order. A key's position is found by a scan, O(len): dicts may be changed
    between runs, so positions are never cached (split_var reads all values in one pass)."""

    kind = "dict"

    def components(self, x: Any) -> list[Any]:
        return list(x.values())

    def at(self, x: Any, how: str, key: Any) -> tuple[int, Any]:
        if how != "key":
            return super().at(x, how, key)
        for i, (k, v) in enumerate(x.items()):
            if k is key or k == key:
                return i, v
        raise KeyError(f"key({key!r}): not in the dict")

    def index(self, x: Any, how: str, key: Any) -> int:
        if how != "key":
            return super().index(x, how, key)
        return self.at(x, how, key)[0]

    def component(self, x: Any, i: int) -> Any:
        return next(itertools.islice(x.values(), i, None))

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        pairs = zip(x, comps)
        return dict(pairs) if type(x) is dict else type(x)(pairs)


class _Dataclass(Container):
    """Every field (as `bprop.classes` does for gradients), rebuilt without `__init__`."""

    kind = "dataclass"

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.names = tuple(f.name for f in dataclasses.fields(cls))
        self.positions = {n: i for i, n in enumerate(self.names)}

    def components(self, x: Any) -> list[Any]:
        return [getattr(x, n) for n in self.names]

    def component(self, x: Any, i: int) -> Any:
        return getattr(x, self.names[i])

    def length(self, x: Any) -> int:
        return len(self.names)

    def index(self, x: Any, how: str, key: Any) -> int:
        if how != "attr":
            return super().index(x, how, key)
        i = self.positions.get(key)
        if i is None:
            raise AttributeError(
                f"attr({key!r}): {_type_name(x)} has no field {key!r} (fields: {', '.join(self.names)})"
            )
        return i

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        return build_dataclass(self.cls, zip(self.names, comps))


class _Array(_Tuple):
    """Rows (axis 0), indexed like a tuple."""

    kind = "array"

    def index(self, x: Any, how: str, key: Any) -> int:
        if how == "item" and x.ndim == 0:
            raise TypeError(f"item({key!r}): a 0-d array has no rows")
        return super().index(x, how, key)

    def rebuild(self, x: Any, comps: Sequence[Any]) -> Any:
        # np.asarray: result_type reads a bare string as a dtype name ('f8', 'a'), not a value
        dtype = np.result_type(x, *(np.asarray(c) for c in comps)) if comps else x.dtype
        out = np.array(x, dtype=dtype, copy=True)
        for i, c in enumerate(comps):
            out[i] = c
        return out

    def holder(self, x: Any, comps: Sequence[Any]) -> Any:
        return list(comps)

    def embed(self, x: Any, slots: Sequence[Any]) -> Any:
        out = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))
        for i, g in enumerate(slots):
            if g is not None:
                out[i] = g
        return out


_TUPLE, _NAMEDTUPLE, _LIST, _DICT, _ARRAY = _Tuple(), _NamedTuple(), _List(), _Dict(), _Array()
_CACHE: dict[type, Container] = {}


def container_of(x: Any, what: object = "container") -> Container:
    """The structure of `x`'s type; `TypeError` naming `what` (formatted only then: callers
    pass the optic itself) if it is not a container."""
    cls = type(x)
    c = _CACHE.get(cls)
    if c is not None:
        return c
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        c = _Dataclass(cls)
    elif isinstance(x, tuple):
        c = _NAMEDTUPLE if hasattr(cls, "_fields") else _TUPLE
    elif isinstance(x, list):
        c = _LIST
    elif isinstance(x, dict):
        c = _DICT
    elif isinstance(x, np.ndarray):
        c = _ARRAY
    else:
        raise TypeError(
            f"{what}: a {_type_name(x)} value is not a container (tuple, list, dict, dataclass, "
            "NamedTuple or numpy array); use lens(get, set) for other types"
        )
    _CACHE[cls] = c
    return c


def components(x: Any) -> list[Any]:
    """The components of container `x` (called by the bindings to take a gradient apart)."""
    return container_of(x, "components").components(x)


def embed(x: Any, slots: Sequence[Any]) -> Any:
    """The whole gradient of container `x` from its components' gradients (None: zero)."""
    return container_of(x, "embed").embed(x, slots)
