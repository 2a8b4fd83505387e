"""Runners whose gradients use `0`, `+` and `1` (Haskell's `Numeric.Backprop.Num`): for numeric
inputs and results (floats, ints, complex, numpy arrays and scalars) whatever their registered
Backprop instance. Thin wrappers of `bprop.explicit` with `zero_num`, `add_num`, `one_num`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Unpack

from . import explicit
from ._core import BVar
from ._typevars import A, B, C, R
from .classes import add_num, one_num, zero_num
from .op import Op
from .run import (
    eval_bp,
    eval_bp0,
    eval_bp2,
    eval_bp_n,
)  # re-exported: evaluation needs no gradient functions

__all__ = [
    "backprop",
    "backprop2",
    "backprop_n",
    "backprop_with",
    "backprop_with2",
    "backprop_with_n",
    "eval_bp",
    "eval_bp0",
    "eval_bp2",
    "eval_bp_n",
    "grad_bp",
    "grad_bp2",
    "grad_bp_n",
    "lift_op",
    "lift_op1",
    "lift_op2",
    "lift_op3",
]


def backprop(f: Callable[[BVar[A]], BVar[B]], x: A) -> tuple[B, A]:
    """Result of `f(x)` and its gradient, seeded with 1."""
    return explicit.backprop(f, x, zero=zero_num, add=add_num, one=one_num)


def grad_bp(f: Callable[[BVar[A]], BVar[B]], x: A) -> A:
    """Gradient of `f` at `x`, seeded with 1."""
    return explicit.grad_bp(f, x, zero=zero_num, add=add_num, one=one_num)


def backprop_with(f: Callable[[BVar[A]], BVar[B]], x: A) -> tuple[B, Callable[[B], A]]:
    """Result of `f(x)` and a reusable pullback."""
    return explicit.backprop_with(f, x, zero=zero_num, add=add_num)


def backprop2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> tuple[C, tuple[A, B]]:
    """`backprop` for two inputs."""
    return explicit.backprop2(
        f, x, y, zero=(zero_num, zero_num), add=(add_num, add_num), one=one_num
    )


def grad_bp2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> tuple[A, B]:
    """`grad_bp` for two inputs."""
    return explicit.grad_bp2(
        f, x, y, zero=(zero_num, zero_num), add=(add_num, add_num), one=one_num
    )


def backprop_with2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B
) -> tuple[C, Callable[[C], tuple[A, B]]]:
    """`backprop_with` for two inputs."""
    return explicit.backprop_with2(f, x, y, zero=(zero_num, zero_num), add=(add_num, add_num))


def backprop_n(f: Callable[..., BVar[R]], /, *xs: Any) -> tuple[R, tuple[Any, ...]]:
    """Result and gradients of `f(*xs)`."""
    return explicit.backprop_n(f, *xs, zero=zero_num, add=add_num, one=one_num)


def grad_bp_n(f: Callable[..., BVar[R]], /, *xs: Any) -> tuple[Any, ...]:
    """Gradients of `f` at `xs`."""
    return explicit.grad_bp_n(f, *xs, zero=zero_num, add=add_num, one=one_num)


def backprop_with_n(
    f: Callable[..., BVar[R]], /, *xs: Any
) -> tuple[R, Callable[[R], tuple[Any, ...]]]:
    """Result of `f(*xs)` and a reusable pullback."""
    return explicit.backprop_with_n(f, *xs, zero=zero_num, add=add_num)


def lift_op(op: Op[Unpack[tuple[Any, ...]], Any], /, *xs: Any) -> BVar[Any]:
    """Apply `op`, accumulating its arguments' gradients with `+`."""
    return explicit.lift_op(op, *xs, add=add_num)


def lift_op1(op: Op[A, R], x: BVar[A]) -> BVar[R]:
    """Apply a one-argument op, accumulating with `+`."""
    return explicit.lift_op1(op, x, add=add_num)


def lift_op2(op: Op[A, B, R], x: BVar[A], y: BVar[B]) -> BVar[R]:
    """Apply a two-argument op, accumulating with `+`."""
    return explicit.lift_op2(op, x, y, add=(add_num, add_num))


def lift_op3(op: Op[A, B, C, R], x: BVar[A], y: BVar[B], z: BVar[C]) -> BVar[R]:
    """Apply a three-argument op, accumulating with `+`."""
    return explicit.lift_op3(op, x, y, z, add=(add_num, add_num, add_num))
