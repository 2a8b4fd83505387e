"""Numeric ops and functions checked against central finite differences.

Covers every native numeric Op (via grad_op / grad_op_with), the BVar surface (operators,
reflected forms with plain floats and ints, bp.<fn>, numpy ufuncs, lift_op), plain-value
behaviour, random compositions with fan-out, the generic (int / complex) path and the documented
edge conventions (pow at 0, abs/signum at 0, NaN/inf pass-through).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import Any

import bprop as bp
import numpy as np
import pytest
from fd import assert_grad_close, central_diff, close
from hypothesis import assume, given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=25, deadline=None)
SLOW = settings(max_examples=150, deadline=None)

# ---- strategies -------------------------------------------------------------------------------


def reals(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats with lo <= |x| <= hi, either sign."""
    return st.builds(lambda m, s: m * s, reals(lo, hi), st.sampled_from([-1.0, 1.0]))


cotangents = away_from_zero(0.1, 10.0)


def _signum(x: float) -> float:
    return 0.0 if x == 0 else math.copysign(1.0, x)


# ---- unary specs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unary:
    name: str
    op: bp.Op[float, float]
    fn: Callable[[Any], Any]  # bprop's function (plain values and BVars)
    ref: Callable[[float], float]  # reference implementation on plain floats
    dom: st.SearchStrategy[float]
    ufuncs: tuple[Any, ...]
    extra: tuple[tuple[str, Callable[[Any], Any]], ...] = ()  # further BVar spellings


UNARY: list[Unary] = [
    Unary(
        "neg",
        bp.neg_op,
        bp._core.neg,
        lambda x: -x,
        reals(-100, 100),
        (np.negative,),
        (("-v", lambda v: -v),),
    ),
    Unary(
        "abs",
        bp.abs_op,
        bp._core.abs,
        abs,
        away_from_zero(0.1, 100),
        (np.absolute, np.fabs),
        (("abs(v)", abs),),
    ),
    Unary("signum", bp.signum_op, bp.signum, _signum, away_from_zero(0.1, 100), (np.sign,)),
    Unary(
        "recip",
        bp.recip_op,
        bp.recip,
        lambda x: 1.0 / x,
        away_from_zero(0.1, 100),
        (np.reciprocal,),
        (("1 / v", lambda v: 1 / v), ("1.0 / v", lambda v: 1.0 / v), ("v ** -1", lambda v: v**-1)),
    ),
    Unary(
        "exp",
        bp.exp_op,
        bp.exp,
        math.exp,
        reals(-20, 20),
        (np.exp,),
        (("e ** v", lambda v: math.e**v),),
    ),
    Unary("log", bp.log_op, bp.log, math.log, reals(0.05, 100), (np.log,)),
    Unary(
        "sqrt",
        bp.sqrt_op,
        bp.sqrt,
        math.sqrt,
        reals(0.05, 100),
        (np.sqrt,),
        (("v ** 0.5", lambda v: v**0.5),),
    ),
    Unary("sin", bp.sin_op, bp.sin, math.sin, reals(-10, 10), (np.sin,)),
    Unary("cos", bp.cos_op, bp.cos, math.cos, reals(-10, 10), (np.cos,)),
    Unary("tan", bp.tan_op, bp.tan, math.tan, reals(-1.4, 1.4), (np.tan,)),
    Unary("asin", bp.asin_op, bp.asin, math.asin, reals(-0.9, 0.9), (np.arcsin,)),
    Unary("acos", bp.acos_op, bp.acos, math.acos, reals(-0.9, 0.9), (np.arccos,)),
    Unary("atan", bp.atan_op, bp.atan, math.atan, reals(-10, 10), (np.arctan,)),
    Unary("sinh", bp.sinh_op, bp.sinh, math.sinh, reals(-10, 10), (np.sinh,)),
    Unary("cosh", bp.cosh_op, bp.cosh, math.cosh, reals(-10, 10), (np.cosh,)),
    Unary("tanh", bp.tanh_op, bp.tanh, math.tanh, reals(-5, 5), (np.tanh,)),
    Unary("asinh", bp.asinh_op, bp.asinh, math.asinh, reals(-10, 10), (np.arcsinh,)),
    Unary("acosh", bp.acosh_op, bp.acosh, math.acosh, reals(1.1, 20), (np.arccosh,)),
    Unary("atanh", bp.atanh_op, bp.atanh, math.atanh, reals(-0.9, 0.9), (np.arctanh,)),
]
UNARY_IDS = [u.name for u in UNARY]


def unary_spellings(u: Unary) -> list[tuple[str, Callable[[Any], Any]]]:
    """The ways of applying `u` to a BVar."""
    spellings: list[tuple[str, Callable[[Any], Any]]] = [
        (f"bp.{u.name}(v)", u.fn),
        (f"lift_op1({u.op.name})", lambda v: bp.lift_op1(u.op, v)),
        (f"lift_op({u.op.name})", lambda v: bp.lift_op(u.op, v)),
        (f"{u.op.name}(v)", lambda v: u.op(v)),
    ]
    spellings += [(f"np.{uf.__name__}(v)", uf) for uf in u.ufuncs]
    return spellings + list(u.extra)


# ---- binary specs -----------------------------------------------------------------------------


def _log_base_dom() -> st.SearchStrategy[tuple[float, float]]:
    base = st.one_of(reals(0.1, 0.9), reals(1.1, 10))
    return st.tuples(base, reals(0.05, 100))


@dataclass(frozen=True)
class Binary:
    name: str
    op: bp.Op[float, float, float]
    ref: Callable[[float, float], float]
    dom: st.SearchStrategy[tuple[float, float]]
    spellings: tuple[tuple[str, Callable[[Any, Any], Any]], ...]


