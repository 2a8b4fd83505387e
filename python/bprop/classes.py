"""The Backprop protocol (Haskell's `Numeric.Backprop.Class`): how gradients of a type are
zeroed, added and seeded.

`zero`, `add` and `one` dispatch on the type of their first argument. The instance of a type is
found once and cached: the first class in its MRO that was registered (`register_backprop`, so a
subclass's registration overrides its base's), else a structural instance:

* numbers (`int`, `float`, `complex`, numpy scalars): `0`, `+`, `1` of the value's own type, so a
  `numpy.float32` stays a `numpy.float32`. `bool` (and `numpy.bool_`) has no instance, as in
  Haskell, where `Bool` is not a `Num`.
* numpy arrays of a numeric dtype: `zeros_like`, `+` (shapes must match: no broadcasting),
  `ones_like`.
* `None`: the unit type, `None` for all three.
* tuples and NamedTuples: fieldwise, equal lengths; the result has the first argument's type.
* lists: elementwise; `add` keeps the longer list's tail (Haskell's `addIsList` pads the shorter
  list with zeros).
* dicts: valuewise; `add` takes the union of the keys (`Map`'s `unionWith add`).
* dataclasses: fieldwise over `dataclasses.fields` (Haskell's Generic instance). The result is
  built without calling `__init__`/`__post_init__`, so a gradient is never rejected by validation
  meant for values (the gradient of a positive parameter may be negative), frozen dataclasses
  work, and `init=False` fields are gradient components like any other. Attributes that are not
  dataclass fields are not carried over.

Subclasses of tuple, list and dict are rebuilt by calling the subclass on the plain result
(NamedTuples through `_make`); register an instance for a subclass whose constructor differs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

import numpy as np

from ._core import BVar
from .errors import BackpropInstanceError, ShapeError

__all__ = [
    "Instance",
    "add",
    "add_as_list",
    "add_num",
    "add_vec",
    "one",
    "one_functor",
    "one_num",
    "one_vec",
    "register_backprop",
    "zero",
    "zero_functor",
    "zero_num",
    "zero_vec",
]

T = TypeVar("T")


class Instance(NamedTuple):
    """A Backprop instance: the three functions of one type.

    >>> inst = bp.classes.Instance(zero=lambda x: 0.0, add=lambda x, y: x + y, one=lambda x: 1.0)
    >>> inst.add(1.0, 2.0), inst.one(5.0)
    (3.0, 1.0)
    """

    zero: Callable[[Any], Any]
    add: Callable[[Any, Any], Any]
    one: Callable[[Any], Any]


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _mismatch(x: object, y: object) -> BackpropInstanceError:
    return BackpropInstanceError(
        f"add: cannot add a {_type_name(type(y))} to a {_type_name(type(x))}"
    )


# ---- the Haskell-named helpers ----------------------------------------------------------


# Types whose `+` is not numeric addition (concatenation, or none at all): the Num helpers
# refuse them rather than give a silently wrong gradient (e.g. a list "added" by joining).
_NOT_NUMBERS: tuple[type, ...] = (list, tuple, dict, set, frozenset, str, bytes, bytearray)
_NOT_NUMBERS += (slice, type(None), type(Ellipsis))


def _check_num(x: object, fn: str) -> None:
    if isinstance(x, _NOT_NUMBERS) or dataclasses.is_dataclass(x):
        raise TypeError(
            f"{fn}: a {type(x).__qualname__} is not a number; bprop.num and the *_num helpers work on "
            "numbers and numpy arrays (use the regular runners for containers)"
        )


def zero_num(x: T) -> T:
    """`zeroNum`: `0` of x's numeric type (an array of zeros for a numpy array).

    >>> bp.zero_num(3.5), bp.zero_num(np.array([1.0, 2.0]))
    (0.0, array([0., 0.]))
    """
    _check_num(x, "zero_num")
    if isinstance(x, np.ndarray):
        return np.zeros_like(x)
    return type(x)(0)  # type: ignore[call-arg]


def add_num(x: T, y: T) -> T:
    """`addNum`: `x + y`.

    >>> bp.add_num(1.5, 2.0)
    3.5
    """
    _check_num(x, "add_num")
    _check_num(y, "add_num")
    return x + y  # type: ignore[operator, no-any-return]


def one_num(x: T) -> T:
    """`oneNum`: `1` of x's numeric type (an array of ones for a numpy array).

    >>> bp.one_num(3.5), bp.one_num(2)
    (1.0, 1)
    """
    _check_num(x, "one_num")
    if isinstance(x, np.ndarray):
        return np.ones_like(x)
    return type(x)(1)  # type: ignore[call-arg]


def zero_functor(xs: Iterable[Any]) -> list[Any]:
    """`zeroFunctor`: zero of every element.

    >>> bp.zero_functor([1.0, np.array([2.0, 3.0])])
    [0.0, array([0., 0.])]
    """
    return [zero(x) for x in xs]


def one_functor(xs: Iterable[Any]) -> list[Any]:
    """`oneFunctor`: one of every element.

    >>> bp.one_functor([1.0, 2.0])
    [1.0, 1.0]
    """
    return [one(x) for x in xs]


def add_as_list(xs: list[Any], ys: list[Any]) -> list[Any]:
    """`addIsList`/`addAsList` on lists: elementwise add; the shorter list counts as padded
    with zeros, so the longer list's extra elements are kept.

    >>> bp.add_as_list([1.0, 2.0], [10.0, 20.0, 30.0])
    [11.0, 22.0, 30.0]
    """
    n = min(len(xs), len(ys))
    out = [add(a, b) for a, b in zip(xs[:n], ys[:n])]
    out.extend(xs[n:] if len(xs) > n else ys[n:])
    return out


def zero_vec(xs: Any) -> Any:
    """`zeroVec`: zero of a numpy vector (or a list of the zeros of a sequence's elements).

    >>> bp.zero_vec(np.array([1.0, 2.0])), bp.zero_vec([1.0, 2.0])
    (array([0., 0.]), [0.0, 0.0])
    """
    return zero(xs) if isinstance(xs, np.ndarray) else zero_functor(xs)


def add_vec(xs: Any, ys: Any) -> Any:
    """`addVec`: elementwise add along the first axis, padding the shorter vector at the end
    with zeros (the longer one's tail is kept). Arrays give an array, sequences a list.

    >>> bp.add_vec(np.array([1.0, 2.0, 3.0]), np.array([10.0]))
    array([11.,  2.,  3.])
    """
    if not (isinstance(xs, np.ndarray) or isinstance(ys, np.ndarray)):
        return add_as_list(list(xs), list(ys))
    xs, ys = np.asarray(xs), np.asarray(ys)
    if xs.ndim == 0 or ys.ndim == 0 or xs.shape[1:] != ys.shape[1:]:
        raise ShapeError(
            f"add_vec: shapes {xs.shape} and {ys.shape} are not vectors of one element shape"
        )
    short, long = (xs, ys) if len(xs) <= len(ys) else (ys, xs)
    n = len(short)
    return np.concatenate([long[:n] + short, long[n:]])


def one_vec(xs: Any) -> Any:
    """`oneVec`: one of a numpy vector (or a list of the ones of a sequence's elements).

    >>> bp.one_vec(np.array([1.0, 2.0]))
    array([1., 1.])
    """
    return one(xs) if isinstance(xs, np.ndarray) else one_functor(xs)


# ---- built-in instances -------------------------------------------------------------------

_NUM = Instance(zero_num, add_num, one_num)


def _unit_add(x: None, y: None) -> None:
    if y is not None:
        raise _mismatch(x, y)


_UNIT = Instance(lambda x: None, _unit_add, lambda x: None)


def _array_instance() -> Instance:
    def numeric(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if x.dtype.kind not in "iufc":
            raise BackpropInstanceError(
                f"numpy arrays of dtype {x.dtype} have no Backprop instance (only integer, "
                "float and complex arrays do)"
            )
        return x

    def add_(x: np.ndarray[Any, Any], y: Any) -> Any:
        if np.shape(y) != x.shape:
            raise ShapeError(f"add: arrays of different shapes ({x.shape} and {np.shape(y)})")
        if isinstance(y, BVar):  # a nested run's gradient: a BVar of the enclosing run
            return numeric(x) + y
        return np.asanyarray(numeric(x) + y)  # a 0-d sum is a numpy scalar: keep the array

    return Instance(lambda x: np.zeros_like(numeric(x)), add_, lambda x: np.ones_like(numeric(x)))


def _builder(cls: type, base: type) -> Callable[[Any], Any]:
    """Makes a `cls` from a plain `base` value (or, for a NamedTuple, from its field list)."""
    if cls is base:
        return base
    if base is tuple and hasattr(cls, "_fields"):  # a NamedTuple
        make: Callable[[Any], Any] = getattr(cls, "_make")  # noqa: B009 (`type` has no _make)
        return make
    return cls


def _tuple_instance(cls: type) -> Instance:
    build = _builder(cls, tuple)

    def add_(x: tuple[Any, ...], y: Any) -> Any:
        if not isinstance(y, tuple):
            raise _mismatch(x, y)
        if len(x) != len(y):
            raise ShapeError(
                f"add: {_type_name(cls)} values of different lengths ({len(x)} and {len(y)})"
            )
        return build([add(a, b) for a, b in zip(x, y)])

    return Instance(
        lambda x: build([zero(e) for e in x]), add_, lambda x: build([one(e) for e in x])
    )


def _list_instance(cls: type) -> Instance:
    build = _builder(cls, list)

    def add_(x: list[Any], y: Any) -> Any:
        if not isinstance(y, list):
            raise _mismatch(x, y)
        return build(add_as_list(x, y))

    return Instance(lambda x: build(zero_functor(x)), add_, lambda x: build(one_functor(x)))


def _dict_instance(cls: type) -> Instance:
    build = _builder(cls, dict)

    def add_(x: dict[Any, Any], y: Any) -> Any:
        if not isinstance(y, dict):
            raise _mismatch(x, y)
        out = {**x, **y}
        for k in x.keys() & y.keys():
            out[k] = add(x[k], y[k])
        return build(out)

    return Instance(
        lambda x: build({k: zero(v) for k, v in x.items()}),
        add_,
        lambda x: build({k: one(v) for k, v in x.items()}),
    )


def build_dataclass(cls: type, fields: Iterable[tuple[str, Any]]) -> Any:
    """An instance of dataclass `cls` with these field values, made without `__init__` (which
    may validate or convert values, and must accept gradients and BVars here)."""
    out: Any = object.__new__(cls)
    for name, value in fields:
        object.__setattr__(out, name, value)  # also for frozen dataclasses
    return out


def _dataclass_instance(cls: type) -> Instance:
    names = [f.name for f in dataclasses.fields(cls)]

    def fieldwise(f: Callable[..., Any], *xs: Any) -> Any:
        def field(name: str) -> Any:
            try:
                return f(*(getattr(x, name) for x in xs))
            except BackpropInstanceError as e:
                e.add_note(f"in field {name!r} of {_type_name(cls)}")
                raise

        return build_dataclass(cls, ((name, field(name)) for name in names))

    def add_(x: Any, y: Any) -> Any:
        if not isinstance(y, cls):
            raise _mismatch(x, y)
        return fieldwise(add, x, y)

    return Instance(lambda x: fieldwise(zero, x), add_, lambda x: fieldwise(one, x))


def _bvar_add(x: BVar[Any], y: Any) -> Any:
    return x + y


# In a nested run, gradients are BVars of the enclosing run: they add as BVars (recorded there),
# and the zero and one of one are those of its value (constants).
_BVAR = Instance(lambda x: zero(x.value), _bvar_add, lambda x: one(x.value))

# ---- registry -----------------------------------------------------------------------------

#: instances per type, found along the MRO; user registrations go here too
_REGISTRY: dict[type, Instance] = {
    int: _NUM,
    float: _NUM,
    complex: _NUM,
    np.number: _NUM,
    type(None): _UNIT,
    np.ndarray: _array_instance(),
    BVar: _BVAR,
}
#: container kinds whose instance is specialised to the concrete class (to rebuild it)
_KINDS: dict[type, Callable[[type], Instance]] = {
    tuple: _tuple_instance,
    list: _list_instance,
    dict: _dict_instance,
}
#: types that stop the MRO search: `bool` is an `int` but not a number to differentiate
_REFUSED = frozenset({bool})
_CACHE: dict[type, Instance] = {}


def register_backprop(
    cls: type[T],
    *,
    zero: Callable[[T], T],
    add: Callable[[T, T], T],
    one: Callable[[T], T],
) -> None:
    """Give `cls` (and its subclasses without an instance of their own) a Backprop instance.

    >>> class Money:
    ...     def __init__(self, cents):
    ...         self.cents = cents
    >>> bp.register_backprop(
    ...     Money,
    ...     zero=lambda m: Money(0.0),
    ...     add=lambda a, b: Money(a.cents + b.cents),
    ...     one=lambda m: Money(1.0),
    ... )
    >>> bp.grad_bp(lambda m: m, Money(5.0)).cents
    1.0
    >>> bp.grad_bp2(lambda x, m: x, 1.0, Money(5.0))[1].cents
    0.0
    """
    _REGISTRY[cls] = Instance(zero, add, one)
    _CACHE.clear()


def _find(cls: type) -> Instance | None:
    for base in cls.__mro__:
        inst = _REGISTRY.get(base)
        if inst is not None:
            return inst
        kind = _KINDS.get(base)
        if kind is not None:
            return kind(cls)
        if base in _REFUSED:
            return None
    if dataclasses.is_dataclass(cls):
        return _dataclass_instance(cls)
    return None


def instance_of(x: Any) -> Instance:
    """The Backprop instance used for values like `x` (cached per type)."""
    cls = type(x)
    inst = _CACHE.get(cls)
    if inst is None:
        inst = _find(cls)
        if inst is None:
            raise BackpropInstanceError(
                f"type {_type_name(cls)} has no Backprop instance; register one with "
                f"bprop.register_backprop({cls.__qualname__}, zero=..., add=..., one=...) or pass "
                "zero=/add=/one= functions to the bprop.explicit runners"
            )
        _CACHE[cls] = inst
    return inst


def zero(x: T) -> T:
    """The zero gradient of values like `x` (`zero` of Numeric.Backprop.Class).

    >>> bp.zero((1.0, [2.0, np.ones(2)]))
    (0.0, [0.0, array([0., 0.])])
    """
    return instance_of(x).zero(x)  # type: ignore[no-any-return]


def add(x: T, y: T) -> T:
    """Sum of two gradients (`add`); the result has the type of `x`.

    >>> bp.add({'a': 1.0, 'b': 2.0}, {'a': 10.0, 'b': 20.0})
    {'a': 11.0, 'b': 22.0}
    """
    return instance_of(x).add(x, y)  # type: ignore[no-any-return]


def one(x: T) -> T:
    """The gradient seed for outputs like `x` (`one`).

    >>> bp.one(2.5), bp.one(np.zeros(2))
    (1.0, array([1., 1.]))
    """
    return instance_of(x).one(x)  # type: ignore[no-any-return]
