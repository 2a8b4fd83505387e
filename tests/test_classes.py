"""The Backprop protocol (Haskell's Numeric.Backprop.Class).

The laws are checked as hypothesis properties over values of many registered types, nested: a
random *skeleton* (which containers hold which kinds of leaves, array shapes, dict keys) is drawn
first and then filled with random leaves several times, giving values of one shape. Values are
compared leaf-wise with `assert_tree` (types must be equal, numbers close), never with `==`.
Then: the Haskell-named helpers, `register_backprop` (subclass override, cache invalidation) and
the errors.
"""

from __future__ import annotations

import cmath
import dataclasses
from collections.abc import Iterator
from dataclasses import InitVar, dataclass, field
from typing import Any, NamedTuple

import bprop as bp
import numpy as np
import pytest
from bprop import classes
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

LAWS = settings(max_examples=150, deadline=None)


# ---- the registered types used by the strategy ------------------------------------------------


@dataclass(frozen=True)
class Pair:
    a: Any
    b: Any


@dataclass
class Layer:
    weights: np.ndarray[Any, Any]
    biases: list[Any]
    meta: Pair


class Point(NamedTuple):
    x: Any
    y: Any


class Segment(NamedTuple):
    start: Point
    end: Point


# ---- comparing structures ---------------------------------------------------------------------


def _tolerance(x: Any) -> tuple[float, float]:
    """(rtol, atol): float32 rounds at ~6e-8 relative, on sums of leaves up to ~3e3."""
    if getattr(x, "dtype", None) in (np.float32, np.complex64):
        return 1e-5, 1e-3
    return 1e-9, 1e-9


def assert_tree(got: Any, want: Any, *, values: bool = True, path: str = "x") -> None:
    """`got` and `want` have the same structure and types all the way down (dtypes and shapes
    for numpy values); with `values`, their numbers are also close."""
    assert type(got) is type(want), f"{path}: type {type(got)} != {type(want)}"
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want), f"{path}: length {len(got)} != {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_tree(g, w, values=values, path=f"{path}[{i}]")
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), f"{path}: keys {set(got)} != {set(want)}"
        for k in want:
            assert_tree(got[k], want[k], values=values, path=f"{path}[{k!r}]")
    elif dataclasses.is_dataclass(want):
        for f in dataclasses.fields(want):
            assert_tree(
                getattr(got, f.name), getattr(want, f.name), values=values, path=f"{path}.{f.name}"
            )
    elif want is None:
        pass
    elif isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype and got.shape == want.shape, f"{path}: {got!r} vs {want!r}"
        rtol, atol = _tolerance(want)
        assert not values or np.allclose(got, want, rtol=rtol, atol=atol), (
            f"{path}: {got!r} != {want!r}"
        )
    else:  # int, float, complex
        assert not values or cmath.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (
            f"{path}: {got!r} != {want!r}"
        )


def leaves(x: Any) -> Iterator[Any]:
    """The numbers of a structure (array elements one by one)."""
    if isinstance(x, (tuple, list)):
        for e in x:
            yield from leaves(e)
    elif isinstance(x, dict):
        for k in sorted(x):  # equal dicts may differ in order
            yield from leaves(x[k])
    elif dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            yield from leaves(getattr(x, f.name))
    elif isinstance(x, np.ndarray):
        yield from x.ravel().tolist()
    elif x is not None:
        yield x


def test_assert_tree_catches_differences() -> None:
    """The comparison helper itself: every kind of difference fails."""
    base = Layer(np.ones((2, 1)), [1.0, (2, None)], Pair(np.float32(1), {"k": 1j}))
    assert_tree(base, Layer(np.ones((2, 1)), [1.0, (2, None)], Pair(np.float32(1), {"k": 1j})))
    different = [
        Layer(np.ones((1, 2)), [1.0, (2, None)], Pair(np.float32(1), {"k": 1j})),  # shape
        Layer(np.ones((2, 1)), [1.0, (2.0, None)], Pair(np.float32(1), {"k": 1j})),  # int vs float
        Layer(np.ones((2, 1)), [1.0, [2, None]], Pair(np.float32(1), {"k": 1j})),  # tuple vs list
        Layer(np.ones((2, 1)), [1.0, (2, None)], Pair(np.float64(1), {"k": 1j})),  # dtype
        Layer(np.ones((2, 1)), [1.0, (2, None)], Pair(np.float32(1), {"j": 1j})),  # keys
        Layer(np.ones((2, 1)), [1.0, (2, None)], Pair(np.float32(1), {"k": 2j})),  # value
        Layer(np.ones((2, 1)) * 2, [1.0, (2, None)], Pair(np.float32(1), {"k": 1j})),  # array value
        Layer(np.ones((2, 1)), [1.0], Pair(np.float32(1), {"k": 1j})),  # length
    ]
    for other in different:
        with pytest.raises(AssertionError):
            assert_tree(base, other)