BINARY: list[Binary] = [
    Binary(
        "add",
        bp.add_op,
        lambda x, y: x + y,
        st.tuples(reals(-100, 100), reals(-100, 100)),
        (("v + w", lambda v, w: v + w), ("np.add", np.add)),
    ),
    Binary(
        "sub",
        bp.sub_op,
        lambda x, y: x - y,
        st.tuples(reals(-100, 100), reals(-100, 100)),
        (("v - w", lambda v, w: v - w), ("np.subtract", np.subtract)),
    ),
    Binary(
        "mul",
        bp.mul_op,
        lambda x, y: x * y,
        st.tuples(reals(-100, 100), reals(-100, 100)),
        (("v * w", lambda v, w: v * w), ("np.multiply", np.multiply)),
    ),
    Binary(
        "div",
        bp.div_op,
        lambda x, y: x / y,
        st.tuples(reals(-100, 100), away_from_zero(0.1, 100)),
        (
            ("v / w", lambda v, w: v / w),
            ("np.divide", np.divide),
            ("np.true_divide", np.true_divide),
        ),
    ),
    Binary(
        "pow",
        bp.pow_op,
        lambda x, y: x**y,
        st.tuples(reals(0.1, 10), reals(-3, 3)),
        (
            ("v ** w", lambda v, w: v**w),
            ("pow(v, w)", lambda v, w: pow(v, w)),
            ("np.power", np.power),
            ("np.float_power", np.float_power),
        ),
    ),
    Binary(
        "log_base",
        bp.log_base_op,
        lambda b, x: math.log(x) / math.log(b),
        _log_base_dom(),
        (("bp.log_base(b, x)", bp.log_base),),
    ),
]
BINARY_IDS = [b.name for b in BINARY]


def binary_spellings(b: Binary) -> list[tuple[str, Callable[[Any, Any], Any]]]:
    """The ways of applying `b` to two BVars."""
    return [
        (f"lift_op2({b.op.name})", lambda v, w: bp.lift_op2(b.op, v, w)),
        (f"lift_op({b.op.name})", lambda v, w: bp.lift_op(b.op, v, w)),
        (f"{b.op.name}(v, w)", lambda v, w: b.op(v, w)),
        *b.spellings,
    ]


# ---- native Ops via grad_op / grad_op_with ----------------------------------------------------


@pytest.mark.parametrize("u", UNARY, ids=UNARY_IDS)
@FAST
@given(data=st.data())
def test_unary_op(u: Unary, data: st.DataObject) -> None:
    x = data.draw(u.dom, label="x")
    dy = data.draw(cotangents, label="dy")
    (d,) = central_diff(u.ref, (x,))
    y, (g,) = bp.run_op(u.op, (x,))
    assert y == pytest.approx(u.ref(x), rel=1e-12, abs=1e-300)
    assert bp.eval_op(u.op, (x,)) == pytest.approx(y, rel=1e-15)
    assert_grad_close(g, d, what=f"run_op({u.name}_op, {x!r})")
    assert_grad_close(bp.grad_op(u.op, (x,)), (d,), what=f"grad_op({u.name}_op, {x!r})")
    assert_grad_close(
        bp.grad_op_with(u.op, (x,), dy), (dy * d,), what=f"grad_op_with({u.name}_op, {x!r}, {dy!r})"
    )


@pytest.mark.parametrize("b", BINARY, ids=BINARY_IDS)
@FAST
@given(data=st.data())
def test_binary_op(b: Binary, data: st.DataObject) -> None:
    x, y = data.draw(b.dom, label="xy")
    dz = data.draw(cotangents, label="dz")
    dx, dy = central_diff(b.ref, (x, y))
    z, grads = bp.run_op(b.op, (x, y))
    assert z == pytest.approx(b.ref(x, y), rel=1e-12, abs=1e-300)
    assert bp.eval_op(b.op, (x, y)) == pytest.approx(z, rel=1e-15)
    assert_grad_close(grads, (dx, dy), what=f"run_op({b.name}_op, {(x, y)!r})")
    assert_grad_close(bp.grad_op(b.op, (x, y)), (dx, dy), what=f"grad_op({b.name}_op, {(x, y)!r})")
    assert_grad_close(
        bp.grad_op_with(b.op, (x, y), dz),
        (dz * dx, dz * dy),
        what=f"grad_op_with({b.name}_op, {(x, y)!r}, {dz!r})",
    )


@pytest.mark.parametrize("b", BINARY, ids=BINARY_IDS)
@FAST
@given(data=st.data())
def test_recorded_binary_value_equals_plain_value(b: Binary, data: st.DataObject) -> None:
    # The value computed while recording must be the one computed without a tape, bit for bit:
    # backprop(f, x)[0] == eval_bp(f, x) == f on plain floats.
    x, y = data.draw(b.dom, label="xy")
    plain = getattr(bp._core, b.name)(x, y)
    assert bp.eval_op(b.op, (x, y)) == plain
    assert bp.run_op(b.op, (x, y))[0] == plain
    if b.name != "log_base":
        assert plain == b.ref(x, y)


@pytest.mark.parametrize("u", UNARY, ids=UNARY_IDS)
@FAST
@given(data=st.data())
def test_recorded_unary_value_equals_plain_value(u: Unary, data: st.DataObject) -> None:
    x = data.draw(u.dom, label="x")
    plain = u.fn(x)
    assert bp.eval_op(u.op, (x,)) == plain
    assert bp.run_op(u.op, (x,))[0] == plain


@FAST
@given(x=reals(-100, 100), y=reals(-100, 100))
def test_binary_op_grads_are_exact_where_trivial(x: float, y: float) -> None:
    assert bp.grad_op(bp.add_op, (x, y)) == (1.0, 1.0)
    assert bp.grad_op(bp.sub_op, (x, y)) == (1.0, -1.0)
    assert bp.grad_op(bp.mul_op, (x, y)) == (y, x)
    assert bp.grad_op(bp.neg_op, (x,)) == (-1.0,)


