"""mypy-only checks for optics (SPEC §5): lenses and traversals, their composition, the BVar
operations on them (view/set/over/preview/to_list_of), whole containers (sequence/collect,
split/join) and isomorphisms.

Never imported or run: tests/test_typing.py runs `mypy --strict` on this file (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, assert_type

import bprop as bp
import numpy as np
import numpy.typing as npt
from bprop import BVar, Lens, Traversal

Vec = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Segment:
    start: Point
    end: Point


def get_x(p: Point) -> float:
    return p.x


def set_x(p: Point, x: float) -> Point:
    return replace(p, x=x)


def get_start(s: Segment) -> Point:
    return s.start


def set_start(s: Segment, p: Point) -> Segment:
    return replace(s, start=p)


def set_x_str(p: Point, x: str) -> Point:
    """A setter whose target type disagrees with `get_x`."""
    return replace(p, x=float(x))


def coords(p: Point) -> list[float]:
    return [p.x, p.y]


def from_coords(p: Point, xs: list[float]) -> Point:
    return Point(xs[0], xs[1])


def double(v: BVar[float]) -> BVar[float]:
    return v * 2.0


def shout(v: BVar[str]) -> BVar[str]:
    return v


def point_of(t: tuple[float, float]) -> Point:
    return Point(*t)


def half(d: float) -> float:
    return d / 2.0


def to_pair(x: float, y: float) -> Point:
    return Point(x, y)


def from_pair(p: Point) -> tuple[float, float]:
    return p.x, p.y


def to_triple(x: float, y: float, n: int) -> float:
    return x + y + n


def from_triple(d: float) -> tuple[float, float, int]:
    return d, d, 0


# ---- accepted: building and composing optics ---------------------------------------------------


def building() -> None:
    # lens(get, set) infers Lens[S, A] from typed callables.
    lx = bp.lens(get_x, set_x)
    assert_type(lx, Lens[Point, float])
    assert_type(bp.lens(get_start, set_start), Lens[Segment, Point])
    # Lambdas are typed by the annotation of the target.
    ly: Lens[Point, float] = bp.lens(lambda p: p.y, lambda p, y: replace(p, y=y))
    assert_type(ly, Lens[Point, float])
    assert_type(bp.traversal(coords, from_coords), Traversal[Point, float])
    # Structural steps work on many container types, so they are Any-typed.
    assert_type(bp.item(0), bp.ComponentLens)
    assert_type(bp.key("a"), bp.ComponentLens)
    assert_type(bp.attr("x"), bp.ComponentLens)
    _any_lens: Lens[Any, Any] = bp.attr("x")
    _typed: Lens[Point, float] = bp.attr("x")
    assert_type(bp.each, Traversal[Any, Any])
    # A lens is a traversal.
    t: Traversal[Point, float] = lx
    # Plain get/set/to_list/rebuild.
    p = Point(1.0, 2.0)
    assert_type(lx.get(p), float)
    assert_type(lx.set(p, 3.0), Point)
    assert_type(t.to_list(p), list[float])
    assert_type(t.rebuild(p, [1.0, 2.0]), Point)


def composing() -> None:
    start = bp.lens(get_start, set_start)
    lx = bp.lens(get_x, set_x)
    # Lens[S, A] @ Lens[A, B] is Lens[S, B]; with a traversal on either side, a Traversal.
    assert_type(start @ lx, Lens[Segment, float])
    assert_type(bp.compose(start, lx), Lens[Segment, float])
    assert_type(start @ bp.traversal(coords, from_coords), Traversal[Segment, float])
    assert_type(bp.compose(start, bp.traversal(coords, from_coords)), Traversal[Segment, float])
    assert_type(start @ bp.each, Traversal[Segment, Any])
    assert_type(bp.each @ lx, Traversal[Any, float])
    assert_type(bp.each @ bp.each, Traversal[Any, Any])
    # Structural steps compose with typed lenses (Any fits any type).
    assert_type(bp.attr("start") @ lx, Lens[Any, float])
    # Two structural lenses compose to a Lens (ComponentLens keeps this from being Any).
    assert_type(bp.attr("start") @ bp.item(0), Lens[Any, Any])
    assert_type(bp.attr("start") @ bp.item(0) @ bp.each, Traversal[Any, Any])


# ---- accepted: on BVars ------------------------------------------------------------------------


def on_bvars(pv: BVar[Point], sv: BVar[Segment], x: BVar[float]) -> None:
    lx = bp.lens(get_x, set_x)
    start = bp.lens(get_start, set_start)
    assert_type(bp.view_var(lx, pv), BVar[float])
    assert_type(bp.view_var(start @ lx, sv), BVar[float])
    assert_type(bp.view_var(bp.attr("x"), pv), BVar[Any])
    # set_var takes the new target as a BVar or a plain value (a constant).
    assert_type(bp.set_var(lx, x, pv), BVar[Point])
    assert_type(bp.set_var(lx, 2.0, pv), BVar[Point])
    assert_type(bp.set_var(start, pv, sv), BVar[Segment])
    assert_type(bp.over_var(lx, double, pv), BVar[Point])
    assert_type(bp.over_var(lx, lambda v: v + 1.0, pv), BVar[Point])
    # Traversals (and lenses) may have no target: preview_var can give None.
    coords_t = bp.traversal(coords, from_coords)
    assert_type(bp.preview_var(coords_t, pv), BVar[float] | None)
    assert_type(bp.preview_var(lx, pv), BVar[float] | None)
    first = bp.preview_var(start @ coords_t, sv)
    if first is not None:
        assert_type(first.value, float)
    assert_type(bp.to_list_of_var(coords_t, pv), list[BVar[float]])
    assert_type(bp.to_list_of_var(lx, pv), list[BVar[float]])
    assert_type(bp.to_list_of_var(bp.each, pv), list[BVar[Any]])


def indexing(tv: BVar[tuple[float, str]], dv: BVar[dict[str, float]], av: BVar[Vec]) -> None:
    # v[i] cannot see a tuple item's type; a dict's (and a list's) items have one type.
    assert_type(tv[0], BVar[Any])
    assert_type(dv["a"], BVar[float])
    assert_type(av[0], BVar[Any])


# ---- accepted: whole containers ----------------------------------------------------------------


def takes_items(items: tuple[BVar[Any], ...]) -> None:
    pass


def sequences(lv: BVar[list[float]], tv: BVar[tuple[float, ...]], av: BVar[Vec]) -> None:
    assert_type(bp.sequence_var(lv), list[BVar[float]])
    assert_type(bp.sequence_var(tv), tuple[BVar[float], ...])
    assert_type(bp.sequence_var(av), list[BVar[Any]])
    fixed: BVar[tuple[float, float]] = bp.const_var((1.0, 2.0))
    # (mypy: tuple[BVar[Any], ...]; pyright sees the item type: tuple[BVar[float], ...])
    takes_items(bp.sequence_var(fixed))
    xs = bp.sequence_var(lv)
    assert_type(bp.collect_var(xs), BVar[list[float]])
    assert_type(bp.collect_var(bp.sequence_var(tv)), BVar[tuple[float, ...]])
    assert_type(bp.collect_var((xs[0], xs[1])), BVar[tuple[float, ...]])


def splitting(
    t2: BVar[tuple[float, float]],
    t3: BVar[tuple[float, str, int]],
    dv: BVar[dict[str, float]],
    lv: BVar[list[float]],
    pv: BVar[Point],
) -> None:
    assert_type(bp.split_var(t2), tuple[BVar[float], BVar[float]])
    assert_type(bp.split_var(t3), tuple[BVar[float], BVar[str], BVar[int]])
    assert_type(bp.split_var(dv), dict[str, BVar[float]])
    assert_type(bp.split_var(lv), list[BVar[float]])
    # Records: Python's type system cannot map field types to BVars of them (documented).
    assert_type(bp.split_var(pv), Any)
    # join_var is the inverse.
    a, b = bp.split_var(t2)
    assert_type(bp.join_var((a, b)), BVar[tuple[float, float]])
    assert_type(bp.join_var(bp.split_var(t2)), BVar[tuple[float, float]])
    assert_type(bp.join_var(bp.split_var(t3)), BVar[tuple[float, str, int]])
    assert_type(bp.join_var(bp.split_var(dv)), BVar[dict[str, float]])
    assert_type(bp.join_var(bp.split_var(lv)), BVar[list[float]])
    assert_type(bp.join_var({"a": a, "b": b}), BVar[dict[str, float]])
    assert_type(bp.join_var([a, b]), BVar[list[float]])
    assert_type(bp.join_var(Point(1.0, 2.0)), BVar[Point])


# ---- accepted: isomorphisms --------------------------------------------------------------------


def isomorphisms(x: BVar[float], y: BVar[float], n: BVar[int], pv: BVar[Point]) -> None:
    assert_type(bp.iso_var(lambda v: v * 2.0, lambda d: d * 2.0, x), BVar[float])
    assert_type(bp.iso_var(from_pair, point_of, pv), BVar[tuple[float, float]])
    assert_type(bp.iso_var2(to_pair, from_pair, x, y), BVar[Point])
    assert_type(bp.iso_var3(to_triple, from_triple, x, y, n), BVar[float])
    assert_type(bp.iso_var_n(to_pair, from_pair, x, y), BVar[Point])


# ---- rejected ----------------------------------------------------------------------------------


def rejected_optics() -> None:
    lx = bp.lens(get_x, set_x)
    start = bp.lens(get_start, set_start)
    # Getter and setter must agree on the target type (mypy: no A fits both).
    bp.lens(get_x, set_x_str)  # type: ignore[misc]
    _n: Lens[Point, float] = bp.lens(get_x, set_x_str)  # type: ignore[arg-type]
    # Composition needs the outer target to be the inner source.
    lx @ start  # type: ignore[operator]
    bp.compose(lx, start)  # type: ignore[misc]
    bp.traversal(coords, from_coords) @ start  # type: ignore[operator]
    # Composing with a traversal gives a traversal, not a lens.
    _l: Lens[Segment, Any] = start @ bp.each  # type: ignore[assignment]
    _m: Lens[Point, float] = bp.traversal(coords, from_coords)  # type: ignore[assignment]
    # Lenses are invariant in both types.
    _o: Lens[Point, object] = lx  # type: ignore[assignment]


def rejected_on_bvars(pv: BVar[Point], sv: BVar[Segment], s: BVar[str], x: BVar[float]) -> None:
    lx = bp.lens(get_x, set_x)
    start = bp.lens(get_start, set_start)
    # The BVar must hold the lens's source type (Lens and BVar are invariant in it, so mypy finds
    # no S that fits both).
    bp.view_var(lx, s)  # type: ignore[misc]
    bp.view_var(lx, sv)  # type: ignore[misc]
    bp.view_var(start @ lx, pv)  # type: ignore[misc]
    # view_var needs exactly one target: a Lens, not a Traversal.
    bp.view_var(bp.each, pv)  # type: ignore[arg-type]
    bp.view_var(start @ bp.each, sv)  # type: ignore[arg-type]
    bp.view_var(bp.attr("start") @ bp.each, sv)  # type: ignore[arg-type]
    bp.view_var(bp.attr("start") @ bp.item(0) @ bp.each, sv)  # type: ignore[arg-type]
    bp.view_var(bp.traversal(coords, from_coords), pv)  # type: ignore[arg-type]
    bp.set_var(bp.each, x, pv)  # type: ignore[arg-type]
    bp.over_var(bp.each, double, pv)  # type: ignore[arg-type]
    # The result has the target's type.
    r = bp.view_var(lx, pv)
    _t: BVar[str] = r  # type: ignore[assignment]
    # The new target must have the target's type.
    bp.set_var(lx, "s", pv)  # type: ignore[misc]
    bp.set_var(lx, s, pv)  # type: ignore[arg-type]
    # over_var's function maps the target type to itself.
    bp.over_var(lx, shout, pv)  # type: ignore[arg-type]
    # preview_var may give None: use it only after a check (--strict).
    _value = bp.preview_var(lx, pv).value  # type: ignore[union-attr]
    _p: BVar[float] = bp.preview_var(lx, pv)  # type: ignore[assignment]
    ts = bp.to_list_of_var(lx, pv)
    _u: list[BVar[str]] = ts  # type: ignore[assignment]


def rejected_containers(
    t2: BVar[tuple[float, float]], lv: BVar[list[float]], x: BVar[float], s: BVar[str]
) -> None:
    # (Results are bound before the annotated assignment: with an expected type as context, mypy
    # would pass over the precise overloads to the `Any` fallback and accept.)
    a, b = bp.split_var(t2)
    _c: BVar[str] = a  # type: ignore[assignment]
    parts = bp.split_var(lv)
    _d: dict[str, BVar[float]] = parts  # type: ignore[assignment]
    joined = bp.join_var((a, b))
    _e: BVar[tuple[float, str]] = joined  # type: ignore[assignment]
    elems = bp.sequence_var(lv)
    _f: list[BVar[str]] = elems  # type: ignore[assignment]
    # collect_var takes a list or tuple of BVars of one type.
    bp.collect_var(x)  # type: ignore[call-overload]
    bp.collect_var((x, s))  # type: ignore[misc]
    collected = bp.collect_var([x, x])
    _g: BVar[list[str]] = collected  # type: ignore[assignment]


def rejected_isomorphisms(x: BVar[float], y: BVar[float], pv: BVar[Point]) -> None:
    # from_ must map `to`'s result type back to the source type (when from_'s argument type
    # disagrees with to's result, mypy also finds no type for that result: misc).
    bp.iso_var(get_x, half, pv)  # type: ignore[arg-type]
    bp.iso_var(from_pair, from_pair, pv)  # type: ignore[misc, arg-type]
    bp.iso_var2(to_pair, from_triple, x, y)  # type: ignore[misc, arg-type]
    bp.iso_var3(to_triple, from_pair, x, y, y)  # type: ignore[misc, arg-type]
    # The BVars must hold `to`'s argument types.
    bp.iso_var(from_pair, point_of, x)  # type: ignore[arg-type]
    bp.iso_var2(to_pair, from_pair, x, pv)  # type: ignore[arg-type]
