"""Field and element access on BVars (Haskell backprop's lens operators and `splitBV`/`joinBV`).

A `Traversal[S, A]` focuses on some parts `A` of a value `S` (its targets, in order); a
`Lens[S, A]` is a traversal with exactly one target, so it can `get` and `set` it. An optic is a
path of steps:

* structural steps (`item(i)`, `key(k)`, `attr(name)`, `each`) know the container's layout, so on
  BVars they read components natively: each target is one node whose gradient reaches the
  container as that component only. Reading every field of a record k times costs O(k) gradient
  work in total, never a whole-record add per read (Haskell backprop's dominating overhead);
* opaque steps (`lens(get, set)`, `traversal(to_list, from_list)`) work on any type but embed each
  gradient into a whole zero value with `set`, as Haskell does.

Compose with `outer @ inner` (or `compose`): `attr("layers") @ item(0) @ attr("w")`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Never, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

from . import _core
from ._containers import Container, container_of
from ._core import BVar
from ._typevars import A, B, C, D, R
from .classes import zero
from .op import named, op1, op2, op_iso, op_iso2, op_iso3, op_iso_n

__all__ = [
    "ComponentLens",
    "Lens",
    "Traversal",
    "attr",
    "collect_var",
    "compose",
    "each",
    "iso_var",
    "iso_var2",
    "iso_var3",
    "iso_var_n",
    "item",
    "join_var",
    "key",
    "lens",
    "over_var",
    "preview_var",
    "sequence_var",
    "set_var",
    "split_var",
    "to_list_of_var",
    "traversal",
    "view_var",
]

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S")
K = TypeVar("K")
# Records: dataclass instances (their fields are containers' components) and tuples (NamedTuples,
# and tuples longer than the typed arities).
Rec = TypeVar("Rec", bound="DataclassInstance")
Tup = TypeVar("Tup", bound=tuple[Any, ...])


# ---- steps: one level of focusing ------------------------------------------------------------


class _Step:
    single = True  # exactly one target

    def get_all(self, s: Any) -> list[Any]:
        raise NotImplementedError

    def set_all(self, s: Any, targets: list[Any]) -> Any:
        raise NotImplementedError

    def focus(self, v: BVar[Any]) -> list[BVar[Any]]:
        """The targets of the value in `v`, as BVars."""
        return list(self.focus_iter(v))

    def focus_iter(self, v: BVar[Any]) -> Iterator[BVar[Any]]:
        """The same targets, made one at a time (for `preview_var`)."""
        return iter(self.focus(v))


class _At(_Step):
    """`item(i)`, `key(k)`, `attr(name)`: one component of a container."""

    def __init__(self, how: str, key: Any) -> None:
        self.how, self.key = how, key
        # attr positions depend only on the class: cached per class (the hot path of view_var)
        self.by_class: dict[type, tuple[Container, int]] = {}

    def __repr__(self) -> str:
        return f"{self.how}({self.key!r})"

    def _locate(self, s: Any) -> tuple[Container, int, Any]:
        """The container kind of `s`, and the position and value of the target."""
        found = self.by_class.get(type(s))
        if found is not None:
            c, i = found
            return c, i, c.component(s, i)
        c = container_of(s, self)
        i, value = c.at(s, self.how, self.key)
        if self.how == "attr":
            self.by_class[type(s)] = c, i
        return c, i, value

    def get_all(self, s: Any) -> list[Any]:
        return [self._locate(s)[2]]

    def set_all(self, s: Any, targets: list[Any]) -> Any:
        c, i, _ = self._locate(s)
        comps = c.components(s)
        comps[i] = targets[0]
        return c.rebuild(s, comps)

    def focus(self, v: BVar[Any]) -> list[BVar[Any]]:
        s = v.value
        c, i, value = self._locate(s)
        return _core.project(v, c.length(s), [i], [value])


class _Each(_Step):
    """`each`: every component of a container."""

    single = False

    def __repr__(self) -> str:
        return "each"

    def get_all(self, s: Any) -> list[Any]:
        return container_of(s, "each").components(s)

    def set_all(self, s: Any, targets: list[Any]) -> Any:
        return container_of(s, "each").rebuild(s, targets)

    def focus(self, v: BVar[Any]) -> list[BVar[Any]]:
        comps = self.get_all(v.value)
        return _core.project(v, len(comps), list(range(len(comps))), comps)

    def focus_iter(self, v: BVar[Any]) -> Iterator[BVar[Any]]:
        comps = self.get_all(v.value)
        for i, c in enumerate(comps):
            yield _core.project(v, len(comps), [i], [c])[0]


class _LensFn(_Step):
    """`lens(get, set)`: an opaque getter/setter pair."""

    def __init__(self, get: Callable[[Any], Any], set: Callable[[Any, Any], Any]) -> None:
        self.get, self.set = get, set

        def view(s: Any) -> tuple[Any, Callable[[Any], Any]]:
            return get(s), lambda g: set(zero(s), g)

        self.view = named(op1(view), repr(self))

    def __repr__(self) -> str:
        return f"lens({getattr(self.get, '__qualname__', self.get)})"

    def get_all(self, s: Any) -> list[Any]:
        return [self.get(s)]

    def set_all(self, s: Any, targets: list[Any]) -> Any:
        return self.set(s, targets[0])

    def focus(self, v: BVar[Any]) -> list[BVar[Any]]:
        return [self.view(v)]


class _TraversalFn(_Step):
    """`traversal(to_list, from_list)`: opaque targets, read as one list-valued node."""

    single = False

    def __init__(
        self, to_list: Callable[[Any], Iterable[Any]], from_list: Callable[[Any, list[Any]], Any]
    ) -> None:
        self.to_list, self.from_list = to_list, from_list

        def targets(s: Any) -> tuple[list[Any], Callable[[list[Any]], Any]]:
            return list(to_list(s)), lambda gs: from_list(zero(s), list(gs))

        self.targets = named(op1(targets), repr(self))

    def __repr__(self) -> str:
        return f"traversal({getattr(self.to_list, '__qualname__', self.to_list)})"

    def get_all(self, s: Any) -> list[Any]:
        return list(self.to_list(s))

    def set_all(self, s: Any, targets: list[Any]) -> Any:
        return self.from_list(s, targets)

    def focus(self, v: BVar[Any]) -> list[BVar[Any]]:
        return _EACH.focus(self.targets(v))

    def focus_iter(self, v: BVar[Any]) -> Iterator[BVar[Any]]:
        return _EACH.focus_iter(self.targets(v))


_EACH = _Each()


# ---- optics ------------------------------------------------------------------------------------


class Traversal(Generic[S, A]):
    """Zero or more targets `A` inside an `S`, in order. Build with `each`, `traversal` or by
    composing (`outer @ inner`); every `Lens` is also a traversal.

    >>> bp.grad_bp(lambda xs: bp.prelude.sum(bp.to_list_of_var(bp.each, xs)), [1.0, 2.0])
    [1.0, 1.0]
    """

    __slots__ = ("_steps",)

    def __init__(self, steps: tuple[_Step, ...]) -> None:
        self._steps = steps

    def __repr__(self) -> str:
        return " @ ".join(map(repr, self._steps)) or "identity"

    def to_list(self, s: S) -> list[A]:
        """The targets of `s`."""
        xs: list[Any] = [s]
        for step in self._steps:
            xs = [t for x in xs for t in step.get_all(x)]
        return xs

    def rebuild(self, s: S, targets: Sequence[A]) -> S:
        """`s` with its targets replaced, in order, by `targets` (as many as it has)."""
        it = iter(targets)

        def go(steps: tuple[_Step, ...], x: Any) -> Any:
            if not steps:
                try:
                    return next(it)
                except StopIteration:
                    raise ValueError(f"{self!r}.rebuild: fewer replacements than targets") from None
            step = steps[0]
            return step.set_all(x, [go(steps[1:], t) for t in step.get_all(x)])

        out = go(self._steps, s)
        if next(it, _NOTHING) is not _NOTHING:
            raise ValueError(f"{self!r}.rebuild: more replacements than targets")
        return out  # type: ignore[no-any-return]

    def __matmul__(self, inner: Traversal[A, B]) -> Traversal[S, B]:
        return _compose(self, inner)  # type: ignore[no-any-return]


_NOTHING = object()


class Lens(Traversal[S, A]):
    """Exactly one target `A` inside an `S`: a getter and a setter. Build with `lens`, `item`,
    `key`, `attr`, or by composing lenses.

    >>> first = bp.lens(lambda p: p[0], lambda p, a: (a, p[1]))
    >>> bp.grad_bp(lambda p: bp.view_var(first, p) ** 2, (3.0, 5.0))
    (6.0, 0.0)
    """

    __slots__ = ()

    def get(self, s: S) -> A:
        x: Any = s
        for step in self._steps:
            (x,) = step.get_all(x)
        return x  # type: ignore[no-any-return]

    def set(self, s: S, a: A) -> S:
        """A copy of `s` with the target replaced by `a`."""
        return self.rebuild(s, [a])

    @overload
    def __matmul__(self, inner: Lens[A, B]) -> Lens[S, B]: ...
    @overload
    def __matmul__(self, inner: Traversal[A, B]) -> Traversal[S, B]: ...
    def __matmul__(self, inner: Traversal[A, B]) -> Traversal[S, B]:
        return _compose(self, inner)  # type: ignore[no-any-return]


class ComponentLens(Lens[Any, Any]):
    """The lens type of `item`, `key` and `attr`: a component whose type mypy cannot know. A
    class of its own so that composing two of them is statically a Lens, not Any.

    >>> lens = bp.item(0)
    >>> bp.grad_bp(lambda p: bp.view_var(lens, p) * 2.0, (1.0, 5.0))
    (2.0, 0.0)
    """

    __slots__ = ()


def _make(steps: tuple[_Step, ...]) -> Any:
    return Lens(steps) if all(s.single for s in steps) else Traversal(steps)


def _compose(outer: Traversal[Any, Any], inner: Traversal[Any, Any]) -> Any:
    # Any: a Lens or a Traversal, as the overloads of the callers say.
    if not isinstance(outer, Traversal) or not isinstance(inner, Traversal):
        raise TypeError(
            f"compose: expected two optics, got {type(outer).__name__} and {type(inner).__name__}"
        )
    return _make(outer._steps + inner._steps)


@overload
def compose(outer: Lens[S, A], inner: Lens[A, B]) -> Lens[S, B]: ...
@overload
def compose(outer: Traversal[S, A], inner: Traversal[A, B]) -> Traversal[S, B]: ...
def compose(outer: Traversal[S, A], inner: Traversal[A, B]) -> Traversal[S, B]:
    """`outer` then `inner` (the same as `outer @ inner`): a lens if both are lenses.

    >>> inner = bp.compose(bp.key('a'), bp.item(1))
    >>> bp.grad_bp(lambda d: bp.view_var(inner, d) * 3.0, {'a': (1.0, 2.0)})
    {'a': (0.0, 3.0)}
    """
    return _compose(outer, inner)  # type: ignore[no-any-return]


def lens(get: Callable[[S], A], set: Callable[[S, A], S]) -> Lens[S, A]:
    """A lens from a getter and a setter (`set(s, a)` returns a new `S`). Works on any type; on
    BVars each read's gradient is `set(zero(s), g)`, a whole value (prefer `attr`/`item`/`key`
    for containers, whose reads add only their component).

    >>> second = bp.lens(lambda p: p[1], lambda p, a: (p[0], a))
    >>> bp.grad_bp(lambda p: bp.view_var(second, p) * 4.0, (1.0, 2.0))
    (0.0, 4.0)
    """
    return Lens((_LensFn(get, set),))


def traversal(
    to_list: Callable[[S], Iterable[A]], from_list: Callable[[S, list[A]], S]
) -> Traversal[S, A]:
    """A traversal from a function listing the targets and one rebuilding `s` from new targets.

    >>> def put_evens(xs, new):
    ...     return [new[i // 2] if i % 2 == 0 else x for i, x in enumerate(xs)]
    >>> evens = bp.traversal(lambda xs: xs[::2], put_evens)
    >>> bp.grad_bp(lambda xs: bp.prelude.sum(bp.to_list_of_var(evens, xs)), [1.0, 2.0, 3.0])
    [1.0, 0.0, 1.0]
    """
    return Traversal((_TraversalFn(to_list, from_list),))


# Component lenses are immutable, so the same object serves every `attr("w")` in a program (and
# keeps its per-class position cache warm). Bounded: keys may be arbitrary dict keys.
_COMPONENT_LENSES: dict[tuple[str, type, Any], ComponentLens] = {}
_COMPONENT_LENSES_MAX = 4096


def _component(how: str, k: Any) -> ComponentLens:
    try:
        cache_key = (how, type(k), k)
        found = _COMPONENT_LENSES.get(cache_key)
    except TypeError:  # unhashable: a key no dict can hold, reported when used
        return ComponentLens((_At(how, k),))
    if found is None:
        found = ComponentLens((_At(how, k),))
        if len(_COMPONENT_LENSES) < _COMPONENT_LENSES_MAX:
            _COMPONENT_LENSES[cache_key] = found
    return found


def item(i: int) -> ComponentLens:
    """Item `i` of a tuple, list or NamedTuple, or row `i` of a numpy array (negative counts
    from the end).

    >>> bp.grad_bp(lambda t: bp.view_var(bp.item(-1), t) * 10.0, (1.0, 2.0, 3.0))
    (0.0, 0.0, 10.0)
    """
    return _component("item", i)


def key(k: Any) -> ComponentLens:
    """The value at key `k` of a dict.

    >>> bp.grad_bp(lambda d: bp.view_var(bp.key('w'), d) ** 2, {'w': 3.0, 'b': 1.0})
    {'w': 6.0, 'b': 0.0}
    """
    return _component("key", k)


class _FieldPath:
    """What `attr(cls, get)` passes to `get`: it records the fields read (and items indexed)."""

    __slots__ = ("_bprop_path",)
    _bprop_path: tuple[tuple[str, Any], ...]

    def __init__(self, path: tuple[tuple[str, Any], ...]) -> None:
        object.__setattr__(self, "_bprop_path", path)

    def __getattr__(self, name: str) -> _FieldPath:
        return _FieldPath((*self._bprop_path, ("attr", name)))

    def __getitem__(self, k: Any) -> _FieldPath:
        how = "item" if isinstance(k, int) and not isinstance(k, bool) else "key"
        return _FieldPath((*self._bprop_path, (how, k)))


def _field_names(cls: type) -> tuple[str, ...] | None:
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    fields = getattr(cls, "_fields", None)
    return fields if isinstance(cls, type) and issubclass(cls, tuple) and fields else None


def _typed_attr(cls: type, get: Callable[[Any], Any]) -> Lens[Any, Any]:
    names = _field_names(cls)
    if names is None:
        raise TypeError(f"attr({cls!r}, get): expected a dataclass or NamedTuple class")
    try:
        path = get(_FieldPath(()))
    except TypeError:
        path = None
    if not isinstance(path, _FieldPath) or not path._bprop_path:
        raise TypeError(
            f"attr({cls.__qualname__}, get): get must only read fields (and index items), "
            "like `lambda p: p.x` or `lambda m: m.layers[0].w`"
        )
    how, first = path._bprop_path[0]
    if how != "attr" or first not in names:
        raise AttributeError(
            f"attr({cls.__qualname__}, get): {cls.__qualname__} has no field {first!r} "
            f"(fields: {', '.join(names)})"
        )
    steps = tuple(s for h, k in path._bprop_path for s in _component(h, k)._steps)
    return Lens(steps)


@overload
def attr(name: str, /) -> ComponentLens: ...
@overload
def attr(cls: type[S], get: Callable[[S], A], /) -> Lens[S, A]: ...
def attr(name: str | type[Any], get: Callable[[Any], Any] | None = None, /) -> Lens[Any, Any]:
    """Field `name` of a dataclass or NamedTuple.

    The typed form `attr(cls, get)` names the field by reading it: `attr(Point, lambda p: p.x)`
    is `attr("x")` typed `Lens[Point, float]`, so a type checker rejects a field `cls` does not
    have and knows the target's type. `get` may read nested fields and index items
    (`lambda m: m.layers[0].w` is `attr("layers") @ item(0) @ attr("w")`).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Point:
    ...     x: float
    ...     y: float
    >>> bp.grad_bp(lambda p: bp.view_var(bp.attr("x"), p) * 3.0, Point(2.0, 5.0))
    Point(x=3.0, y=0.0)
    >>> bp.grad_bp(lambda p: bp.view_var(bp.attr(Point, lambda q: q.y), p) * 3.0, Point(2.0, 5.0))
    Point(x=0.0, y=3.0)
    """
    if get is not None or isinstance(name, type):
        if not isinstance(name, type) or get is None:
            raise TypeError("attr: expected attr(name) or attr(cls, get)")
        return _typed_attr(name, get)
    return _component("attr", name)


each: Traversal[Any, Any] = Traversal((_EACH,))
"""Every component: items of a tuple/list/NamedTuple, values of a dict, fields of a
dataclass, rows of a numpy array."""


# ---- on BVars ----------------------------------------------------------------------------------


def _bvar(v: object, fn: str) -> BVar[Any]:
    if not isinstance(v, BVar):
        raise TypeError(
            f"{fn}: expected a BVar, got {type(v).__qualname__} (wrap constants with bprop.const_var)"
        )
    return v


def _lens(l: object, fn: str) -> Lens[Any, Any]:
    if not isinstance(l, Lens):
        if isinstance(l, Traversal):
            raise TypeError(
                f"{fn}: {l!r} is a traversal, not a lens; use preview_var or to_list_of_var"
            )
        raise TypeError(f"{fn}: expected a Lens, got {type(l).__qualname__}")
    return l


def _focus(t: Traversal[Any, Any], v: BVar[Any]) -> list[BVar[Any]]:
    vs = [v]
    for step in t._steps:
        vs = [w for u in vs for w in step.focus(u)]
    return vs


def view_var(l: Lens[S, A], v: BVar[S]) -> BVar[A]:
    """The target of `l` in `v` (Haskell's `viewVar`, `^^.`); `v[i]` and `v[k]` are shorthands.

    >>> bp.grad_bp(lambda p: bp.view_var(bp.item(1), p) * 2.0, (1.0, 2.0))
    (0.0, 2.0)
    """
    steps = _lens(l, "view_var")._steps
    if len(steps) == 1 and isinstance(v, BVar):
        return steps[0].focus(v)[0]  # the common case, without the general loop
    (out,) = _focus(l, _bvar(v, "view_var"))
    return out


def set_var(l: Lens[S, A], a: BVar[A] | A, v: BVar[S]) -> BVar[S]:
    """`v` with the target of `l` replaced by `a` (`setVar`, `.~~`). The replaced part of `v`
    gets a zero gradient; `a` gets the gradient of the target.

    >>> bp.grad_bp2(lambda p, a: bp.set_var(bp.item(0), a, p)[0] * 2.0, (1.0, 1.0), 3.0)
    ((0.0, 0.0), 2.0)
    """
    l = _lens(l, "set_var")

    def forward(x: Any, s: Any) -> tuple[Any, Callable[[Any], tuple[Any, Any]]]:
        # the replaced part's zero is of the old target's type and shape (`x` may differ)
        old = l.get(s)
        return l.set(s, x), lambda g: (l.get(g), l.set(g, zero(old)))

    return named(op2(forward), f"set_var({l!r})")(cast(Any, a), v)


def over_var(l: Lens[S, A], f: Callable[[BVar[A]], BVar[A]], v: BVar[S]) -> BVar[S]:
    """`v` with the target of `l` replaced by `f` of it (`overVar`, `%~~`).

    >>> bp.backprop(lambda p: bp.over_var(bp.item(0), lambda a: a * a, p), (3.0, 1.0))
    ((9.0, 1.0), (6.0, 1.0))
    """
    return set_var(l, f(view_var(l, v)), v)


def preview_var(t: Traversal[S, A], v: BVar[S]) -> BVar[A] | None:
    """The first target of `t` in `v`, or None if there is none (`previewVar`, `^^?`).

    >>> bp.eval_bp(lambda xs: bp.preview_var(bp.each, xs), [4.0, 5.0])
    4.0
    """
    if not isinstance(t, Traversal):
        raise TypeError(f"preview_var: expected a Traversal or Lens, got {type(t).__qualname__}")

    def first(steps: tuple[_Step, ...], u: BVar[Any]) -> BVar[Any] | None:
        if not steps:
            return u
        for w in steps[0].focus_iter(u):
            found = first(steps[1:], w)
            if found is not None:
                return found
        return None

    return first(t._steps, _bvar(v, "preview_var"))


def to_list_of_var(t: Traversal[S, A], v: BVar[S]) -> list[BVar[A]]:
    """Every target of `t` in `v`, in order (`toListOfVar`, `^^..`).

    >>> bp.grad_bp(lambda xs: bp.to_list_of_var(bp.each, xs)[1] * 2.0, [1.0, 2.0, 3.0])
    [0.0, 2.0, 0.0]
    """
    if not isinstance(t, Traversal):
        raise TypeError(f"to_list_of_var: expected a Traversal or Lens, got {type(t).__qualname__}")
    return _focus(t, _bvar(v, "to_list_of_var"))


# ---- whole containers --------------------------------------------------------------------------


def _nested_array(s: Any) -> bool:
    """Whether `s` (a BVar's value) is an enclosing run's BVar of an array: in a nested run, an
    array's rows are read by indexing (a differentiable gather), not as components."""
    from .numpy._registry import plain_value

    return isinstance(s, BVar) and isinstance(plain_value(s), np.ndarray)


def _rows(v: BVar[Any], s: BVar[Any]) -> list[BVar[Any]]:
    return [v[i] for i in range(len(s))]


@overload
def sequence_var(v: BVar[list[A]]) -> list[BVar[A]]: ...
@overload
def sequence_var(v: BVar[tuple[A, ...]]) -> tuple[BVar[A], ...]: ...
@overload
def sequence_var(v: BVar[tuple[Any, ...]]) -> tuple[BVar[Any], ...]: ...
@overload
def sequence_var(v: BVar[npt.NDArray[Any]]) -> list[BVar[Any]]: ...
def sequence_var(v: BVar[Any]) -> Any:
    """The elements of a list, tuple or numpy array (its rows) in `v`, as BVars: a list (a tuple
    for tuples). One node per element; their gradients reach `v` slot by slot.

    >>> bp.grad_bp(lambda xs: bp.sequence_var(xs)[0] * 5.0, [1.0, 2.0])
    [5.0, 0.0]
    """
    s = _bvar(v, "sequence_var").value
    if _nested_array(s):
        return _rows(v, s)
    if not isinstance(s, (list, tuple)) and container_of(s, "sequence_var").kind != "array":
        raise TypeError(
            f"sequence_var: a {type(s).__qualname__} is not a sequence; use split_var for records"
        )
    elems = _EACH.focus(v)
    return tuple(elems) if isinstance(s, tuple) else elems


@overload
def collect_var(vs: list[BVar[A]]) -> BVar[list[A]]: ...
@overload
def collect_var(vs: tuple[BVar[A], ...]) -> BVar[tuple[A, ...]]: ...
def collect_var(vs: list[BVar[A]] | tuple[BVar[A], ...]) -> Any:
    """One BVar of the list (or tuple) of the values of `vs` (`collectVar`): one node, whose
    gradient is handed back element by element. Plain values are constants.

    >>> bp.backprop2(lambda x, y: bp.collect_var([x, y]), 1.0, 2.0)
    ([1.0, 2.0], (1.0, 1.0))
    """
    if not isinstance(vs, (list, tuple)):
        raise TypeError(
            f"collect_var: expected a list or tuple of BVars, got {type(vs).__qualname__}"
        )
    values = _values(vs, "collect_var")
    return _core.join("collect_var", tuple(values) if isinstance(vs, tuple) else values, list(vs))


# `BVar[Never]` matches only a `BVar[Any]` (BVar is invariant): its components are unknown,
# so it is `Any` rather than the first tuple overload's 1-tuple.
@overload
def split_var(v: BVar[Never]) -> Any: ...
@overload
def split_var(v: BVar[tuple[A]]) -> tuple[BVar[A]]: ...
@overload
def split_var(v: BVar[tuple[A, B]]) -> tuple[BVar[A], BVar[B]]: ...
@overload
def split_var(v: BVar[tuple[A, B, C]]) -> tuple[BVar[A], BVar[B], BVar[C]]: ...
@overload
def split_var(v: BVar[tuple[A, B, C, D]]) -> tuple[BVar[A], BVar[B], BVar[C], BVar[D]]: ...
@overload
def split_var(v: BVar[dict[K, A]]) -> dict[K, BVar[A]]: ...
@overload
def split_var(v: BVar[list[A]]) -> list[BVar[A]]: ...
@overload
def split_var(v: BVar[npt.NDArray[Any]]) -> list[BVar[Any]]: ...
@overload
def split_var(v: BVar[Tup]) -> Any: ...
@overload
def split_var(v: BVar[Rec]) -> Any: ...
def split_var(v: BVar[Any]) -> Any:
    """The container in `v` with a BVar in place of each component (`splitBV`): a dataclass
    gives the same dataclass holding BVars, a dict a dict of BVars, an array a list of its rows,
    and so on. Type checkers see tuples, dicts and lists precisely; dataclasses, NamedTuples and
    longer tuples are `Any` (Python's type system cannot map a record's field types to BVars of
    them). A BVar of a number or a string is no container: a static error.

    >>> bp.grad_bp(lambda p: (lambda a, b: a * b)(*bp.split_var(p)), (3.0, 4.0))
    (4.0, 3.0)
    """
    s = _bvar(v, "split_var").value
    if _nested_array(s):
        return _rows(v, s)
    c = container_of(s, "split_var")
    return c.holder(s, _EACH.focus(v))


@overload
def join_var(c: tuple[BVar[A]]) -> BVar[tuple[A]]: ...
@overload
def join_var(c: tuple[BVar[A], BVar[B]]) -> BVar[tuple[A, B]]: ...
@overload
def join_var(c: tuple[BVar[A], BVar[B], BVar[C]]) -> BVar[tuple[A, B, C]]: ...
@overload
def join_var(c: tuple[BVar[A], BVar[B], BVar[C], BVar[D]]) -> BVar[tuple[A, B, C, D]]: ...
@overload
def join_var(c: dict[K, BVar[A]]) -> BVar[dict[K, A]]: ...
@overload
def join_var(c: list[BVar[A]]) -> BVar[list[A]]: ...
@overload
def join_var(c: dict[K, Any]) -> BVar[dict[K, Any]]: ...
@overload
def join_var(c: list[Any]) -> BVar[list[Any]]: ...
@overload
def join_var(c: tuple[Any, ...]) -> BVar[tuple[Any, ...]]: ...
@overload
def join_var(c: Rec) -> BVar[Rec]: ...
def join_var(c: Any) -> BVar[Any]:
    """One BVar of a container whose components are BVars or plain values (`joinBV`), the
    inverse of `split_var`: one node, whose gradient is handed back component by component.

    >>> bp.grad_bp2(lambda x, y: bp.join_var({'x': x, 'y': y})['y'] * 2.0, 1.0, 1.0)
    (0.0, 2.0)
    """
    cont = container_of(c, "join_var")
    parts = cont.components(c)
    value = cont.rebuild(c, _values(parts, "join_var"))
    return _core.join("join_var", value, parts)


def _values(parts: Sequence[Any], fn: str) -> list[Any]:
    """The values of `parts` (BVars or constants); a constant may not hold BVars inside."""
    out = []
    for i, p in enumerate(parts):
        if isinstance(p, BVar):
            out.append(p.value)
        elif _holds_bvar(p):
            raise TypeError(
                f"{fn}: component {i} is a plain {type(p).__qualname__} holding BVars; "
                "join the inner container first (e.g. join_var({'a': collect_var([...])}))"
            )
        else:
            out.append(p)
    return out


def _holds_bvar(x: Any) -> bool:
    if isinstance(x, BVar):
        return True
    if isinstance(x, (list, tuple)):
        return any(_holds_bvar(e) for e in x)
    if isinstance(x, dict):
        return any(_holds_bvar(e) for e in x.values())
    if hasattr(type(x), "__dataclass_fields__"):
        return any(_holds_bvar(getattr(x, n)) for n in type(x).__dataclass_fields__)
    return False


# ---- isomorphisms ------------------------------------------------------------------------------


def iso_var(to: Callable[[A], B], from_: Callable[[B], A], v: BVar[A]) -> BVar[B]:
    """`to` applied to `v`, with gradients mapped back by `from_` (`isoVar`).

    >>> bp.grad_bp(lambda x: bp.iso_var(lambda a: -a, lambda g: -g, x), 2.0)
    -1.0
    """
    return op_iso(to, from_)(v)


def iso_var2(
    to: Callable[[A, B], C], from_: Callable[[C], tuple[A, B]], a: BVar[A], b: BVar[B]
) -> BVar[C]:
    """Two BVars combined by the isomorphism `to`/`from_` (`isoVar2`).

    >>> bp.backprop2(lambda a, b: bp.iso_var2(lambda x, y: (x, y), lambda g: g, a, b), 1.0, 2.0)
    ((1.0, 2.0), (1.0, 1.0))
    """
    return op_iso2(to, from_)(a, b)


def iso_var3(
    to: Callable[[A, B, C], D],
    from_: Callable[[D], tuple[A, B, C]],
    a: BVar[A],
    b: BVar[B],
    c: BVar[C],
) -> BVar[D]:
    """Three BVars combined by the isomorphism `to`/`from_` (`isoVar3`).

    >>> bp.grad_bp(lambda x: bp.iso_var3(lambda a, b, c: (a, b, c), lambda g: g, x, x, x)[2], 1.0)
    1.0
    """
    return op_iso3(to, from_)(a, b, c)


def iso_var_n(
    to: Callable[..., R], from_: Callable[[R], tuple[Any, ...]], *vs: BVar[Any]
) -> BVar[R]:
    """Any number of BVars combined by the isomorphism `to`/`from_` (`isoVarN`).

    >>> bp.grad_bp_n(lambda x, y: bp.iso_var_n(lambda *a: a, lambda g: g, x, y)[0], 1.0, 2.0)
    (1.0, 0.0)
    """
    return op_iso_n(to, from_)(*vs)


# ---- v[i], v[k] --------------------------------------------------------------------------------


def getitem(v: BVar[Any], k: Any) -> BVar[Any]:
    """`BVar.__getitem__`: `key(k)` on dicts, `item(k)` on tuples, lists and arrays."""
    s = v.value
    if isinstance(s, dict):
        return view_var(key(k), v)
    if isinstance(s, (tuple, list)) or (isinstance(s, np.ndarray) and s.ndim > 0):
        if isinstance(k, (slice, tuple)) or k is Ellipsis or k is None:
            raise TypeError(
                f"BVar indexing: only single integer indices are supported (got {k!r}); "
                "use sequence_var, bprop.linalg or an Op for slicing"
            )
        return view_var(item(k), v)
    raise TypeError(
        f"BVar indexing: a {type(s).__qualname__} value has no items "
        "(index tuples, lists, arrays and dicts; use attr(name) with view_var for record fields)"
    )
