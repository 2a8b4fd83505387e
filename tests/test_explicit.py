"""bprop.explicit and bprop.num (Haskell's Numeric.Backprop.Explicit and Numeric.Backprop.Num).

`Box` wraps a float and has no Backprop instance: only the explicit runners can differentiate it,
with the zero/add/one functions passed in. Gradients are checked against central finite
differences on random inputs, and the functions are counted: an input (or an op argument with
an explicit add) used k times gets k contributions, so its add runs exactly k - 1 times per sweep.
The num runners are compared with the regular runners, whose instances agree with 0, + and 1 on
floats and arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop import explicit, num, prelude
from fd import central_diff
from hypothesis import given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=25, deadline=None)
RTOL = 1e-6
ATOL = 1e-8


def floats(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


seeds = st.integers(min_value=0, max_value=2**32 - 1)


# ---- a type with no Backprop instance -----------------------------------------------------------


class Box:
    """A float in a box: arithmetic works, but bprop knows no zero/add/one for it."""

    __slots__ = ("v",)

    def __init__(self, v: float) -> None:
        self.v = v

    def __add__(self, other: Box) -> Box:
        return Box(self.v + other.v)

    def __mul__(self, other: Box) -> Box:
        return Box(self.v * other.v)

    def __repr__(self) -> str:
        return f"Box({self.v!r})"


class Counted:
    """An add function that counts its calls and checks its arguments' type."""

    def __init__(self, add: Callable[[Any, Any], Any], kind: type | None = None) -> None:
        self.add = add
        self.kind = kind
        self.calls = 0

    def __call__(self, a: Any, b: Any) -> Any:
        self.calls += 1
        if self.kind is not None:
            assert isinstance(a, self.kind) and isinstance(b, self.kind), (a, b)
        return self.add(a, b)


def box_add() -> Counted:
    return Counted(lambda a, b: Box(a.v + b.v), Box)


def box_zero(b: Box) -> Box:
    return Box(0.0)


def box_one(b: Box) -> Box:
    return Box(1.0)


box_sin: bp.Op[Box, Box] = bp.op1(
    lambda b: (Box(math.sin(b.v)), lambda g: Box(g.v * math.cos(b.v)))
)
box_sq: bp.Op[Box, Box] = bp.op1(lambda b: (Box(b.v * b.v), lambda g: Box(2.0 * b.v * g.v)))
unbox: bp.Op[Box, float] = bp.op1(lambda b: (b.v, lambda g: Box(g)))
box_mul: bp.Op[Box, Box, Box] = bp.op2(lambda a, b: (a * b, lambda g: (g * b, a * g)))
box_fma: bp.Op[Box, Box, Box, Box] = bp.op3(
    lambda a, b, c: (Box(a.v * b.v + c.v), lambda g: (Box(g.v * b.v), Box(g.v * a.v), g))
)


def f1(x: bp.BVar[Box]) -> bp.BVar[Box]:
    """sin(x) x^2 + x: x is used four times."""
    return box_sin(x) * x * x + x


def f1_plain(t: float) -> float:
    return math.sin(t) * t * t + t


F1_USES = 4


def f3(x: bp.BVar[Box], y: bp.BVar[Box], z: bp.BVar[Box]) -> bp.BVar[Box]:
    """x used once, y twice, z three times."""
    return x * y + box_sin(y) * z * z * z


def f3_plain(x: float, y: float, z: float) -> float:
    return x * y + math.sin(y) * z**3


# ---- explicit runners on Box: one input ----------------------------------------------------------


def _backprop(f: Any, x: Box, zero: Any, add: Any, one: Any) -> tuple[Box, Box]:
    return explicit.backprop(f, x, zero=zero, add=add, one=one)


def _grad_bp(f: Any, x: Box, zero: Any, add: Any, one: Any) -> tuple[Box, Box]:
    return explicit.eval_bp(f, x), explicit.grad_bp(f, x, zero=zero, add=add, one=one)


def _backprop_with(f: Any, x: Box, zero: Any, add: Any, one: Any) -> tuple[Box, Box]:
    y, pullback = explicit.backprop_with(f, x, zero=zero, add=add)
    return y, pullback(one(y))


def _backprop_n(f: Any, x: Box, zero: Any, add: Any, one: Any) -> tuple[Box, Box]:
    y, (g,) = explicit.backprop_n(f, x, zero=zero, add=add, one=one)
    return y, g


