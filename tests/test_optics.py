"""Optics and containers on the tape: field and element access, containers as inputs and outputs.

Gradients are checked against central finite differences on random inputs: a container is
flattened to a float vector (and back) so that every leaf coordinate is differentiated, and
functions with container or array outputs are pulled back with a random cotangent of the
output's structure. Gradients must also have the input's exact structure (types, field names,
dict keys, array shapes). Then: optics on plain values, probes of the runners on containers,
the cost model (counted, never timed), nested containers, a small neural network, the errors,
and regression tests for the bugs found while writing these tests.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import bprop as bp
import numpy as np
import pytest
from bprop import BVar, _containers
from fd import central_diff

SEEDS = range(5)


# ---- trees: containers as leaf lists, for finite differences and structural comparison -------


def _parts(x: Any) -> tuple[list[Any], Callable[[list[Any]], Any]] | None:
    """The children of a container and a function rebuilding it around new children; None for
    a leaf (a number or an array). Dataclasses are rebuilt without `__init__` (test values and
    gradients alike), `None` is a container with no children."""
    if x is None:
        return [], lambda cs: None
    if isinstance(x, tuple):
        cls = type(x)
        return list(x), getattr(cls, "_make", cls)
    if isinstance(x, list):
        return list(x), type(x)
    if isinstance(x, dict):
        keys = list(x)
        return list(x.values()), lambda cs: type(x)(zip(keys, cs))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        names = [f.name for f in dataclasses.fields(x)]

        def build(cs: list[Any]) -> Any:
            out = copy.copy(x)
            for n, c in zip(names, cs):
                object.__setattr__(out, n, c)
            return out

        return [getattr(x, n) for n in names], build
    if isinstance(x, (float, int, np.ndarray)) and not isinstance(x, bool):
        return None
    raise TypeError(f"not a test tree: {type(x).__qualname__}")


def tree_map(fn: Callable[[Any], Any], x: Any) -> Any:
    """`x` with every leaf replaced by `fn(leaf)`, leaves visited in order."""
    p = _parts(x)
    if p is None:
        return fn(x)
    children, build = p
    return build([tree_map(fn, c) for c in children])


def leaves(x: Any) -> list[Any]:
    out: list[Any] = []
    tree_map(out.append, x)
    return out


def flatten(x: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Every leaf coordinate of `x`, in order, as one float vector."""
    return np.concatenate(
        [np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves(x)] + [np.zeros(0)]
    )


def unflatten(template: Any, vec: np.ndarray[Any, Any]) -> Any:
    """A tree shaped like `template` holding the coordinates `vec` (inverse of `flatten`)."""
    pos = 0

    def take(leaf: Any) -> Any:
        nonlocal pos
        if isinstance(leaf, np.ndarray):
            out = vec[pos : pos + leaf.size].reshape(leaf.shape).copy()
            pos += leaf.size
            return out
        pos += 1
        return float(vec[pos - 1])

    out = tree_map(take, template)
    assert pos == vec.size
    return out


def skeleton(x: Any) -> Any:
    """The structure of `x`: container types, field names and dict keys, leaf kinds and array
    shapes. Two trees with equal skeletons have the same type all the way down."""
    p = _parts(x)
    if p is None:
        if isinstance(x, np.ndarray):
            return ("array", x.shape)
        return "int" if isinstance(x, int) else "float"
    labels: Any = None
    if isinstance(x, dict):
        labels = tuple(x)
    elif dataclasses.is_dataclass(x):
        labels = tuple(f.name for f in dataclasses.fields(x))
    return (type(x), labels, tuple(skeleton(c) for c in p[0]))


def random_like(rng: np.random.Generator, x: Any) -> Any:
    """A random tree of the structure of `x` (a random cotangent for an output `x`)."""
    return tree_map(
        lambda l: rng.normal(size=l.shape) if isinstance(l, np.ndarray) else float(rng.normal()), x
    )


def assert_tree_close(got: Any, want: Any, *, rtol: float = 1e-12, atol: float = 1e-12) -> None:
    assert skeleton(got) == skeleton(want), (
        f"structure differs:\n got  {skeleton(got)}\n want {skeleton(want)}"
    )
    np.testing.assert_allclose(flatten(got), flatten(want), rtol=rtol, atol=atol)


def check_grad(
    f: Callable[..., BVar[Any]],
    *xs: Any,
    rng: np.random.Generator,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> tuple[Any, ...]:
    """Check the vector-Jacobian product of `f` at `xs` for a random output cotangent against
    central differences of every input coordinate; return the gradients. The gradients must
    have the inputs' structure."""
    y, pullback = bp.backprop_with_n(f, *xs)
    cot = random_like(rng, y)
    grads = pullback(cot)
    assert skeleton(grads) == skeleton(tuple(xs)), (
        f"gradient structure:\n got  {skeleton(grads)}\n want {skeleton(tuple(xs))}"
    )
    c, x0 = flatten(cot), flatten(tuple(xs))

    def objective(vec: np.ndarray[Any, Any]) -> float:
        return float(c @ flatten(bp.eval_bp_n(f, *unflatten(tuple(xs), vec))))

    expected = np.empty_like(x0)
    for i in range(x0.size):

        def along(t: float, i: int = i) -> float:
            moved = x0.copy()
            moved[i] = t
            return objective(moved)

        (expected[i],) = central_diff(along, [float(x0[i])])
    np.testing.assert_allclose(flatten(grads), expected, rtol=rtol, atol=atol)
    return tuple(grads)


def random_leaf(rng: np.random.Generator) -> Any:
    """A float or a small float array of random shape."""
    if rng.random() < 0.5:
        return float(rng.normal())
    return rng.normal(size=tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(1, 3)))))


def scalar(v: BVar[Any]) -> BVar[float]:
    """A float BVar from a float or array BVar (nonlinear, so differences see every entry)."""
    return bp.linalg.sum(v * v) if isinstance(v.value, np.ndarray) else v


# ---- containers used by the tests -------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    a: Any
    b: Any


class Point(NamedTuple):
    x: Any
    y: Any


@dataclass(frozen=True)
class Layer:
    w: np.ndarray[Any, Any]
    b: np.ndarray[Any, Any]


@dataclass
class Model:
    layers: list[Layer]
    scale: float
    extra: tuple[float, float]


KINDS = ["tuple", "list", "NamedTuple", "dict", "dataclass", "frozen dataclass"]
Read = Callable[[BVar[Any]], BVar[Any]]


def via(optic: bp.Lens[Any, Any]) -> Read:
    return lambda v: bp.view_var(optic, v)


def indexing(k: Any) -> Read:
    return lambda v: v[k]


