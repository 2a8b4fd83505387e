"""Ops: differentiable functions given as "forward value plus pullback" (Numeric.Backprop.Op).

An `Op[*As, A]` maps an argument tuple `tuple[*As]` to an `A`. Every Op is one of:

* a *custom* op: `forward(*xs) -> (y, pullback)`; the pullback returns the single gradient for
  `op1`-style ops (`bare`) and a tuple with one gradient per argument otherwise. Lifting records
  it on the tape as the core's typed arity variant (unary/binary/ternary/n-ary).
* a *native* op (`add_op`, `sin_op`, ...): lifting calls a Rust kernel; no Python pullback.
* an *inline* op (`bp_op`, composition, Op arithmetic): lifting calls a function of BVars, so
  its ops are recorded directly on the caller's tape.

Running an op (`run_op`, `grad_op`, ...) is `backprop_n` of lifting it: one implementation.
The examples below run every ready-made op once (their gradients, at simple points):

>>> sq = bp.op1(lambda x: (x * x, lambda g: 2 * x * g))
>>> bp.grad_bp(lambda v: sq(v) + bp.sin_op(v), 0.0)
1.0
>>> bp.grad_op(bp.mul_op, (3.0, 4.0)), bp.eval_op(bp.pow_op, (2.0, 3.0))
((4.0, 3.0), 8.0)
>>> bp.grad_op(bp.id_op, (5.0,)), bp.grad_op(bp.op_coerce, (5.0,))
((1.0,), (1.0,))
>>> bp.run_op(bp.op_tup, (1.0, 2.0))
((1.0, 2.0), (1.0, 1.0))
>>> def d(op, x):
...     return round(bp.grad_op(op, (x,))[0], 4)
>>> [d(op, 0.0) for op in (bp.sin_op, bp.cos_op, bp.tan_op, bp.exp_op)]
[1.0, -0.0, 1.0, 1.0]
>>> [d(op, 0.5) for op in (bp.asin_op, bp.acos_op, bp.atan_op, bp.atanh_op)]
[1.1547, -1.1547, 0.8, 1.3333]
>>> [d(op, 0.0) for op in (bp.sinh_op, bp.cosh_op, bp.tanh_op, bp.asinh_op)]
[1.0, 0.0, 1.0, 1.0]
>>> [d(bp.acosh_op, 2.0), d(bp.log_op, 2.0), d(bp.sqrt_op, 4.0)]
[0.5774, 0.5, 0.25]
>>> [d(op, -2.0) for op in (bp.neg_op, bp.abs_op, bp.signum_op, bp.recip_op)]
[-1.0, -1.0, 0.0, -0.25]
>>> bp.grad_op(bp.add_op, (1.0, 2.0)), bp.grad_op(bp.sub_op, (1.0, 2.0))
((1.0, 1.0), (1.0, -1.0))
>>> bp.grad_op(bp.div_op, (1.0, 2.0)), bp.eval_op(bp.log_base_op, (2.0, 8.0))
((0.5, -0.25), 3.0)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, Unpack, cast, overload

from . import _core
from ._core import BVar, const_var
from ._typevars import A, As, B, C, D, E, F, G, R
from .errors import ArityError, NoGradientError

__all__ = [
    "Op",
    "abs_op",
    "acos_op",
    "acosh_op",
    "add_op",
    "asin_op",
    "asinh_op",
    "atan_op",
    "atanh_op",
    "bp_op",
    "compose_op",
    "compose_op1",
    "cos_op",
    "cosh_op",
    "div_op",
    "eval_op",
    "exp_op",
    "grad_op",
    "grad_op_with",
    "id_op",
    "lift_op",
    "lift_op1",
    "lift_op2",
    "lift_op3",
    "log_base_op",
    "log_op",
    "mul_op",
    "neg_op",
    "no_grad",
    "no_grad1",
    "op0",
    "op1",
    "op2",
    "op3",
    "op_coerce",
    "op_const",
    "op_iso",
    "op_iso2",
    "op_iso3",
    "op_iso_n",
    "op_n",
    "op_tup",
    "pow_op",
    "recip_op",
    "run_op",
    "signum_op",
    "sin_op",
    "sinh_op",
    "sqrt_op",
    "sub_op",
    "tan_op",
    "tanh_op",
]


def _site(depth: int) -> str:
    """`file:line` of the caller `depth` frames up (where an Op was constructed)."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _describe(kind: str, f: object) -> str:
    """Name of an op built by constructor `kind` from `f`, with the constructor's call site."""
    qual = getattr(f, "__qualname__", None) or type(f).__qualname__
    return f"{kind}({qual}) defined at {_site(2)}"  # 2: skip _describe and the constructor