# ---- strategies: a skeleton, then values of that skeleton ---------------------------------------

FLOATS = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
COMPLEX = st.complex_numbers(max_magnitude=1e3, allow_nan=False, allow_infinity=False)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
NP_SCALARS = {
    "float64": FLOATS.map(np.float64),
    "float32": st.floats(-1e3, 1e3, width=32, allow_nan=False, allow_infinity=False).map(
        np.float32
    ),
    "complex128": COMPLEX.map(np.complex128),
}

Skeleton = Any  # nested tuples: ("float",), ("array", shape), ("list", children), ...

leaf_skeletons: st.SearchStrategy[Skeleton] = st.one_of(
    st.sampled_from([("float",), ("int",), ("complex",), ("none",)]),
    st.sampled_from(sorted(NP_SCALARS)).map(lambda d: ("np", d)),
    SHAPES.map(lambda s: ("array", s)),
)


def _containers(children: st.SearchStrategy[Skeleton]) -> st.SearchStrategy[Skeleton]:
    some = st.lists(children, max_size=3).map(tuple)
    points = st.tuples(children, children).map(lambda ab: ("point", *ab))
    return st.one_of(
        some.map(lambda cs: ("tuple", cs)),
        some.map(lambda cs: ("list", cs)),
        st.dictionaries(st.text("abxyz", min_size=1, max_size=2), children, max_size=3).map(
            lambda d: ("dict", tuple(d.items()))
        ),
        st.tuples(children, children).map(lambda ab: ("pair", *ab)),
        points,
        st.tuples(points, points).map(lambda pq: ("segment", *pq)),
        st.tuples(SHAPES, some, children, children).map(lambda t: ("layer", *t)),
    )


skeletons = st.recursive(leaf_skeletons, _containers, max_leaves=8)


def fill(sk: Skeleton) -> st.SearchStrategy[Any]:
    """Values of skeleton `sk`, with random leaves."""
    kind, *rest = sk
    if kind == "float":
        return FLOATS
    if kind == "int":
        return st.integers(-1000, 1000)
    if kind == "complex":
        return COMPLEX
    if kind == "none":
        return st.none()
    if kind == "np":
        return NP_SCALARS[rest[0]]
    if kind == "array":
        return hnp.arrays(np.float64, rest[0], elements=FLOATS)
    if kind == "tuple":
        return st.tuples(*map(fill, rest[0]))
    if kind == "list":
        return st.tuples(*map(fill, rest[0])).map(list)
    if kind == "dict":
        return st.fixed_dictionaries({k: fill(c) for k, c in rest[0]})
    if kind == "pair":
        return st.builds(Pair, fill(rest[0]), fill(rest[1]))
    if kind == "point":
        return st.builds(Point, fill(rest[0]), fill(rest[1]))
    if kind == "segment":
        return st.builds(Segment, fill(rest[0]), fill(rest[1]))
    assert kind == "layer"
    shape, biases, a, b = rest
    return st.builds(
        Layer, fill(("array", shape)), fill(("list", biases)), st.builds(Pair, fill(a), fill(b))
    )


def draw_alike(data: st.DataObject, n: int) -> list[Any]:
    """`n` values of one random skeleton."""
    sk = data.draw(skeletons, label="skeleton")
    return [data.draw(fill(sk), label=f"value {i}") for i in range(n)]


# ---- the laws ---------------------------------------------------------------------------------