# ---- the BVar surface -------------------------------------------------------------------------


@pytest.mark.parametrize("u", UNARY, ids=UNARY_IDS)
@FAST
@given(data=st.data())
def test_unary_bvar_surface(u: Unary, data: st.DataObject) -> None:
    x = data.draw(u.dom, label="x")
    dy = data.draw(cotangents, label="dy")
    (d,) = central_diff(u.ref, (x,))
    for label, f in unary_spellings(u):
        what = f"{label} at {x!r}"
        y, g = bp.backprop(f, x)
        assert isinstance(y, float), what
        assert y == pytest.approx(u.ref(x), rel=1e-12, abs=1e-300), what
        assert_grad_close(g, d, what=what)
        assert_grad_close(bp.grad_bp(f, x), d, what=what)
        y2, pb = bp.backprop_with(f, x)
        assert y2 == y, what
        assert_grad_close(pb(dy), dy * d, what=f"{what}, dy={dy!r}")
        # numpy float64 inputs run natively too
        assert_grad_close(bp.grad_bp(f, np.float64(x)), d, what=f"{label} at np.float64({x!r})")


@pytest.mark.parametrize("b", BINARY, ids=BINARY_IDS)
@FAST
@given(data=st.data())
def test_binary_bvar_surface(b: Binary, data: st.DataObject) -> None:
    x, y = data.draw(b.dom, label="xy")
    dz = data.draw(cotangents, label="dz")
    dx, dy = central_diff(b.ref, (x, y))
    for label, f in binary_spellings(b):
        what = f"{label} at {(x, y)!r}"
        z, grads = bp.backprop2(f, x, y)
        assert isinstance(z, float), what
        assert z == pytest.approx(b.ref(x, y), rel=1e-12, abs=1e-300), what
        assert_grad_close(grads, (dx, dy), what=what)
        _, pb = bp.backprop_with2(f, x, y)
        assert_grad_close(pb(dz), (dz * dx, dz * dy), what=f"{what}, dz={dz!r}")


@FAST
@given(x=reals(-50, 50))
def test_unary_plus_is_identity(x: float) -> None:
    assert bp.backprop(lambda v: +v, x) == (x, 1.0)


# One-argument forms with a plain float or int constant on either side (reflected operators).
# Each case: label, BVar function, reference, domain.
_pos = reals(0.1, 10)
_any = reals(-10, 10)
_nz = away_from_zero(0.1, 10)
_not_one = st.one_of(reals(0.1, 0.9), reals(1.1, 10))
MIXED: list[
    tuple[str, Callable[[Any], Any], Callable[[float], float], st.SearchStrategy[float]]
] = [
    ("2.0 + v", lambda v: 2.0 + v, lambda x: 2.0 + x, _any),
    ("2 + v", lambda v: 2 + v, lambda x: 2 + x, _any),
    ("v + 2", lambda v: v + 2, lambda x: x + 2, _any),
    ("2.0 - v", lambda v: 2.0 - v, lambda x: 2.0 - x, _any),
    ("2 - v", lambda v: 2 - v, lambda x: 2 - x, _any),
    ("v - 2.5", lambda v: v - 2.5, lambda x: x - 2.5, _any),
    ("3.5 * v", lambda v: 3.5 * v, lambda x: 3.5 * x, _any),
    ("3 * v", lambda v: 3 * v, lambda x: 3 * x, _any),
    ("v * -4", lambda v: v * -4, lambda x: x * -4, _any),
    ("3 / v", lambda v: 3 / v, lambda x: 3 / x, _nz),
    ("3.0 / v", lambda v: 3.0 / v, lambda x: 3.0 / x, _nz),
    ("v / 4", lambda v: v / 4, lambda x: x / 4, _any),
    ("v / 0.3", lambda v: v / 0.3, lambda x: x / 0.3, _any),
    ("2 ** v", lambda v: 2**v, lambda x: 2.0**x, _any),
    ("2.5 ** v", lambda v: 2.5**v, lambda x: 2.5**x, _any),
    ("0.5 ** v", lambda v: 0.5**v, lambda x: 0.5**x, _any),
    ("v ** 2", lambda v: v**2, lambda x: x**2, _any),
    ("v ** 3", lambda v: v**3, lambda x: x**3, _any),
    ("v ** 3.0", lambda v: v**3.0, lambda x: x**3.0, _any),
    ("v ** -2", lambda v: v**-2, lambda x: x**-2, _nz),
    ("v ** 1.5", lambda v: v**1.5, lambda x: x**1.5, _pos),
    ("np.multiply(2.0, v)", lambda v: np.multiply(2.0, v), lambda x: 2.0 * x, _any),
    ("np.multiply(v, 3)", lambda v: np.multiply(v, 3), lambda x: x * 3, _any),
    ("np.subtract(1, v)", lambda v: np.subtract(1, v), lambda x: 1 - x, _any),
    ("np.divide(3.0, v)", lambda v: np.divide(3.0, v), lambda x: 3.0 / x, _nz),
    ("np.power(2.0, v)", lambda v: np.power(2.0, v), lambda x: 2.0**x, _any),
    ("np.power(v, 2)", lambda v: np.power(v, 2), lambda x: x**2, _any),
    ("np.add(v, 1.5)", lambda v: np.add(v, 1.5), lambda x: x + 1.5, _any),
    (
        "bp.log_base(2.0, v)",
        lambda v: bp.log_base(2.0, v),
        lambda x: math.log(x) / math.log(2.0),
        _pos,
    ),
    (
        "bp.log_base(10, v)",
        lambda v: bp.log_base(10, v),
        lambda x: math.log(x) / math.log(10),
        _pos,
    ),
    (
        "bp.log_base(v, 10.0)",
        lambda v: bp.log_base(v, 10.0),
        lambda b: math.log(10.0) / math.log(b),
        _not_one,
    ),
    ("lift_op2(mul_op, 2.0, v)", lambda v: bp.lift_op2(bp.mul_op, 2.0, v), lambda x: 2.0 * x, _any),  # type: ignore[arg-type]
    ("pow_op(v, 2.0)", lambda v: bp.pow_op(v, bp.const_var(2.0)), lambda x: x**2.0, _any),
]