def make_record(kind: str, comps: list[Any]) -> tuple[Any, list[list[Read]]]:
    """A container of `kind` holding `comps`, and for each component every way to read it."""
    n = len(comps)
    names = [f"f{i}" for i in range(n)]
    ways: list[list[Read]]
    if kind in ("tuple", "list", "NamedTuple"):
        if kind == "NamedTuple":
            make_namedtuple: Any = NamedTuple
            rec: Any = make_namedtuple("Rec", [(m, Any) for m in names])(*comps)
        else:
            rec = tuple(comps) if kind == "tuple" else list(comps)
        # negative indices too, and numpy integers
        ways = [
            [
                via(bp.item(i)),
                via(bp.item(i - n)),
                indexing(i),
                indexing(i - n),
                indexing(np.int64(i)),
            ]
            for i in range(n)
        ]
        if kind == "NamedTuple":
            for i, m in enumerate(names):
                ways[i].append(via(bp.attr(m)))
    elif kind == "dict":
        rec = {f"k{i}": c for i, c in enumerate(comps)}
        ways = [[via(bp.key(f"k{i}")), indexing(f"k{i}")] for i in range(n)]
    else:
        cls = dataclasses.make_dataclass("Rec", names, frozen=kind == "frozen dataclass")
        rec = cls(*comps)
        ways = [[via(bp.attr(m))] for m in names]
    return rec, ways


def test_tree_helpers_round_trip_and_see_types() -> None:
    rng = np.random.default_rng(0)
    x = {"a": [1.0, np.ones((2, 3))], "b": Pair(2.0, (3.0, None))}
    assert_tree_close(unflatten(x, flatten(x)), x)
    assert flatten(x).size == 9
    assert skeleton(random_like(rng, x)) == skeleton(x)
    assert skeleton((1.0, 2.0)) != skeleton([1.0, 2.0])
    assert skeleton(Point(1.0, 2.0)) != skeleton((1.0, 2.0))
    assert skeleton({"a": 1.0}) != skeleton({"b": 1.0})
    assert skeleton(np.ones(2)) != skeleton(np.ones(3))
    with pytest.raises(AssertionError):
        assert_tree_close([1.0, 2.0], [1.0, 2.5])


# ---- 1. view_var: reading components -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_view_var_reads_components(kind: str, seed: int) -> None:
    """Random reads (with repeats, negative indices, every spelling) of a random record: the
    gradient matches differences, has the record's type, and unread components are zero."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    rec, ways = make_record(kind, [random_leaf(rng) for _ in range(n)])
    plan = [
        (int(i), int(rng.integers(len(ways[i]))))
        for i in rng.integers(n, size=int(rng.integers(1, 2 * n + 1)))
    ]
    weights = rng.normal(size=len(plan))

    def f(v: BVar[Any]) -> BVar[float]:
        total, prev = bp.const_var(0.0), bp.const_var(1.0)
        for w, (i, way) in zip(weights, plan):
            s = scalar(ways[i][way](v))
            total, prev = total + w * bp.sin(s) * prev, s
        return total

    (g,) = check_grad(f, rec, rng=rng)
    comps = _parts(g)
    assert comps is not None
    for i in set(range(n)) - {i for i, _ in plan}:
        assert not flatten(comps[0][i]).any(), f"unread component {i} has a nonzero gradient"


@pytest.mark.parametrize("seed", SEEDS)
def test_view_var_rows_and_rows_of_rows_of_arrays(seed: int) -> None:
    """`v[i]`, `item(-1)` and `item(i) @ item(j)` on 2-d and 3-d arrays, mixed with whole-array
    arithmetic on the same BVar (row gradients and a whole gradient meet)."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(2, 4))))
    x = rng.normal(size=shape)
    i, i2 = (int(k) for k in rng.integers(-shape[0], shape[0], size=2))
    j = int(rng.integers(-shape[1], shape[1]))

    def f(v: BVar[Any]) -> BVar[Any]:
        row = v[i]
        last = bp.view_var(bp.item(-1), v)
        el = bp.view_var(bp.item(i2) @ bp.item(j), v)  # a float (2-d) or a row of a row (3-d)
        return row * bp.sin(last) + el + bp.linalg.sum(v * v)

    (g,) = check_grad(f, x, rng=rng)
    assert isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == np.float64


def test_view_var_rows_of_a_vector_are_floats() -> None:
    x = np.array([1.0, 2.0, 3.0])
    val, g = bp.backprop(lambda v: v[0] * v[-1] * bp.view_var(bp.item(1), v), x)
    assert val == 6.0 and isinstance(bp.eval_bp(lambda v: v[0], x), float)
    np.testing.assert_array_equal(g, [6.0, 3.0, 2.0])


@pytest.mark.parametrize("seed", SEEDS)
def test_composed_lenses_on_nested_dataclasses(seed: int) -> None:
    """`attr("layers") @ item(i) @ attr("w")` through a dataclass holding a list of frozen
    dataclasses, plus `attr("extra") @ item(1)`; unread parts (here `extra[0]`) are zero."""
    rng = np.random.default_rng(seed)
    sizes = [int(d) for d in rng.integers(1, 4, size=int(rng.integers(2, 4)))]
    model = Model(
        layers=[
            Layer(rng.normal(size=(o, i)), rng.normal(size=o)) for i, o in itertools.pairwise(sizes)
        ],
        scale=float(rng.normal()),
        extra=(float(rng.normal()), float(rng.normal())),
    )
    x0 = rng.normal(size=sizes[0])

    def f(m: BVar[Model]) -> BVar[Any]:
        h: BVar[Any] = bp.const_var(x0)
        for k in range(len(model.layers)):
            w = bp.view_var(bp.attr("layers") @ bp.item(k) @ bp.attr("w"), m)
            b = bp.view_var(bp.compose(bp.attr("layers"), bp.compose(bp.item(k), bp.attr("b"))), m)
            h = bp.tanh(w @ h + b)
        return h * bp.view_var(bp.attr("scale"), m) + bp.view_var(bp.attr("extra") @ bp.item(1), m)

    (g,) = check_grad(f, model, rng=rng)
    assert type(g) is Model and all(type(layer) is Layer for layer in g.layers)
    assert g.extra[0] == 0.0


@pytest.mark.parametrize("k", [1, 2, 5, 17])
def test_reading_one_field_k_times_sums_the_gradients(k: int) -> None:
    rng = np.random.default_rng(k)
    cs = rng.normal(size=k)
    p = Pair(float(rng.normal()), np.ones(2))

    def f(v: BVar[Pair]) -> BVar[float]:
        return sum((c * bp.view_var(bp.attr("a"), v) for c in cs), bp.const_var(0.0))

    g = bp.grad_bp(f, p)
    assert type(g) is Pair and g.a == pytest.approx(cs.sum(), rel=1e-12)
    np.testing.assert_array_equal(g.b, np.zeros(2))


def test_rereading_a_component_reuses_its_node() -> None:
    """A component is one node per run however it is read (view_var, v[i], split_var), so its
    gradients accumulate in one slot; other components and other containers get their own."""
    tape = bp._core.Tape()
    v = tape.input(Pair(1.0, np.arange(3.0)))
    a = bp.view_var(bp.attr("a"), v)
    n = len(tape)
    again = bp.view_var(bp.attr("a"), v)
    assert len(tape) == n and again.value == a.value
    parts = bp.split_var(v)  # reuses a, adds b
    assert len(tape) == n + 1
    bp.view_var(bp.attr("b"), v)
    assert len(tape) == n + 1
    w = tape.input([1.0, 2.0])
    m = len(tape)
    w[0], w[-2], bp.view_var(bp.item(0), w)  # one component, three spellings
    assert len(tape) == m + 1
    out = (a * 2.0 + again * 3.0 + parts.a) * bp.linalg.sum(parts.b)
    tape.close()
    (g,) = tape.backward(out, 1.0, [v])
    assert type(g) is Pair and g.a == pytest.approx(6.0 * 3.0) and np.allclose(g.b, 6.0)


