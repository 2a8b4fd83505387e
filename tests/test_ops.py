"""Ops: construction, running, lifting, composition, arithmetic, native ops, no_grad.

The first tests follow the examples of Haskell backprop's "Manual Gradients" guide and of the
`Numeric.Backprop.Op` documentation, written in Python. Gradients of anything with a formula
are checked against central finite differences on random, well-conditioned inputs.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import bprop as bp
import pytest
from fd import central_diff as fd_grad
from hypothesis import given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=25, deadline=None)
REL = 1e-6
ABS = 1e-8


# ---- helpers ------------------------------------------------------------------------------


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Magnitudes in [lo, hi] with either sign."""
    return st.tuples(floats(lo, hi), st.booleans()).map(lambda p: -p[0] if p[1] else p[0])


def assert_close(
    got: Sequence[float], want: Sequence[float], rel: float = REL, abs_: float = ABS
) -> None:
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        assert math.isclose(g, w, rel_tol=rel, abs_tol=abs_), (got, want)


# ---- the Manual Gradients guide -----------------------------------------------------------


def square_fwd(x: float) -> tuple[float, Callable[[float], float]]:
    return x * x, lambda d: 2 * d * x


square: bp.Op[float, float] = bp.op1(square_fwd)


def sin_fwd(x: float) -> tuple[float, Callable[[float], float]]:
    return math.sin(x), lambda d: d * math.cos(x)


my_sin: bp.Op[float, float] = bp.op1(sin_fwd)