@pytest.mark.parametrize(
    ("f", "ref", "dom"), [pytest.param(f, r, d, id=lab) for lab, f, r, d in MIXED]
)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_mixed_with_plain_constants(
    f: Callable[[Any], Any],
    ref: Callable[[float], float],
    dom: st.SearchStrategy[float],
    data: st.DataObject,
) -> None:
    x = data.draw(dom, label="x")
    dy = data.draw(cotangents, label="dy")
    (d,) = central_diff(ref, (x,))
    y, g = bp.backprop(f, x)
    assert isinstance(y, float)
    assert y == pytest.approx(ref(x), rel=1e-12, abs=1e-300)
    assert_grad_close(g, d, what=f"at {x!r}")
    assert_grad_close(bp.backprop_with(f, x)[1](dy), dy * d, what=f"at {x!r}, dy={dy!r}")


def test_unsupported_ufunc_raises_type_error_naming_it() -> None:
    def f(v: bp.BVar[float]) -> Any:
        return np.spacing(v)

    with pytest.raises(TypeError, match="spacing"):
        bp.grad_bp(f, 1.5)


# ---- plain values -----------------------------------------------------------------------------


@pytest.mark.parametrize("u", UNARY, ids=UNARY_IDS)
@FAST
@given(data=st.data())
def test_plain_float_in_plain_float_out(u: Unary, data: st.DataObject) -> None:
    x = data.draw(u.dom, label="x")
    y = u.fn(x)
    assert type(y) is float, f"bp.{u.name}({x!r}) returned {type(y).__name__}"
    assert y == pytest.approx(u.ref(x), rel=1e-14, abs=1e-300)
    # numpy float64 and arrays are plain values too
    assert not isinstance(u.fn(np.float64(x)), bp.BVar)
    assert float(u.fn(np.float64(x))) == pytest.approx(u.ref(x), rel=1e-14, abs=1e-300)
    arr = np.array([x, x])
    out = u.fn(arr)
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    np.testing.assert_allclose(out, [u.ref(x)] * 2, rtol=1e-14)


@pytest.mark.parametrize("x", [0.5, 1.5, -0.25, 0.0])
def test_plain_values_exact_examples(x: float) -> None:
    assert bp.sin(x) == math.sin(x) and type(bp.sin(x)) is float
    assert bp.cos(x) == math.cos(x)
    assert bp.exp(x) == math.exp(x)
    assert bp.tanh(x) == pytest.approx(math.tanh(x), rel=1e-15, abs=0)
    assert bp.signum(x) == _signum(x)
    assert bp.signum(-x) == _signum(-x)


def test_pi() -> None:
    assert bp.pi == math.pi


@FAST
@given(bx=_log_base_dom())
def test_plain_log_base(bx: tuple[float, float]) -> None:
    b, x = bx
    y = bp.log_base(b, x)
    assert type(y) is float
    assert y == pytest.approx(math.log(x, b), rel=1e-13)


@pytest.mark.parametrize("u", UNARY, ids=UNARY_IDS)
def test_constant_bvar_in_constant_out(u: Unary) -> None:
    x = {"acosh": 1.5}.get(u.name, 0.5)
    y = u.fn(bp.const_var(x))
    assert isinstance(y, bp.BVar) and y.is_constant
    assert y.value == pytest.approx(u.ref(x), rel=1e-14)


# ---- compositions -----------------------------------------------------------------------------

BP_NS = SimpleNamespace(
    sin=bp.sin, cos=bp.cos, tan=bp.tan, exp=bp.exp, log=bp.log, sqrt=bp.sqrt, asin=bp.asin, acos=bp.acos,
    atan=bp.atan, sinh=bp.sinh, cosh=bp.cosh, tanh=bp.tanh, asinh=bp.asinh, acosh=bp.acosh, atanh=bp.atanh,
    recip=bp.recip, log_base=bp.log_base,
)  # fmt: skip
NP_NS = SimpleNamespace(
    sin=np.sin, cos=np.cos, tan=np.tan, exp=np.exp, log=np.log, sqrt=np.sqrt, asin=np.arcsin, acos=np.arccos,
    atan=np.arctan, sinh=np.sinh, cosh=np.cosh, tanh=np.tanh, asinh=np.arcsinh, acosh=np.arccosh,
    atanh=np.arctanh, recip=np.reciprocal, log_base=bp.log_base,
)  # fmt: skip
OP_NS = SimpleNamespace(
    **{
        name: partial(bp.lift_op1, getattr(bp, f"{name}_op"))
        for name in ["sin", "cos", "tan", "exp", "log", "sqrt", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                     "asinh", "acosh", "atanh", "recip"]
    },
    log_base=lambda b, x: bp.lift_op2(bp.log_base_op, b, x),
)  # fmt: skip
MATH_NS = SimpleNamespace(
    sin=math.sin, cos=math.cos, tan=math.tan, exp=math.exp, log=math.log, sqrt=math.sqrt, asin=math.asin,
    acos=math.acos, atan=math.atan, sinh=math.sinh, cosh=math.cosh, tanh=math.tanh, asinh=math.asinh,
    acosh=math.acosh, atanh=math.atanh, recip=lambda x: 1.0 / x, log_base=lambda b, x: math.log(x) / math.log(b),
)  # fmt: skip