def _grad_bp_n(f: Any, x: Box, zero: Any, add: Any, one: Any) -> tuple[Box, Box]:
    (g,) = explicit.grad_bp_n(f, x, zero=[zero], add=[add], one=one)
    return explicit.eval_bp_n(f, x), g


def _backprop_with_n(f: Any, x: Box, zero: Any, add: Any, one: Any) -> tuple[Box, Box]:
    y, pullback = explicit.backprop_with_n(f, x, zero=zero, add=add)
    (g,) = pullback(one(y))
    return y, g


ONE_INPUT = [_backprop, _grad_bp, _backprop_with, _backprop_n, _grad_bp_n, _backprop_with_n]


@pytest.mark.parametrize("run", ONE_INPUT, ids=lambda r: r.__name__.lstrip("_"))
@FAST
@given(t=floats())
def test_one_input_gradient_matches_fd_and_counts_adds(run: Any, t: float) -> None:
    add = box_add()
    y, g = run(f1, Box(t), box_zero, add, box_one)
    assert isinstance(y, Box) and isinstance(g, Box)
    assert math.isclose(y.v, f1_plain(t), rel_tol=1e-12, abs_tol=1e-12)
    (expected,) = central_diff(f1_plain, [t])
    assert math.isclose(g.v, expected, rel_tol=RTOL, abs_tol=ATOL), (g, expected)
    assert add.calls == F1_USES - 1


@pytest.mark.parametrize("uses", [1, 2, 5])
def test_add_calls_are_uses_minus_one(uses: int) -> None:
    add = box_add()

    def power(x: bp.BVar[Box]) -> bp.BVar[Box]:
        acc = x
        for _ in range(uses - 1):
            acc = acc * x
        return acc

    g = explicit.grad_bp(power, Box(1.5), zero=box_zero, add=add, one=box_one)
    assert math.isclose(g.v, uses * 1.5 ** (uses - 1), rel_tol=1e-12)
    assert add.calls == uses - 1


def test_zero_is_used_for_an_unreached_input_and_returned() -> None:
    """zero= gets the input's value; its result is the gradient, returned as it is."""
    sentinel = Box(0.0)
    seen: list[Box] = []

    def zero(b: Box) -> Box:
        seen.append(b)
        return sentinel

    y_in = Box(7.0)
    _, (gx, gy) = explicit.backprop2(
        lambda x, y: x * x,
        Box(2.0),
        y_in,
        zero=(box_zero, zero),
        add=(box_add(), box_add()),
        one=box_one,
    )
    assert gx.v == 4.0
    assert gy is sentinel and seen == [y_in]
    g = explicit.grad_bp(
        lambda x: bp.const_var(Box(3.0)), Box(1.0), zero=zero, add=box_add(), one=box_one
    )
    assert g is sentinel
    grads = explicit.grad_bp_n(
        lambda a, b, c: b, Box(1.0), Box(2.0), Box(3.0), zero=zero, add=box_add(), one=box_one
    )
    assert grads[0] is sentinel and grads[2] is sentinel and grads[1].v == 1.0
    _, pullback = explicit.backprop_with_n(
        lambda a, b: a, Box(1.0), Box(2.0), zero=zero, add=box_add()
    )
    assert pullback(Box(1.0))[1] is sentinel


def test_zero_is_not_called_for_a_reached_input() -> None:
    def zero(b: Box) -> Box:
        raise AssertionError("zero called for a reached input")

    assert explicit.grad_bp(f1, Box(0.5), zero=zero, add=box_add(), one=box_one).v != 0.0


@FAST
@given(t=floats())
def test_one_gives_the_seed(t: float) -> None:
    """one= is called on the result and its value seeds the sweep: a seed of 2 doubles the gradient."""
    results: list[Any] = []

    def two(y: Box) -> Box:
        results.append(y)
        return Box(2.0)

    g1 = explicit.grad_bp(f1, Box(t), zero=box_zero, add=box_add(), one=box_one)
    g2 = explicit.grad_bp(f1, Box(t), zero=box_zero, add=box_add(), one=two)
    assert math.isclose(g2.v, 2.0 * g1.v, rel_tol=1e-12, abs_tol=0.0)
    assert len(results) == 1 and math.isclose(
        results[0].v, f1_plain(t), rel_tol=1e-12, abs_tol=1e-12
    )
    # a float result: a Box input, seeded with the float 2.0
    h1 = explicit.grad_bp(
        lambda x: unbox(f1(x)), Box(t), zero=box_zero, add=box_add(), one=lambda y: 1.0
    )
    h2 = explicit.grad_bp(
        lambda x: unbox(f1(x)), Box(t), zero=box_zero, add=box_add(), one=lambda y: 2.0
    )
    assert math.isclose(h2.v, 2.0 * h1.v, rel_tol=1e-12, abs_tol=0.0)
    assert math.isclose(h1.v, g1.v, rel_tol=1e-12, abs_tol=0.0)