@LAWS
@given(st.data())
def test_zero_is_an_identity_of_add(data: st.DataObject) -> None:
    x, y = draw_alike(data, 2)
    assert_tree(bp.add(bp.zero(x), y), y)
    assert_tree(bp.add(y, bp.zero(x)), y)


@LAWS
@given(st.data())
def test_add_is_commutative(data: st.DataObject) -> None:
    x, y = draw_alike(data, 2)
    assert_tree(bp.add(x, y), bp.add(y, x))


@LAWS
@given(st.data())
def test_add_is_associative(data: st.DataObject) -> None:
    x, y, z = draw_alike(data, 3)
    assert_tree(bp.add(bp.add(x, y), z), bp.add(x, bp.add(y, z)))


@LAWS
@given(st.data())
def test_add_adds_leafwise(data: st.DataObject) -> None:
    x, y = draw_alike(data, 2)
    total = bp.add(x, y)
    assert_tree(total, x, values=False)
    for s, a, b in zip(leaves(total), leaves(x), leaves(y), strict=True):
        rtol, atol = _tolerance(s)
        assert np.isclose(s, a + b, rtol=rtol, atol=atol)


@LAWS
@given(st.data())
def test_zero_and_one_keep_the_structure_and_are_idempotent(data: st.DataObject) -> None:
    (x,) = draw_alike(data, 1)
    z, o = bp.zero(x), bp.one(x)
    assert_tree(z, x, values=False)
    assert_tree(o, x, values=False)
    assert all(leaf == 0 for leaf in leaves(z))
    assert all(leaf == 1 for leaf in leaves(o))
    assert_tree(bp.zero(z), z)
    assert_tree(bp.one(o), o)


@LAWS
@given(st.data())
def test_one_is_the_gradient_of_the_identity(data: st.DataObject) -> None:
    (x,) = draw_alike(data, 1)
    g = bp.grad_bp(lambda v: v, x)
    assert type(g) is type(x)
    assert_tree(g, bp.one(x))


@settings(deadline=None)
@given(FLOATS)
def test_float_gradients_still_run_natively(x: float) -> None:
    g = bp.grad_bp(lambda v: v * 2.0, x)
    assert type(g) is float and g == 2.0


# ---- instances: result types and semantics ---------------------------------------------------


def double(x: Any) -> Any:
    return bp.add(x, x)


def test_result_types_are_preserved() -> None:
    seg = Segment(Point(1.0, np.float32(2)), Point(3, 4j))
    for f in (bp.zero, bp.one, double):
        out = f(seg)
        assert type(out) is Segment and type(out.start) is Point and type(out.end) is Point
        assert (
            type(out.start.y) is np.float32
            and type(out.end.x) is int
            and type(out.end.y) is complex
        )
    for scalar in (np.float64(2.5), np.float32(2.5), np.complex128(1 + 2j)):
        for out in (bp.zero(scalar), bp.one(scalar), bp.add(scalar, scalar)):
            assert type(out) is type(scalar)
    assert bp.zero(np.float32(7)) == 0 and bp.one(np.complex128(3j)) == 1


def test_zero_dimensional_arrays_stay_arrays() -> None:
    a = np.array(2.0)
    for out in (bp.zero(a), bp.one(a), bp.add(a, a), bp.add(a, 1.0)):
        assert isinstance(out, np.ndarray) and out.shape == ()
    assert bp.add(a, 1.0) == 3.0


def test_complex_and_int_arrays() -> None:
    c = np.array([1 + 1j, 2j])
    assert_tree(bp.zero(c), np.zeros(2, dtype=complex))
    assert_tree(bp.add(c, c), np.array([2 + 2j, 4j]))
    assert_tree(bp.one(np.arange(3)), np.ones(3, dtype=np.arange(3).dtype))


def test_list_add_pads_the_shorter() -> None:
    assert bp.add([1.0], [2.0, 3.0]) == [3.0, 3.0]
    assert bp.add([2.0, 3.0], [1.0]) == [3.0, 3.0]
    assert bp.add([], [(1.0, 2)]) == [(1.0, 2)]