# Each step maps registers to a new register. Arguments of functions with a restricted domain
# are mapped into it by a smooth adapter, so every chain is defined everywhere.
UNARY_STEPS: dict[str, Callable[[Any, Any], Any]] = {
    "sin": lambda m, a: m.sin(a),
    "cos": lambda m, a: m.cos(a),
    "tan": lambda m, a: m.tan(0.9 * m.atan(a)),
    "exp": lambda m, a: m.exp(a),
    "log": lambda m, a: m.log(1.0 + a * a),
    "sqrt": lambda m, a: m.sqrt(2.0 + m.sin(a)),
    "asin": lambda m, a: m.asin(0.8 * m.tanh(a)),
    "acos": lambda m, a: m.acos(0.5 * m.cos(a)),
    "atan": lambda m, a: m.atan(a),
    "sinh": lambda m, a: m.sinh(a),
    "cosh": lambda m, a: m.cosh(a),
    "tanh": lambda m, a: m.tanh(a),
    "asinh": lambda m, a: m.asinh(a),
    "acosh": lambda m, a: m.acosh(1.5 + a * a),
    "atanh": lambda m, a: m.atanh(0.7 * m.sin(a)),
    "recip": lambda m, a: m.recip(2.0 + m.cos(a)),
    "neg": lambda m, a: -a,
    "pos": lambda m, a: +a,
    "square": lambda m, a: a * a,
    "cube": lambda m, a: a**3,
    "rpow": lambda m, a: 2.0**a,
    "rsub": lambda m, a: 1 - a,
    "rdiv": lambda m, a: 3 / (1.0 + a * a),
    "scale": lambda m, a: 0.5 * a,
}
BINARY_STEPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "+": lambda m, a, b: a + b,
    "-": lambda m, a, b: a - b,
    "*": lambda m, a, b: a * b,
    "/": lambda m, a, b: a / (1.5 + m.sin(b)),
    "**": lambda m, a, b: (1.0 + a * a) ** m.sin(b),
    "log_base": lambda m, a, b: m.log_base(3.0 + m.cos(a), 1.0 + b * b),
}

Step = tuple[str, str, int, int]  # kind ("u"/"b"), name, first register, second register


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[float], list[Step]]:
    n_in = draw(st.integers(1, 3), label="n_inputs")
    xs = [draw(reals(-2, 2), label=f"x{i}") for i in range(n_in)]
    steps: list[Step] = []
    for k in range(draw(st.integers(1, 8), label="n_steps")):
        n_regs = n_in + k
        i = draw(st.integers(0, n_regs - 1))
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(sorted(UNARY_STEPS))), i, i))
        else:
            j = draw(st.integers(0, n_regs - 1))
            steps.append(("b", draw(st.sampled_from(sorted(BINARY_STEPS))), i, j))
    return xs, steps


def run_program(
    m: Any, steps: list[Step], xs: tuple[Any, ...], trace: list[float] | None = None
) -> Any:
    regs = list(xs)
    for kind, name, i, j in steps:
        if kind == "u":
            r = UNARY_STEPS[name](m, regs[i])
        else:
            r = BINARY_STEPS[name](m, regs[i], regs[j])
        regs.append(r)
        if trace is not None:
            trace.append(r)
    # fan-out: the inputs and the last register are used once more
    out = regs[-1]
    for x in regs[: len(xs)]:
        out = out + 0.25 * x * regs[-1]
    return out


def _well_conditioned(steps: list[Step], xs: list[float]) -> bool:
    """Every intermediate of the chain is defined and moderate at xs and at the FD points."""
    for i in range(len(xs)):
        for k in (-2, -1, 0, 1, 2):
            pt = list(xs)
            pt[i] += k * 1e-3 * max(1.0, abs(pt[i]))
            trace: list[float] = []
            try:
                run_program(MATH_NS, steps, tuple(pt), trace)
            except (ValueError, OverflowError, ZeroDivisionError):
                return False
            if any(not math.isfinite(t) or abs(t) > 50.0 for t in trace):
                return False
    return True


@pytest.mark.parametrize("ns", [BP_NS, NP_NS, OP_NS], ids=["bp", "numpy", "lift_op"])
@SLOW
@given(prog=programs(), dy=cotangents)
def test_random_compositions(ns: Any, prog: tuple[list[float], list[Step]], dy: float) -> None:
    xs, steps = prog
    assume(_well_conditioned(steps, xs))

    def ref(*a: float) -> float:
        return float(run_program(MATH_NS, steps, a))

    def f(*vs: Any) -> Any:
        return run_program(ns, steps, vs)

    expected = central_diff(ref, xs)
    # Richardson-style check of the reference itself: chains such as sin(cosh(x ** 3)) have huge
    # higher derivatives, where the stencil is not accurate enough to judge anything.
    halved = central_diff(ref, xs, rel_step=5e-4)
    y0 = ref(*xs)
    assume(
        all(close(a, b, rtol=1e-8, atol=1e-10 * (1.0 + abs(y0))) for a, b in zip(expected, halved))
    )
    y, grads = bp.backprop_n(f, *xs)
    assert isinstance(y, float)
    assert y == pytest.approx(y0, rel=1e-10, abs=1e-12)
    tol = {"rtol": 1e-6, "atol": 1e-8 * (1.0 + abs(y0))}
    assert_grad_close(grads, expected, what=f"program {steps} at {xs}", **tol)
    _, pb = bp.backprop_with_n(f, *xs)
    assert_grad_close(
        pb(dy), tuple(dy * e for e in expected), what=f"program {steps} at {xs}, dy={dy}", **tol
    )