@overload
def lift_op(op: Op[R], /) -> BVar[R]: ...
@overload
def lift_op(op: Op[A, R], x: BVar[A], /) -> BVar[R]: ...
@overload
def lift_op(op: Op[A, B, R], x: BVar[A], y: BVar[B], /) -> BVar[R]: ...
@overload
def lift_op(op: Op[A, B, C, R], x: BVar[A], y: BVar[B], z: BVar[C], /) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, D, R], x: BVar[A], y: BVar[B], z: BVar[C], w: BVar[D], /
) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, D, E, R], x: BVar[A], y: BVar[B], z: BVar[C], w: BVar[D], v: BVar[E], /
) -> BVar[R]: ...
@overload
def lift_op(
    op: Op[A, B, C, D, E, F, R],
    x: BVar[A],
    y: BVar[B],
    z: BVar[C],
    w: BVar[D],
    v: BVar[E],
    u: BVar[F],
    /,
) -> BVar[R]: ...
def lift_op(op: Any, *xs: Any) -> Any:
    """Apply an op to BVars (plain values are taken as constants). Typed for arities 0-6.

    >>> bp.grad_bp(lambda x: bp.lift_op(bp.mul_op, x, x), 3.0)
    6.0
    """
    _check_op("lift_op", op)
    return _lift(op, xs)


class Op(Generic[*As, A]):
    """A differentiable function from `tuple[*As]` to `A` with a hand-written gradient.

    >>> bp.sin_op.name, bp.sin_op.arity, bp.mul_op.arity
    ('sin', 1, 2)
    >>> bp.grad_bp(lambda x: (bp.sin_op + bp.cos_op)(x), 0.0)
    1.0
    """

    __slots__ = ("_bare", "_forward", "_inline", "_native", "arity", "name")

    name: str
    arity: int | None  # None: any number of arguments

    def __init__(
        self,
        name: str,
        *,
        arity: int | None,
        forward: Callable[..., tuple[Any, Callable[[Any], Any]]] | None = None,
        bare: bool = False,
        native: Callable[..., Any] | None = None,
        inline: Callable[..., Any] | None = None,
    ) -> None:
        if (forward is None) + (native is None) + (inline is None) != 2:
            raise TypeError("Op needs exactly one of forward=, native=, inline=")
        self.name = name
        self.arity = arity
        self._forward = forward
        self._bare = bare
        self._native = native
        self._inline = inline

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    __call__ = lift_op  # `op(*vars)` is `lift_op(op, *vars)`, with the same typed overloads

    # Haskell's `Num (Op as a)`: pointwise arithmetic of two ops of the same arguments.
    def __add__(self, other: Op[*As, A]) -> Op[*As, A]:
        return _pointwise(add_op, self, other, "+")

    def __sub__(self, other: Op[*As, A]) -> Op[*As, A]:
        return _pointwise(sub_op, self, other, "-")

    def __mul__(self, other: Op[*As, A]) -> Op[*As, A]:
        return _pointwise(mul_op, self, other, "*")

    def __truediv__(self, other: Op[*As, A]) -> Op[*As, A]:
        return _pointwise(div_op, self, other, "/")

    def __neg__(self) -> Op[*As, A]:
        return compose_op1(self, cast("Op[A, A]", neg_op))

    # Method forms of the runners. The argument types are the op's own (no inference), so a
    # type checker names the mismatched argument: `op.grad(1.0, "s")` is reported as argument 2
    # of type "str" where "int" is expected, and a missing argument as missing.
    def run(self, *xs: *As) -> tuple[A, tuple[*As]]:
        """`run_op(op, xs)`: the result and the gradients at `xs`, seeded with `one(result)`.

        >>> bp.mul_op.run(3.0, 4.0)
        (12.0, (4.0, 3.0))
        """
        return run_op(self, xs)

    def eval(self, *xs: *As) -> A:
        """`eval_op(op, xs)`: the result at `xs` (nothing recorded).

        >>> bp.sqrt_op.eval(9.0)
        3.0
        """
        return eval_op(self, xs)

    def grad(self, *xs: *As) -> tuple[*As]:
        """`grad_op(op, xs)`: the gradients at `xs`, seeded with `one(result)`.

        >>> bp.div_op.grad(1.0, 2.0)
        (0.5, -0.25)
        """
        return grad_op(self, xs)

    def grad_with(self, *xs: *As, dy: A) -> tuple[*As]:
        """`grad_op_with(op, xs, dy)`: the gradients at `xs` for the output gradient `dy`.

        >>> bp.mul_op.grad_with(3.0, 4.0, dy=10.0)
        (40.0, 30.0)
        """
        return grad_op_with(self, xs, dy)

    def backprop_with(self, *xs: *As) -> tuple[A, Callable[[A], tuple[*As]]]:
        """The result at `xs` and a reusable pullback from an output gradient to the gradients
        of the arguments.

        >>> y, pullback = bp.mul_op.backprop_with(3.0, 4.0)
        >>> y, pullback(1.0), pullback(2.0)
        (12.0, (4.0, 3.0), (8.0, 6.0))
        """
        from .run import backprop_with_n_untyped

        return backprop_with_n_untyped(lambda *vs: _lift(self, vs), xs)

    def then(self, g: Op[A, C], /) -> Op[*As, C]:
        """`compose_op1(op, g)`: this op followed by the one-argument op `g`.

        >>> bp.sin_op.then(bp.exp_op).run(0.0)
        (1.0, (1.0,))
        """
        return compose_op1(self, g)