def test_unreached_fields_get_zero_of_their_own_type() -> None:
    @dataclass
    class Mixed:
        x: float
        arr: np.ndarray[Any, Any]
        xs: list[float]
        d: dict[str, Any]
        inner: Pair
        t: tuple[float, np.ndarray[Any, Any]]
        count: int
        nothing: None

    m = Mixed(
        1.5,
        np.ones((2, 3)),
        [1.0, 2.0],
        {"p": 1.0, "q": np.ones(2)},
        Pair(1.0, [2.0]),
        (1.0, np.ones(1)),
        3,
        None,
    )
    g = bp.grad_bp(lambda v: bp.view_var(bp.attr("x"), v) * 2.0, m)
    assert type(g) is Mixed and g.x == 2.0
    for f in dataclasses.fields(Mixed):
        if f.name != "x":
            assert_tree_close(getattr(g, f.name), bp.zero(getattr(m, f.name)))
    assert type(g.count) is int and g.nothing is None


def test_constant_containers_give_constant_components() -> None:
    c = bp.const_var({"a": [1.0, 2.0]})
    w = bp.view_var(bp.key("a") @ bp.item(1), c)
    assert w.is_constant and w.value == 2.0
    assert all(v.is_constant for v in bp.sequence_var(bp.const_var([1.0, 2.0])))
    assert bp.grad_bp(lambda v: v * bp.view_var(bp.item(0), bp.const_var((3.0,))), 2.0) == 3.0


# Dataclasses whose __init__ does more than store fields: gradients are built without it.


