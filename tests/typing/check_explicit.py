"""Type checks for bprop.explicit and bprop.num: runners and lifters taking the gradient
functions explicitly, and the ones using 0, + and 1.

Never imported or run: tests/test_typing.py runs mypy --strict and pyright on it (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_type

import bprop as bp
import numpy as np
import numpy.typing as npt
from bprop import BVar, explicit, num

Vec = npt.NDArray[np.float64]


class Box:
    """A type with no Backprop instance."""

    def __init__(self, v: float) -> None:
        self.v = v

    def __mul__(self, other: Box) -> Box:
        return Box(self.v * other.v)


def zero_box(b: Box) -> Box:
    return Box(0.0)


def add_box(a: Box, b: Box) -> Box:
    return Box(a.v + b.v)


def one_box(b: Box) -> Box:
    return Box(1.0)


def zero_str(s: str) -> str:
    return ""


def add_str(a: str, b: str) -> str:
    return a + b


def zero_float(x: float) -> float:
    return 0.0


def add_float(a: float, b: float) -> float:
    return a + b


def one_float(y: float) -> float:
    return 1.0


def f2f(x: BVar[float], y: BVar[float]) -> BVar[float]:
    return x * y


def box_f(x: BVar[Box]) -> BVar[Box]:
    return x


def unbox(x: BVar[Box]) -> BVar[float]:
    return bp.const_var(x.value.v)


def box2(x: BVar[Box], y: BVar[float]) -> BVar[float]:
    return y


def box3(x: BVar[Box], y: BVar[float], z: BVar[Box]) -> BVar[Box]:
    return z


def square(x: BVar[float]) -> BVar[float]:
    return x * x


def vec_f(x: BVar[Vec]) -> BVar[Vec]:
    return x


box_sq: bp.Op[Box, Box] = bp.op1(lambda b: (b * b, lambda g: g * b))
box_float: bp.Op[Box, float, Box] = bp.op2(lambda b, y: (b, lambda g: (g, 0.0)))
box_float_box: bp.Op[Box, float, Box, Box] = bp.op3(lambda a, y, b: (a, lambda g: (g, 0.0, g)))


# ---- accepted: explicit runners ----------------------------------------------------------------


def explicit_runners() -> None:
    b = Box(1.0)
    assert_type(
        explicit.backprop(box_f, b, zero=zero_box, add=add_box, one=one_box), tuple[Box, Box]
    )
    assert_type(explicit.grad_bp(box_f, b, zero=zero_box, add=add_box, one=one_box), Box)
    assert_type(explicit.grad_bp(unbox, b, zero=zero_box, add=add_box, one=one_float), Box)
    # lambdas are typed by the parameters
    assert_type(
        explicit.grad_bp(unbox, b, zero=lambda x: Box(0.0), add=add_box, one=lambda y: 2.0), Box
    )
    y, pullback = explicit.backprop_with(unbox, b, zero=zero_box, add=add_box)
    assert_type(y, float)
    assert_type(pullback, Callable[[float], Box])
    assert_type(explicit.eval_bp(unbox, b), float)
    assert_type(
        explicit.backprop2(
            box2, b, 2.0, zero=(zero_box, zero_float), add=(add_box, add_float), one=one_float
        ),
        tuple[float, tuple[Box, float]],
    )
    assert_type(
        explicit.grad_bp2(
            box2, b, 2.0, zero=(zero_box, zero_float), add=(add_box, add_float), one=one_float
        ),
        tuple[Box, float],
    )
    assert_type(
        explicit.backprop_with2(
            box2, b, 2.0, zero=(zero_box, zero_float), add=(add_box, add_float)
        ),
        tuple[float, Callable[[float], tuple[Box, float]]],
    )
    # n inputs (typed for 1-6): one function for all or a tuple with one per input
    zeros = (zero_box, zero_float, zero_box)
    adds = (add_box, add_float, add_box)
    assert_type(
        explicit.backprop_n(box3, b, 2.0, b, zero=zeros, add=adds, one=one_box),
        tuple[Box, tuple[Box, float, Box]],
    )
    assert_type(
        explicit.grad_bp_n(box3, b, 2.0, b, zero=zeros, add=adds, one=one_box),
        tuple[Box, float, Box],
    )
    assert_type(
        explicit.backprop_with_n(box3, b, 2.0, b, zero=zeros, add=adds),
        tuple[Box, Callable[[Box], tuple[Box, float, Box]]],
    )
    # 2-input runners take the single zero/add function their docstrings promise: a function
    # of the inputs' common type
    assert_type(
        explicit.grad_bp2(f2f, 1.0, 2.0, zero=zero_float, add=add_float, one=one_float),
        tuple[float, float],
    )
    # (mypy also accepts a generic zero/add for inputs of different types, e.g. a `zero(x: T) -> T`
    # for a Box and a float; pyright 1.1.414 does not match a generic function to the overloaded
    # protocol, so that case is not asserted here.)
    assert_type(
        explicit.backprop_with2(f2f, 1.0, 2.0, zero=zero_float, add=add_float),
        tuple[float, Callable[[float], tuple[float, float]]],
    )
    assert_type(
        explicit.grad_bp_n(f2f, 1.0, 2.0, zero=zero_float, add=add_float, one=one_float),
        tuple[float, float],
    )
    # a type with an instance, its add overridden
    assert_type(explicit.grad_bp(square, 1.0, zero=zero_float, add=add_float, one=one_float), float)


def explicit_lifters(x: BVar[Box], y: BVar[float]) -> None:
    assert_type(explicit.lift_op1(box_sq, x, add=add_box), BVar[Box])
    assert_type(explicit.lift_op2(box_float, x, y, add=(add_box, add_float)), BVar[Box])
    assert_type(
        explicit.lift_op3(box_float_box, x, y, x, add=(add_box, add_float, add_box)), BVar[Box]
    )
    assert_type(explicit.lift_op(box_float, x, y, add=(add_box, add_float)), BVar[Box])
    assert_type(explicit.lift_op(box_sq, x, add=add_box), BVar[Box])


# ---- accepted: num runners ---------------------------------------------------------------------


def num_runners(v: Vec) -> None:
    assert_type(num.grad_bp(square, 1.0), float)
    assert_type(num.grad_bp(vec_f, v), Vec)
    assert_type(num.backprop(square, 1.0), tuple[float, float])
    y, pullback = num.backprop_with(square, 1.0)
    assert_type(y, float)
    assert_type(pullback, Callable[[float], float])
    assert_type(num.grad_bp2(lambda a, n: a, 1.0, 2), tuple[float, int])
    assert_type(num.backprop2(lambda a, n: a, 1.0, 2), tuple[float, tuple[float, int]])
    assert_type(
        num.backprop_with2(lambda a, n: a, 1.0, 2),
        tuple[float, Callable[[float], tuple[float, int]]],
    )
    assert_type(num.grad_bp_n(lambda a, n: a, 1.0, 2), tuple[float, int])
    assert_type(num.backprop_n(square, 1.0), tuple[float, tuple[float]])
    assert_type(num.backprop_with_n(square, 1.0), tuple[float, Callable[[float], tuple[float]]])
    assert_type(num.grad_bp_n(f2f, 1.0, 2.0), tuple[float, float])
    assert_type(num.eval_bp(square, 1.0), float)


def num_lifters(x: BVar[float], n: BVar[int]) -> None:
    assert_type(num.lift_op1(bp.sin_op, x), BVar[float])
    assert_type(num.lift_op2(bp.mul_op, x, x), BVar[float])
    assert_type(num.lift_op(bp.mul_op, x, x), BVar[float])


# ---- rejected ----------------------------------------------------------------------------------


def rejected_explicit(x: BVar[Box], y: BVar[float]) -> None:
    b = Box(1.0)
    # zero= and one= are required (keyword-only, no default: the type has no instance to fall back on)
    explicit.backprop(box_f, b, add=add_box, one=one_box)  # type: ignore[call-arg]
    explicit.backprop(box_f, b, zero=zero_box, add=add_box)  # type: ignore[call-arg]
    explicit.grad_bp(box_f, b, zero=zero_box, one=one_box)  # type: ignore[call-arg]
    # the functions must be on the input's (or result's) type
    explicit.backprop(box_f, b, zero=zero_str, add=add_box, one=one_box)  # type: ignore[arg-type]
    explicit.grad_bp(box_f, b, zero=zero_box, add=add_str, one=one_box)  # type: ignore[arg-type]
    explicit.grad_bp(unbox, b, zero=zero_box, add=add_box, one=one_box)  # type: ignore[misc]
    explicit.backprop_with(box_f, b, zero=zero_box, add=add_box, one=one_box)  # type: ignore[call-arg]
    swapped = (zero_float, zero_box)
    explicit.grad_bp2(box2, b, 2.0, zero=swapped, add=(add_box, add_float), one=one_float)  # type: ignore[arg-type]
    # a pair for two inputs, not one function
    explicit.grad_bp2(box2, b, 2.0, zero=zero_box, add=(add_box, add_float), one=one_float)  # type: ignore[arg-type]
    # lifters: the add must be on the argument's type
    explicit.lift_op1(box_sq, x, add=add_str)  # type: ignore[arg-type]
    explicit.lift_op1(box_sq, x, add=add_float)  # type: ignore[arg-type]
    explicit.lift_op2(box_float, x, y, add=(add_box, add_box))  # type: ignore[arg-type]
    explicit.lift_op1(box_sq, x)  # type: ignore[call-arg]


def rejected_num(x: BVar[float]) -> None:
    g = num.grad_bp(square, 1.0)
    _s: str = g  # type: ignore[assignment]
    gs = num.grad_bp2(lambda a, n: a, 1.0, 2)
    _t: tuple[float, float, float] = gs  # type: ignore[assignment]
    # num runners take no gradient functions
    num.grad_bp(square, 1.0, zero=zero_float)  # type: ignore[call-arg]
    num.backprop_with(square, "s")  # type: ignore[arg-type]
    lifted = num.lift_op1(bp.sin_op, x)
    _u: BVar[str] = lifted  # type: ignore[assignment]