def _pointwise(combine: Op[Any, Any, Any], x: Op[*As, A], y: Op[*As, A], sym: str) -> Op[*As, A]:
    op: Op[*As, A] = compose_op((x, y), combine)
    op.name = f"({x.name} {sym} {y.name})"
    return op


def _check_op(fn: str, op: object, xs: object = ()) -> None:
    """TypeError naming `fn` unless `op` is an Op and `xs` a tuple (or list) of arguments."""
    if not isinstance(op, Op):
        raise TypeError(
            f"{fn}: expected an Op (made with op1, op2, op_n, ...), got {type(op).__name__}"
        )
    if not isinstance(xs, tuple | list):
        raise TypeError(f"{fn}: the arguments must be a tuple, got {type(xs).__name__}")


def _lift(op: Op[*tuple[Any, ...], Any], xs: tuple[Any, ...]) -> Any:
    if op.arity is not None and len(xs) != op.arity:
        raise ArityError(f"op {op.name} takes {op.arity} arguments, got {len(xs)}")
    if op._native is not None:
        out = op._native(*xs)
        return out if isinstance(out, BVar) else const_var(out)
    if op._inline is not None:
        return op._inline(*xs)
    return _core.lift_custom(op, op._forward, op._bare, xs)


# ---- construction -------------------------------------------------------------------------


_O = TypeVar("_O", bound="Op[*tuple[Any, ...], Any]")


def named(op: _O, name: str) -> _O:
    """`op`, renamed after the public function that applies it (error messages name it)."""
    op.name = name
    return op


def op1(f: Callable[[A], tuple[B, Callable[[B], A]]]) -> Op[A, B]:
    """A one-argument op; the pullback returns the argument's gradient (not a 1-tuple).

    >>> square = bp.op1(lambda x: (x * x, lambda g: 2 * x * g))
    >>> bp.run_op(square, (3.0,))
    (9.0, (6.0,))
    """
    return Op(_describe("op1", f), arity=1, forward=f, bare=True)