@dataclass
class Scale:
    """A value type that validates in __post_init__ (a gradient of it need not be positive)."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        if self.sigma <= 0:
            raise ValueError("sigma must be positive")


def test_field_gradients_of_a_validating_dataclass() -> None:
    g = bp.grad_bp(lambda v: bp.view_var(bp.attr("mu"), v) * 2.0, Scale(1.0, 2.0))
    assert type(g) is Scale and (g.mu, g.sigma) == (2.0, 0.0)
    g = bp.grad_bp(
        lambda v: bp.view_var(bp.attr("sigma"), bp.set_var(bp.attr("mu"), 0.0, v)), Scale(1.0, 2.0)
    )
    assert type(g) is Scale and (g.mu, g.sigma) == (0.0, 1.0)
    g = bp.grad_bp(lambda v: bp.view_var(bp.attr("sigma"), v) * -3.0, Scale(1.0, 2.0))
    assert (g.mu, g.sigma) == (0.0, -3.0)


def test_init_false_fields_are_components() -> None:
    @dataclass
    class Derived:
        a: float
        b: float = field(init=False)

        def __post_init__(self) -> None:
            self.b = 10 * self.a

    g = bp.grad_bp(lambda v: bp.view_var(bp.attr("a"), v) * 2.0, Derived(1.0))
    assert (g.a, g.b) == (2.0, 0.0)  # b is not read: zero, as in bp.zero(Derived(1.0))
    g = bp.grad_bp(
        lambda v: bp.view_var(bp.attr("b"), v) * bp.view_var(bp.attr("a"), v), Derived(1.0)
    )
    assert (g.a, g.b) == (10.0, 1.0)  # b is a field of its own: no chain rule through __post_init__
    assert [x.value for x in bp.to_list_of_var(bp.each, bp.const_var(Derived(2.0)))] == [2.0, 20.0]


# ---- 2. writing: set_var, over_var --------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_set_var_and_over_var_return_the_container(seed: int) -> None:
    """Container outputs pulled back with random container cotangents."""
    rng = np.random.default_rng(seed)
    p = Pair(float(rng.normal()), rng.normal(size=3))
    m = rng.normal(size=(3, 2))
    d = {"u": float(rng.normal()), "v": [float(rng.normal()), float(rng.normal())]}

    def on_pair(v: BVar[Pair]) -> BVar[Pair]:
        return bp.set_var(
            bp.attr("a"),
            bp.sin(bp.view_var(bp.attr("a"), v)) * scalar(bp.view_var(bp.attr("b"), v)),
            v,
        )

    def on_rows(v: BVar[Any]) -> BVar[Any]:
        return bp.over_var(bp.item(1), lambda r: r * v[0] + bp.exp(r), v)

    def on_dict(v: BVar[Any]) -> BVar[Any]:
        w = bp.over_var(bp.key("v") @ bp.item(-1), lambda x: x * x * v["u"], v)
        return bp.set_var(bp.key("u"), bp.view_var(bp.key("v") @ bp.item(0), w) * 3.0, w)

    for f, x in [(on_pair, p), (on_rows, m), (on_dict, d)]:
        check_grad(f, x, rng=rng)


def test_set_var_with_a_second_input_and_with_a_constant() -> None:
    rng = np.random.default_rng(1)

    def f(s: BVar[Any], a: BVar[float]) -> BVar[Any]:
        t = bp.set_var(bp.item(0), a * a, s)  # a BVar from another input
        return bp.set_var(bp.item(2) @ bp.attr("y"), 4.0, t)  # a plain constant

    s = (1.0, 2.0, Point(3.0, 4.0))
    gs, _ = check_grad(f, s, 1.5, rng=rng)
    assert gs[0] == 0.0 and gs[2].y == 0.0 and type(gs[2]) is Point


def test_over_var_is_set_var_of_f_of_the_view() -> None:
    x = [1.0, 2.0, 3.0]
    f = lambda v: bp.over_var(bp.item(1), bp.sin, v)
    g = lambda v: bp.set_var(bp.item(1), bp.sin(bp.view_var(bp.item(1), v)), v)
    cot = [0.5, -1.0, 2.0]
    assert bp.backprop_with(f, x)[1](cot) == bp.backprop_with(g, x)[1](cot)
    assert bp.eval_bp(f, x) == [1.0, math.sin(2.0), 3.0]


# ---- 3. traversals on BVars: preview_var, to_list_of_var, opaque optics ------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_to_list_of_var_through_each(seed: int) -> None:
    rng = np.random.default_rng(seed)
    layers = [
        Layer(rng.normal(size=(2, 2)), rng.normal(size=2)) for _ in range(int(rng.integers(1, 4)))
    ]

    def f(v: BVar[Any]) -> BVar[Any]:
        ws = bp.to_list_of_var(bp.each @ bp.attr("w"), v)
        bs = bp.to_list_of_var(bp.compose(bp.each, bp.attr("b")), v)
        assert len(ws) == len(bs) == len(layers)
        out: BVar[Any] = bp.const_var(np.ones(2))
        for w, b in zip(ws, bs):
            out = bp.tanh(w @ out) * b
        return out

    (g,) = check_grad(f, layers, rng=rng)
    assert type(g) is list and all(type(layer) is Layer for layer in g)


def test_each_visits_every_kind_of_container_in_order() -> None:
    def weighted(v: BVar[Any]) -> BVar[float]:
        return sum(
            (x * float(i + 1) for i, x in enumerate(bp.to_list_of_var(bp.each, v))),
            bp.const_var(0.0),
        )

    assert bp.grad_bp(weighted, {"z": 1.0, "a": 1.0}) == {"z": 1.0, "a": 2.0}  # insertion order
    assert bp.grad_bp(weighted, Pair(1.0, 1.0)) == Pair(1.0, 2.0)
    assert bp.grad_bp(weighted, Point(1.0, 1.0)) == Point(1.0, 2.0)
    np.testing.assert_array_equal(bp.grad_bp(weighted, np.zeros(3)), [1.0, 2.0, 3.0])
    assert bp.grad_bp(weighted, []) == []


def test_preview_var_gives_the_first_target_or_none() -> None:
    seen: list[Any] = []

    def f(v: BVar[Any]) -> BVar[float]:
        first = bp.preview_var(bp.each @ bp.each, v)  # skips the empty first list
        assert first is not None
        seen.append(bp.preview_var(bp.each, bp.view_var(bp.item(0), v)))
        return first * 3.0

    assert bp.grad_bp(f, [[], [2.0, 5.0], [7.0]]) == [[], [3.0, 0.0], [0.0]]
    assert seen == [None]

    def first_or(t: bp.Traversal[Any, Any], v: BVar[Any]) -> BVar[Any]:
        found = bp.preview_var(t, v)
        return bp.const_var(-1.0) if found is None else found

    assert bp.eval_bp(lambda v: first_or(bp.item(1), v), [1.0, 2.0]) == 2.0
    assert bp.eval_bp(lambda v: first_or(bp.each @ bp.each, v), [[], []]) == -1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_opaque_lens_and_traversal_on_bvars(seed: int) -> None:
    """`lens(get, set)` and `traversal(to_list, from_list)` on types the structural steps do not
    know (here: an array entry and the even positions of a list), composed with `attr`."""
    rng = np.random.default_rng(seed)
    corner = bp.lens(
        lambda s: s[0, -1],
        lambda s, a: np.where(np.arange(s.size).reshape(s.shape) == s.shape[1] - 1, a, s),
    )
    evens = bp.traversal(
        lambda s: s[::2], lambda s, xs: [xs[i // 2] if i % 2 == 0 else x for i, x in enumerate(s)]
    )
    p = Pair(rng.normal(size=(2, 3)), [float(x) for x in rng.normal(size=int(rng.integers(1, 6)))])

    def f(v: BVar[Pair]) -> BVar[float]:
        c = bp.view_var(bp.attr("a") @ corner, v)
        return sum((bp.sin(x) * c for x in bp.to_list_of_var(bp.attr("b") @ evens, v)), c * c)

    (g,) = check_grad(f, p, rng=rng)
    assert type(g) is Pair and type(g.b) is list
    assert all(x == 0.0 for x in g.b[1::2])


# ---- 4. whole containers: sequence_var, collect_var, split_var, join_var ------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_sequence_var_then_collect_var(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    for x in (
        [float(t) for t in rng.normal(size=n)],
        tuple(float(t) for t in rng.normal(size=n)),
        rng.normal(size=(n, 2)),
    ):

        def f(v: BVar[Any], x: Any = x) -> BVar[Any]:
            xs = bp.sequence_var(v)
            assert type(xs) is (tuple if isinstance(x, tuple) else list) and len(xs) == n
            ys = [bp.sin(a) * xs[-1] for a in xs]
            return bp.collect_var(tuple(ys) if isinstance(xs, tuple) else ys)

        (g,) = check_grad(f, x, rng=rng)
        assert type(g) is type(x)


def test_collect_var_with_constants_and_of_arrays() -> None:
    rng = np.random.default_rng(3)

    def f(a: BVar[float], m: BVar[Any]) -> BVar[Any]:
        return bp.collect_var([a * 2.0, 5.0, m * a, bp.const_var(np.ones(2))])  # type: ignore[list-item]

    check_grad(f, 1.5, rng.normal(size=2), rng=rng)
    y = bp.eval_bp2(f, 1.5, np.zeros(2))
    assert y[1] == 5.0 and isinstance(y, list) and len(y) == 4


SPLIT_CASES = [
    Pair(1.0, np.array([2.0, -1.0])),
    Point(0.5, [1.0, 2.0]),
    (1.0, np.array([[1.0, 2.0]]), 3.0),
    {"a": 1.0, "b": (2.0, 3.0), 7: -1.0},
    [1.0, 2.0, 3.0],
]


@pytest.mark.parametrize("x", SPLIT_CASES, ids=lambda x: type(x).__name__)
def test_split_var_gives_the_same_container_and_join_var_inverts_it(x: Any) -> None:
    rng = np.random.default_rng(0)
    parts = bp.split_var(bp.const_var(x))
    assert type(parts) is type(x) and all(isinstance(p, BVar) for p in _parts(parts)[0])  # type: ignore[index]
    if isinstance(x, dict):
        assert list(parts) == list(x)
    # the identity round trip hands the cotangent back exactly
    y, pullback = bp.backprop_with(lambda v: bp.join_var(bp.split_var(v)), x)
    assert_tree_close(y, x)
    cot = random_like(rng, x)
    assert_tree_close(pullback(cot), cot)

    # and with the components transformed, against differences
    def f(v: BVar[Any]) -> BVar[Any]:
        s = bp.split_var(v)
        comps, build = _parts(s)  # type: ignore[misc]
        return bp.join_var(
            build([bp.sin(c) * scalar(comps[0]) if i % 2 == 0 else c for i, c in enumerate(comps)])
        )

    check_grad(f, x, rng=rng)


def test_split_var_of_an_array_gives_rows() -> None:
    rows = bp.split_var(bp.const_var(np.arange(6.0).reshape(3, 2)))
    assert isinstance(rows, list) and len(rows) == 3
    np.testing.assert_array_equal(rows[2].value, [4.0, 5.0])


def test_join_var_mixes_bvars_and_constants() -> None:
    rng = np.random.default_rng(4)

    def f(a: BVar[float], b: BVar[Any]) -> BVar[Any]:
        return bp.join_var(Pair(a * b, {"k": 3.0}))

    check_grad(f, 2.0, rng.normal(size=3), rng=rng)
    y = bp.eval_bp2(f, 2.0, np.ones(3))
    assert type(y) is Pair and y.b == {"k": 3.0}
    assert bp.join_var(Point(1.0, 2.0)).is_constant
    # a container output is seeded with one() of it
    assert bp.backprop(lambda v: bp.join_var(Pair(v * 2.0, v * 3.0)), 1.0) == (Pair(2.0, 3.0), 5.0)


def test_split_var_of_a_frozen_dataclass_does_not_run_init() -> None:
    @dataclass(frozen=True)
    class Positive:
        x: float

        def __post_init__(self) -> None:
            if not isinstance(self.x, float):
                raise TypeError("x must be a float")

    parts = bp.split_var(bp.const_var(Positive(2.0)))
    assert type(parts) is Positive and isinstance(parts.x, BVar) and parts.x.value == 2.0


def test_pullbacks_over_containers_are_reusable_and_linear() -> None:
    rng = np.random.default_rng(5)
    x = Pair(rng.normal(size=3), [1.0, 2.0])

    def f(v: BVar[Pair]) -> BVar[Pair]:
        b = bp.split_var(bp.view_var(bp.attr("b"), v))
        return bp.join_var(
            Pair(bp.view_var(bp.attr("a"), v) * b[0], bp.join_var([b[1] * b[1], b[0]]))
        )

    _, pullback = bp.backprop_with(f, x)
    y = bp.eval_bp(f, x)
    c1, c2 = random_like(rng, y), random_like(rng, y)
    g1, g2 = pullback(c1), pullback(c2)
    assert_tree_close(
        pullback(unflatten(y, flatten(c1) + flatten(c2))), unflatten(x, flatten(g1) + flatten(g2))
    )
    assert_tree_close(pullback(c1), g1)  # a second call gives the same answer


def test_whole_and_partial_gradients_of_one_record_add() -> None:
    """A record used whole (by an op) and by field reads: the two kinds of gradient meet."""
    rng = np.random.default_rng(6)
    norm2 = bp.op1(
        lambda p: (p.a**2 + float(np.sum(p.b**2)), lambda g: Pair(2 * g * p.a, 2 * g * p.b))
    )

    def f(v: BVar[Pair]) -> BVar[float]:
        return norm2(v) * bp.view_var(bp.attr("a"), v) + scalar(bp.view_var(bp.attr("b"), v))

    check_grad(f, Pair(float(rng.normal()), rng.normal(size=2)), rng=rng)


# ---- 5. isomorphisms ----------------------------------------------------------------------------


def test_iso_vars() -> None:
    rng = np.random.default_rng(7)

    def f1(v: BVar[float]) -> BVar[float]:
        def to(x: float) -> tuple[float, float]:
            return x, 2 * x

        t = bp.iso_var(to, lambda g: g[0] + 2 * g[1], v)
        return bp.view_var(bp.item(0), t) * bp.view_var(bp.item(1), t)

    def f2(a: BVar[float], b: BVar[Any]) -> BVar[Any]:
        p = bp.iso_var2(Pair, lambda g: (g.a, g.b), a, b)
        return bp.view_var(bp.attr("b"), p) * bp.sin(bp.view_var(bp.attr("a"), p))

    def f3(a: BVar[float], b: BVar[float], c: BVar[float]) -> BVar[float]:
        t = bp.iso_var3(lambda *xs: list(xs), tuple, a, b, c)
        return t[0] * t[1] * t[2]

    def fn(*vs: BVar[float]) -> BVar[Any]:
        p = bp.iso_var_n(lambda *xs: Point(xs[0], list(xs[1:])), lambda g: (g.x, *g.y), *vs)
        return bp.join_var(
            [bp.view_var(bp.attr("x"), p) * q for q in bp.to_list_of_var(bp.attr("y") @ bp.each, p)]
        )

    check_grad(f1, 0.7, rng=rng)
    check_grad(f2, 0.3, rng.normal(size=2), rng=rng)
    check_grad(f3, 0.3, -1.2, 2.0, rng=rng)
    check_grad(fn, 0.3, -1.2, 2.0, 0.5, rng=rng)


# ---- 6. optics on plain values and composition -------------------------------------------------


NESTED = {
    "xs": [Pair(1.0, (2.0, 3.0)), Pair(4.0, (5.0, 6.0))],
    "m": np.arange(6.0).reshape(3, 2),
    "p": Point(7.0, 8.0),
}
LENSES = [
    bp.key("xs") @ bp.item(1) @ bp.attr("b") @ bp.item(-1),
    bp.key("m") @ bp.item(2) @ bp.item(0),
    bp.key("m") @ bp.item(-3),
    bp.key("p") @ bp.attr("y"),
    bp.key("p") @ bp.item(0),
    bp.compose(bp.key("xs"), bp.item(0)),
    bp.key("xs")
    @ bp.lens(lambda xs: xs[0].a, lambda xs, a: [dataclasses.replace(xs[0], a=a), *xs[1:]]),
]


@pytest.mark.parametrize("lens", LENSES, ids=repr)
def test_lens_laws_on_plain_values(lens: bp.Lens[Any, Any]) -> None:
    rng = np.random.default_rng(8)
    s = copy.deepcopy(NESTED)
    a = random_like(rng, lens.get(s))
    b = random_like(rng, a)
    assert_tree_close(lens.get(lens.set(s, a)), a)  # you get what you set
    assert_tree_close(lens.set(s, lens.get(s)), s)  # setting what is there changes nothing
    assert_tree_close(lens.set(lens.set(s, a), b), lens.set(s, b))  # the last set wins
    assert_tree_close(s, NESTED)  # set copies, never mutates
    assert_tree_close(lens.to_list(s), [lens.get(s)])


def test_traversals_on_plain_values() -> None:
    t = bp.key("xs") @ bp.each @ bp.attr("b") @ bp.each
    assert t.to_list(NESTED) == [2.0, 3.0, 5.0, 6.0]
    out = t.rebuild(NESTED, [-1.0, -2.0, -3.0, -4.0])
    assert (
        out["xs"] == [Pair(1.0, (-1.0, -2.0)), Pair(4.0, (-3.0, -4.0))]
        and type(out["xs"][0].b) is tuple
    )
    assert_tree_close(t.rebuild(NESTED, t.to_list(NESTED)), NESTED)
    rows = (bp.key("m") @ bp.each).to_list(NESTED)
    assert [r.tolist() for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    np.testing.assert_array_equal(
        bp.each.rebuild(np.zeros((2, 2)), [np.ones(2), np.full(2, 2.0)]), [[1, 1], [2, 2]]
    )
    evens = bp.traversal(
        lambda s: s[::2], lambda s, xs: [xs[i // 2] if i % 2 == 0 else x for i, x in enumerate(s)]
    )
    assert (bp.item(0) @ evens).rebuild(([1, 2, 3], 9), [7, 8]) == ([7, 2, 8], 9)
    assert bp.each.to_list([]) == [] and bp.each.rebuild((), []) == ()
    for wrong in ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0]):
        with pytest.raises(ValueError, match="replacements than targets"):
            t.rebuild(NESTED, wrong)


def test_composition_types_do_not_depend_on_spelling() -> None:
    lenses = [bp.item(0), bp.key("k"), bp.attr("a"), bp.lens(lambda s: s, lambda s, a: a)]
    travs = [bp.each, bp.traversal(list, lambda s, xs: xs)]
    for a in lenses:
        for b in lenses:
            assert isinstance(a @ b, bp.Lens) and isinstance(bp.compose(a, b), bp.Lens)
        for t in travs:
            for c in (a @ t, t @ a, bp.compose(a, t), bp.compose(t, a), t @ t):
                assert type(c) is bp.Traversal and not isinstance(c, bp.Lens)
    assert isinstance(bp.item(0), bp.Traversal)  # every lens is a traversal
    # associativity: grouping does not change behaviour
    l1 = (bp.key("xs") @ bp.item(1)) @ bp.attr("a")
    l2 = bp.key("xs") @ (bp.item(1) @ bp.attr("a"))
    assert l1.get(NESTED) == l2.get(NESTED) == 4.0 and repr(l1) == repr(l2)


# ---- 7. probes of the runners on containers (seeding, overwritten fields, empty lists) ----------


def test_probe_tuple_fields() -> None:
    g = bp.grad_bp(lambda t: t[0] * t[1] + bp.view_var(bp.item(0), t), (2.0, 3.0))
    assert type(g) is tuple and g == (4.0, 2.0)


def test_probe_an_overwritten_field_gets_zero() -> None:
    # the old value of item(0) is replaced: it cannot influence the output
    g = bp.grad_bp(
        lambda t: bp.view_var(bp.item(0), bp.set_var(bp.item(0), t[1] * 5.0, t)), (2.0, 3.0)
    )
    assert g == (0.0, 5.0)
    g2 = bp.grad_bp(
        lambda p: (
            bp.view_var(bp.attr("a"), bp.set_var(bp.attr("a"), 1.0, p))
            + bp.view_var(bp.attr("b"), p)
        ),
        Pair(2.0, 3.0),
    )
    assert g2 == Pair(0.0, 1.0)


def test_probe_head_of_sequence_var() -> None:
    assert bp.grad_bp(lambda v: bp.sequence_var(v)[0], [2.0, 3.0, 4.0]) == [1.0, 0.0, 0.0]
    assert bp.grad_bp(lambda v: bp.sequence_var(v)[0], (2.0, 3.0)) == (1.0, 0.0)


def test_probe_a_list_output_is_seeded_with_ones() -> None:
    y, g = bp.backprop(lambda v: bp.collect_var([v[0], v[1] * 2.0, v[0] * v[1]]), (2.0, 3.0))
    assert y == [2.0, 6.0, 6.0] and g == (1.0 + 3.0, 2.0 + 2.0)


def test_probe_preview_var_of_an_empty_list_is_none() -> None:
    seen: list[Any] = []

    def f(v: BVar[list[float]]) -> BVar[float]:
        seen.append(bp.preview_var(bp.each, v))
        return bp.const_var(0.0)

    empty: list[float] = []
    assert bp.grad_bp(f, empty) == [] and seen == [None]


# ---- 8. the cost model, counted ------------------------------------------------------------------


class Counted:
    """A scalar gradient type whose Backprop instance counts its calls (in `COUNTS`)."""

    def __init__(self, x: float) -> None:
        self.x = x


COUNTS: collections.Counter[str] = collections.Counter()


def _counting(what: str, f: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        COUNTS[what] += 1
        return f(*args)

    return wrapped


bp.register_backprop(
    Counted,
    zero=_counting("field zero", lambda c: Counted(0.0)),
    add=_counting("field add", lambda a, b: Counted(a.x + b.x)),
    one=_counting("field one", lambda c: Counted(1.0)),
)
to_float = bp.op1(lambda c: (c.x, lambda g: Counted(g)))


def wide_record(n: int) -> Any:
    """An n-field dataclass of `Counted` whose own Backprop instance counts its calls."""
    cls = dataclasses.make_dataclass(f"Wide{n}", [f"f{i}" for i in range(n)])
    bp.register_backprop(
        cls,
        zero=_counting("record zero", lambda r: cls(*(Counted(0.0) for _ in range(n)))),
        add=_counting(
            "record add",
            lambda r, s: cls(*(Counted(a.x + b.x) for a, b in zip(_parts(r)[0], _parts(s)[0]))),
        ),  # type: ignore[index]
        one=_counting("record one", lambda r: cls(*(Counted(1.0) for _ in range(n)))),
    )
    return cls(*(Counted(float(i)) for i in range(n)))


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """`COUNTS`, emptied, also counting whole-container builds from component gradients."""
    embed = _containers.Container.embed

    def counting_embed(self: Any, x: Any, slots: Any) -> Any:
        COUNTS[f"embed {type(x).__name__}"] += 1
        return embed(self, x, slots)

    monkeypatch.setattr(_containers.Container, "embed", counting_embed)
    COUNTS.clear()
    return COUNTS


@pytest.mark.parametrize(("n", "k"), [(1, 1), (3, 4), (50, 3), (200, 5)])
def test_field_reads_never_add_whole_records(
    counts: collections.Counter[str], n: int, k: int
) -> None:
    """Reading each of n fields k times: n(k-1) field adds, no record add, no record zero,
    exactly one record built from its field gradients (Haskell: n·k record adds)."""
    rec = wide_record(n)
    names = [f"f{i}" for i in range(n)]
    lenses = [bp.attr(m) for m in names]

    def f(v: BVar[Any]) -> BVar[float]:
        total = bp.const_var(0.0)
        for r in range(k):
            for i, l in enumerate(lenses):
                total = total + to_float(bp.view_var(l, v)) * float(r + i)
        return total

    g = bp.grad_bp(f, rec)
    assert [getattr(g, m).x for m in names] == [
        float(sum(r + i for r in range(k))) for i in range(n)
    ]
    assert counts == collections.Counter({"field add": n * (k - 1), f"embed Wide{n}": 1})


@pytest.mark.parametrize(("n", "k"), [(3, 4), (100, 3)])
def test_split_var_never_adds_whole_records(
    counts: collections.Counter[str], n: int, k: int
) -> None:
    rec = wide_record(n)

    def f(v: BVar[Any]) -> BVar[float]:
        fields = _parts(bp.split_var(v))[0]  # type: ignore[index]
        return sum((to_float(x) for x in fields for _ in range(k)), bp.const_var(0.0))

    g = bp.grad_bp(f, rec)
    assert all(getattr(g, f"f{i}").x == k for i in range(n))
    assert counts == collections.Counter({"field add": n * (k - 1), f"embed Wide{n}": 1})


def test_a_joined_record_read_field_by_field_is_never_rebuilt(
    counts: collections.Counter[str],
) -> None:
    """join then view: the join's pullback takes the field gradients slot by slot."""
    n = 20
    cls = type(wide_record(n))

    def f(*xs: BVar[Any]) -> BVar[float]:
        r = bp.join_var(cls(*xs))
        return sum(
            (to_float(bp.view_var(bp.attr(f"f{i}"), r)) for i in range(n)), bp.const_var(0.0)
        )

    grads = bp.grad_bp_n(f, *(Counted(float(i)) for i in range(n)))
    assert [c.x for c in grads] == [1.0] * n
    assert counts == collections.Counter()


