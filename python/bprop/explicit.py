"""Runners and lifters taking the gradient functions explicitly (Haskell's
`Numeric.Backprop.Explicit`): for types with no Backprop instance, or to override one.

* `zero(x)`: the gradient of input `x` when the result does not depend on it;
* `add(a, b)`: sums two gradient contributions into one BVar (an input, or an op's argument);
* `one(y)`: the seed for the result `y`.

Multi-input runners take one function for every input (it is called on each input's values, so
its type must fit every input: one function when the inputs share a type, or a generic one) or a
tuple with one function per input. They are typed per arity (1-6 inputs), like `bprop.run`'s; a
list of functions is accepted at run time, but only a tuple's length is known to a type checker.
These are the same runners as `bprop.run` (one implementation: `run.backprop_n_untyped` and
friends), with the functions passed through.

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
from typing import Any, Protocol, TypeAlias, cast, overload

from ._core import BVar, set_add
from ._typevars import A, B, C, D, E, F, R
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


# ---- one zero/add function for several inputs ----------------------------------------------------
# A multi-input runner takes one function for every input (called on each input's values, so it
# must accept and return every input type: a generic function, or one function when the inputs
# share a type) or a tuple with one function per input.


class _Zero2(Protocol[A, B]):
    """One `zero` function for 2 inputs: it maps each input to a value of its type."""

    @overload
    def __call__(self, x: A, /) -> A: ...
    @overload
    def __call__(self, x: B, /) -> B: ...


class _Add2(Protocol[A, B]):
    """One `add` function for 2 inputs: it sums two values of each input's type."""

    @overload
    def __call__(self, a: A, b: A, /) -> A: ...
    @overload
    def __call__(self, a: B, b: B, /) -> B: ...


_Zeros2: TypeAlias = _Zero2[A, B] | tuple[Callable[[A], A], Callable[[B], B]]
_Adds2: TypeAlias = _Add2[A, B] | tuple[Callable[[A, A], A], Callable[[B, B], B]]


class _Zero3(Protocol[A, B, C]):
    """One `zero` function for 3 inputs: it maps each input to a value of its type."""

    @overload
    def __call__(self, x: A, /) -> A: ...
    @overload
    def __call__(self, x: B, /) -> B: ...
    @overload
    def __call__(self, x: C, /) -> C: ...


class _Add3(Protocol[A, B, C]):
    """One `add` function for 3 inputs: it sums two values of each input's type."""

    @overload
    def __call__(self, a: A, b: A, /) -> A: ...
    @overload
    def __call__(self, a: B, b: B, /) -> B: ...
    @overload
    def __call__(self, a: C, b: C, /) -> C: ...


_Zeros3: TypeAlias = _Zero3[A, B, C] | tuple[Callable[[A], A], Callable[[B], B], Callable[[C], C]]
_Adds3: TypeAlias = (
    _Add3[A, B, C] | tuple[Callable[[A, A], A], Callable[[B, B], B], Callable[[C, C], C]]
)


class _Zero4(Protocol[A, B, C, D]):
    """One `zero` function for 4 inputs: it maps each input to a value of its type."""

    @overload
    def __call__(self, x: A, /) -> A: ...
    @overload
    def __call__(self, x: B, /) -> B: ...
    @overload
    def __call__(self, x: C, /) -> C: ...
    @overload
    def __call__(self, x: D, /) -> D: ...


class _Add4(Protocol[A, B, C, D]):
    """One `add` function for 4 inputs: it sums two values of each input's type."""

    @overload
    def __call__(self, a: A, b: A, /) -> A: ...
    @overload
    def __call__(self, a: B, b: B, /) -> B: ...
    @overload
    def __call__(self, a: C, b: C, /) -> C: ...
    @overload
    def __call__(self, a: D, b: D, /) -> D: ...


_Zeros4: TypeAlias = (
    _Zero4[A, B, C, D]
    | tuple[Callable[[A], A], Callable[[B], B], Callable[[C], C], Callable[[D], D]]
)
_Adds4: TypeAlias = (
    _Add4[A, B, C, D]
    | tuple[Callable[[A, A], A], Callable[[B, B], B], Callable[[C, C], C], Callable[[D, D], D]]
)