def op2(f: Callable[[A, B], tuple[C, Callable[[C], tuple[A, B]]]]) -> Op[A, B, C]:
    """A two-argument op; the pullback returns `(dx, dy)`.

    >>> mul = bp.op2(lambda x, y: (x * y, lambda g: (g * y, g * x)))
    >>> bp.run_op(mul, (3.0, 4.0))
    (12.0, (4.0, 3.0))
    """
    return Op(_describe("op2", f), arity=2, forward=f)


def op3(f: Callable[[A, B, C], tuple[D, Callable[[D], tuple[A, B, C]]]]) -> Op[A, B, C, D]:
    """A three-argument op; the pullback returns `(dx, dy, dz)`.

    >>> fma = bp.op3(lambda x, y, z: (x * y + z, lambda g: (g * y, g * x, g)))
    >>> bp.run_op(fma, (2.0, 3.0, 4.0))
    (10.0, (3.0, 2.0, 1.0))
    """
    return Op(_describe("op3", f), arity=3, forward=f)


def op_n(
    f: Callable[[Unpack[As]], tuple[A, Callable[[A], tuple[*As]]]],
) -> Op[*As, A]:
    """An op of any arity; the pullback returns one gradient per argument, as a tuple.

    >>> total = bp.op_n(lambda *xs: (sum(xs), lambda g: (g,) * len(xs)))
    >>> bp.run_op(total, (1.0, 2.0, 3.0))
    (6.0, (1.0, 1.0, 1.0))
    """
    return Op(_describe("op_n", f), arity=None, forward=f)


def op0(x: A) -> Op[A]:
    """An op of no arguments returning `x` (always a constant).

    >>> bp.run_op(bp.op0(7.0), ())
    (7.0, ())
    """
    return Op(f"op0({x!r})", arity=0, forward=lambda: (x, lambda d: ()))


def op_const(x: A) -> Op[*tuple[Any, ...], A]:
    """An op of any arguments that ignores them and returns `x`: all gradients are zero.

    >>> bp.run_op(bp.op_const(7.0), (1.0, 2.0))
    (7.0, (0.0, 0.0))
    """
    return Op(
        f"op_const({x!r}) defined at {_site(1)}",
        arity=None,
        forward=lambda *xs: (x, lambda d: (None,) * len(xs)),
    )


def _identity(x: A) -> A:
    return x


id_op: Op[Any, Any] = Op("id_op", arity=1, forward=lambda x: (x, _identity), bare=True)
"""The identity op."""


def op_iso(to: Callable[[A], B], from_: Callable[[B], A]) -> Op[A, B]:
    """An op from an isomorphism: `to` forward, `from_` maps the gradient back.

    >>> double = bp.op_iso(lambda x: 2 * x, lambda g: 2 * g)
    >>> bp.run_op(double, (3.0,))
    (6.0, (2.0,))
    """
    return Op(_describe("op_iso", to), arity=1, forward=lambda x: (to(x), from_), bare=True)


def op_iso2(to: Callable[[A, B], C], from_: Callable[[C], tuple[A, B]]) -> Op[A, B, C]:
    """`op_iso` for two arguments.

    >>> pair = bp.op_iso2(lambda x, y: (x, y), lambda g: g)
    >>> bp.run_op(pair, (1.0, 2.0))
    ((1.0, 2.0), (1.0, 1.0))
    """
    return Op(_describe("op_iso2", to), arity=2, forward=lambda x, y: (to(x, y), from_))


def op_iso3(to: Callable[[A, B, C], D], from_: Callable[[D], tuple[A, B, C]]) -> Op[A, B, C, D]:
    """`op_iso` for three arguments.

    >>> triple = bp.op_iso3(lambda x, y, z: (x, y, z), lambda g: g)
    >>> bp.run_op(triple, (1.0, 2.0, 3.0))
    ((1.0, 2.0, 3.0), (1.0, 1.0, 1.0))
    """
    return Op(_describe("op_iso3", to), arity=3, forward=lambda x, y, z: (to(x, y, z), from_))