def test_backprop_with_pullback_is_reusable() -> None:
    add = box_add()
    _, pullback = explicit.backprop_with(f1, Box(0.7), zero=box_zero, add=add)
    g1 = pullback(Box(1.0))
    g3 = pullback(Box(3.0))
    assert math.isclose(g3.v, 3.0 * g1.v, rel_tol=1e-12)
    assert math.isclose(pullback(Box(1.0)).v, g1.v, rel_tol=1e-15)
    assert add.calls == 3 * (F1_USES - 1)  # once per contribution, every sweep


# ---- explicit runners on Box: several inputs -------------------------------------------------------


@FAST
@given(s=floats(), t=floats())
def test_two_inputs_with_per_input_functions(s: float, t: float) -> None:
    """x is used twice and y three times; each input's add is its own."""

    def f(x: bp.BVar[Box], y: bp.BVar[Box]) -> bp.BVar[Box]:
        return x * y * x + box_sin(y) * y

    def plain(a: float, b: float) -> float:
        return a * b * a + math.sin(b) * b

    expected = central_diff(plain, [s, t])
    runs: list[Callable[[Counted, Counted], tuple[Box, Box]]] = [
        lambda ax, ay: explicit.backprop2(
            f, Box(s), Box(t), zero=(box_zero, box_zero), add=(ax, ay), one=box_one
        )[1],
        lambda ax, ay: explicit.grad_bp2(
            f, Box(s), Box(t), zero=(box_zero, box_zero), add=(ax, ay), one=box_one
        ),
        lambda ax, ay: explicit.backprop_with2(
            f, Box(s), Box(t), zero=(box_zero, box_zero), add=(ax, ay)
        )[1](Box(1.0)),
    ]
    for run in runs:
        ax, ay = box_add(), box_add()
        gx, gy = run(ax, ay)
        assert (ax.calls, ay.calls) == (1, 2)
        for got, want in zip((gx.v, gy.v), expected):
            assert math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL), ((gx, gy), expected)
    y, _ = explicit.backprop2(
        f, Box(s), Box(t), zero=(box_zero, box_zero), add=(box_add(), box_add()), one=box_one
    )
    assert math.isclose(y.v, plain(s, t), rel_tol=1e-12, abs_tol=1e-12)


@FAST
@given(xs=st.tuples(floats(), floats(), floats()))
def test_n_inputs_with_sequences_of_functions(xs: tuple[float, float, float]) -> None:
    expected = central_diff(f3_plain, list(xs))
    boxes = [Box(v) for v in xs]
    zeros = [box_zero] * 3

    def grads_backprop_n(adds: list[Counted]) -> tuple[Any, ...]:
        y, gs = explicit.backprop_n(f3, *boxes, zero=zeros, add=adds, one=box_one)
        assert math.isclose(y.v, f3_plain(*xs), rel_tol=1e-12, abs_tol=1e-12)
        return gs

    def grads_grad_bp_n(adds: list[Counted]) -> tuple[Any, ...]:
        return explicit.grad_bp_n(f3, *boxes, zero=tuple(zeros), add=tuple(adds), one=box_one)

    def grads_backprop_with_n(adds: list[Counted]) -> tuple[Any, ...]:
        return explicit.backprop_with_n(f3, *boxes, zero=zeros, add=adds)[1](Box(1.0))

    for run in (grads_backprop_n, grads_grad_bp_n, grads_backprop_with_n):
        adds = [box_add() for _ in range(3)]
        gs = run(adds)
        assert [a.calls for a in adds] == [0, 1, 2]
        assert len(gs) == 3
        for got, want in zip(gs, expected):
            assert math.isclose(got.v, want, rel_tol=RTOL, abs_tol=ATOL), (gs, expected)