def test_an_opaque_lens_costs_a_record_add_per_read(counts: collections.Counter[str]) -> None:
    """The counters can see the Haskell cost: `lens(get, set)` embeds every read in a whole
    record, so n fields read once cost n record zeros and n-1 record adds."""
    n = 10
    rec = wide_record(n)

    def field_lens(m: str) -> bp.Lens[Any, Any]:
        return bp.lens(lambda r: getattr(r, m), lambda r, a: dataclasses.replace(r, **{m: a}))

    lenses = [field_lens(f"f{i}") for i in range(n)]
    g = bp.grad_bp(
        lambda v: sum((to_float(bp.view_var(l, v)) for l in lenses), bp.const_var(0.0)), rec
    )
    assert all(getattr(g, f"f{i}").x == 1.0 for i in range(n))
    assert counts["record zero"] == n and counts["record add"] == n - 1


def test_sequence_and_collect_of_100000_scalars() -> None:
    """One node per element and slot-by-slot gradients: a 100 000-element round trip is
    linear (run, not timed: a quadratic implementation would not finish)."""
    n = 100_000
    rng = np.random.default_rng(9)
    x = [float(t) for t in rng.normal(size=n)]
    coef = rng.normal(size=n)
    y, pullback = bp.backprop_with(
        lambda v: bp.collect_var([a * c for a, c in zip(bp.sequence_var(v), coef)]), x
    )
    cot = rng.normal(size=n)
    g = pullback(list(cot))
    assert type(g) is list and len(g) == n
    np.testing.assert_allclose(g, coef * cot, rtol=1e-15)
    np.testing.assert_allclose(y, np.array(x) * coef, rtol=1e-15)
    d = {i: float(i) for i in range(n)}
    gd = bp.grad_bp(
        lambda v: sum((c * 2.0 for c in bp.split_var(v).values()), bp.const_var(0.0)), d
    )
    assert list(gd) == list(d) and set(gd.values()) == {2.0}