def op_iso_n(to: Callable[[Unpack[As]], A], from_: Callable[[A], tuple[*As]]) -> Op[*As, A]:
    """`op_iso` for any number of arguments.

    >>> tup = bp.op_iso_n(lambda *xs: xs, tuple)
    >>> bp.run_op(tup, (1.0, 2.0, 3.0, 4.0))
    ((1.0, 2.0, 3.0, 4.0), (1.0, 1.0, 1.0, 1.0))
    """
    to_any = cast("Callable[..., A]", to)  # a call with `*xs: Any` (pyright: not As)
    return Op(_describe("op_iso_n", to), arity=None, forward=lambda *xs: (to_any(*xs), from_))


op_tup: Op[*tuple[Any, ...], tuple[Any, ...]] = Op(
    "op_tup", arity=None, forward=lambda *xs: (xs, lambda d: tuple(d))
)
"""Tuples up its arguments: `op_tup(x, y)` is a BVar of `(x, y)`."""


op_coerce: Op[Any, Any] = Op("op_coerce", arity=1, forward=lambda x: (x, _identity), bare=True)
"""The identity op, to be retyped by annotation (a static cast only, like Haskell's `opCoerce`)."""


def no_grad1(f: Callable[[A], B]) -> Op[A, B]:
    """A one-argument op with no gradient: evaluating is fine; a gradient reaching it raises
    `NoGradientError` naming the op.

    >>> rounded = bp.no_grad1(round)
    >>> bp.eval_op(rounded, (2.7,))
    3
    >>> bp.grad_op(rounded, (2.7,))
    Traceback (most recent call last):
        ...
    bprop.errors.NoGradientError: op no_grad1(round) defined at ... has no gradient, ...
    """
    name = _describe("no_grad1", f)

    def forward(x: A) -> tuple[B, Callable[[B], A]]:
        def pullback(_: B) -> A:
            raise NoGradientError(f"op {name} has no gradient, but the gradient reached it")

        return f(x), pullback

    return Op(name, arity=1, forward=forward, bare=True)


def no_grad(f: Callable[[Unpack[As]], A]) -> Op[*As, A]:
    """`no_grad1` for any number of arguments.

    >>> larger = bp.no_grad(max)
    >>> bp.eval_op(larger, (1.0, 2.0))
    2.0
    """
    name = _describe("no_grad", f)
    f_any = cast("Callable[..., A]", f)  # called with `*xs: Any` (pyright: not As)

    def forward(*xs: Any) -> tuple[A, Callable[[A], Any]]:
        def pullback(_: A) -> Any:
            raise NoGradientError(f"op {name} has no gradient, but the gradient reached it")

        return f_any(*xs), pullback

    return Op(name, arity=None, forward=forward)


class _VariadicBVarFn(Protocol[R]):
    """A function of any number of BVars (`def f(*vs: BVar[T]) -> BVar[R]`)."""

    def __call__(self, *vs: BVar[Any]) -> BVar[R]: ...


@overload
def bp_op(f: _VariadicBVarFn[R]) -> Op[*tuple[Any, ...], R]: ...
@overload
def bp_op(f: Callable[[BVar[A]], BVar[R]]) -> Op[A, R]: ...
@overload
def bp_op(f: Callable[[BVar[A], BVar[B]], BVar[R]]) -> Op[A, B, R]: ...
@overload
def bp_op(f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]]) -> Op[A, B, C, R]: ...
@overload
def bp_op(f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]]) -> Op[A, B, C, D, R]: ...
@overload
def bp_op(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
) -> Op[A, B, C, D, E, R]: ...
@overload
def bp_op(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
) -> Op[A, B, C, D, E, F, R]: ...
@overload
def bp_op(f: Callable[..., BVar[R]]) -> Op[*tuple[Any, ...], R]: ...
def bp_op(f: Callable[..., BVar[Any]]) -> Op[*tuple[Any, ...], Any]:
    """A backpropagatable function stored as an Op: `lift_op(bp_op(f), *vs)` is `f(*vs)`.

    >>> hyp = bp.bp_op(lambda x, y: bp.sqrt(x * x + y * y))
    >>> bp.eval_op(hyp, (3.0, 4.0)), [round(g, 4) for g in bp.grad_op(hyp, (3.0, 4.0))]
    (5.0, [0.6, 0.8])
    """
    return Op(_describe("bp_op", f), arity=None, inline=f)


