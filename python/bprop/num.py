"""Runners whose gradients use `0`, `+` and `1` (Haskell's `Numeric.Backprop.Num`): for numeric
inputs and results (floats, ints, complex, numpy arrays and scalars) whatever their registered
Backprop instance. Thin wrappers of `bprop.explicit` with `zero_num`, `add_num`, `one_num`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import explicit, run
from . import op as _op
from ._core import BVar
from ._typevars import A, B, C, R, signature_of
from .classes import add_num, one_num, zero_num
from .op import Op
from .run import (
    backprop_n_untyped,
    backprop_with_n_untyped,
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
    """Result of `f(x)` and its gradient, seeded with 1.

    >>> bp.num.backprop(lambda x: x * x, 3)
    (9, 6)
    """
    return explicit.backprop(f, x, zero=zero_num, add=add_num, one=one_num)


def grad_bp(f: Callable[[BVar[A]], BVar[B]], x: A) -> A:
    """Gradient of `f` at `x`, seeded with 1.

    >>> bp.num.grad_bp(lambda x: x * x * x, 2.0)
    12.0
    """
    return explicit.grad_bp(f, x, zero=zero_num, add=add_num, one=one_num)


def backprop_with(f: Callable[[BVar[A]], BVar[B]], x: A) -> tuple[B, Callable[[B], A]]:
    """Result of `f(x)` and a reusable pullback.

    >>> y, pullback = bp.num.backprop_with(lambda x: 3 * x, 2.0)
    >>> y, pullback(2.0)
    (6.0, 6.0)
    """
    return explicit.backprop_with(f, x, zero=zero_num, add=add_num)


def backprop2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> tuple[C, tuple[A, B]]:
    """`backprop` for two inputs.

    >>> bp.num.backprop2(lambda x, y: x * y, 3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    return explicit.backprop2(
        f, x, y, zero=(zero_num, zero_num), add=(add_num, add_num), one=one_num
    )


def grad_bp2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> tuple[A, B]:
    """`grad_bp` for two inputs.

    >>> bp.num.grad_bp2(lambda x, y: x / y, 1.0, 2.0)
    (0.5, -0.25)
    """
    return explicit.grad_bp2(
        f, x, y, zero=(zero_num, zero_num), add=(add_num, add_num), one=one_num
    )


def backprop_with2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B
) -> tuple[C, Callable[[C], tuple[A, B]]]:
    """`backprop_with` for two inputs.

    >>> z, pullback = bp.num.backprop_with2(lambda x, y: x * y, 3.0, 4.0)
    >>> z, pullback(2.0)
    (12.0, (8.0, 6.0))
    """
    return explicit.backprop_with2(f, x, y, zero=(zero_num, zero_num), add=(add_num, add_num))


@signature_of(run.backprop_n)
def backprop_n(f: Callable[..., BVar[Any]], /, *xs: Any) -> tuple[Any, tuple[Any, ...]]:
    """Result and gradients of `f(*xs)`.

    >>> bp.num.backprop_n(lambda x, y, z: x + y * z, 1.0, 2.0, 3.0)
    (7.0, (1.0, 3.0, 2.0))
    """
    return backprop_n_untyped(f, xs, zero=zero_num, add=add_num, one=one_num)


@signature_of(run.grad_bp_n)
def grad_bp_n(f: Callable[..., BVar[Any]], /, *xs: Any) -> tuple[Any, ...]:
    """Gradients of `f` at `xs`.

    >>> bp.num.grad_bp_n(lambda x, y, z: x + y * z, 1.0, 2.0, 3.0)
    (1.0, 3.0, 2.0)
    """
    return backprop_n_untyped(f, xs, zero=zero_num, add=add_num, one=one_num)[1]


@signature_of(run.backprop_with_n)
def backprop_with_n(
    f: Callable[..., BVar[Any]], /, *xs: Any
) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """Result of `f(*xs)` and a reusable pullback.

    >>> r, pullback = bp.num.backprop_with_n(lambda x, y: x * y, 2.0, 3.0)
    >>> r, pullback(1.0)
    (6.0, (3.0, 2.0))
    """
    return backprop_with_n_untyped(f, xs, zero=zero_num, add=add_num)


@signature_of(_op.lift_op)
def lift_op(op: Op[*tuple[Any, ...], Any], /, *xs: Any) -> BVar[Any]:
    """Apply `op`, accumulating its arguments' gradients with `+`.

    >>> bp.num.grad_bp(lambda x: bp.num.lift_op(bp.mul_op, x, x), 3.0)
    6.0
    """
    return explicit.lift_op(op, *xs, add=add_num)


def lift_op1(op: Op[A, R], x: BVar[A]) -> BVar[R]:
    """Apply a one-argument op, accumulating with `+`.

    >>> bp.num.grad_bp(lambda x: bp.num.lift_op1(bp.exp_op, x), 0.0)
    1.0
    """
    return explicit.lift_op1(op, x, add=add_num)


def lift_op2(op: Op[A, B, R], x: BVar[A], y: BVar[B]) -> BVar[R]:
    """Apply a two-argument op, accumulating with `+`.

    >>> bp.num.grad_bp2(lambda x, y: bp.num.lift_op2(bp.sub_op, x, y), 1.0, 2.0)
    (1.0, -1.0)
    """
    return explicit.lift_op2(op, x, y, add=(add_num, add_num))


def lift_op3(op: Op[A, B, C, R], x: BVar[A], y: BVar[B], z: BVar[C]) -> BVar[R]:
    """Apply a three-argument op, accumulating with `+`.

    >>> fma = bp.op3(lambda x, y, z: (x * y + z, lambda g: (g * y, g * x, g)))
    >>> bp.num.grad_bp_n(lambda x, y, z: bp.num.lift_op3(fma, x, y, z), 2.0, 3.0, 4.0)
    (3.0, 2.0, 1.0)
    """
    return explicit.lift_op3(op, x, y, z, add=(add_num, add_num, add_num))