@LAWS
@given(st.lists(FLOATS, max_size=5), st.lists(FLOATS, max_size=5))
def test_list_add_is_add_with_zero_padding(xs: list[float], ys: list[float]) -> None:
    n = max(len(xs), len(ys))
    padded = [a + b for a, b in zip(xs + [0.0] * (n - len(xs)), ys + [0.0] * (n - len(ys)))]
    assert_tree(bp.add(xs, ys), padded)
    assert_tree(bp.add(ys, xs), padded)


@LAWS
@given(
    st.dictionaries(st.sampled_from("abcde"), FLOATS),
    st.dictionaries(st.sampled_from("abcde"), FLOATS),
)
def test_dict_add_is_a_key_union(x: dict[str, float], y: dict[str, float]) -> None:
    want = {k: x.get(k, 0.0) + y.get(k, 0.0) for k in x.keys() | y.keys()}
    assert_tree(bp.add(x, y), want)


def test_none_is_the_unit() -> None:
    assert bp.zero(None) is None and bp.one(None) is None and bp.add(None, None) is None
    assert bp.add((1.0, None), (2.0, None)) == (3.0, None)


def test_container_subclasses_are_rebuilt() -> None:
    class Row(tuple[float, ...]):
        pass

    class Stack(list[float]):
        pass

    class Table(dict[str, float]):
        pass

    for value in (Row((1.0, 2.0)), Stack([1.0]), Table(a=1.0)):
        for out in (bp.zero(value), bp.one(value), bp.add(value, value)):
            assert type(out) is type(value)
    assert bp.add(Row((1.0, 2.0)), Row((3.0, 4.0))) == (4.0, 6.0)


# ---- dataclasses ------------------------------------------------------------------------------