@overload
def compose_op(ops: tuple[Op[*As, B]], op: Op[B, R]) -> Op[*As, R]: ...
@overload
def compose_op(ops: tuple[Op[*As, B], Op[*As, C]], op: Op[B, C, R]) -> Op[*As, R]: ...
@overload
def compose_op(
    ops: tuple[Op[*As, B], Op[*As, C], Op[*As, D]], op: Op[B, C, D, R]
) -> Op[*As, R]: ...
@overload
def compose_op(
    ops: tuple[Op[*As, B], Op[*As, C], Op[*As, D], Op[*As, E]],
    op: Op[B, C, D, E, R],
) -> Op[*As, R]: ...
@overload
def compose_op(
    ops: tuple[
        Op[*As, B],
        Op[*As, C],
        Op[*As, D],
        Op[*As, E],
        Op[*As, F],
    ],
    op: Op[B, C, D, E, F, R],
) -> Op[*As, R]: ...
@overload
def compose_op(
    ops: tuple[
        Op[*As, B],
        Op[*As, C],
        Op[*As, D],
        Op[*As, E],
        Op[*As, F],
        Op[*As, G],
    ],
    op: Op[B, C, D, E, F, G, R],
) -> Op[*As, R]: ...
def compose_op(ops: Sequence[Op[*As, Any]], op: Op[*tuple[Any, ...], Any]) -> Op[*As, Any]:
    """Fan-in: `compose_op((f, g), h)(*xs) == h(f(*xs), g(*xs))`.

    Typed for a tuple of 1-6 ops, whose length must be `h`'s arity and whose results must be
    `h`'s arguments. A list is accepted at run time (its length is checked there), but a type
    checker cannot see a list's length, so it types only the tuple form.

    >>> prod_of_sin_cos = bp.compose_op([bp.sin_op, bp.cos_op], bp.mul_op)
    >>> bp.run_op(prod_of_sin_cos, (0.0,))
    (0.0, (1.0,))
    """
    _check_op("compose_op", op, ops)
    for o in ops:
        _check_op("compose_op", o)
    ops = list(ops)
    if op.arity is not None and op.arity != len(ops):
        raise ArityError(
            f"compose_op: op {op.name} takes {op.arity} arguments, but {len(ops)} ops feed it"
        )

    def composed(*vs: Any) -> Any:
        return _lift(op, tuple(_lift(o, vs) for o in ops))

    arities = {o.arity for o in ops} - {None}
    arity = arities.pop() if len(arities) == 1 else None
    return Op(
        f"compose_op([{', '.join(o.name for o in ops)}], {op.name})", arity=arity, inline=composed
    )


def compose_op1(f: Op[*As, B], g: Op[B, C]) -> Op[*As, C]:
    """Pipe: `compose_op1(f, g)(*xs) == g(f(*xs))` (Haskell's `~.`).

    >>> exp_sin = bp.compose_op1(bp.sin_op, bp.exp_op)
    >>> bp.run_op(exp_sin, (0.0,))
    (1.0, (1.0,))
    """
    _check_op("compose_op1", f)
    _check_op("compose_op1", g)
    return Op(
        f"compose_op1({f.name}, {g.name})",
        arity=f.arity,
        inline=lambda *vs: _lift(g, (_lift(f, vs),)),
    )


# ---- native ops ---------------------------------------------------------------------------


def _native(name: str, arity: int) -> Any:
    """An op whose lifting calls the Rust kernel `bprop._core.<name>`."""
    return Op(name, arity=arity, native=getattr(_core, name))


