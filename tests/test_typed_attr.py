"""`attr(cls, get)`: the typed form of `attr(name)`, naming the field by reading it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import bprop as bp
import numpy as np
import pytest


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Net:
    start: Point
    layers: list[float]
    table: dict[str, float]
    w: np.ndarray


class Pair(NamedTuple):
    mu: float
    sigma: float


def make_net() -> Net:
    return Net(Point(2.0, 5.0), [1.0, 2.0, 3.0], {"a": 4.0}, np.array([1.0, 2.0]))


def test_same_optic_as_attr_by_name() -> None:
    assert repr(bp.attr(Point, lambda p: p.x)) == repr(bp.attr("x"))
    assert repr(bp.attr(Net, lambda n: n.start.y)) == repr(bp.attr("start") @ bp.attr("y"))
    assert repr(bp.attr(Net, lambda n: n.layers[-1])) == repr(bp.attr("layers") @ bp.item(-1))
    assert repr(bp.attr(Net, lambda n: n.table["a"])) == repr(bp.attr("table") @ bp.key("a"))


def test_get_and_set_on_plain_values() -> None:
    lens = bp.attr(Net, lambda n: n.start.x)
    net = make_net()
    assert lens.get(net) == 2.0
    moved = lens.set(net, 7.0)
    assert moved.start == Point(7.0, 5.0)
    assert net.start == Point(2.0, 5.0)  # unchanged


def test_gradients_reach_only_the_field() -> None:
    def f(n: bp.BVar[Net]) -> bp.BVar[float]:
        x = bp.view_var(bp.attr(Net, lambda m: m.start.x), n)
        item = bp.view_var(bp.attr(Net, lambda m: m.layers[1]), n)
        val = bp.view_var(bp.attr(Net, lambda m: m.table["a"]), n)
        return x * item + val * 3.0

    value, grad = bp.backprop(f, make_net())
    assert value == 2.0 * 2.0 + 4.0 * 3.0
    assert grad.start == Point(2.0, 0.0)
    assert grad.layers == [0.0, 2.0, 0.0]
    assert grad.table == {"a": 3.0}
    np.testing.assert_array_equal(grad.w, np.zeros(2))


def test_named_tuple_fields() -> None:
    grad = bp.grad_bp(lambda p: bp.view_var(bp.attr(Pair, lambda q: q.sigma), p) ** 2, Pair(1, 3))
    assert grad == Pair(0.0, 6.0)


def test_unknown_field_is_an_attribute_error_naming_the_fields() -> None:
    with pytest.raises(
        AttributeError, match=r"attr\(Point, get\): Point has no field 'z' \(fields: x, y\)"
    ):
        bp.attr(Point, lambda p: p.z)
    with pytest.raises(AttributeError, match=r"Pair has no field 'mean' \(fields: mu, sigma\)"):
        bp.attr(Pair, lambda p: p.mean)


def test_a_nested_unknown_field_fails_when_used() -> None:
    lens = bp.attr(Net, lambda n: n.start.z)
    with pytest.raises(AttributeError, match=r"attr\('z'\).*no field 'z'"):
        lens.get(make_net())


@pytest.mark.parametrize(
    "get",
    [lambda p: 1.0, lambda p: p, lambda p: p.x + 1.0, lambda p: p[0]],
    ids=["constant", "identity", "arithmetic", "index-first"],
)
def test_get_must_only_read_fields(get: object) -> None:
    with pytest.raises((TypeError, AttributeError), match=r"attr\(Point, get\)"):
        bp.attr(Point, get)


def test_class_must_be_a_record() -> None:
    with pytest.raises(TypeError, match=r"expected a dataclass or NamedTuple class"):
        bp.attr(dict, lambda d: d.x)
    with pytest.raises(TypeError, match=r"expected a dataclass or NamedTuple class"):
        bp.attr(tuple, lambda d: d.x)


def test_wrong_arity() -> None:
    with pytest.raises(TypeError, match=r"attr: expected attr\(name\) or attr\(cls, get\)"):
        bp.attr(Point)
    with pytest.raises(TypeError, match=r"attr: expected attr\(name\) or attr\(cls, get\)"):
        bp.attr("x", lambda p: p.x)
