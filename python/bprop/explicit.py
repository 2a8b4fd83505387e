"""Runners and lifters taking the gradient functions explicitly (Haskell's
`Numeric.Backprop.Explicit`): for types with no Backprop instance, or to override one.

* `zero(x)`: the gradient of input `x` when the result does not depend on it;
* `add(a, b)`: sums two gradient contributions into one BVar (an input, or an op's argument);
* `one(y)`: the seed for the result `y`.

Multi-input runners take one function for every input or a sequence with one per input. These
are the same runners as `bprop.run` (one implementation: `run.backprop_n_untyped` and friends),
with the functions passed through.

Differences from Haskell, on purpose:
* An `add` given for a BVar (at its input or at an op it is an argument of) is used for every
  contribution into that BVar; Haskell keys it per use site, which only differs if one passes
  different adds for the same variable.
* Lifters take no `zero=` for the op's result: bprop never builds a zero gradient for an
  intermediate result (nodes the gradient does not reach are skipped).
* An explicit `add` is called on whole values (container gradients are built first), and a run
  with any explicit `add` accumulates array gradients without the in-place fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Unpack, cast

from ._core import BVar, set_add
from ._typevars import A, B, C, R
from .op import Op, _lift
from .run import (
    Funcs,
    backprop_n_untyped,
    backprop_with_n_untyped,
    eval_bp,
    eval_bp0,
    eval_bp2,
    eval_bp_n,
    per_input,
)

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


# ---- runners (eval_bp* need no gradient functions: they are bprop.run's) ------------------------


def backprop(
    f: Callable[[BVar[A]], BVar[B]],
    x: A,
    *,
    zero: Callable[[A], A],
    add: Callable[[A, A], A],
    one: Callable[[B], B],
) -> tuple[B, A]:
    """Result of `f(x)` and its gradient, seeded with `one(result)`."""
    y, (g,) = backprop_n_untyped(f, (x,), zero=zero, add=add, one=one)
    return y, g


def grad_bp(
    f: Callable[[BVar[A]], BVar[B]],
    x: A,
    *,
    zero: Callable[[A], A],
    add: Callable[[A, A], A],
    one: Callable[[B], B],
) -> A:
    """Gradient of `f` at `x`, seeded with `one(result)`."""
    return backprop(f, x, zero=zero, add=add, one=one)[1]


def backprop_with(
    f: Callable[[BVar[A]], BVar[B]], x: A, *, zero: Callable[[A], A], add: Callable[[A, A], A]
) -> tuple[B, Callable[[B], A]]:
    """Result of `f(x)` and a reusable pullback (no `one`: the caller gives the seed)."""
    y, pullback = backprop_with_n_untyped(f, (x,), zero=zero, add=add)
    return y, lambda dy: pullback(dy)[0]


def backprop2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]],
    x: A,
    y: B,
    *,
    zero: tuple[Callable[[A], A], Callable[[B], B]],
    add: tuple[Callable[[A, A], A], Callable[[B, B], B]],
    one: Callable[[C], C],
) -> tuple[C, tuple[A, B]]:
    """`backprop` for two inputs, with a pair of zero and add functions."""
    return backprop_n_untyped(f, (x, y), zero=zero, add=add, one=one)


def grad_bp2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]],
    x: A,
    y: B,
    *,
    zero: tuple[Callable[[A], A], Callable[[B], B]],
    add: tuple[Callable[[A, A], A], Callable[[B, B], B]],
    one: Callable[[C], C],
) -> tuple[A, B]:
    """`grad_bp` for two inputs."""
    return backprop2(f, x, y, zero=zero, add=add, one=one)[1]


def backprop_with2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]],
    x: A,
    y: B,
    *,
    zero: tuple[Callable[[A], A], Callable[[B], B]],
    add: tuple[Callable[[A, A], A], Callable[[B, B], B]],
) -> tuple[C, Callable[[C], tuple[A, B]]]:
    """`backprop_with` for two inputs."""
    return backprop_with_n_untyped(f, (x, y), zero=zero, add=add)


def backprop_n(
    f: Callable[..., BVar[R]], /, *xs: Any, zero: Funcs, add: Funcs, one: Callable[[R], R]
) -> tuple[R, tuple[Any, ...]]:
    """Result and gradients of `f(*xs)`; `zero`/`add` are one function or one per input."""
    return backprop_n_untyped(f, xs, zero=zero, add=add, one=one)


def grad_bp_n(
    f: Callable[..., BVar[R]], /, *xs: Any, zero: Funcs, add: Funcs, one: Callable[[R], R]
) -> tuple[Any, ...]:
    """Gradients of `f` at `xs`."""
    return backprop_n(f, *xs, zero=zero, add=add, one=one)[1]


def backprop_with_n(
    f: Callable[..., BVar[R]], /, *xs: Any, zero: Funcs, add: Funcs
) -> tuple[R, Callable[[R], tuple[Any, ...]]]:
    """Result of `f(*xs)` and a reusable pullback to the gradients of all inputs."""
    return backprop_with_n_untyped(f, xs, zero=zero, add=add)


# ---- lifters ------------------------------------------------------------------------------


def lift_op(op: Op[Unpack[tuple[Any, ...]], Any], /, *xs: Any, add: Funcs) -> BVar[Any]:
    """Apply `op` to BVars, accumulating each argument's gradients with `add` (one function for
    every argument or one per argument)."""
    adds = per_input(add, len(xs), "add")
    out = _lift(op, xs)
    for x, a in zip(xs, adds):
        if isinstance(x, BVar):
            set_add(x, a)
    return cast("BVar[Any]", out)


def lift_op1(op: Op[A, R], x: BVar[A], *, add: Callable[[A, A], A]) -> BVar[R]:
    """Apply a one-argument op, accumulating `x`'s gradients with `add`."""
    return lift_op(op, x, add=add)


def lift_op2(
    op: Op[A, B, R], x: BVar[A], y: BVar[B], *, add: tuple[Callable[[A, A], A], Callable[[B, B], B]]
) -> BVar[R]:
    """Apply a two-argument op, accumulating each argument's gradients with its `add`."""
    return lift_op(op, x, y, add=add)


def lift_op3(
    op: Op[A, B, C, R],
    x: BVar[A],
    y: BVar[B],
    z: BVar[C],
    *,
    add: tuple[Callable[[A, A], A], Callable[[B, B], B], Callable[[C, C], C]],
) -> BVar[R]:
    """Apply a three-argument op, accumulating each argument's gradients with its `add`."""
    return lift_op(op, x, y, z, add=add)
