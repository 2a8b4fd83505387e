"""Misuse of ops and runners as a library author would write it: Ops on a `Vec2` dataclass and on
complex numbers, the runners, bprop.explicit and bprop.num. Every marked line fails at run time
and must be rejected by both mypy --strict and pyright (see tests/test_typing.py).

Never imported or run (see check_ops.py for the conventions: one exact `# type: ignore[<code>]`
per rejected line, checked both ways, and no reuse of a rejected expression's value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_type

import bprop as bp
from bprop import BVar, Op, explicit, num

# ---- a library's own type and its ops -------------------------------------------------------


@dataclass
class Vec2:
    x: float
    y: float


def dot_fwd(u: Vec2, v: Vec2) -> tuple[float, Callable[[float], tuple[Vec2, Vec2]]]:
    return u.x * v.x + u.y * v.y, lambda d: (Vec2(d * v.x, d * v.y), Vec2(d * u.x, d * u.y))


def norm_fwd(u: Vec2) -> tuple[float, Callable[[float], Vec2]]:
    n = math.hypot(u.x, u.y)
    return n, lambda d: Vec2(d * u.x / n, d * u.y / n)


def scale_fwd(a: float, u: Vec2) -> tuple[Vec2, Callable[[Vec2], tuple[float, Vec2]]]:
    return Vec2(a * u.x, a * u.y), lambda d: (d.x * u.x + d.y * u.y, Vec2(a * d.x, a * d.y))


def cmul_fwd(
    z: complex, w: complex
) -> tuple[complex, Callable[[complex], tuple[complex, complex]]]:
    return z * w, lambda d: (d * w.conjugate(), d * z.conjugate())


def cabs_fwd(z: complex) -> tuple[float, Callable[[float], complex]]:
    return abs(z), lambda d: d * z / abs(z)


dot_op = bp.op2(dot_fwd)
norm_op = bp.op1(norm_fwd)
scale_op = bp.op2(scale_fwd)
cmul_op = bp.op2(cmul_fwd)
cabs_op = bp.op1(cabs_fwd)


def norm(u: BVar[Vec2]) -> BVar[float]:
    return norm_op(u)


def dist(u: BVar[Vec2], v: BVar[Vec2]) -> BVar[float]:
    return dot_op(u, v)


def f2f(x: BVar[float], y: BVar[float]) -> BVar[float]:
    return x * y


def zero_float(x: float) -> float:
    return 0.0


def add_float(a: float, b: float) -> float:
    return a + b


def one_float(y: float) -> float:
    return 1.0


def zero_vec(u: Vec2) -> Vec2:
    return Vec2(0.0, 0.0)


def add_vec(a: Vec2, b: Vec2) -> Vec2:
    return Vec2(a.x + b.x, a.y + b.y)


def mixed(a: BVar[float], u: BVar[Vec2]) -> BVar[float]:
    return a


# ---- accepted: the same code used correctly ---------------------------------------------------


def accepted(u: BVar[Vec2], v: BVar[Vec2], z: BVar[complex], w: Vec2) -> None:
    assert_type(dot_op(u, v), BVar[float])
    assert_type(dot_op.grad(w, w), tuple[Vec2, Vec2])
    assert_type(norm_op.run(w), tuple[float, tuple[Vec2]])
    assert_type(scale_op.then(norm_op), Op[float, Vec2, float])
    assert_type(bp.compose_op((norm_op, norm_op), bp.mul_op), Op[Vec2, float])
    assert_type(bp.bp_op(dist), Op[Vec2, Vec2, float])
    assert_type(bp.bp_op(dist).grad(w, w), tuple[Vec2, Vec2])
    assert_type(cmul_op.then(cabs_op).grad(1j, 2.0 + 0j), tuple[complex, complex])
    assert_type(num.grad_bp_n(f2f, 1.0, 2.0), tuple[float, float])
    assert_type(bp.grad_bp_n(dist, w, w), tuple[Vec2, Vec2])
    assert_type(
        explicit.grad_bp_n(
            mixed, 1.0, w, zero=(zero_float, zero_vec), add=(add_float, add_vec), one=one_float
        ),
        tuple[float, Vec2],
    )


# ---- rejected: composition ----------------------------------------------------------------------


def rejected_composition() -> None:
    # compose_op's ops are a tuple whose length is the op's arity (a list's length is unknown).
    bp.compose_op([norm_op], bp.mul_op)  # type: ignore[call-overload]
    bp.compose_op((norm_op,), bp.mul_op)  # type: ignore[arg-type]
    bp.compose_op((norm_op, norm_op, norm_op), bp.mul_op)  # type: ignore[arg-type]
    bp.compose_op((norm_op, norm_op), dot_op)  # type: ignore[arg-type]
    bp.compose_op((norm_op, bp.sin_op), bp.mul_op)  # type: ignore[arg-type]
    bp.compose_op((dot_op, norm_op), bp.mul_op)  # type: ignore[arg-type]
    # then: the next op takes this op's result, as its only argument.
    norm_op.then(dot_op)  # type: ignore[arg-type]
    norm_op.then(norm_op)  # type: ignore[arg-type]
    scale_op.then(bp.sin_op)  # type: ignore[arg-type]
    cabs_op.then(cmul_op)  # type: ignore[arg-type]
    bp.compose_op1(cmul_op, bp.sin_op)  # type: ignore[misc]
    # Op arithmetic needs the same arguments and result.
    norm_op + dot_op  # type: ignore[operator]
    cmul_op * bp.mul_op  # type: ignore[operator]


# ---- rejected: bp_op at the wrong arity or type ----------------------------------------------------


def rejected_bp_op(u: BVar[Vec2], x: BVar[float], w: Vec2) -> None:
    dist_op = bp.bp_op(dist)
    norm_bp = bp.bp_op(norm)
    dist_op(u)  # type: ignore[call-arg]
    dist_op(u, x)  # type: ignore[arg-type]
    norm_bp(u, u)  # type: ignore[call-arg]
    norm_bp(x)  # type: ignore[arg-type]
    bp.lift_op(dist_op, u)  # type: ignore[arg-type]
    bp.run_op(dist_op, (w,))  # type: ignore[misc]
    dist_op.grad(w)  # type: ignore[call-arg]
    norm_bp.eval(1.0)  # type: ignore[arg-type]
    _r: Vec2 = dist_op.eval(w, w)  # type: ignore[assignment]


# ---- rejected: running ops (the method forms name the argument) ---------------------------------


def rejected_methods(u: BVar[Vec2], x: BVar[float], w: Vec2) -> None:
    norm_op.grad(1.0)  # type: ignore[arg-type]
    dot_op.grad(w)  # type: ignore[call-arg]
    dot_op.grad(w, w, w)  # type: ignore[call-arg]
    dot_op.run(w, 1.0)  # type: ignore[arg-type]
    dot_op.eval(1.0, w)  # type: ignore[arg-type]
    dot_op.grad_with(w, w, dy="s")  # type: ignore[arg-type]
    dot_op.grad_with(w, w)  # type: ignore[call-arg]
    dot_op.backprop_with(w, 2)  # type: ignore[arg-type]
    cmul_op.grad(1j, "s")  # type: ignore[arg-type]
    _g: tuple[Vec2] = dot_op.grad(w, w)  # type: ignore[assignment]
    dot_op(u)  # type: ignore[call-arg]
    dot_op(u, x)  # type: ignore[arg-type]
    scale_op(u, x)  # type: ignore[arg-type]


# ---- rejected: runners ----------------------------------------------------------------------------


def rejected_runners(w: Vec2) -> None:
    bp.grad_bp(norm, 1.0)  # type: ignore[arg-type]
    bp.grad_bp2(dist, w)  # type: ignore[call-arg]
    bp.grad_bp_n(dist, w)  # type: ignore[arg-type]
    bp.backprop_n(dist, w, w, w)  # type: ignore[arg-type]
    bp.eval_bp(dist, w)  # type: ignore[arg-type]
    bp.grad_bp_n(mixed, w, 1.0)  # type: ignore[arg-type]


def rejected_num() -> None:
    num.grad_bp_n(f2f, 1.0)  # type: ignore[arg-type]
    num.backprop_n(f2f, 1.0)  # type: ignore[arg-type]
    num.backprop_with_n(f2f, 1.0, 2.0, 3.0)  # type: ignore[arg-type]
    num.grad_bp_n(f2f, 1.0, "s")  # type: ignore[arg-type]
    num.grad_bp(norm, 1.0)  # type: ignore[arg-type]


def rejected_explicit(w: Vec2) -> None:
    zs = (zero_float, zero_vec)
    adds = (add_float, add_vec)
    explicit.grad_bp_n(f2f, 1.0, zero=zero_float, add=add_float, one=one_float)  # type: ignore[arg-type]
    explicit.grad_bp_n(mixed, 1.0, w, zero=zero_float, add=adds, one=one_float)  # type: ignore[call-overload]
    explicit.grad_bp_n(mixed, 1.0, w, zero=zs, add=add_vec, one=one_float)  # type: ignore[call-overload]
    explicit.backprop_n(mixed, 1.0, w, zero=(zero_float,), add=adds, one=one_float)  # type: ignore[arg-type]
    explicit.backprop_with_n(mixed, w, 1.0, zero=zs, add=adds)  # type: ignore[arg-type]
    explicit.grad_bp2(mixed, 1.0, w, zero=zero_vec, add=adds, one=one_float)  # type: ignore[arg-type]
    explicit.grad_bp2(mixed, 1.0, w, zero=zs, add=add_float, one=one_float)  # type: ignore[arg-type]
    explicit.backprop_with2(f2f, 1.0, 2.0, zero=zero_vec, add=add_float)  # type: ignore[arg-type]
    explicit.grad_bp_n(f2f, 1.0, 2.0, zero=zero_float, add=add_float)  # type: ignore[call-overload]


def rejected_lifters(u: BVar[Vec2], x: BVar[float]) -> None:
    explicit.lift_op(dot_op, u, add=add_vec)  # type: ignore[arg-type]
    explicit.lift_op(dot_op, u, x, add=add_vec)  # type: ignore[call-overload]
    explicit.lift_op(scale_op, x, u, add=add_float)  # type: ignore[call-overload]
    explicit.lift_op2(scale_op, x, u, add=add_vec)  # type: ignore[arg-type]
    num.lift_op(dot_op, u)  # type: ignore[arg-type]
    num.lift_op(dot_op, u, x)  # type: ignore[misc]
    num.lift_op2(scale_op, u, x)  # type: ignore[misc]


def conj(z: complex) -> complex:
    return z.conjugate()


def dot_value(u: Vec2, v: Vec2) -> float:
    return u.x * v.x + u.y * v.y


def rejected_constructors(u: BVar[Vec2], x: BVar[float], w: Vec2) -> None:
    # An op's arity is its forward function's; its pullback returns the arguments' types.
    bp.op1(cmul_fwd)  # type: ignore[arg-type, misc]
    bp.op2(cabs_fwd)  # type: ignore[arg-type]
    bp.op1(dot_fwd)  # type: ignore[arg-type, misc]
    bp.op_iso(norm_value, conj)  # type: ignore[misc]
    # no_grad keeps the function's arity and types.
    bp.no_grad(dot_value)(u)  # type: ignore[call-arg]
    bp.no_grad(dot_value).eval(w, 1.0)  # type: ignore[arg-type]
    bp.no_grad1(norm_value)(x)  # type: ignore[arg-type]
    dot_op.eval(w)  # type: ignore[call-arg]


def norm_value(u: Vec2) -> float:
    return math.hypot(u.x, u.y)