# ---- 9. nested containers -----------------------------------------------------------------------


@dataclass
class Unit:
    w: np.ndarray[Any, Any]
    b: float


@pytest.mark.parametrize("seed", SEEDS)
def test_dict_of_lists_of_dataclasses_of_arrays(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 4))
    params = {
        "enc": [
            Unit(rng.normal(size=(d, d)), float(rng.normal()))
            for _ in range(int(rng.integers(1, 3)))
        ],
        "dec": [Unit(rng.normal(size=(2, d)), float(rng.normal()))],
        "unused": [Unit(rng.normal(size=(1, 1)), 0.0)],
    }
    x0 = rng.normal(size=d)

    def by_optics(p: BVar[Any]) -> BVar[Any]:
        h: BVar[Any] = bp.const_var(x0)
        for u in bp.to_list_of_var(bp.key("enc") @ bp.each, p):
            h = bp.tanh(bp.view_var(bp.attr("w"), u) @ h + bp.view_var(bp.attr("b"), u))
        b_sum = sum(bp.to_list_of_var(bp.key("dec") @ bp.each @ bp.attr("b"), p), bp.const_var(0.0))
        return bp.view_var(bp.key("dec") @ bp.item(0) @ bp.attr("w"), p) @ h + b_sum

    def by_splitting(p: BVar[Any]) -> BVar[Any]:
        parts = bp.split_var(p)
        h: BVar[Any] = bp.const_var(x0)
        for u in bp.sequence_var(parts["enc"]):
            unit = bp.split_var(u)
            h = bp.tanh(unit.w @ h + unit.b)
        dec = bp.split_var(bp.sequence_var(parts["dec"])[0])
        out: BVar[Any] = dec.w @ h + dec.b
        return out

    (g,) = check_grad(by_optics, params, rng=rng)
    assert type(g["enc"][0]) is Unit and not flatten(g["unused"]).any()
    cot = rng.normal(size=2)
    assert_tree_close(
        bp.backprop_with(by_splitting, params)[1](cot), bp.backprop_with(by_optics, params)[1](cot)
    )


