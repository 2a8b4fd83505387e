"""The typed entry points added for ops and runners: the method forms of the op runners
(`op.run`, `op.eval`, `op.grad`, `op.grad_with`, `op.backprop_with`, `op.then`), `compose_op` of a
tuple of ops, `bp_op` per arity, and the per-arity runners of bprop.explicit / bprop.num (one
`zero=`/`add=` function for every input, or a tuple with one per input).

Values are checked against the function forms and gradients against central differences."""

from __future__ import annotations

import math
from collections.abc import Callable

import bprop as bp
import pytest
from bprop import BVar, explicit, num
from fd import assert_grad_close, central_diff


def scale_fwd(x: float, n: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x * x * n, lambda d: (2.0 * d * x * n, d * x * x)


scale = bp.op2(scale_fwd)


def scale_value(x: float, n: float) -> float:
    return x * x * n


def test_method_forms_equal_the_runners() -> None:
    xs = (1.5, -0.7)
    assert scale.run(*xs) == bp.run_op(scale, xs)
    assert scale.eval(*xs) == bp.eval_op(scale, xs) == scale_value(*xs)
    assert scale.grad(*xs) == bp.grad_op(scale, xs)
    assert scale.grad_with(*xs, dy=2.5) == bp.grad_op_with(scale, xs, 2.5)
    y, pullback = scale.backprop_with(*xs)
    assert y == scale_value(*xs)
    assert pullback(2.5) == bp.grad_op_with(scale, xs, 2.5)
    assert pullback(1.0) == scale.grad(*xs)  # reusable


def test_grad_method_matches_finite_differences() -> None:
    xs = (1.5, -0.7)
    assert_grad_close(scale.grad(*xs), central_diff(scale_value, xs))
    assert_grad_close(bp.sin_op.grad(0.4), (math.cos(0.4),))


def test_method_forms_check_the_arity_at_run_time() -> None:
    with pytest.raises(bp.ArityError, match="scale_fwd"):
        scale.grad(1.0)  # type: ignore[call-arg]
    with pytest.raises(bp.ArityError, match="scale_fwd"):
        scale.eval(1.0, 2.0, 3.0)  # type: ignore[call-arg]


def test_then_is_compose_op1() -> None:
    piped = scale.then(bp.sin_op).then(bp.exp_op)
    xs = (0.8, 1.3)

    def value(x: float, n: float) -> float:
        return math.exp(math.sin(scale_value(x, n)))

    assert piped.eval(*xs) == pytest.approx(value(*xs))
    assert piped.eval(*xs) == bp.compose_op1(bp.compose_op1(scale, bp.sin_op), bp.exp_op).eval(*xs)
    assert_grad_close(piped.grad(*xs), central_diff(value, xs))
    assert "compose_op1" in piped.name


def test_compose_op_of_a_tuple() -> None:
    h = bp.compose_op((bp.sin_op, bp.cos_op), bp.mul_op)  # sin x * cos x
    assert h.eval(0.3) == pytest.approx(math.sin(0.3) * math.cos(0.3))
    assert_grad_close(h.grad(0.3), (math.cos(0.6),))
    # a list is still accepted at run time, with the same result
    assert bp.compose_op([bp.sin_op, bp.cos_op], bp.mul_op).grad(0.3) == h.grad(0.3)  # type: ignore[call-overload]
    with pytest.raises(bp.ArityError, match="mul"):
        bp.compose_op((bp.sin_op,), bp.mul_op)  # type: ignore[arg-type]


def test_bp_op_per_arity() -> None:
    def f2(x: BVar[float], y: BVar[float]) -> BVar[float]:
        return bp.sin(x) * y

    def total(*vs: BVar[float]) -> BVar[float]:
        out = vs[0]
        for v in vs[1:]:
            out = out + v
        return out

    op = bp.bp_op(f2)
    assert_grad_close(op.grad(0.5, 2.0), central_diff(lambda x, y: math.sin(x) * y, (0.5, 2.0)))
    variadic = bp.bp_op(total)
    assert variadic.grad(1.0, 2.0, 3.0) == (1.0, 1.0, 1.0)
    assert variadic.grad(1.0) == (1.0,)


def cmul(a: BVar[complex], b: BVar[complex]) -> BVar[complex]:
    return a * b


def test_explicit_two_inputs_take_one_function_for_all() -> None:
    calls: list[object] = []

    def zero(x: float) -> float:
        calls.append(x)
        return 0.0

    def add(a: float, b: float) -> float:
        return a + b

    def f(x: BVar[float], y: BVar[float]) -> BVar[float]:
        return x * x  # y never reached: its gradient is zero(y)

    grads = explicit.grad_bp2(f, 3.0, 4.0, zero=zero, add=add, one=lambda y: 1.0)
    assert grads == (6.0, 0.0)
    assert calls == [4.0]
    y, pullback = explicit.backprop_with2(f, 3.0, 4.0, zero=zero, add=add)
    assert (y, pullback(2.0)) == (9.0, (12.0, 0.0))


def test_explicit_n_inputs_per_arity() -> None:
    a, b = 2 + 0j, 1 + 1j
    zeros = (lambda x: 0j, lambda z: 0j)
    adds = (lambda u, v: u + v, lambda u, v: u + v)
    y, grads = explicit.backprop_n(cmul, a, b, zero=zeros, add=adds, one=lambda y: 1 + 0j)
    assert y == a * b
    assert grads == (b, a)  # no conjugation (Haskell's convention)
    assert explicit.grad_bp_n(cmul, a, b, zero=zeros, add=adds, one=lambda y: 1 + 0j) == grads
    assert num.grad_bp_n(cmul, a, b) == grads
    assert num.backprop_n(cmul, a, b) == (y, grads)
    _, pullback = num.backprop_with_n(cmul, a, b)
    assert pullback(2 + 0j) == (2 * b, 2 * a)


def test_explicit_lift_op_per_arity() -> None:
    count: list[int] = []

    def add(a: float, b: float) -> float:
        count.append(1)
        return a + b

    def f(x: BVar[float]) -> BVar[float]:
        return explicit.lift_op(bp.mul_op, x, x, add=add)

    assert bp.grad_bp(f, 3.0) == 6.0
    assert count == [1]
    assert bp.grad_bp(lambda x: num.lift_op(bp.mul_op, x, x), 3.0) == 6.0