@FAST
@given(x=reals(-2, 2), y=reals(-2, 2))
def test_fan_out_sums_contributions(x: float, y: float) -> None:
    # f = x*x*y + sin(x)*x + y*y*y: each input used several times, also within one op
    def f(v: bp.BVar[float], w: bp.BVar[float]) -> bp.BVar[float]:
        return v * v * w + bp.sin(v) * v + w * w * w

    expected = (2 * x * y + math.cos(x) * x + math.sin(x), x * x + 3 * y * y)
    assert_grad_close(bp.grad_bp2(f, x, y), expected)
    assert bp.grad_bp(lambda v: v + v + v, x) == 3.0
    assert_grad_close(bp.grad_bp(lambda v: v * v, x), 2 * x)


# ---- the generic (non-float) path -------------------------------------------------------------

ints = st.integers(-50, 50)


@FAST
@given(x=ints, y=ints)
def test_int_arithmetic_is_exact(x: int, y: int) -> None:
    def f(v: bp.BVar[int], w: bp.BVar[int]) -> bp.BVar[int]:
        return v * w * v - 3 * w + v - 7 + w * 2 - (v - w) * 4

    z, (gx, gy) = bp.backprop2(f, x, y)
    assert z == x * y * x - 3 * y + x - 7 + y * 2 - (x - y) * 4
    assert (gx, gy) == (2 * x * y + 1 - 4, x * x - 3 + 2 + 4)
    assert type(gx) is int and type(gy) is int
    assert bp.grad_op(bp.mul_op, (x, y)) == (y, x)
    assert bp.grad_op(bp.add_op, (x, y)) == (1, 1)
    assert bp.grad_op(bp.sub_op, (x, y)) == (1, -1)
    assert bp.grad_op_with(bp.mul_op, (x, y), 3) == (3 * y, 3 * x)
    assert bp.grad_bp(lambda v: -v, x) == -1


@FAST
@given(x=ints, y=st.integers(1, 50).flatmap(lambda n: st.sampled_from([n, -n])))
def test_int_division(x: int, y: int) -> None:
    z, grads = bp.backprop2(lambda v, w: v / w, x, y)
    assert z == pytest.approx(x / y)
    assert_grad_close(grads, (1 / y, -x / (y * y)))
    assert_grad_close(bp.grad_bp(lambda v: 3 / v, y), -3 / (y * y))


@FAST
@given(x=st.integers(1, 6), y=st.integers(0, 4))
def test_int_pow(x: int, y: int) -> None:
    z, (gx, gy) = bp.backprop2(lambda v, w: v**w, x, y)
    assert z == x**y
    assert gx == pytest.approx(y * x ** (y - 1) if y else 0)
    assert gy == pytest.approx(x**y * math.log(x))
    assert bp.grad_bp(lambda v: v**2, -x) == -2 * x


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("x", [-3, -1, 2])
def test_int_pow_by_constant_exponent_is_quiet(x: int) -> None:
    # The exponent is a constant: its (NaN, log of a negative) partial is never needed, and
    # computing v ** 2 at a negative int must not warn.
    assert bp.grad_bp(lambda v: v**2, x) == 2 * x
    assert bp.grad_bp(lambda v: v**3, x) == 3 * x * x


@pytest.mark.parametrize(
    ("fn", "ref", "dom"),
    [
        pytest.param(bp.exp, math.exp, st.integers(-5, 5), id="exp"),
        pytest.param(bp.sin, math.sin, st.integers(-10, 10), id="sin"),
        pytest.param(bp.tanh, math.tanh, st.integers(-3, 3), id="tanh"),
        pytest.param(bp.log, math.log, st.integers(1, 100), id="log"),
        pytest.param(bp.sqrt, math.sqrt, st.integers(1, 100), id="sqrt"),
        pytest.param(bp.atan, math.atan, st.integers(-10, 10), id="atan"),
    ],
)
@FAST
@given(data=st.data())
def test_int_math_functions(
    fn: Callable[[Any], Any],
    ref: Callable[[float], float],
    dom: st.SearchStrategy[int],
    data: st.DataObject,
) -> None:
    x = data.draw(dom, label="x")
    y, g = bp.backprop(fn, x)
    assert y == pytest.approx(ref(x), rel=1e-14)
    (d,) = central_diff(ref, (float(x),))
    assert_grad_close(g, d)


def complexes(
    re_lo: float = 0.2, re_hi: float = 3.0, im: float = 3.0
) -> st.SearchStrategy[complex]:
    return st.builds(complex, reals(re_lo, re_hi), reals(-im, im))


complex_cotangents = st.builds(complex, reals(-3, 3), reals(-3, 3))


def test_complex_convention_example() -> None:
    assert bp.grad_bp(lambda v: v * v, 1 + 2j) == 2 + 4j


@pytest.mark.parametrize("f", [bp.exp, bp.sin, bp.sqrt, abs, lambda v: bp.log(v) * v])
def test_complex_values_and_gradients_are_python_complex(f: Callable[[Any], Any]) -> None:
    # numpy's functions return np.complex128; a value and a gradient keep the input's type.
    y, g = bp.backprop(f, 0.5 + 2j)
    assert type(y) is (float if f is abs else complex)
    assert type(g) is complex