class _Zero5(Protocol[A, B, C, D, E]):
    """One `zero` function for 5 inputs: it maps each input to a value of its type."""

    @overload
    def __call__(self, x: A, /) -> A: ...
    @overload
    def __call__(self, x: B, /) -> B: ...
    @overload
    def __call__(self, x: C, /) -> C: ...
    @overload
    def __call__(self, x: D, /) -> D: ...
    @overload
    def __call__(self, x: E, /) -> E: ...


class _Add5(Protocol[A, B, C, D, E]):
    """One `add` function for 5 inputs: it sums two values of each input's type."""

    @overload
    def __call__(self, a: A, b: A, /) -> A: ...
    @overload
    def __call__(self, a: B, b: B, /) -> B: ...
    @overload
    def __call__(self, a: C, b: C, /) -> C: ...
    @overload
    def __call__(self, a: D, b: D, /) -> D: ...
    @overload
    def __call__(self, a: E, b: E, /) -> E: ...


_Zeros5: TypeAlias = (
    _Zero5[A, B, C, D, E]
    | tuple[
        Callable[[A], A], Callable[[B], B], Callable[[C], C], Callable[[D], D], Callable[[E], E]
    ]
)
_Adds5: TypeAlias = (
    _Add5[A, B, C, D, E]
    | tuple[
        Callable[[A, A], A],
        Callable[[B, B], B],
        Callable[[C, C], C],
        Callable[[D, D], D],
        Callable[[E, E], E],
    ]
)


class _Zero6(Protocol[A, B, C, D, E, F]):
    """One `zero` function for 6 inputs: it maps each input to a value of its type."""

    @overload
    def __call__(self, x: A, /) -> A: ...
    @overload
    def __call__(self, x: B, /) -> B: ...
    @overload
    def __call__(self, x: C, /) -> C: ...
    @overload
    def __call__(self, x: D, /) -> D: ...
    @overload
    def __call__(self, x: E, /) -> E: ...
    @overload
    def __call__(self, x: F, /) -> F: ...


class _Add6(Protocol[A, B, C, D, E, F]):
    """One `add` function for 6 inputs: it sums two values of each input's type."""

    @overload
    def __call__(self, a: A, b: A, /) -> A: ...
    @overload
    def __call__(self, a: B, b: B, /) -> B: ...
    @overload
    def __call__(self, a: C, b: C, /) -> C: ...
    @overload
    def __call__(self, a: D, b: D, /) -> D: ...
    @overload
    def __call__(self, a: E, b: E, /) -> E: ...
    @overload
    def __call__(self, a: F, b: F, /) -> F: ...


_Zeros6: TypeAlias = (
    _Zero6[A, B, C, D, E, F]
    | tuple[
        Callable[[A], A],
        Callable[[B], B],
        Callable[[C], C],
        Callable[[D], D],
        Callable[[E], E],
        Callable[[F], F],
    ]
)
_Adds6: TypeAlias = (
    _Add6[A, B, C, D, E, F]
    | tuple[
        Callable[[A, A], A],
        Callable[[B, B], B],
        Callable[[C, C], C],
        Callable[[D, D], D],
        Callable[[E, E], E],
        Callable[[F, F], F],
    ]
)


# ---- runners (eval_bp* need no gradient functions: they are bprop.run's) ------------------------


def backprop(
    f: Callable[[BVar[A]], BVar[B]],
    x: A,
    *,
    zero: Callable[[A], A],
    add: Callable[[A, A], A],
    one: Callable[[B], B],
) -> tuple[B, A]:
    """Result of `f(x)` and its gradient, seeded with `one(result)`.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> bp.explicit.backprop(lambda x: x * x, 3.0, zero=zero, add=add, one=one)
    (9.0, 6.0)
    """
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
    """Gradient of `f` at `x`, seeded with `one(result)`.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> bp.explicit.grad_bp(lambda x: x * x, 3.0, zero=zero, add=add, one=lambda y: 2.0)
    12.0
    """
    return backprop(f, x, zero=zero, add=add, one=one)[1]