# ---- 10. a neural network's parameters as a dataclass -------------------------------------------


@dataclass
class MLP:
    w1: np.ndarray[Any, Any]
    b1: np.ndarray[Any, Any]
    w2: np.ndarray[Any, Any]
    b2: np.ndarray[Any, Any]


def mlp_loss(p: BVar[MLP], x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> BVar[float]:
    """Mean squared error of a one-hidden-layer tanh network."""
    h = bp.tanh(x @ bp.view_var(bp.attr("w1"), p).T + bp.view_var(bp.attr("b1"), p))
    r = h @ bp.view_var(bp.attr("w2"), p).T + bp.view_var(bp.attr("b2"), p) - y
    return bp.linalg.mean(r * r)


def mlp_grad_by_hand(p: MLP, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> tuple[float, MLP]:
    h = np.tanh(x @ p.w1.T + p.b1)
    r = h @ p.w2.T + p.b2 - y
    dr = 2 * r / r.size
    dz = (dr @ p.w2) * (1 - h * h)
    return float(np.mean(r * r)), MLP(dz.T @ x, dz.sum(0), dr.T @ h, dr.sum(0))


@pytest.mark.parametrize("seed", range(3))
def test_training_a_network_by_its_parameter_dataclass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d, hidden, out = 32, 3, 8, 2
    x = rng.normal(size=(n, d))
    y = np.tanh(x @ rng.normal(size=(d, out))) + 0.05 * rng.normal(size=(n, out))
    p = MLP(
        0.5 * rng.normal(size=(hidden, d)),
        np.zeros(hidden),
        0.5 * rng.normal(size=(out, hidden)),
        np.zeros(out),
    )
    losses = []
    for _ in range(25):
        loss, g = bp.backprop(lambda v: mlp_loss(v, x, y), p)
        want_loss, want = mlp_grad_by_hand(p, x, y)
        assert loss == pytest.approx(want_loss, rel=1e-12)
        assert type(g) is MLP
        assert_tree_close(g, want, rtol=1e-10, atol=1e-12)
        losses.append(loss)
        p = unflatten(p, flatten(p) - 0.2 * flatten(g))
    assert losses[-1] < 0.7 * losses[0]
    assert all(b <= a for a, b in itertools.pairwise(losses))


def test_network_gradient_by_split_var_matches_view_var() -> None:
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    p = MLP(
        rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(1, 3)), rng.normal(size=1)
    )

    def split_loss(v: BVar[MLP]) -> BVar[float]:
        q = bp.split_var(v)
        r = bp.tanh(x @ q.w1.T + q.b1) @ q.w2.T + q.b2 - y
        return bp.linalg.mean(r * r)

    assert_tree_close(
        bp.grad_bp(split_loss, p), mlp_grad_by_hand(p, x, y)[1], rtol=1e-10, atol=1e-12
    )


# ---- 11. errors -------------------------------------------------------------------------------------


ERRORS: list[tuple[str, Any, Callable[[BVar[Any]], Any], type[BaseException], str]] = [
    (
        "traversal in view_var",
        [1.0],
        lambda v: bp.view_var(bp.each, v),
        TypeError,
        "traversal, not a lens",
    ),  # type: ignore[arg-type]
    (
        "traversal in set_var",
        [1.0],
        lambda v: bp.set_var(bp.each @ bp.item(0), 1.0, v),
        TypeError,
        "not a lens",
    ),  # type: ignore[arg-type]
    ("not an optic", [1.0], lambda v: bp.view_var(0, v), TypeError, "expected a Lens, got int"),  # type: ignore[arg-type]
    (
        "not an optic (preview)",
        [1.0],
        lambda v: bp.preview_var("each", v),
        TypeError,
        "expected a Traversal",
    ),  # type: ignore[arg-type]
    (
        "attr on a dict",
        {"a": 1.0},
        lambda v: bp.view_var(bp.attr("a"), v),
        TypeError,
        "dict has no components by field name",
    ),
    (
        "missing field",
        Pair(1.0, 2.0),
        lambda v: bp.view_var(bp.attr("c"), v),
        AttributeError,
        r"Pair has no field 'c' \(fields: a, b\)",
    ),
    (
        "missing NamedTuple field",
        Point(1.0, 2.0),
        lambda v: bp.view_var(bp.attr("z"), v),
        AttributeError,
        r"fields: x, y",
    ),
    ("missing key", {"a": 1.0}, lambda v: v["b"], KeyError, "'b'"),
    ("item out of range", [1.0, 2.0], lambda v: v[2], IndexError, "length 2"),
    (
        "negative item out of range",
        (1.0, 2.0),
        lambda v: bp.view_var(bp.item(-3), v),
        IndexError,
        "item.-3.",
    ),
    ("row out of range", np.ones((2, 2)), lambda v: v[5], IndexError, "length 2"),
    (
        "item of a float",
        1.0,
        lambda v: bp.view_var(bp.item(0), v),
        TypeError,
        "a float value is not a container",
    ),
    ("index a float", 1.0, lambda v: v[0], TypeError, "a float value has no items"),
    (
        "non-container",
        1 + 2j,
        lambda v: bp.split_var(v),
        TypeError,
        "complex value is not a container",
    ),
    (
        "item with a string",
        [1.0],
        lambda v: bp.view_var(bp.item("a"), v),
        TypeError,
        "indexed by an int",
    ),  # type: ignore[arg-type]
    ("item with a bool", [1.0], lambda v: bp.view_var(bp.item(True), v), TypeError, "not a bool"),
    (
        "key on a list",
        [1.0],
        lambda v: bp.view_var(bp.key(0), v),
        TypeError,
        "list has no components by key",
    ),
    (
        "row of a 0-d array",
        np.array(1.0),
        lambda v: bp.view_var(bp.item(0), v),
        TypeError,
        "0-d array",
    ),
    ("slice of a list", [1.0, 2.0], lambda v: v[:1], TypeError, "only single integer indices"),
    (
        "index tuple of a list",
        [1.0, 2.0],
        lambda v: v[0, 1],
        TypeError,
        "only single integer indices",
    ),
    (
        "sequence_var of a dict",
        {"a": 1.0},
        lambda v: bp.sequence_var(v),
        TypeError,
        "not a sequence",
    ),
    (
        "collect_var of a BVar",
        [1.0],
        lambda v: bp.collect_var(v),
        TypeError,
        "expected a list or tuple",
    ),  # type: ignore[call-overload]
    (
        "view_var of a plain value",
        [1.0],
        lambda v: bp.view_var(bp.item(0), v.value),
        TypeError,
        "expected a BVar",
    ),
]


@pytest.mark.parametrize(
    ("x", "f", "error", "match"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_then_the_next_call_works(
    x: Any, f: Callable[[BVar[Any]], Any], error: type[BaseException], match: str
) -> None:
    with pytest.raises(error, match=match):
        bp.grad_bp(f, x)
    assert bp.grad_bp(lambda v: v * 2.0, 1.5) == 2.0
    assert bp.grad_bp(lambda v: v[0] * 2.0, [1.5]) == [2.0]


def test_error_messages_name_the_user_type() -> None:
    with pytest.raises(AttributeError, match=r"test_optics\.Pair has no field 'zz'"):
        bp.attr("zz").get(Pair(1.0, 2.0))
    with pytest.raises(TypeError, match=r"compose: expected two optics, got \w*Lens and int"):
        bp.item(0) @ 3  # type: ignore[operator]


def test_bvars_outlive_their_run_only_as_errors() -> None:
    kept: list[BVar[Any]] = []
    bp.grad_bp(lambda v: kept.append(v) or v[0], [1.0, 2.0])  # type: ignore[func-returns-value]
    (old,) = kept
    for use in (
        lambda: old[0],
        lambda: bp.view_var(bp.item(1), old),
        lambda: bp.split_var(old),
        lambda: bp.sequence_var(old),
    ):
        with pytest.raises(bp.TapeScopeError, match="after its backprop run finished"):
            use()
    for mix in (
        lambda v: bp.join_var([v, old]),
        lambda v: bp.collect_var((old, v)),
        lambda v: bp.join_var(Pair(v, old)),
    ):
        with pytest.raises(bp.TapeScopeError, match="two different backprop runs"):
            bp.grad_bp(mix, 1.0)
    assert bp.grad_bp(lambda v: bp.view_var(bp.item(1), v) * 3.0, [1.0, 2.0]) == [0.0, 3.0]


# ---- 12. regressions: bugs found while writing these tests -----------------------------------


def test_dict_key_positions_follow_mutation_of_equal_length() -> None:
    d = {"a": 1.0, "b": 2.0}
    assert bp.key("a").get(d) == 1.0
    del d["a"]
    d["c"] = 3.0
    assert bp.key("c").get(d) == 3.0


def test_dict_gradient_after_reordering_keys() -> None:
    d = {"a": 1.0, "b": 2.0}
    assert bp.grad_bp(lambda v: v["a"] * 10.0, d) == {"a": 10.0, "b": 0.0}
    d["a"] = d.pop("a")  # same dict, same length, keys now ordered b, a
    assert bp.grad_bp(lambda v: v["a"] * 10.0, d) == {"b": 0.0, "a": 10.0}


class Tup(tuple):  # type: ignore[type-arg]
    pass


class Lst(list):  # type: ignore[type-arg]
    pass


@pytest.mark.parametrize(
    "x",
    [collections.OrderedDict(a=1.0, b=2.0), Tup((1.0, 2.0)), Lst([1.0, 2.0])],
    ids=lambda x: type(x).__name__,
)
def test_gradients_of_container_subclasses_keep_their_type(x: Any) -> None:
    first = bp.key("a") if isinstance(x, dict) else bp.item(0)
    g = bp.grad_bp(lambda v: bp.view_var(first, v) * 2.0, x)
    assert type(g) is type(x) and type(bp.zero(x)) is type(x)


def test_join_var_rejects_bvars_nested_inside_a_component() -> None:
    """join_var joins one level; BVars deeper inside are a mistake (their gradient would be
    lost, and the result's value holds BVars): it should say so at once."""
    try:
        bp.eval_bp(lambda v: bp.join_var({"a": [v * 2.0, v]}), 3.0)
    except TypeError as e:
        assert "BVar" in str(e)
    else:
        raise AssertionError("join_var accepted BVars nested inside a component")