add_op: Op[float, float, float] = _native("add", 2)
sub_op: Op[float, float, float] = _native("sub", 2)
mul_op: Op[float, float, float] = _native("mul", 2)
div_op: Op[float, float, float] = _native("div", 2)
pow_op: Op[float, float, float] = _native("pow", 2)
log_base_op: Op[float, float, float] = _native("log_base", 2)
neg_op: Op[float, float] = _native("neg", 1)
abs_op: Op[float, float] = _native("abs", 1)
signum_op: Op[float, float] = _native("signum", 1)
recip_op: Op[float, float] = _native("recip", 1)
exp_op: Op[float, float] = _native("exp", 1)
log_op: Op[float, float] = _native("log", 1)
sqrt_op: Op[float, float] = _native("sqrt", 1)
sin_op: Op[float, float] = _native("sin", 1)
cos_op: Op[float, float] = _native("cos", 1)
tan_op: Op[float, float] = _native("tan", 1)
asin_op: Op[float, float] = _native("asin", 1)
acos_op: Op[float, float] = _native("acos", 1)
atan_op: Op[float, float] = _native("atan", 1)
sinh_op: Op[float, float] = _native("sinh", 1)
cosh_op: Op[float, float] = _native("cosh", 1)
tanh_op: Op[float, float] = _native("tanh", 1)
asinh_op: Op[float, float] = _native("asinh", 1)
acosh_op: Op[float, float] = _native("acosh", 1)
atanh_op: Op[float, float] = _native("atanh", 1)


# ---- lifting onto BVars ---------------------------------------------------------------------


def lift_op1(op: Op[A, R], x: BVar[A]) -> BVar[R]:
    """Apply a one-argument op to a BVar.

    >>> bp.grad_bp(lambda x: bp.lift_op1(bp.exp_op, x), 0.0)
    1.0
    """
    _check_op("lift_op1", op)
    return cast("BVar[R]", _lift(op, (x,)))


def lift_op2(op: Op[A, B, R], x: BVar[A], y: BVar[B]) -> BVar[R]:
    """Apply a two-argument op to BVars.

    >>> bp.grad_bp2(lambda x, y: bp.lift_op2(bp.div_op, x, y), 1.0, 2.0)
    (0.5, -0.25)
    """
    _check_op("lift_op2", op)
    return cast("BVar[R]", _lift(op, (x, y)))


def lift_op3(op: Op[A, B, C, R], x: BVar[A], y: BVar[B], z: BVar[C]) -> BVar[R]:
    """Apply a three-argument op to BVars.

    >>> fma = bp.op3(lambda x, y, z: (x * y + z, lambda g: (g * y, g * x, g)))
    >>> bp.grad_bp_n(lambda x, y, z: bp.lift_op3(fma, x, y, z), 2.0, 3.0, 4.0)
    (3.0, 2.0, 1.0)
    """
    _check_op("lift_op3", op)
    return cast("BVar[R]", _lift(op, (x, y, z)))


# ---- running ops directly -----------------------------------------------------------------


def run_op(op: Op[*As, A], xs: tuple[*As]) -> tuple[A, tuple[*As]]:
    """Result and gradients of `op` at `xs`, seeded with `one(result)`.

    >>> bp.run_op(bp.mul_op, (3.0, 4.0))
    (12.0, (4.0, 3.0))
    """
    from .run import backprop_n_untyped

    _check_op("run_op", op, xs)
    return backprop_n_untyped(lambda *vs: _lift(op, vs), xs)


def eval_op(op: Op[*As, A], xs: tuple[*As]) -> A:
    """Result of `op` at `xs` (nothing recorded).

    >>> bp.eval_op(bp.sqrt_op, (9.0,))
    3.0
    """
    from .run import eval_bp_n_untyped

    _check_op("eval_op", op, xs)
    return eval_bp_n_untyped(lambda *vs: _lift(op, vs), xs)  # type: ignore[no-any-return]


def grad_op(op: Op[*As, A], xs: tuple[*As]) -> tuple[*As]:
    """Gradients of `op` at `xs`, seeded with `one(result)`.

    >>> bp.grad_op(bp.mul_op, (3.0, 4.0))
    (4.0, 3.0)
    """
    _check_op("grad_op", op, xs)
    return run_op(op, xs)[1]


def grad_op_with(op: Op[*As, A], xs: tuple[*As], dy: A) -> tuple[*As]:
    """Gradients of `op` at `xs` for the output gradient `dy`.

    >>> bp.grad_op_with(bp.mul_op, (3.0, 4.0), 10.0)
    (40.0, 30.0)
    """
    from .run import backprop_with_n_untyped

    _check_op("grad_op_with", op, xs)
    return backprop_with_n_untyped(lambda *vs: _lift(op, vs), xs)[1](dy)