@FAST
@given(x=complexes())
def test_complex_abs_follows_the_convention(x: complex) -> None:
    # For a real-valued f of z = a + ib the convention above (no conjugation, as JAX) gives
    # df/da - i df/db; |z| is not holomorphic, so its rule needs conj(z)/|z|, not z/|z|.
    def real_grad(f: Callable[[complex], float], z: complex) -> complex:
        h = 1e-6
        da = (f(z + h) - f(z - h)) / (2 * h)
        db = (f(z + 1j * h) - f(z - 1j * h)) / (2 * h)
        return complex(da, -db)

    for f, ref in [(abs, abs), (lambda v: abs(v * v), lambda z: abs(z * z))]:
        assert_grad_close(bp.grad_bp(f, x), real_grad(ref, x), what=f"at {x}")
    g = bp.grad_bp(lambda v: np.sum(np.abs(v * v)), np.array([x, 2 * x]))
    expected = [real_grad(lambda z: abs(z * z), z) for z in (x, 2 * x)]
    assert np.allclose(g, expected, rtol=1e-5, atol=1e-6)


COMPLEX_BINARY: list[Any] = [
    pytest.param(lambda v, w: v + w, lambda x, y: x + y, id="+"),
    pytest.param(lambda v, w: v - w, lambda x, y: x - y, id="-"),
    pytest.param(lambda v, w: v * w, lambda x, y: x * y, id="*"),
    pytest.param(lambda v, w: v / w, lambda x, y: x / y, id="/"),
    pytest.param(lambda v, w: v**w, lambda x, y: x**y, id="**"),
    pytest.param(lambda v, w: v * w * v - w / v, lambda x, y: x * y * x - y / x, id="poly"),
]


@pytest.mark.parametrize(("f", "ref"), COMPLEX_BINARY)
@FAST
@given(x=complexes(), y=complexes(), dz=complex_cotangents)
def test_complex_binary(
    f: Callable[[Any, Any], Any],
    ref: Callable[[complex, complex], complex],
    x: complex,
    y: complex,
    dz: complex,
) -> None:
    expected = central_diff(ref, (x, y))  # real steps: f'(z) for holomorphic f
    z, grads = bp.backprop2(f, x, y)
    assert complex(z) == pytest.approx(ref(x, y), rel=1e-12)
    assert_grad_close(grads, expected, what=f"at {(x, y)}")
    _, pb = bp.backprop_with2(f, x, y)
    # Haskell's convention: d * f'(z), no conjugation
    assert_grad_close(pb(dz), tuple(dz * e for e in expected), what=f"at {(x, y)}, dz={dz}")


COMPLEX_UNARY: list[Any] = [
    pytest.param(bp.exp, cmath.exp, id="exp"),
    pytest.param(bp.log, cmath.log, id="log"),
    pytest.param(bp.sqrt, cmath.sqrt, id="sqrt"),
    pytest.param(bp.sin, cmath.sin, id="sin"),
    pytest.param(bp.cos, cmath.cos, id="cos"),
    pytest.param(bp.tanh, cmath.tanh, id="tanh"),
    pytest.param(bp.recip, lambda z: 1 / z, id="recip"),
    pytest.param(lambda v: -v, lambda z: -z, id="neg"),
    pytest.param(lambda v: 2 - 3 / v + v**2 * 4, lambda z: 2 - 3 / z + z**2 * 4, id="int-consts"),
    pytest.param(
        lambda v: (1 + 2j) * v - 1j / v, lambda z: (1 + 2j) * z - 1j / z, id="complex-consts"
    ),
    pytest.param(np.exp, cmath.exp, id="np.exp"),
    pytest.param(
        lambda v: bp.sin(v) * bp.exp(v) / v, lambda z: cmath.sin(z) * cmath.exp(z) / z, id="chain"
    ),
]


@pytest.mark.parametrize(("f", "ref"), COMPLEX_UNARY)
@FAST
@given(x=complexes(im=1.5), dy=complex_cotangents)
def test_complex_unary(
    f: Callable[[Any], Any], ref: Callable[[complex], complex], x: complex, dy: complex
) -> None:
    (d,) = central_diff(ref, (x,))
    y, g = bp.backprop(f, x)
    assert complex(y) == pytest.approx(ref(x), rel=1e-12)
    assert_grad_close(g, d, what=f"at {x}")
    assert_grad_close(bp.backprop_with(f, x)[1](dy), dy * d, what=f"at {x}, dy={dy}")


COMPLEX_WITH_FLOAT_CONSTANT: list[Any] = [
    pytest.param(lambda v: 2.0 - v, lambda z: 2.0 - z, id="2.0 - v"),
    pytest.param(lambda v: v - 2.0, lambda z: z - 2.0, id="v - 2.0"),
    pytest.param(lambda v: 2.0 + v, lambda z: 2.0 + z, id="2.0 + v"),
    pytest.param(lambda v: 2.0 * v, lambda z: 2.0 * z, id="2.0 * v"),
    pytest.param(lambda v: 3.0 / v, lambda z: 3.0 / z, id="3.0 / v"),
    pytest.param(lambda v: v / 4.0, lambda z: z / 4.0, id="v / 4.0"),
    pytest.param(lambda v: 2.0**v, lambda z: 2.0**z, id="2.0 ** v"),
    pytest.param(lambda v: v**2.0, lambda z: z**2.0, id="v ** 2.0"),
]


@pytest.mark.parametrize(("f", "ref"), COMPLEX_WITH_FLOAT_CONSTANT)
@pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")
@settings(max_examples=10, deadline=None)
@given(x=complexes())
def test_complex_bvar_with_float_constant(
    f: Callable[[Any], Any], ref: Callable[[complex], complex], x: complex
) -> None:
    # A plain float mixed with a complex BVar is a constant: it takes no gradient, so the
    # complex gradient flowing "to" it must not be type-checked against float.
    (d,) = central_diff(ref, (x,))
    y, g = bp.backprop(f, x)
    assert complex(y) == pytest.approx(ref(x), rel=1e-12)
    assert_grad_close(g, d, what=f"at {x}")


# ---- edge conventions -------------------------------------------------------------------------


NP_POWER: Callable[[Any, Any], Any] = np.power