WRONG_LENGTH: list[tuple[str, Callable[[Any, Any], object]]] = [
    (
        "backprop_n",
        lambda z, a: explicit.backprop_n(
            f3, Box(1.0), Box(2.0), Box(3.0), zero=z, add=a, one=box_one
        ),
    ),
    (
        "grad_bp_n",
        lambda z, a: explicit.grad_bp_n(
            f3, Box(1.0), Box(2.0), Box(3.0), zero=z, add=a, one=box_one
        ),
    ),
    (
        "backprop_with_n",
        lambda z, a: explicit.backprop_with_n(f3, Box(1.0), Box(2.0), Box(3.0), zero=z, add=a),
    ),
    (
        "backprop2",
        lambda z, a: explicit.backprop2(
            lambda x, y: x * y, Box(1.0), Box(2.0), zero=z, add=a, one=box_one
        ),
    ),
    (
        "grad_bp2",
        lambda z, a: explicit.grad_bp2(
            lambda x, y: x * y, Box(1.0), Box(2.0), zero=z, add=a, one=box_one
        ),
    ),
]


@pytest.mark.parametrize("name, call", WRONG_LENGTH, ids=[n for n, _ in WRONG_LENGTH])
@pytest.mark.parametrize("which", ["zero", "add"])
@pytest.mark.parametrize("length", [1, 4])
def test_wrong_length_sequence_raises_type_error(
    name: str, call: Callable[[Any, Any], object], which: str, length: int
) -> None:
    ok_zero, ok_add = box_zero, box_add()
    bad = [box_zero if which == "zero" else ok_add] * length
    with pytest.raises(
        TypeError, match=rf"{which}= must be a function or a sequence of \d functions"
    ):
        call(bad, ok_add) if which == "zero" else call(ok_zero, bad)


def test_sequence_with_a_non_function_raises_type_error() -> None:
    with pytest.raises(TypeError, match="add= must be"):
        explicit.grad_bp_n(
            f3,
            Box(1.0),
            Box(2.0),
            Box(3.0),
            zero=box_zero,
            add=[box_add(), box_add(), 1.0],
            one=box_one,
        )


# ---- the regular runners refuse Box -----------------------------------------------------------------


REGULAR: list[tuple[str, Callable[[], object]]] = [
    ("grad_bp/one", lambda: bp.grad_bp(lambda x: x, Box(1.0))),
    ("backprop/add", lambda: bp.backprop(lambda x: unbox(x) * unbox(x), Box(1.0))),
    ("grad_bp2/zero", lambda: bp.grad_bp2(lambda x, y: unbox(x), Box(1.0), Box(2.0))),
    ("grad_bp_n/add", lambda: bp.grad_bp_n(lambda x, y: unbox(x * x) + y, Box(1.0), 2.0)),
    (
        "backprop_with/add",
        lambda: bp.backprop_with(lambda x: unbox(x) * unbox(x), Box(1.0))[1](1.0),
    ),
]


@pytest.mark.parametrize("call", [c for _, c in REGULAR], ids=[n for n, _ in REGULAR])
def test_regular_runners_raise_instance_error_naming_explicit(call: Callable[[], object]) -> None:
    with pytest.raises(bp.BackpropInstanceError, match="Box") as info:
        call()
    assert "bprop.explicit" in str(info.value)


# ---- explicit lifters ----------------------------------------------------------------------------


@FAST
@given(t=floats())
def test_lift_op1_accumulates_an_argument_used_twice(t: float) -> None:
    """z = sin(x) is an intermediate Box used by the lifted op and once more: its add runs once."""
    add = box_add()

    def f(x: bp.BVar[Box]) -> bp.BVar[Box]:
        z = box_sin(x)
        return explicit.lift_op1(box_sq, z, add=add) * z

    g = explicit.grad_bp(f, Box(t), zero=box_zero, add=box_add(), one=box_one)
    assert add.calls == 1
    assert math.isclose(g.v, 3.0 * math.sin(t) ** 2 * math.cos(t), rel_tol=1e-12, abs_tol=1e-12)


def test_without_an_explicit_add_an_intermediate_box_cannot_accumulate() -> None:
    """The control for the lift_op tests: the same function with the plain op fails."""

    def f(x: bp.BVar[Box]) -> bp.BVar[Box]:
        z = box_sin(x)
        return box_sq(z) * z

    with pytest.raises(bp.BackpropInstanceError, match="bprop.explicit"):
        explicit.grad_bp(f, Box(0.3), zero=box_zero, add=box_add(), one=box_one)