def test_frozen_dataclass_gradients_are_frozen_instances() -> None:
    z = bp.zero(Pair(1.0, [2.0]))
    assert z == Pair(0.0, [0.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        z.a = 1.0  # type: ignore[misc]


def test_dataclass_gradients_skip_post_init_validation() -> None:
    @dataclass
    class Scale:
        sigma: float

        def __post_init__(self) -> None:
            if self.sigma <= 0:
                raise ValueError("sigma must be positive")

    s = Scale(2.0)
    z = bp.zero(s)  # a zero gradient, though 0 is no valid sigma
    assert type(z) is Scale and z.sigma == 0.0
    assert bp.add(z, z).sigma == 0.0


def test_dataclass_init_false_and_initvar_fields() -> None:
    @dataclass
    class Derived:
        x: float
        scale: InitVar[float]  # dataclasses.replace cannot rebuild this class without it
        double: float = field(init=False)

        def __post_init__(self, scale: float) -> None:
            self.x *= scale
            self.double = 2 * self.x

    d = Derived(1.5, 1.0)
    # init=False fields are components like any other (not recomputed by __post_init__) ...
    assert (bp.zero(d).x, bp.zero(d).double) == (0.0, 0.0)
    assert (bp.one(d).x, bp.one(d).double) == (1.0, 1.0)
    s = bp.add(d, Derived(2.0, 1.0))
    assert (s.x, s.double) == (3.5, 7.0)
    # ... and the InitVar, which is no field, plays no part
    z = bp.zero(Derived(1.0, 5.0))
    assert (z.x, z.double) == (0.0, 0.0) and "scale" not in vars(z)


def test_slotted_dataclass() -> None:
    @dataclass(slots=True)
    class Slotted:
        w: np.ndarray[Any, Any]

    g = bp.add(Slotted(np.ones(2)), Slotted(np.arange(2.0)))
    assert type(g) is Slotted and g.w.tolist() == [1.0, 2.0]


# ---- helpers with Haskell's names ------------------------------------------------------------


def test_num_helpers() -> None:
    arr = np.full((2, 3), 5.0, dtype=np.float32)
    assert_tree(bp.zero_num(arr), np.zeros((2, 3), dtype=np.float32))
    assert_tree(bp.one_num(arr), np.ones((2, 3), dtype=np.float32))
    assert_tree(bp.add_num(arr, arr), np.full((2, 3), 10.0, dtype=np.float32))
    for x, z, o in [
        (3, 0, 1),
        (2.5, 0.0, 1.0),
        (1 + 2j, 0j, 1 + 0j),
        (np.float32(3), np.float32(0), np.float32(1)),
        (np.complex128(2j), np.complex128(0), np.complex128(1)),
    ]:
        assert_tree(bp.zero_num(x), z)
        assert_tree(bp.one_num(x), o)
    assert_tree(bp.add_num(np.float32(1), np.float32(2)), np.float32(3))


def test_functor_and_list_helpers() -> None:
    xs = [1.0, (2.0, 3), np.ones(2)]
    assert_tree(bp.zero_functor(xs), [0.0, (0.0, 0), np.zeros(2)])
    assert_tree(bp.one_functor(xs), [1.0, (1.0, 1), np.ones(2)])
    assert_tree(bp.zero_functor(x for x in (1.0, 2j)), [0.0, 0j])
    assert bp.add_as_list([1.0], [2.0, 3.0]) == [3.0, 3.0]
    assert bp.add_as_list([1, 2, 3], [10]) == [11, 2, 3]
    assert bp.add_as_list([], []) == []


def test_vec_helpers() -> None:
    v = np.array([1.0, 2.0, 3.0])
    assert_tree(bp.zero_vec(v), np.zeros(3))
    assert_tree(bp.one_vec(v), np.ones(3))
    assert_tree(bp.zero_vec([1.0, 2]), [0.0, 0])
    assert_tree(bp.one_vec((1.0, 2j)), [1.0, 1 + 0j])
    assert_tree(bp.add_vec(v, np.array([10.0])), np.array([11.0, 2.0, 3.0]))
    assert_tree(bp.add_vec(np.array([10.0]), v), np.array([11.0, 2.0, 3.0]))
    assert_tree(bp.add_vec([1.0], [2.0, 3.0]), [3.0, 3.0])
    rows = bp.add_vec(np.ones((1, 2)), np.arange(6.0).reshape(3, 2))
    assert_tree(rows, np.array([[1.0, 2.0], [2.0, 3.0], [4.0, 5.0]]))
    with pytest.raises(bp.ShapeError, match=r"add_vec.*\(2, 1\).*\(3, 2\)"):
        bp.add_vec(np.ones((2, 1)), np.ones((3, 2)))  # would broadcast row-wise without the check
    with pytest.raises(bp.ShapeError, match="add_vec"):
        bp.add_vec(np.array(1.0), np.ones(2))


@LAWS
@given(
    hnp.arrays(np.float64, st.integers(0, 5), elements=FLOATS),
    hnp.arrays(np.float64, st.integers(0, 5), elements=FLOATS),
)
def test_add_vec_is_add_with_zero_padding(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> None:
    n = max(len(x), len(y))
    want = np.pad(x, (0, n - len(x))) + np.pad(y, (0, n - len(y)))
    assert_tree(bp.add_vec(x, y), want)
    assert_tree(bp.add_vec(x.tolist(), y.tolist()), want.tolist())


# ---- registering instances --------------------------------------------------------------------


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


def _money_instance(scale: int) -> dict[str, Any]:
    return {
        "zero": lambda m: type(m)(0),
        "add": lambda a, b: type(a)(a.cents + b.cents * scale),
        "one": lambda m: type(m)(scale),
    }


def test_register_backprop_after_a_failed_lookup() -> None:
    class Wallet(Money):
        pass

    with pytest.raises(bp.BackpropInstanceError, match="Wallet"):
        bp.zero(Wallet(5))
    bp.register_backprop(Wallet, **_money_instance(1))
    assert bp.add(Wallet(5), Wallet(7)).cents == 12
    assert bp.one(Wallet(5)).cents == 1
    g = bp.grad_bp(lambda v: v, Wallet(5))
    assert type(g) is Wallet and g.cents == 1


def test_registering_a_subclass_overrides_the_base_even_when_cached() -> None:
    class Base(Money):
        pass

    class Sub(Base):
        pass

    bp.register_backprop(Base, **_money_instance(1))
    assert bp.add(Sub(1), Sub(2)).cents == 3  # the base's instance, now cached for Sub
    bp.register_backprop(Sub, **_money_instance(10))
    assert bp.add(Sub(1), Sub(2)).cents == 21
    assert bp.one(Sub(0)).cents == 10
    assert bp.add(Base(1), Base(2)).cents == 3


def test_register_overrides_a_structural_instance() -> None:
    @dataclass
    class Tagged:
        value: float
        tag: str

    with pytest.raises(bp.BackpropInstanceError, match="builtins.str") as info:
        bp.zero(Tagged(1.0, "t"))
    assert any("'tag'" in note and "Tagged" in note for note in info.value.__notes__)
    bp.register_backprop(
        Tagged,
        zero=lambda t: Tagged(0.0, t.tag),
        add=lambda a, b: Tagged(a.value + b.value, a.tag),
        one=lambda t: Tagged(1.0, t.tag),
    )
    assert bp.add(Tagged(1.0, "t"), Tagged(2.0, "u")) == Tagged(3.0, "t")


def test_instances_are_cached_per_type() -> None:
    for x, y in [(1.0, 2.0), (Point(1.0, 2.0), Point(3, 4)), (Pair(1, 2), Pair(3, 4)), ([1.0], [])]:
        assert classes.instance_of(x) is classes.instance_of(y)


# ---- errors ----------------------------------------------------------------------------------


class Plain:
    pass


@pytest.mark.parametrize(
    "value, name",
    [
        ("text", "builtins.str"),
        (Plain(), f"{Plain.__module__}.Plain"),
        (object(), "builtins.object"),
        (True, "builtins.bool"),
        (np.bool_(True), "numpy.bool"),
        ([1.0, "x"], "builtins.str"),
    ],
)
def test_unregistered_types_raise(value: Any, name: str) -> None:
    for f in (bp.zero, bp.one, double):
        with pytest.raises(bp.BackpropInstanceError) as info:
            f(value)
        message = str(info.value)
        assert isinstance(info.value, TypeError)
        assert name in message and "has no Backprop instance" in message
        assert "register_backprop(" in message and "bprop.explicit" in message


def test_non_numeric_arrays_have_no_instance() -> None:
    for arr in (np.array(["a"]), np.array([True]), np.array([None], dtype=object)):
        with pytest.raises(bp.BackpropInstanceError, match=f"dtype {arr.dtype}"):
            bp.zero(arr)


@pytest.mark.parametrize(
    "x, y, error, pattern",
    [
        (
            {"a": 1.0},
            [1.0],
            bp.BackpropInstanceError,
            r"add: cannot add a builtins\.list to a builtins\.dict",
        ),
        (
            [1.0],
            (1.0,),
            bp.BackpropInstanceError,
            r"add: cannot add a builtins\.tuple to a builtins\.list",
        ),
        (
            (1.0,),
            [1.0],
            bp.BackpropInstanceError,
            r"add: cannot add a builtins\.list to a builtins\.tuple",
        ),
        (
            None,
            1.0,
            bp.BackpropInstanceError,
            r"add: cannot add a builtins\.float to a builtins\.NoneType",
        ),
        (
            Pair(1.0, 2.0),
            Point(1.0, 2.0),
            bp.BackpropInstanceError,
            r"add: cannot add a .*Point to a .*Pair",
        ),
        (
            (1.0,),
            (1.0, 2.0),
            bp.ShapeError,
            r"add: builtins\.tuple values of different lengths \(1 and 2\)",
        ),
        (
            Point(1.0, 2.0),
            (1.0,),
            bp.ShapeError,
            r"add: .*Point values of different lengths \(2 and 1\)",
        ),
        (
            np.zeros(2),
            np.zeros(3),
            bp.ShapeError,
            r"add: arrays of different shapes \(\(2,\) and \(3,\)\)",
        ),
        (np.zeros((2, 3)), np.zeros(3), bp.ShapeError, r"add: arrays of different shapes"),
        (np.zeros(2), 1.0, bp.ShapeError, r"add: arrays of different shapes \(\(2,\) and \(\)\)"),
    ],
)
def test_add_of_mismatched_values_raises(
    x: Any, y: Any, error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        bp.add(x, y)


def test_nested_mismatch_names_the_inner_values() -> None:
    with pytest.raises(bp.ShapeError, match=r"\(1 and 2\)"):
        bp.add({"k": [(1.0,)]}, {"k": [(1.0, 2.0)]})
