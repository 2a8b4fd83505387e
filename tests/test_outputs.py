"""Containers as results (issue 9 item 5): a function may return a tuple, list, dict, dataclass or
NamedTuple (nested) of BVars and plain constants; every runner joins it with `join_var`.

The pullback of a container result is the sum of the components' pullbacks, each with its own
component of the cotangent; that is checked against per-component `backprop_with` runs with random
cotangents.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import bprop as bp
import numpy as np
import pytest
from bprop import linalg as L


@dataclasses.dataclass
class Pair:
    a: Any
    b: Any


@dataclasses.dataclass(frozen=True)
class Frozen:
    loss: Any
    aux: Any


class NT(NamedTuple):
    u: Any
    v: Any


# The component functions of x (a float) and y (a 3-vector).
def c0(x: Any, y: Any) -> Any:
    return x * L.sum_elements(y * y)


def c1(x: Any, y: Any) -> Any:
    return np.sin(y) * x


def c2(x: Any, y: Any) -> Any:
    return x * x + 1.0


def c3(x: Any, y: Any) -> Any:
    return np.exp(y) - y * x


# Each case: the container-valued function and the list of (path, component function) for the
# BVar leaves, the path locating the leaf in the result.
CASES: dict[str, tuple[Any, list[tuple[tuple[Any, ...], Any]]]] = {
    "tuple": (lambda x, y: (c0(x, y), c1(x, y)), [((0,), c0), ((1,), c1)]),
    "list": (lambda x, y: [c0(x, y), c1(x, y), c2(x, y)], [((0,), c0), ((1,), c1), ((2,), c2)]),
    "dict": (lambda x, y: {"b": c1(x, y), "a": c0(x, y)}, [(("b",), c1), (("a",), c0)]),
    "dataclass": (lambda x, y: Pair(c0(x, y), c3(x, y)), [(("a",), c0), (("b",), c3)]),
    "frozen-dataclass": (
        lambda x, y: Frozen(c2(x, y), c1(x, y)),
        [(("loss",), c2), (("aux",), c1)],
    ),
    "namedtuple": (lambda x, y: NT(c1(x, y), c0(x, y)), [(("u",), c1), (("v",), c0)]),
    "nested": (
        lambda x, y: {
            "p": (c0(x, y), [c1(x, y), {"q": c2(x, y)}]),
            "r": Pair(c3(x, y), (c0(x, y),)),
        },
        [
            (("p", 0), c0),
            (("p", 1, 0), c1),
            (("p", 1, 1, "q"), c2),
            (("r", "a"), c3),
            (("r", "b", 0), c0),
        ],
    ),
    "mixed-constants": (
        lambda x, y: (c0(x, y), 7.0, {"k": np.ones(2), "v": c1(x, y)}, bp.const_var(2.5)),
        [((0,), c0), ((2, "v"), c1)],
    ),
}


def get(tree: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        tree = getattr(tree, k) if isinstance(k, str) and not isinstance(tree, dict) else tree[k]
    return tree


def with_leaves(tree: Any, leaves: dict[tuple[Any, ...], Any], path: tuple[Any, ...] = ()) -> Any:
    """`tree` with the leaves at `leaves`' paths replaced (the structure of a cotangent)."""
    if path in leaves:
        return leaves[path]
    if isinstance(tree, dict):
        return {k: with_leaves(v, leaves, path + (k,)) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(type(tree), "_fields"):
        return type(tree)(
            *(with_leaves(getattr(tree, f), leaves, path + (f,)) for f in tree._fields)
        )
    if isinstance(tree, (tuple, list)):
        return type(tree)(with_leaves(v, leaves, path + (i,)) for i, v in enumerate(tree))
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        fields = {
            f.name: with_leaves(getattr(tree, f.name), leaves, path + (f.name,))
            for f in dataclasses.fields(tree)
        }
        return type(tree)(**fields)
    return tree


def random_like(v: Any, rng: np.random.Generator) -> Any:
    return rng.normal() if isinstance(v, float) else rng.normal(size=np.shape(v))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_container_result_pullback_is_the_sum_of_its_components(case: str, seed: int) -> None:
    f, leaves = CASES[case]
    rng = np.random.default_rng(seed)
    x, y = float(rng.normal()), rng.normal(size=3)
    value, pull = bp.backprop_with2(f, x, y)
    plain = bp.eval_bp2(f, x, y)
    # the result is the container of plain values, with the structure f returned
    assert type(value) is type(plain)
    for path, comp in leaves:
        np.testing.assert_allclose(get(value, path), bp.eval_bp2(comp, x, y), rtol=1e-15)
    # random cotangent: the components' own pullbacks, summed
    cots = {path: random_like(get(value, path), rng) for path, _ in leaves}
    gx, gy = pull(with_leaves(value, cots))
    want_x, want_y = 0.0, np.zeros(3)
    for path, comp in leaves:
        _, pb_i = bp.backprop_with2(comp, x, y)
        dx, dy = pb_i(cots[path])
        want_x, want_y = want_x + dx, want_y + dy
    np.testing.assert_allclose(gx, want_x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gy, want_y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", list(CASES))
def test_backprop_seeds_with_the_container_of_ones(case: str) -> None:
    f, leaves = CASES[case]
    x, y = 0.7, np.array([0.1, -0.4, 2.0])
    _, (gx, gy) = bp.backprop2(f, x, y)
    want_x, want_y = 0.0, np.zeros(3)
    for path, comp in leaves:
        _, (dx, dy) = bp.backprop2(comp, x, y)
        want_x, want_y = want_x + dx, want_y + dy
    np.testing.assert_allclose(gx, want_x, rtol=1e-12)
    np.testing.assert_allclose(gy, want_y, rtol=1e-12)
    assert bp.grad_bp2(f, x, y)[0] == pytest.approx(want_x, rel=1e-12)
    gn = bp.grad_bp_n(f, x, y)
    np.testing.assert_allclose(gn[1], want_y, rtol=1e-12)


def test_eval_bp_returns_the_plain_container() -> None:
    r = bp.eval_bp(
        lambda x: {"a": (x, x * 2.0), "b": Pair(x + 1.0, [np.ones(2) * x]), "c": "label"}, 1.5
    )
    assert r["a"] == (1.5, 3.0) and r["c"] == "label"
    assert isinstance(r["b"], Pair) and r["b"].a == 2.5
    np.testing.assert_array_equal(r["b"].b[0], [1.5, 1.5])
    assert not any(isinstance(v, bp.BVar) for v in (r["a"][0], r["b"].a, r["b"].b[0]))
    n = bp.eval_bp_n(lambda a, b: NT(a * b, a - b), 2.0, 3.0)
    assert n == NT(6.0, -1.0) and type(n) is NT
    assert bp.eval_bp0(lambda: [bp.const_var(1.0), 2.0]) == [1.0, 2.0]


def test_dict_cotangent_is_matched_by_key_not_order() -> None:
    _, pull = bp.backprop_with(lambda x: {"s": x * x, "t": x * 3.0}, 2.0)
    assert pull({"t": 1.0, "s": 0.0}) == 3.0
    assert pull({"s": 1.0, "t": 0.0}) == 4.0
    assert pull({"s": 1.0, "t": 1.0}) == 7.0


def test_output_that_is_an_input_and_repeated_components() -> None:
    x = np.array([1.0, -2.0])
    _, pull = bp.backprop_with(lambda v: (v, v, v * 2.0), x)
    np.testing.assert_array_equal(pull((np.ones(2), np.full(2, 2.0), np.full(2, 0.5))), [4.0, 4.0])


def test_only_constant_bvars_give_zero_gradients() -> None:
    assert bp.grad_bp(lambda x: (bp.const_var(1.0), bp.const_var(np.ones(2))), 3.0) == 0.0
    g = bp.grad_bp(lambda x: {"a": bp.const_var(1.0), "b": 5.0}, np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_multi_input_runners_accept_containers() -> None:
    y, (ga, gb, gc) = bp.backprop_n(lambda a, b, c: [a * b, {"z": b * c}], 2.0, 3.0, 4.0)
    assert y == [6.0, {"z": 12.0}]
    assert (ga, gb, gc) == (3.0, 2.0 + 4.0, 3.0)
    _, pull = bp.backprop_with_n(lambda a, b: (a * b, a + b), 2.0, 5.0)
    assert pull((1.0, 10.0)) == (5.0 + 10.0, 2.0 + 10.0)


# ---- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        lambda x: (x.value, 1.0),  # a gradient dropped: no BVar left
        lambda x: [],
        lambda x: {"a": x.value},
        lambda x: Pair(1.0, (2.0, [3.0])),
        lambda x: {1, 2},  # not a container the runners join
    ],
    ids=["tuple-of-values", "empty-list", "dict-of-values", "dataclass-of-values", "set"],
)
def test_result_holding_no_bvar_is_a_type_error(f: Any) -> None:
    for run in (bp.grad_bp, bp.backprop_with, bp.eval_bp):
        with pytest.raises(TypeError, match="must return a BVar.*const_var"):
            run(f, 1.0)


def test_bvars_from_another_run_in_a_container() -> None:
    leaked: list[Any] = []
    bp.grad_bp(lambda x: (leaked.append(x), x)[1], 1.0)
    with pytest.raises(bp.TapeScopeError):
        bp.grad_bp(lambda x: (x, leaked[0]), 1.0)


@pytest.mark.parametrize(
    "dy, match",
    [
        ({"a": 1.0}, "keys"),
        ({"a": 1.0, "b": 1.0, "c": 1.0}, "keys"),
        ((1.0, 1.0), "dict"),
        ({"a": 1.0, "b": (1.0,)}, "length 2"),
        ({"a": 1.0, "b": 3.0}, "tuple or list"),
        ({"a": 1.0, "b": (1.0, Pair(1.0, 1.0))}, "Frozen"),
    ],
)
def test_cotangent_of_the_wrong_structure(dy: Any, match: str) -> None:
    _, pull = bp.backprop_with(lambda x: {"a": x, "b": (x * 2.0, Frozen(x, 1.0))}, 1.0)
    with pytest.raises(TypeError, match=match):
        pull(dy)


def test_cotangent_component_of_the_wrong_shape() -> None:
    _, pull = bp.backprop_with(lambda v: (v * 2.0, L.sum_elements(v)), np.ones(3))
    with pytest.raises(bp.ShapeError):
        pull((np.ones(2), 1.0))
