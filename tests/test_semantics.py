"""Semantics of running functions and of BVars.

Fan-out accumulation, zero gradients for unreached inputs, where the seed goes, which pullbacks
run, constant folding, the runners of every arity, value-level comparisons and conversions, the
generic (non-float) path, numpy ufunc dispatch and the numeric edge cases at 0.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from typing import Any

import bprop as bp
import numpy as np
import pytest
from fd import central_diff as fd_grad
from hypothesis import example, given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=25, deadline=None)


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def assert_close(
    got: Sequence[float], want: Sequence[float], rel: float = 1e-6, abs_: float = 1e-7
) -> None:
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        assert math.isclose(g, w, rel_tol=rel, abs_tol=abs_), (got, want)


class Counting:
    """A custom op `x -> 2 * x` that records every forward call and every pullback call."""

    def __init__(self) -> None:
        self.forwards = 0
        self.calls: list[Any] = []

        def fwd(x: Any) -> tuple[Any, Callable[[Any], Any]]:
            self.forwards += 1

            def pullback(d: Any) -> Any:
                self.calls.append(d)
                return 2 * d

            return 2 * x, pullback

        self.op: bp.Op[Any, Any] = bp.op1(fwd)


# ---- fan-out --------------------------------------------------------------------------------


@FAST
@given(floats(-3, 3))
def test_fan_out_pullback_called_once_with_summed_gradient(x: float) -> None:
    c = Counting()

    def f(v: bp.BVar[float]) -> bp.BVar[float]:
        y = c.op(v)  # y = 2x, used three times below
        return y + y * y + 3.0 * y

    val, g = bp.backprop(f, x)
    y = 2 * x
    assert val == pytest.approx(y + y * y + 3 * y)
    assert len(c.calls) == 1
    assert c.calls[0] == pytest.approx(1 + 2 * y + 3, rel=1e-12, abs=1e-12)
    assert_close([g], fd_grad(lambda t: 2 * t + 4 * t * t + 6 * t, [x]), abs_=1e-6)


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_input_used_k_times_gets_the_sum(k: int) -> None:
    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        acc = x
        for _ in range(k - 1):
            acc = acc + x
        return acc

    assert bp.grad_bp(f, 1.25) == float(k)
    assert bp.grad_bp(lambda x: x * x * x, 2.0) == 12.0


def test_fan_out_generic_int_node() -> None:
    c = Counting()

    def f(v: Any) -> Any:
        y = c.op(v)  # y = 6
        return y * y + y

    val, g = bp.backprop(f, 3)
    assert val == 42
    assert c.calls == [13]  # 2y + 1, summed before the single call
    assert g == 26 and type(g) is int


def test_fan_out_tuple_node_adds_tuple_gradients() -> None:
    calls: list[Any] = []

    def make_pair(
        a: float, b: float
    ) -> tuple[tuple[float, float], Callable[[Any], tuple[float, float]]]:
        def pullback(d: Any) -> tuple[float, float]:
            calls.append(d)
            return d[0], d[1]

        return (a, b), pullback

    pair = bp.op2(make_pair)
    mul: bp.Op[Any, Any] = bp.op1(lambda t: (t[0] * t[1], lambda d: (d * t[1], d * t[0])))
    add: bp.Op[Any, Any] = bp.op1(lambda t: (t[0] + t[1], lambda d: (d, d)))

    def f(x: bp.BVar[float], y: bp.BVar[float]) -> bp.BVar[float]:
        t = pair(x, y)
        return mul(t) + add(t)

    assert bp.backprop2(f, 2.0, 5.0) == (17.0, (6.0, 3.0))
    assert calls == [(6.0, 3.0)]


@FAST
@given(floats(-2, 2), floats(-2, 2))
def test_shared_subexpressions_against_finite_differences(x: float, y: float) -> None:
    def f(a: bp.BVar[float], b: bp.BVar[float]) -> bp.BVar[float]:
        s = a * b
        t = bp.sin(s) + s * a
        return t * t + b / (1.0 + a * a) - bp.exp(s)

    def ref(a: float, b: float) -> float:
        s = a * b
        t = math.sin(s) + s * a
        return t * t + b / (1.0 + a * a) - math.exp(s)

    val, gs = bp.backprop2(f, x, y)
    assert math.isclose(val, ref(x, y), rel_tol=1e-12, abs_tol=1e-12)
    assert_close(gs, fd_grad(ref, [x, y]), abs_=1e-6)


# ---- zero for unreached inputs ----------------------------------------------------------------


def test_unused_inputs_get_zero_of_their_type() -> None:
    gs = bp.grad_bp_n(lambda a, b, c, d: a * 2.0, 1.5, 7, (1.0, 2), 4.0)
    assert gs == (2.0, 0, (0.0, 0), 0.0)
    assert type(gs[1]) is int
    assert type(gs[2]) is tuple and type(gs[2][0]) is float and type(gs[2][1]) is int
    assert type(gs[3]) is float
    # reached only through .value: still zero
    assert bp.grad_bp2(lambda a, b: a * b.value, 2.0, 3.0) == (3.0, 0.0)


def test_output_is_input() -> None:
    assert bp.grad_bp(lambda x: x, 5.0) == 1.0
    assert bp.backprop(lambda x: x, 5.0) == (5.0, 1.0)
    assert bp.grad_bp(lambda x: x, 5) == 1
    assert bp.grad_bp(lambda x: x, (1.0, 2)) == (1.0, 1)
    assert bp.grad_bp2(lambda x, y: y, 1.0, 2.0) == (0.0, 1.0)

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        _ = x * x + bp.sin(x)  # recorded after the input, unrelated to the output
        return x

    assert bp.grad_bp(f, 5.0) == 1.0


def test_constant_output() -> None:
    assert (
        bp.grad_bp(lambda x: bp.const_var(1.0) if (x * 2).value > 3 else bp.const_var(0.0), 5.0)
        == 0.0
    )
    assert bp.backprop(lambda x: bp.const_var(3.0), 2.0) == (3.0, 0.0)
    assert bp.grad_bp_n(lambda a, b: bp.const_var(1.0), 2.0, (3.0, 1)) == (0.0, (0.0, 0))
    # computed from constants only: still constant
    assert bp.grad_bp(lambda x: bp.sin(bp.const_var(1.0)) * 2.0, 2.0) == 0.0


def test_seed_goes_to_the_output_node_not_the_last_recorded() -> None:
    late = Counting()

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        out = x * x
        _ = out * 5.0  # recorded after the output
        _ = bp.exp(x) + out
        _ = late.op(out)
        return out

    assert bp.backprop(f, 3.0) == (9.0, 6.0)
    assert late.calls == []

    def g(x: bp.BVar[float], y: bp.BVar[float]) -> bp.BVar[float]:
        out = x * y
        _ = y * y * y
        return out

    assert bp.grad_bp2(g, 2.0, 3.0) == (3.0, 2.0)


def test_unreached_pullback_never_called() -> None:
    a = Counting()
    b = Counting()

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        y = a.op(x)  # computed, but only feeds an unused node
        _ = b.op(y) * x
        return x * 4.0

    assert bp.grad_bp(f, 1.5) == 4.0
    assert a.forwards == 1 and b.forwards == 1
    assert a.calls == [] and b.calls == []


# ---- constant folding ---------------------------------------------------------------------------


def test_ops_on_constants_give_constants() -> None:
    c = bp.const_var(2.0)
    assert c.is_constant
    assert bp.auto(2.0).is_constant
    for v in [
        c * 3.0,
        c + c,
        -c,
        c**2.0,
        1.0 / c,
        abs(c),
        bp.sin(c),
        bp.log_base(c, 8.0),
        np.exp(c),
    ]:
        assert v.is_constant
    assert (c * 3.0).value == 6.0
    assert bp.sin(c).value == math.sin(2.0)
    assert bp.eval_bp0(lambda: bp.const_var(2.0) * bp.const_var(4.0) + 1.0) == 9.0


def test_constant_folding_records_no_node_but_runs_forward() -> None:
    counter = Counting()
    t = bp._core.Tape()
    x = t.input(1.0)
    assert not x.is_constant
    n = len(t)
    c = counter.op(bp.const_var(2.0))
    d = bp.sin(bp.const_var(1.0)) * bp.const_var(3.0)
    e = bp.lift_op(bp.op2(lambda p, q: (p * q, lambda g: (g * q, g * p))), bp.const_var(2.0), 5.0)  # type: ignore[call-overload]
    assert c.is_constant and d.is_constant and e.is_constant
    assert c.value == 4.0 and e.value == 10.0
    assert counter.forwards == 1
    assert len(t) == n  # nothing recorded
    y = x * c  # one real op: one node
    assert len(t) == n + 1 and not y.is_constant
    t.close()
    assert counter.calls == []


def test_constant_folded_custom_op_in_a_run() -> None:
    counter = Counting()
    assert bp.grad_bp(lambda x: x * counter.op(bp.const_var(2.5)), 1.0) == 5.0
    assert counter.forwards == 1
    assert counter.calls == []


def test_eval_bp_passes_constants() -> None:
    seen: list[bool] = []

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        seen.append(x.is_constant)
        y = x * x
        seen.append(y.is_constant)
        return y

    assert bp.eval_bp(f, 3.0) == 9.0
    assert seen == [True, True]


# ---- runners ------------------------------------------------------------------------------------


@FAST
@given(floats(-2, 2), floats(-3, 3), floats(-3, 3), floats(-2, 2), floats(-2, 2))
def test_backprop_with_pullback_is_reusable_and_linear(
    x: float, d1: float, d2: float, a: float, b: float
) -> None:
    c = Counting()

    def f(v: bp.BVar[float]) -> bp.BVar[float]:
        return bp.sin(c.op(v)) * v

    y, pb = bp.backprop_with(f, x)
    assert y == pytest.approx(math.sin(2 * x) * x, rel=1e-12, abs=1e-12)
    g = bp.grad_bp(f, x)
    g1, g2 = pb(d1), pb(d2)
    assert g1 == pytest.approx(d1 * g, rel=1e-12, abs=1e-12)
    assert g2 == pytest.approx(d2 * g, rel=1e-12, abs=1e-12)
    assert pb(a * d1 + b * d2) == pytest.approx(a * g1 + b * g2, rel=1e-9, abs=1e-9)
    assert pb(d1) == g1  # same answer again
    assert len(c.calls) == 5  # one custom pullback call per sweep (grad_bp's run is separate)


def test_backprop2_family() -> None:
    def f(x: bp.BVar[float], y: bp.BVar[float]) -> bp.BVar[float]:
        return x * x * y + y

    assert bp.backprop2(f, 3.0, 2.0) == (20.0, (12.0, 10.0))
    assert bp.eval_bp2(f, 3.0, 2.0) == 20.0
    assert bp.grad_bp2(f, 3.0, 2.0) == (12.0, 10.0)
    y, pb = bp.backprop_with2(f, 3.0, 2.0)
    assert y == 20.0
    assert pb(1.0) == (12.0, 10.0)
    assert pb(0.5) == (6.0, 5.0)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 9])
def test_n_ary_runners(n: int) -> None:
    xs = tuple(float(i + 1) for i in range(n))

    def f(*vs: bp.BVar[float]) -> bp.BVar[float]:
        acc = vs[0] * vs[0]
        for i, v in enumerate(vs[1:], start=2):
            acc = acc + v * float(i)
        return acc

    want_val = 1.0 + sum(float(i) * x for i, x in zip(range(2, n + 1), xs[1:]))
    want_grad = (2.0,) + tuple(float(i) for i in range(2, n + 1))
    assert bp.backprop_n(f, *xs) == (want_val, want_grad)
    assert bp.grad_bp_n(f, *xs) == want_grad
    assert bp.eval_bp_n(f, *xs) == want_val
    y, pb = bp.backprop_with_n(f, *xs)
    assert y == want_val
    assert pb(1.0) == want_grad
    assert pb(-2.0) == tuple(-2.0 * g for g in want_grad)


def test_eval_bp0() -> None:
    assert bp.eval_bp0(lambda: bp.const_var(2.0) * 3.0) == 6.0
    assert bp.eval_bp0(lambda: bp.sqrt(bp.auto(16.0))) == 4.0
    assert bp.eval_bp0(lambda: bp.const_var((1.0, 2))) == (1.0, 2)


def generic_f(x: Any) -> Any:
    """Works on floats and on BVars alike."""
    return x * x * bp.sin(x) + 3.0 / (1.0 + x * x) - bp.exp(-x) * x + x**3.0


@FAST
@given(floats(-3, 3))
def test_eval_bp_equals_plain_computation(x: float) -> None:
    assert bp.eval_bp(generic_f, x) == generic_f(x)


@FAST
@given(floats(-3, 3))
@example(1.1875)  # 3.0 / (1.0 + x * x) is where a recorded division once differed by an ulp
def test_recorded_value_equals_plain_computation(x: float) -> None:
    val, _ = bp.backprop(generic_f, x)
    assert val == generic_f(x)
    assert bp.backprop(lambda v: 3.0 / v, 2.41015625)[0] == 3.0 / 2.41015625


# ---- comparisons and conversions -----------------------------------------------------------------


@FAST
@given(floats(-3, 3))
def test_branching_follows_the_taken_branch(x: float) -> None:
    def f(v: bp.BVar[float]) -> bp.BVar[float]:
        if v > 1.0:
            return v * v
        elif v <= -1.0:
            return -3.0 * v
        return bp.sin(v)

    want = 2 * x if x > 1.0 else (-3.0 if x <= -1.0 else math.cos(x))
    assert bp.grad_bp(f, x) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_comparisons_compare_values() -> None:
    def f(a: bp.BVar[float], b: bp.BVar[float]) -> bp.BVar[float]:
        results = [a < b, a <= b, a > b, a >= b, a == b, a != b, a < 2.5, 2.5 < a]
        assert results == [True, True, False, False, False, True, True, False]
        assert all(type(r) is bool for r in results)
        return max(a, b)

    assert bp.grad_bp2(f, 1.0, 2.0) == (0.0, 1.0)
    assert bp.const_var(2.0) == 2.0


@pytest.mark.parametrize(
    "conv", [bool, float, int, complex], ids=["bool", "float", "int", "complex"]
)
def test_conversions_raise_pointing_to_value(conv: Callable[[Any], Any]) -> None:
    seen: list[str] = []

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        with pytest.raises(TypeError, match=r"\.value") as info:
            conv(x)
        seen.append(str(info.value))
        return x * 2.0

    assert bp.grad_bp(f, 1.5) == 2.0
    assert len(seen) == 1
    with pytest.raises(TypeError, match=r"\.value"):
        conv(bp.const_var(1.5))


def test_if_on_a_bvar_raises() -> None:
    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        if x:  # the hidden-gradient bug `bool(v)` guards against
            return x
        return -x

    with pytest.raises(TypeError, match=r"\.value"):
        bp.grad_bp(f, 1.0)


def test_value_passes_no_gradient() -> None:
    assert bp.grad_bp(lambda x: x * x.value, 3.0) == 3.0
    assert bp.grad_bp(lambda x: bp.const_var(x.value) * 2.0, 3.0) == 0.0
    assert bp.grad_bp(lambda x: x * bp.sin(x).value, 0.5) == math.sin(0.5)


# ---- non-float values ------------------------------------------------------------------------


def test_tuple_output_seeded_with_one() -> None:
    val, gs = bp.backprop2(lambda x, y: bp.op_tup(x * y, x + y), 2.0, 3.0)
    assert val == (6.0, 5.0)
    assert bp.one(val) == (1.0, 1.0)
    assert gs == (3.0 + 1.0, 2.0 + 1.0)  # d/dx (xy) + d/dx (x+y), each seeded with 1
    _, pb = bp.backprop_with2(lambda x, y: bp.op_tup(x * y, x + y), 2.0, 3.0)
    assert pb((1.0, 0.0)) == (3.0, 2.0)
    assert pb((0.0, 1.0)) == (1.0, 1.0)


def test_int_inputs() -> None:
    g = bp.grad_bp(lambda x: x * x, 3)
    assert g == 6 and type(g) is int
    val, gs = bp.backprop2(lambda x, y: x * y + x, 3, 4)
    assert val == 15 and gs == (5, 3)
    assert all(type(v) is int for v in gs)


@FAST
@given(floats(-2, 2), floats(-2, 2))
def test_complex_values_generic_path(re: float, im: float) -> None:
    z = complex(re, im)
    val, g = bp.backprop(lambda v: v * v + 3 * v, z)
    assert val == pytest.approx(z * z + 3 * z, rel=1e-12, abs=1e-12)
    assert g == pytest.approx(2 * z + 3, rel=1e-12, abs=1e-12)  # d * f'(z), no conjugation
    val2, g2 = bp.backprop(lambda v: bp.exp(v) * v, z)
    assert complex(val2) == pytest.approx(cmath.exp(z) * z, rel=1e-12, abs=1e-12)
    assert complex(g2) == pytest.approx(cmath.exp(z) * (1 + z), rel=1e-12, abs=1e-12)


# ---- numpy ufuncs -----------------------------------------------------------------------------


@FAST
@given(floats(-3, 3), floats(-3, 3))
def test_numpy_ufunc_dispatch(x: float, y: float) -> None:
    assert bp.backprop(lambda v: np.sin(v), x) == (math.sin(x), math.cos(x))
    val, gs = bp.backprop2(lambda v, w: np.add(v, w), x, y)  # type: ignore[call-overload]
    assert val == x + y and gs == (1.0, 1.0)
    val, gs = bp.backprop2(lambda v, w: np.multiply(np.add(2.0, v), np.exp(w)), x, y)  # type: ignore[call-overload]
    assert val == pytest.approx((2.0 + x) * math.exp(y), rel=1e-12)
    assert gs == pytest.approx((math.exp(y), (2.0 + x) * math.exp(y)), rel=1e-12, abs=1e-12)
    g = bp.grad_bp(lambda v: np.negative(np.tanh(v)) * np.sqrt(np.multiply(v, v) + 1.0), x)  # type: ignore[call-overload]
    assert_close([g], fd_grad(lambda t: -math.tanh(t) * math.sqrt(t * t + 1.0), [x]))


@pytest.mark.parametrize("ufunc", [np.frexp, np.gcd, np.spacing, np.ldexp])
def test_unsupported_ufunc_raises_naming_it(ufunc: np.ufunc) -> None:
    args = (bp.const_var(1.5),) * ufunc.nin
    with pytest.raises(TypeError, match=ufunc.__name__):
        ufunc(*args)

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        return ufunc(*((x,) * ufunc.nin))  # type: ignore[no-any-return]

    with pytest.raises(TypeError, match=ufunc.__name__):
        bp.grad_bp(f, 1.5)


# ---- numeric edge cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("y", [0.0, 1.0, 2.0, 2.5, 3.0])
def test_pow_exponent_gradient_zero_at_zero_base(y: float) -> None:
    val, (gx, gy) = bp.backprop2(lambda a, b: a**b, 0.0, y)
    assert val == 0.0**y
    assert gy == 0.0 and not math.isnan(gy)
    assert not math.isnan(gx)
    if y >= 1.0:
        assert gx == (1.0 if y == 1.0 else 0.0)
    # a constant zero base
    assert bp.grad_bp(lambda b: 0.0**b, y) == 0.0


@pytest.mark.parametrize("y", [0, 1, 2, 3])
def test_pow_generic_int_path_at_zero_base(y: int) -> None:
    # the generic (non-float) path follows the native kernel's conventions
    val, (gx, gy) = bp.backprop2(lambda a, b: a**b, 0, y)
    assert val == 0**y
    assert gy == 0
    assert gx == (1 if y == 1 else 0)


@FAST
@given(floats(0.2, 3), floats(-2, 2))
def test_pow_gradients_away_from_zero(x: float, y: float) -> None:
    gs = bp.grad_bp2(lambda a, b: a**b, x, y)
    assert_close(gs, fd_grad(lambda a, b: a**b, [x, y]))


def test_abs_and_signum_gradient_zero_at_zero() -> None:
    for z in (0.0, -0.0):
        assert bp.grad_bp(abs, z) == 0.0
        assert bp.grad_bp(bp.signum, z) == 0.0
        assert bp.grad_op(bp.abs_op, (z,)) == (0.0,)
        assert bp.grad_op(bp.signum_op, (z,)) == (0.0,)
    assert bp.eval_bp(bp.signum, 0.0) == 0.0
    assert bp.grad_bp(lambda x: abs(x) * 3.0 + bp.signum(x), 0.0) == 0.0
    assert bp.grad_bp(abs, -2.0) == -1.0
    assert bp.grad_bp(abs, 2.0) == 1.0
    assert bp.grad_bp(bp.signum, 2.0) == 0.0