@FAST
@given(s=floats(), t=floats())
def test_lift_op2_and_lift_op_per_argument_adds(s: float, t: float) -> None:
    """u = sin(x) and w = sin(y) are each used by the op and once more (k = 2: one add each)."""
    expected = central_diff(lambda a, b: math.sin(a) ** 2 * math.sin(b) ** 2, [s, t])

    def lifted(
        kind: str, au: Counted, aw: Counted
    ) -> Callable[[bp.BVar[Box], bp.BVar[Box]], bp.BVar[Box]]:
        def f(x: bp.BVar[Box], y: bp.BVar[Box]) -> bp.BVar[Box]:
            u, w = box_sin(x), box_sin(y)
            if kind == "lift_op2":
                prod = explicit.lift_op2(box_mul, u, w, add=(au, aw))
            else:
                prod = explicit.lift_op(box_mul, u, w, add=[au, aw])
            return prod * u * w

        return f

    for kind in ("lift_op2", "lift_op"):
        au, aw = box_add(), box_add()
        gx, gy = explicit.grad_bp2(
            lifted(kind, au, aw),
            Box(s),
            Box(t),
            zero=(box_zero, box_zero),
            add=(box_add(), box_add()),
            one=box_one,
        )
        assert (au.calls, aw.calls) == (1, 1), kind
        for got, want in zip((gx.v, gy.v), expected):
            assert math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL), (kind, gx, gy, expected)


@FAST
@given(xs=st.tuples(floats(), floats(), floats()))
def test_lift_op3_and_lift_op_one_add_for_all(xs: tuple[float, float, float]) -> None:
    """fma(u, v, w) * u * v * w with u, v, w = sin of the inputs: three adds in all."""

    def plain(a: float, b: float, c: float) -> float:
        sa, sb, sc = math.sin(a), math.sin(b), math.sin(c)
        return (sa * sb + sc) * sa * sb * sc

    expected = central_diff(plain, list(xs))
    for kind in ("lift_op3", "lift_op"):
        adds = [box_add() for _ in range(3)]
        shared = box_add()

        def f(
            a: bp.BVar[Box],
            b: bp.BVar[Box],
            c: bp.BVar[Box],
            kind: str = kind,
            adds: list[Any] = adds,
            shared: Any = shared,
        ) -> bp.BVar[Box]:
            u, v, w = box_sin(a), box_sin(b), box_sin(c)
            if kind == "lift_op3":
                r = explicit.lift_op3(box_fma, u, v, w, add=(adds[0], adds[1], adds[2]))
            else:
                r = explicit.lift_op(box_fma, u, v, w, add=shared)
            return r * u * v * w

        gs = explicit.grad_bp_n(f, *(Box(v) for v in xs), zero=box_zero, add=box_add(), one=box_one)
        calls = [a.calls for a in adds] if kind == "lift_op3" else [shared.calls]
        assert calls == ([1, 1, 1] if kind == "lift_op3" else [3]), kind
        for got, want in zip(gs, expected):
            assert math.isclose(got.v, want, rel_tol=RTOL, abs_tol=ATOL), (kind, gs, expected)


def test_lift_op_wrong_length_add_raises_type_error() -> None:
    def f(x: bp.BVar[Box]) -> bp.BVar[Box]:
        return explicit.lift_op(box_mul, x, x, add=[box_add()])

    with pytest.raises(TypeError, match="add= must be a function or a sequence of 2 functions"):
        explicit.grad_bp(f, Box(1.0), zero=box_zero, add=box_add(), one=box_one)


# ---- explicit add on types with an instance -----------------------------------------------------


@FAST
@given(t=floats())
def test_explicit_add_overrides_a_registered_instance(t: float) -> None:
    """A float input with an explicit add: the add is called (uses - 1 times) and the gradient
    is the regular runner's."""

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        return bp.sin(x) * x * x + x

    add = Counted(lambda a, b: a + b + 0.0, float)
    g = explicit.grad_bp(f, t, zero=lambda x: 0.0, add=add, one=lambda y: 1.0)
    assert add.calls == 3
    assert math.isclose(g, bp.grad_bp(f, t), rel_tol=1e-12, abs_tol=1e-12)
    # and at an op argument: u = x^2 used twice
    lifted = Counted(lambda a, b: a + b + 0.0, float)

    def h(x: bp.BVar[float]) -> bp.BVar[float]:
        u = x * x
        return explicit.lift_op1(bp.sin_op, u, add=lifted) * u

    gh = bp.grad_bp(h, t)
    assert lifted.calls == 1
    assert math.isclose(
        gh, 2 * t * (math.cos(t * t) * t * t + math.sin(t * t)), rel_tol=1e-9, abs_tol=1e-12
    )