@FAST
@given(y=reals(-3, 3), dz=cotangents, zero=st.sampled_from([0.0, -0.0]))
def test_pow_exponent_gradient_is_zero_at_zero_base(y: float, dz: float, zero: float) -> None:
    for gx, gy in [
        bp.grad_op(bp.pow_op, (zero, y)),
        bp.grad_op_with(bp.pow_op, (zero, y), dz),
        bp.grad_bp2(lambda v, w: v**w, zero, y),
        bp.grad_bp2(NP_POWER, zero, y),
    ]:
        assert gy == 0.0, f"exponent gradient at (0, {y}) is {gy!r}"
    assert bp.grad_bp(lambda w: zero**w, y) == 0.0
    if y > 1:  # base gradient y * 0 ** (y - 1) is 0 and well defined
        assert bp.grad_op(bp.pow_op, (zero, y))[0] == 0.0


@FAST
@given(y=st.integers(0, 4))
def test_pow_exponent_gradient_is_zero_at_zero_base_generic(y: int) -> None:
    _, gy = bp.grad_bp2(lambda v, w: v**w, 0, y)
    assert gy == 0


@FAST
@given(x=st.one_of(reals(-100, 100), st.just(0.0), st.just(-0.0)), dz=cotangents)
def test_pow_base_gradient_is_zero_at_zero_exponent(x: float, dz: float) -> None:
    gx, gy = bp.grad_op(bp.pow_op, (x, 0.0))
    assert gx == 0.0, f"base gradient at ({x}, 0) is {gx!r}"
    assert bp.grad_op_with(bp.pow_op, (x, 0.0), dz)[0] == 0.0
    assert bp.grad_bp(lambda v: v**0.0, x) == 0.0
    assert bp.grad_bp(lambda v: v**0, x) == 0.0
    assert bp.eval_op(bp.pow_op, (x, 0.0)) == 1.0
    if x > 0:
        assert_grad_close(gy, math.log(x))
    if x == 0:
        assert gy == 0.0


@pytest.mark.parametrize("zero", [0.0, -0.0, 0])
def test_abs_and_signum_at_zero(zero: Any) -> None:
    fs: list[Callable[[Any], Any]] = [abs, bp.signum, np.absolute, np.sign, bp._core.abs]
    for f in fs:
        y, g = bp.backprop(f, zero)
        assert y == 0 and g == 0 and not math.isnan(g), f"{f} at {zero!r}: {(y, g)}"
    assert bp.grad_op(bp.abs_op, (zero,)) == (0.0,)
    assert bp.grad_op(bp.signum_op, (zero,)) == (0.0,)
    assert bp.grad_op_with(bp.abs_op, (zero,), 5.0) == (0.0,)


@FAST
@given(x=away_from_zero(1e-300, 1e300))
def test_abs_and_signum_gradients_away_from_zero(x: float) -> None:
    assert bp.grad_bp(abs, x) == _signum(x)
    assert bp.grad_bp(bp.signum, x) == 0.0
    assert bp.signum(x) == _signum(x)


SPECIALS = [math.nan, math.inf, -math.inf]

NUMPY_REF: dict[str, Callable[[Any], Any]] = {
    "neg": np.negative, "abs": np.absolute, "signum": np.sign, "recip": np.reciprocal, "exp": np.exp,
    "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin,
    "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
}  # fmt: skip


def _same(actual: Any, expected: Any) -> bool:
    a, e = float(actual), float(expected)
    if math.isnan(e):
        return math.isnan(a)
    if math.isinf(e):
        return a == e
    return math.isclose(a, e, rel_tol=1e-14)


@pytest.mark.parametrize("x", SPECIALS, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("u", UNARY, ids=UNARY_IDS)
def test_unary_nan_inf_pass_through(u: Unary, x: float) -> None:
    with np.errstate(all="ignore"):
        expected = NUMPY_REF[u.name](np.float64(x))
    y, g = bp.backprop(u.fn, x)
    assert _same(y, expected), f"{u.name}({x}) = {y!r}, expected {expected!r}"
    assert isinstance(g, float)
    assert _same(u.fn(x), expected)
    assert _same(bp.eval_op(u.op, (x,)), expected)
    (g2,) = bp.grad_op_with(u.op, (x,), 2.0)
    assert isinstance(g2, float)
    if math.isnan(x) and u.name not in ("signum", "neg"):
        assert math.isnan(g), f"gradient of {u.name} at nan is {g!r}"


NUMPY_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    # C99/Python pow, which bprop follows: numpy gives nan for (-inf) ** 0.5, C99 gives +inf
    "pow": lambda x, y: np.float64(math.pow(x, y)) if not (x == 0 and y < 0) else np.power(x, y),
    "log_base": lambda b, x: np.log(x) / np.log(b),
}  # fmt: skip


@pytest.mark.parametrize("b", BINARY, ids=BINARY_IDS)
@FAST
@given(
    x=st.one_of(st.sampled_from(SPECIALS), reals(0.1, 10)),
    y=st.one_of(st.sampled_from(SPECIALS), reals(0.1, 10)),
)
def test_binary_nan_inf_pass_through(b: Binary, x: float, y: float) -> None:
    assume(not (math.isfinite(x) and math.isfinite(y)))
    with np.errstate(all="ignore"):
        expected = NUMPY_BINARY[b.name](np.float64(x), np.float64(y))
    z, (gx, gy) = bp.backprop2(lambda v, w: b.op(v, w), x, y)
    assert _same(z, expected), f"{b.name}({x}, {y}) = {z!r}, expected {expected!r}"
    assert isinstance(gx, float) and isinstance(gy, float)
    assert _same(bp.eval_op(b.op, (x, y)), expected)
    assert len(bp.grad_op_with(b.op, (x, y), 2.0)) == 2