def backprop_with(
    f: Callable[[BVar[A]], BVar[B]], x: A, *, zero: Callable[[A], A], add: Callable[[A, A], A]
) -> tuple[B, Callable[[B], A]]:
    """Result of `f(x)` and a reusable pullback (no `one`: the caller gives the seed).

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> y, pullback = bp.explicit.backprop_with(lambda x: x * x, 3.0, zero=zero, add=add)
    >>> y, pullback(1.0)
    (9.0, 6.0)
    """
    y, pullback = backprop_with_n_untyped(f, (x,), zero=zero, add=add)
    return y, lambda dy: pullback(dy)[0]


def backprop2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]],
    x: A,
    y: B,
    *,
    zero: _Zeros2[A, B],
    add: _Adds2[A, B],
    one: Callable[[C], C],
) -> tuple[C, tuple[A, B]]:
    """`backprop` for two inputs, with a pair of zero and add functions.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> bp.explicit.backprop2(lambda x, y: x * y, 3.0, 4.0, zero=zero, add=add, one=one)
    (12.0, (4.0, 3.0))
    """
    return backprop_n_untyped(f, (x, y), zero=zero, add=add, one=one)


def grad_bp2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]],
    x: A,
    y: B,
    *,
    zero: _Zeros2[A, B],
    add: _Adds2[A, B],
    one: Callable[[C], C],
) -> tuple[A, B]:
    """`grad_bp` for two inputs.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> bp.explicit.grad_bp2(lambda x, y: x * y, 3.0, 4.0, zero=zero, add=add, one=one)
    (4.0, 3.0)
    """
    return backprop2(f, x, y, zero=zero, add=add, one=one)[1]


def backprop_with2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]],
    x: A,
    y: B,
    *,
    zero: _Zeros2[A, B],
    add: _Adds2[A, B],
) -> tuple[C, Callable[[C], tuple[A, B]]]:
    """`backprop_with` for two inputs.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> z, pullback = bp.explicit.backprop_with2(lambda x, y: x * y, 3.0, 4.0, zero=zero, add=add)
    >>> z, pullback(1.0)
    (12.0, (4.0, 3.0))
    """
    return backprop_with_n_untyped(f, (x, y), zero=zero, add=add)