def test_explicit_add_on_an_array_input_sees_whole_arrays() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=4)

    def f(v: bp.BVar[Any]) -> bp.BVar[float]:
        return prelude.sum(v * v * bp.sin(v))

    add = Counted(lambda a, b: a + b, np.ndarray)
    g = explicit.grad_bp(f, x, zero=np.zeros_like, add=add, one=lambda y: 1.0)
    assert add.calls == 2
    np.testing.assert_allclose(g, bp.grad_bp(f, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, 2 * x * np.sin(x) + x * x * np.cos(x), rtol=1e-12, atol=1e-12)


@dataclass(frozen=True)
class Point:
    a: float
    b: float


@FAST
@given(s=floats(), t=floats())
def test_dataclass_input_with_an_explicit_add(s: float, t: float) -> None:
    """Fields read through lenses: the add gets whole Points and the gradient is the whole Point."""

    def f(p: bp.BVar[Point]) -> bp.BVar[float]:
        a = bp.view_var(bp.attr("a"), p)
        b = bp.view_var(bp.attr("b"), p)
        return a * b + bp.sin(bp.view_var(bp.attr("a"), p))

    add = Counted(lambda p, q: Point(p.a + q.a, p.b + q.b), Point)
    g = explicit.grad_bp(f, Point(s, t), zero=lambda p: Point(0.0, 0.0), add=add, one=lambda y: 1.0)
    assert isinstance(g, Point)
    # Three reads of two fields: rereading `a` reuses its node, so p gets two contributions.
    assert add.calls == 1
    da, db = central_diff(lambda a, b: a * b + math.sin(a), [s, t])
    assert math.isclose(g.a, da, rel_tol=RTOL, abs_tol=ATOL) and math.isclose(
        g.b, db, rel_tol=RTOL, abs_tol=ATOL
    )
    regular = bp.grad_bp(f, Point(s, t))
    assert math.isclose(g.a, regular.a, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(g.b, regular.b, rel_tol=1e-12, abs_tol=1e-12)


# ---- errors from the user's functions ---------------------------------------------------------------


class AddFailed(Exception):
    pass


def test_error_in_add_propagates_and_the_next_call_works() -> None:
    def failing(a: Box, b: Box) -> Box:
        raise AddFailed("no")

    with pytest.raises(AddFailed, match="no"):
        explicit.grad_bp(f1, Box(0.4), zero=box_zero, add=failing, one=box_one)
    g = explicit.grad_bp(f1, Box(0.4), zero=box_zero, add=box_add(), one=box_one)
    (expected,) = central_diff(f1_plain, [0.4])
    assert math.isclose(g.v, expected, rel_tol=RTOL, abs_tol=ATOL)


def test_error_in_add_leaves_the_pullback_usable() -> None:
    state = {"fail": True}

    def add_once_failing(a: Box, b: Box) -> Box:
        if state["fail"]:
            state["fail"] = False
            raise AddFailed("first sweep")
        return Box(a.v + b.v)

    _, pullback = explicit.backprop_with(f1, Box(0.4), zero=box_zero, add=add_once_failing)
    with pytest.raises(AddFailed):
        pullback(Box(1.0))
    (expected,) = central_diff(f1_plain, [0.4])
    assert math.isclose(pullback(Box(1.0)).v, expected, rel_tol=RTOL, abs_tol=ATOL)


def test_errors_in_zero_one_and_lifted_add_propagate() -> None:
    def boom(*args: Any) -> Any:
        raise AddFailed("boom")

    with pytest.raises(AddFailed):
        explicit.grad_bp2(
            lambda x, y: x,
            Box(1.0),
            Box(2.0),
            zero=(box_zero, boom),
            add=(box_add(), box_add()),
            one=box_one,
        )
    with pytest.raises(AddFailed):
        explicit.grad_bp(f1, Box(1.0), zero=box_zero, add=box_add(), one=boom)

    def f(x: bp.BVar[Box]) -> bp.BVar[Box]:
        z = box_sin(x)
        return explicit.lift_op1(box_sq, z, add=boom) * z

    with pytest.raises(AddFailed):
        explicit.grad_bp(f, Box(1.0), zero=box_zero, add=box_add(), one=box_one)


def test_add_returning_a_wrong_shape_for_an_array_raises_shape_error() -> None:
    x = np.random.default_rng(3).normal(size=3)

    def f(v: bp.BVar[Any]) -> bp.BVar[float]:
        return prelude.sum(v * v)

    with pytest.raises(bp.ShapeError, match=r"shape \[4\].*shape \[3\]"):
        explicit.grad_bp(f, x, zero=np.zeros_like, add=lambda a, b: np.ones(4), one=lambda y: 1.0)

    def g(v: bp.BVar[Any]) -> bp.BVar[float]:
        w = v * 2.0
        return prelude.sum(explicit.lift_op1(bp.sin_op, w, add=lambda a, b: np.ones((3, 1))) * w)

    with pytest.raises(bp.ShapeError, match=r"shape \[3, 1\].*shape \[3\]"):
        bp.grad_bp(g, x)
    with pytest.raises(TypeError, match="must be a real array of shape"):
        explicit.grad_bp(f, x, zero=np.zeros_like, add=lambda a, b: 1.0, one=lambda y: 1.0)
    np.testing.assert_allclose(
        explicit.grad_bp(f, x, zero=np.zeros_like, add=lambda a, b: a + b, one=lambda y: 1.0),
        2 * x,
        rtol=1e-15,
    )


# ---- bprop.num ------------------------------------------------------------------------------------


def g2(x: bp.BVar[Any], y: bp.BVar[Any]) -> bp.BVar[Any]:
    return bp.sin(x) * y * x + bp.exp(y * 0.5) * x


def g3(x: bp.BVar[Any], y: bp.BVar[Any], z: bp.BVar[Any]) -> bp.BVar[Any]:
    return g2(x, y) * z + z * z


def _assert_same(got: Any, want: Any) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _assert_same(g, w)
        return
    assert type(got) is type(want), (got, want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _num_vs_regular(xs: tuple[Any, Any, Any]) -> None:
    x, y, z = xs
    seed = g2(bp.const_var(x), bp.const_var(y)).value
    pairs: list[tuple[Any, Any]] = [
        (num.backprop(lambda v: g2(v, v), x), bp.backprop(lambda v: g2(v, v), x)),
        (num.grad_bp(lambda v: g2(v, v), x), bp.grad_bp(lambda v: g2(v, v), x)),
        (
            num.backprop_with(lambda v: g2(v, v), x)[1](seed),
            bp.backprop_with(lambda v: g2(v, v), x)[1](seed),
        ),
        (num.backprop2(g2, x, y), bp.backprop2(g2, x, y)),
        (num.grad_bp2(g2, x, y), bp.grad_bp2(g2, x, y)),
        (num.backprop_with2(g2, x, y)[1](seed), bp.backprop_with2(g2, x, y)[1](seed)),
        (num.backprop_n(g3, x, y, z), bp.backprop_n(g3, x, y, z)),
        (num.grad_bp_n(g3, x, y, z), bp.grad_bp_n(g3, x, y, z)),
        (num.backprop_with_n(g2, x, y)[1](seed), bp.backprop_with_n(g2, x, y)[1](seed)),
        (num.eval_bp2(g2, x, y), bp.eval_bp2(g2, x, y)),
    ]
    for got, want in pairs:
        _assert_same(got, want)


@FAST
@given(xs=st.tuples(floats(), floats(), floats()))
def test_num_on_floats_equals_the_regular_runners(xs: tuple[float, float, float]) -> None:
    _num_vs_regular(xs)
    (expected,) = central_diff(lambda t: math.sin(t) * t * t + math.exp(t * 0.5) * t, [xs[0]])
    assert math.isclose(
        num.grad_bp(lambda v: g2(v, v), xs[0]), expected, rel_tol=RTOL, abs_tol=ATOL
    )


@FAST
@given(seed=seeds, n=st.integers(min_value=1, max_value=5))
def test_num_on_arrays_equals_the_regular_runners(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x, y, z = (rng.normal(size=n) for _ in range(3))
    _num_vs_regular((x, y, z))  # array results: both seed with ones
    # a float result of an array input, and an unreached array input (zeros of its shape)
    gx, gy = num.grad_bp2(lambda a, b: prelude.sum(a * a), x, y)
    np.testing.assert_allclose(gx, 2 * x, rtol=1e-15)
    assert isinstance(gy, np.ndarray) and gy.shape == y.shape and not gy.any()


@FAST
@given(n=st.integers(min_value=-50, max_value=50), m=st.integers(min_value=-50, max_value=50))
def test_num_on_ints(n: int, m: int) -> None:
    y, g = num.backprop(lambda x: x * x * x, n)
    assert (y, g) == (n**3, 3 * n * n) and type(g) is int
    gx, gy = num.grad_bp2(lambda a, b: a * a, n, m)
    assert (gx, gy) == (2 * n, 0) and type(gx) is int and type(gy) is int
    assert num.grad_bp_n(lambda a, b, c: a * b + c, n, m, 5) == (m, n, 1)


def test_num_backprop_with_pullback_is_reusable() -> None:
    def f(v: bp.BVar[float]) -> bp.BVar[float]:
        return bp.sin(v) * v

    y, pullback = num.backprop_with(f, 0.8)
    assert y == math.sin(0.8) * 0.8
    g1 = pullback(1.0)
    assert math.isclose(g1, math.cos(0.8) * 0.8 + math.sin(0.8), rel_tol=1e-12)
    assert math.isclose(pullback(-2.5), -2.5 * g1, rel_tol=1e-12)
    assert pullback(1.0) == g1
    x = np.array([0.1, -0.4])
    _, pull_arr = num.backprop_with(lambda v: bp.sin(v) * v, x)
    np.testing.assert_allclose(pull_arr(np.ones(2)), np.cos(x) * x + np.sin(x), rtol=1e-12)
    np.testing.assert_allclose(
        pull_arr(np.array([2.0, 0.0])), [2 * (np.cos(0.1) * 0.1 + np.sin(0.1)), 0.0], rtol=1e-12
    )


class Summed:
    """A float wrapper whose + is counted: the num lifters must accumulate with it."""

    adds = 0
    __slots__ = ("v",)

    def __init__(self, v: float) -> None:
        self.v = v

    def __add__(self, other: Summed) -> Summed:
        Summed.adds += 1
        return Summed(self.v + other.v)


s_sin: bp.Op[Summed, Summed] = bp.op1(
    lambda s: (Summed(math.sin(s.v)), lambda g: Summed(g.v * math.cos(s.v)))
)
s_mul: bp.Op[Summed, Summed, Summed] = bp.op2(
    lambda a, b: (Summed(a.v * b.v), lambda g: (Summed(g.v * b.v), Summed(g.v * a.v)))
)
s_mul3: bp.Op[Summed, Summed, Summed, Summed] = bp.op3(
    lambda a, b, c: (
        Summed(a.v * b.v * c.v),
        lambda g: (Summed(g.v * b.v * c.v), Summed(g.v * a.v * c.v), Summed(g.v * a.v * b.v)),
    )
)


@FAST
@given(t=floats())
def test_num_lifters_accumulate_with_plus(t: float) -> None:
    """u = sin(x) is an argument of the lifted op used k times in all: + runs k - 1 times."""
    lifted: list[
        tuple[Callable[[bp.BVar[Summed]], bp.BVar[Summed]], int, Callable[[float], float]]
    ] = [
        (lambda u: s_mul(num.lift_op1(s_sin, u), u), 2, lambda s: math.sin(s) * s),
        (lambda u: num.lift_op2(s_mul, u, u), 2, lambda s: s * s),
        (lambda u: num.lift_op3(s_mul3, u, u, u), 3, lambda s: s**3),
        (lambda u: num.lift_op(s_mul3, u, u, u), 3, lambda s: s**3),
    ]
    for body, k, plain in lifted:
        Summed.adds = 0
        g = explicit.grad_bp(
            lambda x, body=body: body(s_sin(x)),
            Summed(t),
            zero=lambda s: Summed(0.0),
            add=lambda a, b: Summed(a.v + b.v),  # never called: x is used once
            one=lambda s: Summed(1.0),
        )
        assert Summed.adds == k - 1
        (expected,) = central_diff(lambda a, plain=plain: plain(math.sin(a)), [t])
        assert math.isclose(g.v, expected, rel_tol=RTOL, abs_tol=ATOL)


@FAST
@given(t=floats())
def test_num_lift_op1_on_floats(t: float) -> None:
    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        u = x * x
        return num.lift_op1(bp.sin_op, u) * u

    (expected,) = central_diff(lambda a: math.sin(a * a) * a * a, [t])
    assert math.isclose(bp.grad_bp(f, t), expected, rel_tol=RTOL, abs_tol=ATOL)


# A list has no 0 or 1, and its + is concatenation: num must refuse it rather than misbehave.


def test_num_on_a_list_unreached_gives_a_clear_error() -> None:
    with pytest.raises(TypeError, match="zero_num: a list is not a number"):
        num.grad_bp(lambda xs: bp.const_var(1.0), [1.0, 2.0])


def test_num_on_a_list_used_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="add_num: a list is not a number"):
        num.grad_bp(lambda xs: prelude.sum(xs) * prelude.sum(xs), [1.0, 2.0])
