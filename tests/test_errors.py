"""Errors: what is raised, what the messages name, and that nothing is left broken.

Every test here is followed (autouse fixture) by an ordinary gradient computation, with native and
custom ops, which must work normally: an error never corrupts shared state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop._core import Tape


def _healthy() -> None:
    sq = bp.op1(lambda x: (x * x, lambda d: 2 * x * d))
    val, g = bp.backprop(lambda x: sq(x) * bp.sin(x) + x, 1.5)
    assert val == pytest.approx(2.25 * math.sin(1.5) + 1.5, rel=1e-12)
    assert g == pytest.approx(3.0 * math.sin(1.5) + 2.25 * math.cos(1.5) + 1.0, rel=1e-12)
    assert bp.grad_bp_n(lambda a, b: a * b, 3, 4) == (4, 3)


@pytest.fixture(autouse=True)
def next_run_works() -> Iterator[None]:
    yield
    _healthy()


# ---- TapeScopeError -------------------------------------------------------------------------


def leak() -> bp.BVar[float]:
    """A BVar of a run that has finished."""
    leaked: list[bp.BVar[float]] = []

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        leaked.append(x)
        leaked.append(x * 2.0)
        return x * x

    assert bp.grad_bp(f, 2.0) == 4.0
    return leaked[1]


USES: list[tuple[str, Callable[[bp.BVar[float]], object]]] = [
    ("mul", lambda v: v * 2.0),
    ("radd", lambda v: 1.0 + v),
    ("neg", lambda v: -v),
    ("sin", lambda v: bp.sin(v)),
    ("np.exp", lambda v: np.exp(v)),
    ("native op", lambda v: bp.lift_op2(bp.mul_op, v, bp.auto(3.0))),
    ("custom op1", lambda v: bp.op1(lambda x: (x, lambda d: d))(v)),
    ("custom op_n", lambda v: bp.op_tup(v, bp.auto(1.0))),
]


@pytest.mark.parametrize("use", [u[1] for u in USES], ids=[u[0] for u in USES])
def test_bvar_used_after_its_run(use: Callable[[bp.BVar[float]], object]) -> None:
    v = leak()
    with pytest.raises(bp.TapeScopeError):
        use(v)


def test_leaked_bvar_in_a_new_run() -> None:
    v = leak()
    with pytest.raises(bp.TapeScopeError):
        bp.grad_bp(lambda y: y * v, 1.0)


def test_bvar_of_a_failed_run_is_closed_too() -> None:
    leaked: list[bp.BVar[float]] = []

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        leaked.append(x)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        bp.grad_bp(f, 1.0)
    with pytest.raises(bp.TapeScopeError):
        leaked[0] + 1.0


def test_mixing_bvars_of_two_unrelated_runs() -> None:
    # a run that is neither this one nor one it is nested in (here: a tape made by hand, as
    # another thread's run would be)
    other = Tape()
    v = other.input(1.0)
    with pytest.raises(bp.TapeScopeError, match="two different backprop runs"):
        bp.grad_bp(lambda x: x * v, 2.0)
    custom = bp.op2(lambda a, b: (a * b, lambda d: (d * b, d * a)))
    with pytest.raises(bp.TapeScopeError, match="two different backprop runs"):
        bp.grad_bp(lambda x: custom(x, v), 2.0)
    assert bp.grad_bp(lambda x: x * x, 2.0) == 4.0  # the next call works


def test_nested_independent_runs_are_fine() -> None:
    # nesting is allowed as long as the inner function does not touch outer BVars
    assert bp.grad_bp(lambda x: x * bp.grad_bp(lambda y: y * y, 3.0), 2.0) == 6.0
    # an inner run on an outer *value* is fine too
    assert bp.grad_bp(lambda x: x * bp.grad_bp(lambda y: y * x.value, 3.0), 2.0) == 2.0


# ---- ArityError -----------------------------------------------------------------------------


def one_grad_mul(x: float, y: float) -> tuple[float, Callable[[float], Any]]:
    return x * y, lambda d: (d * y,)


def three_grad_mul(x: float, y: float) -> tuple[float, Callable[[float], Any]]:
    return x * y, lambda d: (d * y, d * x, d)


def scalar_grad_mul(x: float, y: float) -> tuple[float, Callable[[float], Any]]:
    return x * y, lambda d: d * y


def two_grad_prod3(x: float, y: float, z: float) -> tuple[float, Callable[[float], Any]]:
    return x * y * z, lambda d: (d, d)


def short_sum(*xs: float) -> tuple[float, Callable[[float], Any]]:
    return sum(xs), lambda d: (d,) * (len(xs) - 1)


BAD_ARITY: list[tuple[str, Any, tuple[float, ...]]] = [
    ("one_grad_mul", bp.op2(one_grad_mul), (2.0, 3.0)),
    ("three_grad_mul", bp.op2(three_grad_mul), (2.0, 3.0)),
    ("scalar_grad_mul", bp.op2(scalar_grad_mul), (2.0, 3.0)),
    ("two_grad_prod3", bp.op3(two_grad_prod3), (2.0, 3.0, 4.0)),
    ("short_sum", bp.op_n(short_sum), (1.0, 2.0, 3.0, 4.0)),
]


@pytest.mark.parametrize(("name", "op", "xs"), BAD_ARITY, ids=[b[0] for b in BAD_ARITY])
def test_pullback_with_wrong_number_of_gradients(name: str, op: Any, xs: tuple[float, ...]) -> None:
    with pytest.raises(bp.ArityError, match=name) as info:
        bp.grad_op(op, xs)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, bp.BackpropError)
    with pytest.raises(bp.ArityError, match=name):
        bp.grad_bp_n(lambda *vs: op(*vs) * vs[0], *xs)
    # evaluating is fine: the pullback only runs on the way back
    assert bp.eval_op(op, xs) == pytest.approx(math.prod(xs) if name != "short_sum" else sum(xs))


def good_mul(x: float, y: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x * y, lambda d: (d * y, d * x)


def test_lift_op_with_wrong_number_of_bvars() -> None:
    mul = bp.op2(good_mul)

    def run(f: Callable[[bp.BVar[float]], Any]) -> None:
        bp.grad_bp(f, 2.0)

    with pytest.raises(bp.ArityError, match="good_mul") as info:
        run(lambda x: bp.lift_op(mul, x))  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)
    with pytest.raises(bp.ArityError, match="good_mul"):
        run(lambda x: mul(x, x, x))
    with pytest.raises(bp.ArityError, match="good_mul"):
        run(lambda x: bp.lift_op1(mul, x))  # type: ignore[arg-type]
    with pytest.raises(bp.ArityError, match="mul"):
        run(lambda x: bp.lift_op(bp.mul_op, x))  # type: ignore[arg-type]
    with pytest.raises(bp.ArityError, match="sin"):
        run(lambda x: bp.sin_op(x, x))
    with pytest.raises(bp.ArityError):
        bp.run_op(mul, (1.0,))  # type: ignore[misc]
    # a one-argument op applied to two arguments
    with pytest.raises(bp.ArityError):
        run(lambda x: bp.id_op(x, x))


def test_compose_op_arity_mismatch() -> None:
    with pytest.raises(bp.ArityError, match="mul"):
        bp.compose_op([bp.sin_op], bp.mul_op)


# ---- exceptions from user code ----------------------------------------------------------------


def test_pullback_exception_propagates_with_a_note() -> None:
    raised: list[ValueError] = []

    def fragile_fwd(x: float) -> tuple[float, Callable[[float], float]]:
        def pullback(d: float) -> float:
            err = ValueError("no gradient today")
            raised.append(err)
            raise err

        return x * 3.0, pullback

    fragile = bp.op1(fragile_fwd)
    with pytest.raises(ValueError, match="no gradient today") as info:
        bp.grad_bp(lambda x: fragile(x) * x, 2.0)
    assert type(info.value) is ValueError
    assert info.value is raised[0]  # the very object the pullback raised
    notes = getattr(info.value, "__notes__", [])
    assert any("fragile_fwd" in n for n in notes), notes


def test_pullback_exception_of_a_multi_argument_op() -> None:
    class Custom(Exception):
        pass

    def angry_fwd(x: float, y: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
        def pullback(d: float) -> tuple[float, float]:
            raise Custom("nope")

        return x + y, pullback

    angry = bp.op2(angry_fwd)
    with pytest.raises(Custom) as info:
        bp.grad_bp2(lambda a, b: angry(a, b), 1.0, 2.0)
    assert any("angry_fwd" in n for n in getattr(info.value, "__notes__", []))


def test_forward_exception_propagates_unchanged() -> None:
    def broken_fwd(x: float) -> tuple[float, Callable[[float], float]]:
        raise KeyError("forward")

    broken = bp.op1(broken_fwd)
    with pytest.raises(KeyError, match="forward"):
        bp.grad_bp(lambda x: broken(x), 1.0)
    with pytest.raises(KeyError, match="forward"):
        bp.eval_op(broken, (1.0,))


def test_backprop_with_pullback_usable_after_it_raised() -> None:
    def picky_fwd(x: float) -> tuple[float, Callable[[float], float]]:
        def pullback(d: float) -> float:
            if d > 10.0:
                raise OverflowError("too big")
            return 2.0 * d

        return 2.0 * x, pullback

    picky = bp.op1(picky_fwd)
    _, pb = bp.backprop_with(lambda x: picky(x) * 3.0, 1.0)
    with pytest.raises(OverflowError):
        pb(5.0)  # reaches picky with 15
    assert pb(1.0) == 6.0
    assert pb(2.0) == 12.0


def test_pullback_returning_wrong_type_for_a_float_argument() -> None:
    def stringy1_fwd(x: float) -> tuple[float, Callable[[float], Any]]:
        return x, lambda d: "oops"

    def stringy2_fwd(x: float, y: float) -> tuple[float, Callable[[float], Any]]:
        return x + y, lambda d: (d, "oops")

    def tupled_fwd(x: float) -> tuple[float, Callable[[float], Any]]:
        return x, lambda d: (d,)  # op1 pullbacks return the gradient itself, not a 1-tuple

    with pytest.raises(TypeError, match="stringy1_fwd") as info:
        bp.grad_bp(lambda x: bp.op1(stringy1_fwd)(x), 1.0)
    assert "argument 0" in str(info.value)
    assert not isinstance(info.value, bp.ArityError)

    with pytest.raises(TypeError, match="stringy2_fwd") as info2:
        bp.grad_bp2(lambda a, b: bp.op2(stringy2_fwd)(a, b), 1.0, 2.0)
    assert "argument 1" in str(info2.value)

    with pytest.raises(TypeError, match="tupled_fwd") as info3:
        bp.grad_bp(lambda x: bp.op1(tupled_fwd)(x), 1.0)
    assert "argument 0" in str(info3.value)


def test_pullback_may_return_none_for_zero() -> None:
    # the documented way to say "no contribution" (not an error)
    half = bp.op2(lambda x, y: (x * y, lambda d: (d * y, None)))
    assert bp.grad_bp2(lambda a, b: half(a, b), 2.0, 3.0) == (3.0, 0.0)


@pytest.mark.parametrize(
    "fwd",
    [
        lambda x: x * 2.0,  # a bare value
        lambda x: (x * 2.0, lambda d: d, "extra"),  # a triple
        lambda x: (x * 2.0,),  # a 1-tuple
    ],
    ids=["value", "triple", "one-tuple"],
)
def test_forward_not_returning_a_pair(fwd: Callable[[float], Any]) -> None:
    op = bp.op1(fwd)
    with pytest.raises(TypeError, match="pair"):
        bp.grad_bp(lambda x: op(x), 1.0)
    with pytest.raises(TypeError, match="pair"):
        bp.eval_op(op, (1.0,))


def bvar_fwd(x: float) -> tuple[Any, Callable[[float], float]]:
    return bp.const_var(x), lambda d: d


def test_forward_returning_a_bvar() -> None:
    op = bp.op1(bvar_fwd)
    with pytest.raises(TypeError, match="bp_op"):
        bp.grad_bp(lambda x: op(x), 1.0)


def untyped(f: Callable[..., object]) -> Any:
    """`f` with its type hidden (these calls are wrong on purpose; mypy would reject them)."""
    return f


@pytest.mark.parametrize(
    "run",
    [
        lambda: bp.grad_bp(untyped(lambda x: 3.0), 1.0),
        lambda: bp.backprop(untyped(lambda x: x.value * 2.0), 1.0),
        lambda: bp.eval_bp(untyped(lambda x: 3.0), 1.0),
        lambda: bp.backprop_with(untyped(lambda x: None), 1.0),
        lambda: bp.grad_bp2(
            untyped(lambda x, y: (x.value, y.value)), 1.0, 2.0
        ),  # a container holding no BVar
        lambda: bp.backprop_n(untyped(lambda *xs: [x.value for x in xs]), 1.0, 2.0, 3.0),
        lambda: bp.eval_bp0(untyped(lambda: 1.0)),
    ],
    ids=["grad_bp", "backprop", "eval_bp", "backprop_with", "grad_bp2", "backprop_n", "eval_bp0"],
)
def test_function_returning_a_non_bvar(run: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="BVar"):
        run()


# ---- BackpropInstanceError ------------------------------------------------------------------------


class Unregistered:
    def __init__(self, x: float) -> None:
        self.x = x


def test_unregistered_type_as_input() -> None:
    with pytest.raises(bp.BackpropInstanceError, match="Unregistered") as info:
        bp.grad_bp(lambda v: v, Unregistered(1.0))
    assert isinstance(info.value, TypeError)
    assert "register_backprop" in str(info.value)
    # unused input: its zero is needed
    with pytest.raises(bp.BackpropInstanceError, match="Unregistered"):
        bp.grad_bp2(lambda a, b: a * 2.0, 1.0, Unregistered(1.0))
    with pytest.raises(bp.BackpropInstanceError, match="Unregistered"):
        bp.zero(Unregistered(1.0))
    # evaluating needs no instance
    assert bp.eval_bp2(lambda a, b: a * 2.0, 1.0, Unregistered(1.0)) == 2.0


def test_registering_fixes_it() -> None:
    class Box:
        def __init__(self, x: float) -> None:
            self.x = x

    getx = bp.op1(lambda b: (b.x, lambda d: Box(d)))
    with pytest.raises(bp.BackpropInstanceError, match="Box"):
        bp.grad_bp2(lambda a, b: a * 2.0, 1.0, Box(1.0))
    bp.register_backprop(
        Box, zero=lambda b: Box(0.0), add=lambda a, b: Box(a.x + b.x), one=lambda b: Box(1.0)
    )
    g = bp.grad_bp(lambda b: getx(b) * getx(b), Box(3.0))
    assert isinstance(g, Box) and g.x == 6.0


# ---- the hierarchy --------------------------------------------------------------------------------


def float_abs(x: float) -> float:
    return abs(x)


def test_error_class_hierarchy() -> None:
    for cls in (
        bp.TapeScopeError,
        bp.NoGradientError,
        bp.ArityError,
        bp.ShapeError,
        bp.BackpropInstanceError,
    ):
        assert issubclass(cls, bp.BackpropError)
        assert issubclass(cls, Exception)
    assert issubclass(bp.BackpropError, Exception)
    assert issubclass(bp.ArityError, TypeError)
    assert issubclass(bp.BackpropInstanceError, TypeError)
    assert issubclass(bp.ShapeError, ValueError)
    assert not issubclass(bp.TapeScopeError, (TypeError, ValueError))
    assert not issubclass(bp.NoGradientError, (TypeError, ValueError))
    assert bp.errors.ArityError is bp.ArityError
    # catchable as the base class
    with pytest.raises(bp.BackpropError):
        bp.grad_op(bp.no_grad1(float_abs), (1.0,))


def test_many_errors_in_a_row_then_normal_runs() -> None:
    bad = bp.op2(one_grad_mul)
    for _ in range(20):
        with pytest.raises(bp.ArityError):
            bp.grad_bp2(lambda a, b: bad(a, b), 1.0, 2.0)
        with pytest.raises(bp.TapeScopeError):
            leak() * 2.0
        with pytest.raises(bp.NoGradientError):
            bp.grad_op(bp.no_grad1(float_abs), (1.0,))
        _healthy()


@pytest.mark.parametrize(
    ("f", "x", "message"),
    [
        (bp.sin, Fraction(1, 2), r"^sin: not defined for \(Fraction\) values: "),
        (lambda v: v * "a", Fraction(1, 2), r"^mul: not defined for \(Fraction, str\) values: "),
        (lambda v: bp.log_base(v, "e"), 2 + 0j, r"^log_base: not defined for \(complex, str\)"),
        # numpy would read a tuple as an array (and the tuple's gradient would be an array)
        (bp.sin, (1.0, 2.0), r"^sin: not defined for a tuple value; apply it to the elements"),
        (lambda v: v + v, [1.0], r"^add: not defined for a list value"),
    ],
)
def test_generic_op_forward_errors_name_the_op(f: Any, x: Any, message: str) -> None:
    # Values that are not floats go through the generic (numpy) rules; numpy's own message
    # names neither the op nor the operand types.
    with pytest.raises(TypeError, match=message):
        bp.num.grad_bp(f, x)
    assert bp.num.grad_bp(lambda v: v * v, Fraction(1, 2)) == 1