@overload
def backprop_n(
    f: Callable[[BVar[A]], BVar[R]],
    x1: A,
    /,
    *,
    zero: Callable[[A], A] | tuple[Callable[[A], A]],
    add: Callable[[A, A], A] | tuple[Callable[[A, A], A]],
    one: Callable[[R], R],
) -> tuple[R, tuple[A]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B]], BVar[R]],
    x1: A,
    x2: B,
    /,
    *,
    zero: _Zeros2[A, B],
    add: _Adds2[A, B],
    one: Callable[[R], R],
) -> tuple[R, tuple[A, B]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    /,
    *,
    zero: _Zeros3[A, B, C],
    add: _Adds3[A, B, C],
    one: Callable[[R], R],
) -> tuple[R, tuple[A, B, C]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    /,
    *,
    zero: _Zeros4[A, B, C, D],
    add: _Adds4[A, B, C, D],
    one: Callable[[R], R],
) -> tuple[R, tuple[A, B, C, D]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
    *,
    zero: _Zeros5[A, B, C, D, E],
    add: _Adds5[A, B, C, D, E],
    one: Callable[[R], R],
) -> tuple[R, tuple[A, B, C, D, E]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
    *,
    zero: _Zeros6[A, B, C, D, E, F],
    add: _Adds6[A, B, C, D, E, F],
    one: Callable[[R], R],
) -> tuple[R, tuple[A, B, C, D, E, F]]: ...
@overload
def backprop_n(
    f: Callable[..., BVar[R]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
    zero: Funcs,
    add: Funcs,
    one: Callable[[R], R],
) -> tuple[R, tuple[Any, ...]]: ...
def backprop_n(
    f: Callable[..., BVar[Any]], /, *xs: Any, zero: Funcs, add: Funcs, one: Callable[[Any], Any]
) -> tuple[Any, tuple[Any, ...]]:
    """Result and gradients of `f(*xs)`; `zero`/`add` are one function or one per input.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> bp.explicit.backprop_n(lambda x, y: x * y, 2.0, 3.0, zero=zero, add=add, one=one)
    (6.0, (3.0, 2.0))
    """
    return backprop_n_untyped(f, xs, zero=zero, add=add, one=one)


@overload
def grad_bp_n(
    f: Callable[[BVar[A]], BVar[R]],
    x1: A,
    /,
    *,
    zero: Callable[[A], A] | tuple[Callable[[A], A]],
    add: Callable[[A, A], A] | tuple[Callable[[A, A], A]],
    one: Callable[[R], R],
) -> tuple[A]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B]], BVar[R]],
    x1: A,
    x2: B,
    /,
    *,
    zero: _Zeros2[A, B],
    add: _Adds2[A, B],
    one: Callable[[R], R],
) -> tuple[A, B]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    /,
    *,
    zero: _Zeros3[A, B, C],
    add: _Adds3[A, B, C],
    one: Callable[[R], R],
) -> tuple[A, B, C]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    /,
    *,
    zero: _Zeros4[A, B, C, D],
    add: _Adds4[A, B, C, D],
    one: Callable[[R], R],
) -> tuple[A, B, C, D]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
    *,
    zero: _Zeros5[A, B, C, D, E],
    add: _Adds5[A, B, C, D, E],
    one: Callable[[R], R],
) -> tuple[A, B, C, D, E]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
    *,
    zero: _Zeros6[A, B, C, D, E, F],
    add: _Adds6[A, B, C, D, E, F],
    one: Callable[[R], R],
) -> tuple[A, B, C, D, E, F]: ...
@overload
def grad_bp_n(
    f: Callable[..., BVar[R]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
    zero: Funcs,
    add: Funcs,
    one: Callable[[R], R],
) -> tuple[Any, ...]: ...
def grad_bp_n(
    f: Callable[..., BVar[Any]], /, *xs: Any, zero: Funcs, add: Funcs, one: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """Gradients of `f` at `xs`.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> bp.explicit.grad_bp_n(lambda x, y: x + y, 1.0, 2.0, zero=zero, add=add, one=one)
    (1.0, 1.0)
    """
    return backprop_n_untyped(f, xs, zero=zero, add=add, one=one)[1]


@overload
def backprop_with_n(
    f: Callable[[BVar[A]], BVar[R]],
    x1: A,
    /,
    *,
    zero: Callable[[A], A] | tuple[Callable[[A], A]],
    add: Callable[[A, A], A] | tuple[Callable[[A, A], A]],
) -> tuple[R, Callable[[R], tuple[A]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B]], BVar[R]],
    x1: A,
    x2: B,
    /,
    *,
    zero: _Zeros2[A, B],
    add: _Adds2[A, B],
) -> tuple[R, Callable[[R], tuple[A, B]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    /,
    *,
    zero: _Zeros3[A, B, C],
    add: _Adds3[A, B, C],
) -> tuple[R, Callable[[R], tuple[A, B, C]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    /,
    *,
    zero: _Zeros4[A, B, C, D],
    add: _Adds4[A, B, C, D],
) -> tuple[R, Callable[[R], tuple[A, B, C, D]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
    *,
    zero: _Zeros5[A, B, C, D, E],
    add: _Adds5[A, B, C, D, E],
) -> tuple[R, Callable[[R], tuple[A, B, C, D, E]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
    *,
    zero: _Zeros6[A, B, C, D, E, F],
    add: _Adds6[A, B, C, D, E, F],
) -> tuple[R, Callable[[R], tuple[A, B, C, D, E, F]]]: ...
@overload
def backprop_with_n(
    f: Callable[..., BVar[R]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
    zero: Funcs,
    add: Funcs,
) -> tuple[R, Callable[[R], tuple[Any, ...]]]: ...
def backprop_with_n(
    f: Callable[..., BVar[Any]], /, *xs: Any, zero: Funcs, add: Funcs
) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """Result of `f(*xs)` and a reusable pullback to the gradients of all inputs.

    >>> zero, add, one = (lambda x: 0.0), (lambda a, b: a + b), (lambda y: 1.0)
    >>> r, pullback = bp.explicit.backprop_with_n(lambda x, y: x - y, 1.0, 2.0, zero=zero, add=add)
    >>> r, pullback(1.0)
    (-1.0, (1.0, -1.0))
    """
    return backprop_with_n_untyped(f, xs, zero=zero, add=add)


# ---- lifters ------------------------------------------------------------------------------


@overload
def lift_op(op: Op[R], /, *, add: Funcs) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, R], x1: BVar[A], /, *, add: Callable[[A, A], A] | tuple[Callable[[A, A], A]]
) -> BVar[R]: ...
@overload
def lift_op(op: Op[A, B, R], x1: BVar[A], x2: BVar[B], /, *, add: _Adds2[A, B]) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, R], x1: BVar[A], x2: BVar[B], x3: BVar[C], /, *, add: _Adds3[A, B, C]
) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, D, R],
    x1: BVar[A],
    x2: BVar[B],
    x3: BVar[C],
    x4: BVar[D],
    /,
    *,
    add: _Adds4[A, B, C, D],
) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, D, E, R],
    x1: BVar[A],
    x2: BVar[B],
    x3: BVar[C],
    x4: BVar[D],
    x5: BVar[E],
    /,
    *,
    add: _Adds5[A, B, C, D, E],
) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, D, E, F, R],
    x1: BVar[A],
    x2: BVar[B],
    x3: BVar[C],
    x4: BVar[D],
    x5: BVar[E],
    x6: BVar[F],
    /,
    *,
    add: _Adds6[A, B, C, D, E, F],
) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[*tuple[Any, ...], R],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
    add: Funcs,
) -> BVar[R]: ...
def lift_op(op: Op[*tuple[Any, ...], Any], /, *xs: Any, add: Funcs) -> BVar[Any]:
    """Apply `op` to BVars, accumulating each argument's gradients with `add` (one function for
    every argument or one per argument).

    >>> count = []
    >>> def add(a, b):
    ...     count.append(1)
    ...     return a + b
    >>> bp.grad_bp(lambda x: bp.explicit.lift_op(bp.mul_op, x, x, add=add), 3.0), len(count)
    (6.0, 1)
    """
    adds = per_input(add, len(xs), "add")
    out = _lift(op, xs)
    for x, a in zip(xs, adds):
        if isinstance(x, BVar):
            set_add(x, a)
    return cast("BVar[Any]", out)