def add_fwd(x: float, y: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x + y, lambda d: (d, d)


def mul_fwd(x: Any, y: Any) -> tuple[Any, Callable[[Any], tuple[Any, Any]]]:
    return x * y, lambda d: (d * y, x * d)


my_add: bp.Op[float, float, float] = bp.op2(add_fwd)
my_mul: bp.Op[Any, Any, Any] = bp.op2(mul_fwd)


@FAST
@given(floats(-10, 10))
def test_square_op1(x: float) -> None:
    y, (g,) = bp.run_op(square, (x,))
    assert y == x * x
    assert g == 2 * x
    # lifted onto BVars, inside an ordinary function
    assert bp.backprop(lambda v: bp.lift_op1(square, v), x) == (x * x, 2 * x)
    assert_close(fd_grad(lambda t: t * t, [x]), [g], abs_=1e-6)


@FAST
@given(floats(-6, 6))
def test_sin_op1(x: float) -> None:
    y, (g,) = bp.run_op(my_sin, (x,))
    assert y == math.sin(x)
    assert g == math.cos(x)
    assert_close([bp.grad_bp(lambda v: my_sin(v), x)], fd_grad(math.sin, [x]))


@FAST
@given(floats(-10, 10), floats(-10, 10))
def test_add_and_mul_op2(x: float, y: float) -> None:
    assert bp.run_op(my_add, (x, y)) == (x + y, (1.0, 1.0))
    assert bp.run_op(my_mul, (x, y)) == (x * y, (y, x))
    # the guide's `liftOp2 . op2` usage: a function of BVars built from custom ops
    val, (gx, gy) = bp.backprop2(
        lambda a, b: bp.lift_op2(my_mul, bp.lift_op2(my_add, a, b), a), x, y
    )
    assert math.isclose(val, (x + y) * x, rel_tol=1e-12, abs_tol=1e-12)
    assert_close((gx, gy), fd_grad(lambda a, b: (a + b) * a, [x, y]), abs_=1e-6)


def test_grad_op_mul_docs_example() -> None:
    # gradOp (op2 (*)) (3 :& 5) == 5 :& 3, with Ints as in the docs
    g = bp.grad_op(my_mul, (3, 5))
    assert g == (5, 3)
    assert all(type(v) is int for v in g)
    assert bp.run_op(my_mul, (3, 5)) == (15, (5, 3))
    assert bp.grad_op(my_mul, (3.0, 5.0)) == (5.0, 3.0)


# ---- op0, op_const, id_op, op_tup, op_iso*, op_coerce ----------------------------------------


def test_op0() -> None:
    assert bp.run_op(bp.op0(4.5), ()) == (4.5, ())
    assert bp.eval_op(bp.op0((1.0, 2)), ()) == (1.0, 2)
    c = bp.lift_op(bp.op0(3.0))
    assert c.is_constant and c.value == 3.0
    # an op0 result is a constant inside a differentiated function
    assert bp.backprop(lambda x: x * bp.lift_op(bp.op0(3.0)), 2.0) == (6.0, 3.0)


def test_op_const_gives_zero_gradient_for_every_argument() -> None:
    k = bp.op_const(7.0)
    y, gs = bp.run_op(k, (1.5, 2, (3.0, 4), -1.0))
    assert y == 7.0
    assert gs == (0.0, 0, (0.0, 0), 0.0)
    assert [type(g) for g in gs] == [float, int, tuple, float]
    assert type(gs[2][0]) is float and type(gs[2][1]) is int
    assert bp.run_op(k, ()) == (7.0, ())
    # inside a function: only the other path contributes
    assert bp.grad_bp2(lambda x, y: x * 2.0 + bp.lift_op(k, x, y), 1.0, 4.0) == (2.0, 0.0)


@FAST
@given(floats(-10, 10), floats(-3, 3))
def test_id_op(x: float, dy: float) -> None:
    assert bp.run_op(bp.id_op, (x,)) == (x, (1.0,))
    assert bp.grad_op_with(bp.id_op, (x,), dy) == (dy,)
    assert bp.grad_bp(lambda v: bp.id_op(v) * v, x) == 2 * x


def tup_mul_fwd(t: tuple[float, float]) -> tuple[float, Callable[[float], tuple[float, float]]]:
    a, b = t
    return a * b, lambda d: (d * b, d * a)


tup_mul: bp.Op[tuple[float, float], float] = bp.op1(tup_mul_fwd)


def tup_sum_fwd(t: tuple[float, ...]) -> tuple[float, Callable[[float], tuple[float, ...]]]:
    return sum(t), lambda d: tuple(d for _ in t)


tup_sum: bp.Op[tuple[float, ...], float] = bp.op1(tup_sum_fwd)


@FAST
@given(floats(-5, 5), floats(-5, 5), floats(-3, 3), floats(-3, 3))
def test_op_tup(x: float, y: float, dx: float, dy: float) -> None:
    # a BVar of the tuple
    y_val, gs = bp.run_op(bp.op_tup, (x, y))
    assert y_val == (x, y)
    assert gs == (1.0, 1.0)  # seeded with one((x, y))
    assert bp.grad_op_with(bp.op_tup, (x, y), (dx, dy)) == (dx, dy)
    # the gradient flows back to each element
    assert bp.backprop2(lambda a, b: tup_mul(bp.op_tup(a, b)), x, y) == (x * y, (y, x))
    # an element used twice in the tuple gets both contributions
    assert bp.grad_bp(lambda a: tup_sum(bp.op_tup(a, a, a)), x) == 3.0
    # mixed element types
    assert bp.run_op(bp.op_tup, (x, 2)) == ((x, 2), (1.0, 1))


def neg_fwd(x: float) -> float:
    return -x


def swap(t: tuple[Any, Any]) -> tuple[Any, Any]:
    return (t[1], t[0])


@FAST
@given(floats(-5, 5), floats(-5, 5), floats(-5, 5), floats(-3, 3), floats(-3, 3), floats(-3, 3))
def test_op_iso_family(x: float, y: float, z: float, da: float, db: float, dc: float) -> None:
    neg_iso = bp.op_iso(neg_fwd, neg_fwd)
    assert bp.run_op(neg_iso, (x,)) == (-x, (-1.0,))
    assert bp.grad_op_with(neg_iso, (x,), da) == (-da,)

    swap_iso: bp.Op[tuple[float, float], tuple[float, float]] = bp.op_iso(swap, swap)
    assert bp.run_op(swap_iso, ((x, y),)) == ((y, x), ((1.0, 1.0),))
    assert bp.grad_op_with(swap_iso, ((x, y),), (da, db)) == ((db, da),)

    pair = bp.op_iso2(lambda a, b: (b, a), lambda t: (t[1], t[0]))
    assert bp.eval_op(pair, (x, y)) == (y, x)
    assert bp.grad_op_with(pair, (x, y), (da, db)) == (db, da)
    # a function of BVars through op_iso2: tup_mul(swap(x, y)) == x * y
    assert bp.grad_bp2(lambda a, b: tup_mul(pair(a, b)), x, y) == (y, x)

    nest = bp.op_iso3(lambda a, b, c: (a, (b, c)), lambda t: (t[0], t[1][0], t[1][1]))
    assert bp.eval_op(nest, (x, y, z)) == (x, (y, z))
    assert bp.grad_op_with(nest, (x, y, z), (da, (db, dc))) == (da, db, dc)
    assert bp.grad_op(nest, (x, y, z)) == (1.0, 1.0, 1.0)

    rev = bp.op_iso_n(lambda *xs: tuple(reversed(xs)), lambda d: tuple(reversed(d)))
    for args, cot in [((x,), (da,)), ((x, y), (da, db)), ((x, y, z, 1.5), (da, db, dc, 0.5))]:
        assert bp.eval_op(rev, args) == tuple(reversed(args))
        assert bp.grad_op_with(rev, args, cot) == tuple(reversed(cot))


@FAST
@given(floats(-10, 10), floats(-3, 3))
def test_op_coerce(x: float, dy: float) -> None:
    c: bp.Op[float, float] = bp.op_coerce
    assert bp.run_op(c, (x,)) == (x, (1.0,))
    assert bp.grad_op_with(c, (x,), dy) == (dy,)
    assert bp.grad_bp(lambda v: c(v) * 3.0, x) == 3.0


# ---- op3 and op_n ---------------------------------------------------------------------------


def prod3_fwd(
    x: float, y: float, z: float
) -> tuple[float, Callable[[float], tuple[float, float, float]]]:
    return x * y * z, lambda d: (d * y * z, d * x * z, d * x * y)


prod3: bp.Op[float, float, float, float] = bp.op3(prod3_fwd)


@FAST
@given(floats(-4, 4), floats(-4, 4), floats(-4, 4))
def test_op3(x: float, y: float, z: float) -> None:
    val, gs = bp.run_op(prod3, (x, y, z))
    assert math.isclose(val, x * y * z, rel_tol=1e-12, abs_tol=1e-12)
    assert_close(gs, fd_grad(lambda a, b, c: a * b * c, [x, y, z]), abs_=1e-6)
    assert bp.grad_bp_n(lambda a, b, c: bp.lift_op3(prod3, a, b, c), x, y, z) == gs


def poly_fwd(*xs: float) -> tuple[float, Callable[[float], tuple[float, ...]]]:
    """sum_i (i + 1) * x_i ** 2."""
    val = sum((i + 1) * x * x for i, x in enumerate(xs))
    return val, lambda d: tuple(2 * (i + 1) * x * d for i, x in enumerate(xs))


def poly_ref(*xs: float) -> float:
    return sum((i + 1) * x * x for i, x in enumerate(xs))


poly: bp.Op[*tuple[float, ...], float] = bp.op_n(poly_fwd)


@FAST
@given(st.lists(floats(-4, 4), min_size=5, max_size=5))
def test_op_n_arities(xs: list[float]) -> None:
    for n in (1, 2, 4, 5):
        args = tuple(xs[:n])
        val, gs = bp.run_op(poly, args)
        assert math.isclose(val, poly_ref(*args), rel_tol=1e-12, abs_tol=1e-12)
        assert len(gs) == n
        assert gs == tuple(2 * (i + 1) * x for i, x in enumerate(args))
        assert_close(gs, fd_grad(poly_ref, args), abs_=1e-6)


# ---- bp_op, compose_op, compose_op1 -----------------------------------------------------------


def f2(x: bp.BVar[float], y: bp.BVar[float]) -> bp.BVar[float]:
    return x * bp.sin(y) + y * y


def f2_ref(x: float, y: float) -> float:
    return x * math.sin(y) + y * y


@FAST
@given(floats(-4, 4), floats(-4, 4))
def test_bp_op_is_the_function(x: float, y: float) -> None:
    F = bp.bp_op(f2)
    assert bp.run_op(F, (x, y)) == bp.backprop2(f2, x, y)
    assert bp.eval_op(F, (x, y)) == bp.eval_bp2(f2, x, y)
    # lift_op(bp_op(f), ...) == f(...) inside a larger function
    lifted = bp.backprop2(lambda a, b: bp.lift_op(F, a, b) * a, x, y)
    direct = bp.backprop2(lambda a, b: f2(a, b) * a, x, y)
    assert lifted == direct
    assert_close(bp.grad_op(F, (x, y)), fd_grad(f2_ref, [x, y]), abs_=1e-6)


@FAST
@given(floats(-4, 4), floats(-4, 4))
def test_compose_op_fan_in(x: float, y: float) -> None:
    sc = bp.compose_op([bp.sin_op, bp.cos_op], bp.mul_op)  # sin x * cos x
    val, (g,) = bp.run_op(sc, (x,))
    assert math.isclose(val, math.sin(x) * math.cos(x), rel_tol=1e-12, abs_tol=1e-15)
    assert_close([g], [math.cos(2 * x)], rel=1e-9, abs_=1e-12)

    h = bp.compose_op([bp.add_op, my_mul, bp.bp_op(f2)], prod3)  # (x+y) * (x*y) * f2(x, y)

    def h_ref(a: float, b: float) -> float:
        return (a + b) * (a * b) * f2_ref(a, b)

    val2, gs = bp.run_op(h, (x, y))
    assert math.isclose(val2, h_ref(x, y), rel_tol=1e-9, abs_tol=1e-9)
    assert_close(gs, fd_grad(h_ref, [x, y]), abs_=1e-5)
    # used on BVars with the call syntax
    assert bp.grad_bp2(lambda a, b: h(a, b), x, y) == gs


@FAST
@given(floats(-3, 3), floats(-3, 3))
def test_compose_op1_pipe(x: float, y: float) -> None:
    p = bp.compose_op1(square, bp.sin_op)  # sin(x^2)
    val, (g,) = bp.run_op(p, (x,))
    assert val == math.sin(x * x)
    assert_close([g], [2 * x * math.cos(x * x)], rel=1e-9, abs_=1e-12)

    q = bp.compose_op1(bp.mul_op, bp.exp_op)  # exp(x * y)
    val2, gs = bp.run_op(q, (x, y))
    assert math.isclose(val2, math.exp(x * y), rel_tol=1e-12)
    assert_close(gs, fd_grad(lambda a, b: math.exp(a * b), [x, y]))
    # pipes compose further
    r = bp.compose_op1(bp.compose_op1(square, my_sin), square)  # sin(x^2)^2
    assert_close(bp.grad_op(r, (x,)), fd_grad(lambda a: math.sin(a * a) ** 2, [x]))


# ---- Op arithmetic --------------------------------------------------------------------------


def quad_fwd(x: float, y: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x * x + y * y + 1.0, lambda d: (2 * x * d, 2 * y * d)


quad: bp.Op[float, float, float] = bp.op2(quad_fwd)  # x^2 + y^2 + 1, never zero
sin_xy: bp.Op[float, float, float] = bp.bp_op(lambda a, b: bp.sin(a) * b)

ARITH: list[
    tuple[str, Callable[[], bp.Op[float, float, float]], Callable[[float, float], float]]
] = [
    ("mul + quad", lambda: bp.mul_op + quad, lambda x, y: x * y + (x * x + y * y + 1)),
    ("mul - sin_xy", lambda: bp.mul_op - sin_xy, lambda x, y: x * y - math.sin(x) * y),
    ("quad * sin_xy", lambda: quad * sin_xy, lambda x, y: (x * x + y * y + 1) * math.sin(x) * y),
    ("sin_xy / quad", lambda: sin_xy / quad, lambda x, y: math.sin(x) * y / (x * x + y * y + 1)),
    ("-quad", lambda: -quad, lambda x, y: -(x * x + y * y + 1)),
    (
        "-(mul + my_add) * quad",
        lambda: -(bp.mul_op + my_add) * quad,
        lambda x, y: -(x * y + x + y) * (x * x + y * y + 1),
    ),
]


@FAST
@given(floats(-3, 3), floats(-3, 3))
@pytest.mark.parametrize(("name", "make", "ref"), ARITH, ids=[a[0] for a in ARITH])
def test_op_arithmetic(
    name: str,
    make: Callable[[], bp.Op[float, float, float]],
    ref: Callable[[float, float], float],
    x: float,
    y: float,
) -> None:
    o = make()
    val, gs = bp.run_op(o, (x, y))
    assert math.isclose(val, ref(x, y), rel_tol=1e-12, abs_tol=1e-12)
    assert_close(gs, fd_grad(ref, [x, y]), abs_=1e-6)


# ---- running ops ----------------------------------------------------------------------------


SCALAR_OPS: list[tuple[str, Any, tuple[float, ...]]] = [
    ("square", square, (1.7,)),
    ("my_sin", my_sin, (0.4,)),
    ("my_mul", my_mul, (2.0, -3.0)),
    ("prod3", prod3, (1.0, 2.0, -0.5)),
    ("poly", poly, (1.0, -2.0, 0.5, 3.0)),
    ("div_op", bp.div_op, (3.0, 1.5)),
    ("bp_op", bp.bp_op(f2), (0.3, 1.2)),
]


@FAST
@given(st.floats(-3, 3, allow_nan=False), st.sampled_from(SCALAR_OPS))
def test_run_eval_grad_grad_with(dy: float, case: tuple[str, Any, tuple[float, ...]]) -> None:
    _, op, xs = case
    y, gs = bp.run_op(op, xs)
    assert bp.eval_op(op, xs) == y
    assert bp.grad_op(op, xs) == gs
    with_dy = bp.grad_op_with(op, xs, dy)
    assert_close(with_dy, [dy * g for g in gs], rel=1e-12, abs_=1e-12)
    assert bp.grad_op_with(op, xs, 1.0) == gs


# ---- lifting --------------------------------------------------------------------------------


def test_lift_op1_2_3() -> None:
    assert bp.backprop(lambda x: bp.lift_op1(square, x), 3.0) == (9.0, 6.0)
    assert bp.backprop(lambda x: bp.lift_op1(bp.exp_op, x), 0.0) == (1.0, 1.0)
    assert bp.backprop2(lambda x, y: bp.lift_op2(my_mul, x, y), 3.0, 5.0) == (15.0, (5.0, 3.0))
    assert bp.backprop2(lambda x, y: bp.lift_op2(bp.sub_op, x, y), 3.0, 5.0) == (-2.0, (1.0, -1.0))
    assert bp.backprop_n(lambda x, y, z: bp.lift_op3(prod3, x, y, z), 2.0, 3.0, 4.0) == (
        24.0,
        (12.0, 8.0, 6.0),
    )
    # plain values are taken as constants
    assert bp.backprop(lambda x: bp.lift_op2(my_mul, x, 4.0), 3.0) == (12.0, 4.0)  # type: ignore[arg-type]


def weighted_fwd(*xs: float) -> tuple[float, Callable[[float], tuple[float, ...]]]:
    return sum((i + 1) * x for i, x in enumerate(xs)), lambda d: tuple(
        (i + 1) * d for i in range(len(xs))
    )


weighted: bp.Op[*tuple[float, ...], float] = bp.op_n(weighted_fwd)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_lift_op_arities_and_call_syntax(n: int) -> None:
    xs = tuple(float(i) + 0.5 for i in range(n))
    want_val = sum((i + 1) * x for i, x in enumerate(xs))
    want_grad = tuple(float(i + 1) for i in range(n))
    # lift_op's overloads are per fixed arity; an op of variable arity is rejected statically
    assert bp.backprop_n(lambda *vs: bp.lift_op(weighted, *vs), *xs) == (want_val, want_grad)  # type: ignore[arg-type]
    assert bp.backprop_n(lambda *vs: weighted(*vs), *xs) == (want_val, want_grad)
    # a squared wrapper so the gradient depends on the values too
    val, gs = bp.backprop_n(lambda *vs: bp.lift_op(weighted, *vs) * weighted(*vs), *xs)  # type: ignore[arg-type]
    assert val == want_val * want_val
    assert gs == tuple(2 * want_val * g for g in want_grad)


def test_lift_op_arity_0() -> None:
    v = bp.lift_op(bp.op0(2.5))
    assert v.is_constant and v.value == 2.5
    assert bp.eval_bp0(lambda: bp.lift_op(bp.op0(2.5)) * 2.0) == 5.0


# ---- native ops -----------------------------------------------------------------------------


def signed(lo: float, hi: float) -> st.SearchStrategy[float]:
    return away_from_zero(lo, hi)


def _sign(x: float) -> float:
    return 0.0 if x == 0 else math.copysign(1.0, x)


UNARY_NATIVE: list[
    tuple[str, bp.Op[float, float], Callable[[float], float], st.SearchStrategy[float]]
] = [
    ("neg_op", bp.neg_op, lambda x: -x, floats(-5, 5)),
    ("abs_op", bp.abs_op, abs, signed(0.05, 5)),
    ("signum_op", bp.signum_op, _sign, signed(0.05, 5)),
    ("recip_op", bp.recip_op, lambda x: 1 / x, signed(0.2, 5)),
    ("exp_op", bp.exp_op, math.exp, floats(-3, 3)),
    ("log_op", bp.log_op, math.log, floats(0.1, 10)),
    ("sqrt_op", bp.sqrt_op, math.sqrt, floats(0.1, 10)),
    ("sin_op", bp.sin_op, math.sin, floats(-5, 5)),
    ("cos_op", bp.cos_op, math.cos, floats(-5, 5)),
    ("tan_op", bp.tan_op, math.tan, floats(-1.2, 1.2)),
    ("asin_op", bp.asin_op, math.asin, floats(-0.9, 0.9)),
    ("acos_op", bp.acos_op, math.acos, floats(-0.9, 0.9)),
    ("atan_op", bp.atan_op, math.atan, floats(-5, 5)),
    ("sinh_op", bp.sinh_op, math.sinh, floats(-3, 3)),
    ("cosh_op", bp.cosh_op, math.cosh, floats(-3, 3)),
    ("tanh_op", bp.tanh_op, math.tanh, floats(-3, 3)),
    ("asinh_op", bp.asinh_op, math.asinh, floats(-5, 5)),
    ("acosh_op", bp.acosh_op, math.acosh, floats(1.1, 5)),
    ("atanh_op", bp.atanh_op, math.atanh, floats(-0.9, 0.9)),
]


@pytest.mark.parametrize(
    ("name", "op", "ref", "dom"), UNARY_NATIVE, ids=[u[0] for u in UNARY_NATIVE]
)
def test_native_unary_ops(
    name: str, op: bp.Op[float, float], ref: Callable[[float], float], dom: st.SearchStrategy[float]
) -> None:
    @FAST
    @given(dom)
    def check(x: float) -> None:
        y, gs = bp.run_op(op, (x,))
        assert math.isclose(y, ref(x), rel_tol=1e-12, abs_tol=1e-14)
        assert_close(gs, fd_grad(ref, [x]))

    check()


BINARY_NATIVE: list[
    tuple[
        str,
        bp.Op[float, float, float],
        Callable[[float, float], float],
        st.SearchStrategy[tuple[float, float]],
    ]
] = [
    ("add_op", bp.add_op, lambda x, y: x + y, st.tuples(floats(-5, 5), floats(-5, 5))),
    ("sub_op", bp.sub_op, lambda x, y: x - y, st.tuples(floats(-5, 5), floats(-5, 5))),
    ("mul_op", bp.mul_op, lambda x, y: x * y, st.tuples(floats(-5, 5), floats(-5, 5))),
    ("div_op", bp.div_op, lambda x, y: x / y, st.tuples(floats(-5, 5), signed(0.2, 5))),
    ("pow_op", bp.pow_op, lambda x, y: x**y, st.tuples(floats(0.2, 3), floats(-2, 2))),
    (
        "log_base_op",
        bp.log_base_op,
        lambda b, x: math.log(x) / math.log(b),
        st.tuples(st.one_of(floats(1.5, 5), floats(0.2, 0.7)), floats(0.2, 10)),
    ),
]


@pytest.mark.parametrize(
    ("name", "op", "ref", "dom"), BINARY_NATIVE, ids=[b[0] for b in BINARY_NATIVE]
)
def test_native_binary_ops(
    name: str,
    op: bp.Op[float, float, float],
    ref: Callable[[float, float], float],
    dom: st.SearchStrategy[tuple[float, float]],
) -> None:
    @FAST
    @given(dom)
    def check(xy: tuple[float, float]) -> None:
        y, gs = bp.run_op(op, xy)
        assert math.isclose(y, ref(*xy), rel_tol=1e-12, abs_tol=1e-14)
        assert_close(gs, fd_grad(ref, xy), abs_=1e-7)

    check()


def test_native_op_values() -> None:
    assert bp.eval_op(bp.log_base_op, (2.0, 8.0)) == pytest.approx(3.0, rel=1e-15)
    assert bp.eval_op(bp.pow_op, (2.0, 10.0)) == 1024.0
    assert bp.eval_op(bp.signum_op, (-3.0,)) == -1.0
    # native ops are applied with the call syntax too, and on plain values give constants
    assert bp.grad_bp(lambda x: bp.sin_op(x) * bp.cos_op(x), 0.0) == 1.0
    assert bp.lift_op(bp.exp_op, 0.0).is_constant  # type: ignore[call-overload]


# ---- no_grad --------------------------------------------------------------------------------


def round_to_int(x: float) -> float:
    return float(round(x))


def larger_of(a: float, b: float) -> float:
    return max(a, b)


rnd: bp.Op[float, float] = bp.no_grad1(round_to_int)
larger: bp.Op[float, float, float] = bp.no_grad(larger_of)


def test_no_grad_evaluates() -> None:
    assert bp.eval_op(rnd, (2.6,)) == 3.0
    assert bp.eval_bp(lambda x: rnd(x) * x, 2.6) == pytest.approx(7.8)
    assert bp.eval_op(larger, (1.0, 4.0)) == 4.0
    assert bp.eval_bp2(lambda a, b: larger(a, b) + a, 1.0, 4.0) == 5.0


def test_no_grad_raises_when_reached() -> None:
    with pytest.raises(bp.NoGradientError, match="round_to_int"):
        bp.grad_bp(lambda x: rnd(x) * x, 2.6)
    with pytest.raises(bp.NoGradientError, match="larger_of"):
        bp.grad_bp2(lambda a, b: larger(a, b), 1.0, 4.0)
    with pytest.raises(bp.NoGradientError, match="round_to_int"):
        bp.grad_op(rnd, (1.2,))
    with pytest.raises(bp.NoGradientError):
        bp.backprop_with(lambda x: rnd(x), 1.2)[1](1.0)


def test_no_grad_error_names_construction_site() -> None:
    frame = inspect.currentframe()
    assert frame is not None
    line = frame.f_lineno + 1
    here = bp.no_grad1(round_to_int)
    with pytest.raises(bp.NoGradientError) as info:
        bp.grad_bp(lambda x: here(x), 2.6)
    assert f"test_ops.py:{line}" in str(info.value)


def test_no_grad_not_raised_when_unused_or_unreached() -> None:
    # output unused
    assert bp.grad_bp(lambda x: (rnd(x), x * 2.0)[1], 2.6) == 2.0

    # output used only by a node the gradient never reaches
    def unreached(x: bp.BVar[float]) -> bp.BVar[float]:
        r = rnd(x)
        _ = r * x + larger(r, x)
        return x * 3.0

    assert bp.grad_bp(unreached, 2.6) == 3.0
    # output used only through .value (no gradient flows through it)
    assert bp.grad_bp(lambda x: x * rnd(x).value, 2.6) == 3.0
    # applied to constants only: constant-folded
    assert bp.grad_bp(lambda x: x * rnd(bp.const_var(2.6)), 1.0) == 3.0
    # evaluation through backprop still gives the value
    assert bp.backprop(lambda x: (larger(x, x * 2.0), x)[1], 2.0) == (2.0, 1.0)