def lift_op1(op: Op[A, R], x: BVar[A], *, add: Callable[[A, A], A]) -> BVar[R]:
    """Apply a one-argument op, accumulating `x`'s gradients with `add`.

    >>> bp.grad_bp(lambda x: bp.explicit.lift_op1(bp.sin_op, x, add=lambda a, b: a + b), 0.0)
    1.0
    """
    return lift_op(op, x, add=add)


def lift_op2(op: Op[A, B, R], x: BVar[A], y: BVar[B], *, add: _Adds2[A, B]) -> BVar[R]:
    """Apply a two-argument op, accumulating each argument's gradients with its `add`.

    >>> plus = lambda a, b: a + b
    >>> bp.grad_bp2(lambda x, y: bp.explicit.lift_op2(bp.mul_op, x, y, add=[plus, plus]), 3.0, 4.0)
    (4.0, 3.0)
    """
    return lift_op(op, x, y, add=add)


def lift_op3(
    op: Op[A, B, C, R],
    x: BVar[A],
    y: BVar[B],
    z: BVar[C],
    *,
    add: _Adds3[A, B, C],
) -> BVar[R]:
    """Apply a three-argument op, accumulating each argument's gradients with its `add`.

    >>> fma = bp.op3(lambda x, y, z: (x * y + z, lambda g: (g * y, g * x, g)))
    >>> plus = lambda a, b: a + b
    >>> bp.grad_bp_n(lambda x, y, z: bp.explicit.lift_op3(fma, x, y, z, add=plus), 2.0, 3.0, 4.0)
    (3.0, 2.0, 1.0)
    """
    return lift_op(op, x, y, z, add=add)
