"""Type checks for Ops: construction, running, lifting, composition, arithmetic.

Never imported or run: tests/test_typing.py runs `mypy --strict` and pyright on this file.
Everything lives in functions that are never called, so nothing here executes even if the file
were imported.

* Accepted code states its types with `assert_type`.
* Rejected code carries `# type: ignore[<code>]` with the exact mypy error code. mypy runs with
  `warn_unused_ignores`, so a line that stops being rejected fails the check; and the negative
  control in tests/test_typing.py strips each ignore and asserts mypy then reports that code on
  that very line. Keep one rejection per line and never reuse the value of a rejected expression.
* pyright honours the same comments (whatever the code in brackets): in tests/typing an ignore
  that hides no pyright error is an error, and the pyright negative control requires a pyright
  error on each marked line, so every rejection is a rejection by both checkers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, assert_type

import bprop as bp
from bprop import BVar, Op

# ---- custom ops used below ------------------------------------------------------------------


def scale_fwd(x: float, n: int) -> tuple[float, Callable[[float], tuple[float, int]]]:
    """(float, int) -> float, the example of the SPEC's typing contract."""
    return x * n, lambda d: (d * n, 0)


def show_fwd(x: float) -> tuple[str, Callable[[str], float]]:
    """float -> str (a one-argument op: the pullback returns the bare gradient)."""
    return str(x), lambda d: 0.0


def length_fwd(s: str) -> tuple[float, Callable[[float], str]]:
    """str -> float."""
    return float(len(s)), lambda d: ""


def label_fwd(s: str, x: float) -> tuple[float, Callable[[float], tuple[str, float]]]:
    """(str, float) -> float."""
    return x, lambda d: ("", d)


def fma_fwd(
    x: float, y: float, n: int
) -> tuple[float, Callable[[float], tuple[float, float, int]]]:
    """(float, float, int) -> float."""
    return x * y + n, lambda d: (d * y, d * x, 0)


def mixed_fwd(x: float, n: int, s: str) -> tuple[bool, Callable[[bool], tuple[float, int, str]]]:
    """(float, int, str) -> bool, for op_n."""
    return x > n, lambda d: (0.0, 0, "")


def pair_fwd(x: float, y: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x * y, lambda d: (d * y, d * x)


# Pullbacks of the wrong shape (rejected by op1/op2/op3/op_n).


def pb_too_short(x: float, n: int) -> tuple[float, Callable[[float], tuple[float]]]:
    return x, lambda d: (d,)


def pb_too_long(x: float, n: int) -> tuple[float, Callable[[float], tuple[float, int, int]]]:
    return x, lambda d: (d, 0, 0)


def pb_wrong_type(x: float, n: int) -> tuple[float, Callable[[float], tuple[float, str]]]:
    return x, lambda d: (d, "")


def pb_bare_for_op2(x: float, n: int) -> tuple[float, Callable[[float], float]]:
    return x, lambda d: d


def pb3_too_short(
    x: float, y: float, z: float
) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x, lambda d: (d, d)


def pb3_wrong_type(
    x: float, y: float, z: float
) -> tuple[float, Callable[[float], tuple[float, float, str]]]:
    return x, lambda d: (d, d, "")


def pb1_tuple(x: float) -> tuple[float, Callable[[float], tuple[float]]]:
    """op1's pullback must return the bare gradient, not a 1-tuple."""
    return x, lambda d: (d,)


def pbn_too_short(x: float, n: int, s: str) -> tuple[float, Callable[[float], tuple[float, int]]]:
    return x, lambda d: (d, 0)


def double(x: float) -> float:
    return x * 2.0


def sin_times(x: BVar[float], y: BVar[float]) -> BVar[float]:
    return bp.sin(x) * y


@dataclass
class Vec2:
    """A library author's own type."""

    x: float
    y: float


def norm(v: BVar[Vec2]) -> BVar[float]:
    return bp.const_var(0.0)


def total(*vs: BVar[float]) -> BVar[float]:
    return bp.const_var(0.0)


def show_scale_fwd(x: float, n: int) -> tuple[str, Callable[[str], tuple[float, int]]]:
    return str(x * n), lambda d: (0.0, 0)


show_scale = bp.op2(show_scale_fwd)


def pick_fwd(
    a: float, s: str, b: float
) -> tuple[float, Callable[[float], tuple[float, str, float]]]:
    return a, lambda d: (d, "", 0.0)


pick = bp.op3(pick_fwd)


def to_float_pair(x: float, n: int) -> float:
    return x + n


def from_float_pair(d: float) -> tuple[float, int]:
    return d, 0


def from_float_triple(d: float) -> tuple[float, int, int]:
    return d, 0, 0


# ---- accepted: construction -------------------------------------------------------------------


def construction() -> None:
    scale = bp.op2(scale_fwd)
    assert_type(scale, Op[float, int, float])
    assert_type(bp.op1(show_fwd), Op[float, str])
    assert_type(bp.op3(fma_fwd), Op[float, float, int, float])
    assert_type(bp.op_n(mixed_fwd), Op[float, int, str, bool])
    assert_type(bp.op_n(scale_fwd), Op[float, int, float])
    assert_type(bp.op0(2.5), Op[float])
    assert_type(bp.op_const(2.5), Op[*tuple[Any, ...], float])
    assert_type(bp.op_iso(double, double), Op[float, float])
    assert_type(bp.op_iso(float, int), Op[int, float])
    assert_type(bp.op_iso2(to_float_pair, from_float_pair), Op[float, int, float])
    assert_type(bp.op_iso_n(to_float_pair, from_float_pair), Op[float, int, float])
    assert_type(bp.no_grad1(str.upper), Op[str, str])
    assert_type(bp.no_grad(to_float_pair), Op[float, int, float])
    # op_coerce and id_op are retyped by annotation, like Haskell's opCoerce.
    coerce: Op[float, float] = bp.op_coerce
    assert_type(coerce, Op[float, float])
    ident: Op[str, str] = bp.id_op
    assert_type(ident, Op[str, str])
    assert_type(bp.op_tup, Op[*tuple[Any, ...], tuple[Any, ...]])
    assert_type(bp.bp_op(sin_times), Op[float, float, float])
    assert_type(bp.bp_op(norm), Op[Vec2, float])
    assert_type(bp.bp_op(total), Op[*tuple[Any, ...], float])


def native_ops() -> None:
    assert_type(bp.add_op, Op[float, float, float])
    assert_type(bp.sub_op, Op[float, float, float])
    assert_type(bp.mul_op, Op[float, float, float])
    assert_type(bp.div_op, Op[float, float, float])
    assert_type(bp.pow_op, Op[float, float, float])
    assert_type(bp.log_base_op, Op[float, float, float])
    assert_type(bp.neg_op, Op[float, float])
    assert_type(bp.abs_op, Op[float, float])
    assert_type(bp.signum_op, Op[float, float])
    assert_type(bp.recip_op, Op[float, float])
    assert_type(bp.exp_op, Op[float, float])
    assert_type(bp.log_op, Op[float, float])
    assert_type(bp.sqrt_op, Op[float, float])
    assert_type(bp.sin_op, Op[float, float])
    assert_type(bp.atanh_op, Op[float, float])


# ---- accepted: running ops ----------------------------------------------------------------------


def running() -> None:
    scale = bp.op2(scale_fwd)
    # The SPEC's example.
    assert_type(bp.grad_op(scale, (1.0, 2)), tuple[float, int])
    assert_type(bp.run_op(scale, (1.0, 2)), tuple[float, tuple[float, int]])
    assert_type(bp.eval_op(scale, (1.0, 2)), float)
    assert_type(bp.grad_op_with(scale, (1.0, 2), 3.0), tuple[float, int])
    assert_type(bp.run_op(bp.sin_op, (1.0,)), tuple[float, tuple[float]])
    assert_type(bp.run_op(bp.op1(show_fwd), (1.0,)), tuple[str, tuple[float]])
    assert_type(bp.grad_op(bp.op3(fma_fwd), (1.0, 2.0, 3)), tuple[float, float, int])
    assert_type(bp.eval_op(bp.op_n(mixed_fwd), (1.0, 2, "s")), bool)
    assert_type(bp.eval_op(bp.op0(1.5), ()), float)
    # An int is accepted where a float is expected (PEP 484's numeric promotion).
    assert_type(bp.grad_op(bp.add_op, (1, 2.0)), tuple[float, float])
    y, (dx, dn) = bp.run_op(scale, (1.0, 2))
    assert_type(y, float)
    assert_type(dx, float)
    assert_type(dn, int)


# ---- accepted: lifting onto BVars --------------------------------------------------------------


def lifting(x: BVar[float], n: BVar[int], s: BVar[str], y: BVar[float]) -> None:
    scale = bp.op2(scale_fwd)
    show = bp.op1(show_fwd)
    fma = bp.op3(fma_fwd)
    assert_type(bp.lift_op1(show, x), BVar[str])
    assert_type(bp.lift_op1(bp.sin_op, x), BVar[float])
    assert_type(bp.lift_op2(scale, x, n), BVar[float])
    assert_type(bp.lift_op2(bp.add_op, x, y), BVar[float])
    assert_type(bp.lift_op3(fma, x, y, n), BVar[float])
    assert_type(bp.lift_op(bp.op0(1.5)), BVar[float])
    assert_type(bp.lift_op(show, x), BVar[str])
    assert_type(bp.lift_op(scale, x, n), BVar[float])
    assert_type(bp.lift_op(fma, x, y, n), BVar[float])
    assert_type(bp.lift_op(bp.op_n(mixed_fwd), x, n, s), BVar[bool])

    def four(
        a: float, b: int, c: str, d: float
    ) -> tuple[float, Callable[[float], tuple[float, int, str, float]]]:
        return a, lambda g: (g, 0, "", 0.0)

    def five(
        a: float, b: int, c: str, d: float, e: int
    ) -> tuple[str, Callable[[str], tuple[float, int, str, float, int]]]:
        return c, lambda g: (0.0, 0, g, 0.0, 0)

    def six(
        a: float, b: int, c: str, d: float, e: int, f: str
    ) -> tuple[int, Callable[[int], tuple[float, int, str, float, int, str]]]:
        return b, lambda g: (0.0, g, "", 0.0, 0, "")

    assert_type(bp.lift_op(bp.op_n(four), x, n, s, y), BVar[float])
    assert_type(bp.lift_op(bp.op_n(five), x, n, s, y, n), BVar[str])
    assert_type(bp.lift_op(bp.op_n(six), x, n, s, y, n, s), BVar[int])
    # Variadic ops take any number of BVars.
    assert_type(bp.lift_op(bp.op_tup, x, n, s), BVar[tuple[Any, ...]])
    assert_type(bp.lift_op(bp.op_const(2.0), x, n), BVar[float])
    # Calling an op is lifting it.
    assert_type(show(x), BVar[str])
    assert_type(scale(x, n), BVar[float])
    assert_type(fma(x, y, n), BVar[float])
    assert_type(bp.sin_op(x), BVar[float])


# ---- accepted: composition and Op arithmetic ---------------------------------------------------


def composition() -> None:
    scale = bp.op2(scale_fwd)
    show = bp.op1(show_fwd)
    length = bp.op1(length_fwd)
    assert_type(bp.compose_op1(bp.sin_op, show), Op[float, str])
    assert_type(bp.compose_op1(show, length), Op[float, float])
    assert_type(bp.compose_op1(scale, bp.exp_op), Op[float, int, float])
    assert_type(bp.compose_op1(scale, show), Op[float, int, str])
    assert_type(bp.compose_op((bp.sin_op, bp.cos_op), bp.mul_op), Op[float, float])
    assert_type(bp.compose_op((scale, scale), bp.add_op), Op[float, int, float])
    assert_type(bp.compose_op((bp.sin_op,), bp.exp_op), Op[float, float])
    assert_type(bp.compose_op((scale, show_scale, scale), pick), Op[float, int, float])
    assert_type(bp.sin_op.then(show), Op[float, str])
    assert_type(scale.then(bp.exp_op).then(show), Op[float, int, str])


def op_arithmetic() -> None:
    scale = bp.op2(scale_fwd)
    show = bp.op1(show_fwd)
    assert_type(bp.add_op + bp.mul_op, Op[float, float, float])
    assert_type(bp.sin_op - bp.cos_op, Op[float, float])
    assert_type(bp.sin_op * bp.cos_op, Op[float, float])
    assert_type(bp.sin_op / bp.cos_op, Op[float, float])
    assert_type(-bp.sin_op, Op[float, float])
    assert_type(scale + scale, Op[float, int, float])
    assert_type(-scale, Op[float, int, float])
    assert_type(show + show, Op[float, str])


# ---- rejected ------------------------------------------------------------------------------------


def rejected_running() -> None:
    scale = bp.op2(scale_fwd)
    # run_op with a tuple of the wrong length.
    bp.run_op(scale, (1.0,))  # type: ignore[misc]
    bp.run_op(scale, (1.0, 2, 3))  # type: ignore[misc]
    bp.run_op(scale, ())  # type: ignore[misc]
    bp.run_op(bp.sin_op, (1.0, 2.0))  # type: ignore[misc]
    # run_op with the wrong element types.
    bp.run_op(scale, ("a", 2))  # type: ignore[misc]
    bp.run_op(scale, (1.0, 2.5))  # type: ignore[misc]
    bp.run_op(scale, (2, 1.0))  # type: ignore[misc]
    bp.run_op(bp.sin_op, ("a",))  # type: ignore[misc]
    bp.run_op(scale, [1.0, 2])  # type: ignore[arg-type]
    # The other runners check the same way.
    bp.eval_op(scale, (1.0, "b"))  # type: ignore[misc]
    bp.grad_op(scale, (1.0,))  # type: ignore[misc]
    bp.grad_op_with(scale, (1.0, 2), "dy")  # type: ignore[misc]
    # grad_op's result has the argument types, in order.
    _g: tuple[int, int] = bp.grad_op(scale, (1.0, 2))  # type: ignore[arg-type]
    _h: tuple[float] = bp.grad_op(scale, (1.0, 2))  # type: ignore[arg-type]
    _i: tuple[int, float] = bp.grad_op(scale, (1.0, 2))  # type: ignore[arg-type]
    _e: str = bp.eval_op(scale, (1.0, 2))  # type: ignore[assignment]


def rejected_lifting(x: BVar[float], n: BVar[int], s: BVar[str]) -> None:
    scale = bp.op2(scale_fwd)
    show = bp.op1(show_fwd)
    fma = bp.op3(fma_fwd)
    # lift_opK of an op of another arity.
    bp.lift_op2(bp.sin_op, x, x)  # type: ignore[arg-type]
    bp.lift_op2(show, x, x)  # type: ignore[arg-type]
    bp.lift_op1(bp.add_op, x)  # type: ignore[arg-type]
    bp.lift_op3(scale, x, n, n)  # type: ignore[arg-type]
    # lift_op with too few / too many BVars.
    bp.lift_op(scale, x)  # type: ignore[arg-type]
    bp.lift_op(fma, x, x)  # type: ignore[arg-type]
    bp.lift_op(bp.sin_op, x, x)  # type: ignore[arg-type]
    # lift_op / lift_opK with BVars of the wrong types.
    bp.lift_op(scale, x, x)  # type: ignore[misc]
    bp.lift_op(scale, n, x)  # type: ignore[misc]
    bp.lift_op1(show, s)  # type: ignore[misc]
    bp.lift_op2(scale, x, s)  # type: ignore[misc]
    bp.lift_op3(fma, x, x, x)  # type: ignore[misc]
    bp.lift_op(scale, x, 2)  # type: ignore[call-overload]
    # The result type follows the op.
    _r: BVar[str] = bp.lift_op(scale, x, n)  # type: ignore[arg-type]
    # Calling an op is lifting it (SPEC §5: `op(*vars)` is the same as `lift_op`), so the same
    # arity and argument-type errors must be reported.
    scale(x)  # type: ignore[call-arg]
    scale(x, x)  # type: ignore[arg-type]
    show(s)  # type: ignore[arg-type]
    bp.sin_op(x, x)  # type: ignore[call-arg]


def rejected_construction() -> None:
    # A pullback returning the wrong tuple shape.
    bp.op2(pb_too_short)  # type: ignore[arg-type]
    bp.op2(pb_too_long)  # type: ignore[arg-type]
    bp.op2(pb_wrong_type)  # type: ignore[misc]
    bp.op2(pb_bare_for_op2)  # type: ignore[arg-type]
    bp.op3(pb3_too_short)  # type: ignore[arg-type]
    bp.op3(pb3_wrong_type)  # type: ignore[misc]
    bp.op1(pb1_tuple)  # type: ignore[misc]
    bp.op_n(pbn_too_short)  # type: ignore[misc]
    # An op's arity is its forward function's.
    bp.op2(show_fwd)  # type: ignore[arg-type]
    bp.op1(scale_fwd)  # type: ignore[arg-type, misc]
    bp.op3(scale_fwd)  # type: ignore[arg-type]
    # op_iso's inverse must map back to the argument types.
    bp.op_iso2(to_float_pair, from_float_triple)  # type: ignore[arg-type]
    # The inferred Op type is the forward function's, not another.
    _o: Op[float, str, float] = bp.op2(scale_fwd)  # type: ignore[arg-type]
    _p: Op[float, float] = bp.op2(scale_fwd)  # type: ignore[assignment]


def rejected_composition() -> None:
    scale = bp.op2(scale_fwd)
    show = bp.op1(show_fwd)
    length = bp.op1(length_fwd)
    labelled = bp.op2(label_fwd)
    # compose_op1 of mismatched types: the first op's result is not the second op's argument.
    bp.compose_op1(show, bp.sin_op)  # type: ignore[misc]
    bp.compose_op1(bp.sin_op, length)  # type: ignore[misc]
    bp.compose_op1(scale, length)  # type: ignore[misc]
    # The second op of compose_op1 takes exactly one argument.
    bp.compose_op1(bp.sin_op, bp.add_op)  # type: ignore[arg-type]
    # Op arithmetic needs the same argument types (and the same result type).
    # Known hole, not checked here: mypy compares the arguments of a TypeVarTuple class
    # covariantly (mypy/subtypes.py), so `bp.add_op + scale` (Op[float, float, float] plus
    # Op[float, int, float]) and `o: Op[float, float, float] = scale` are accepted. Functions
    # (run_op, lift_op, compose_op1, ...) infer the tuple invariantly and do reject mismatches.
    bp.sin_op + length  # type: ignore[operator]
    bp.add_op + labelled  # type: ignore[operator]
    labelled - bp.add_op  # type: ignore[operator]
    bp.add_op * bp.sin_op  # type: ignore[operator]
    scale / bp.add_op  # type: ignore[operator]
    show + bp.sin_op  # type: ignore[operator]


def rejected_method_forms() -> None:
    # The same misuses through the method forms: the op's argument types are fixed by the op, so
    # mypy names the argument ("Argument 2 to "run" of "Op" has incompatible type "float";
    # expected "int"") or the missing/extra one, where run_op can only say that it cannot infer
    # the argument tuple.
    scale = bp.op2(scale_fwd)
    show = bp.op1(show_fwd)
    length = bp.op1(length_fwd)
    scale.run(1.0)  # type: ignore[call-arg]
    scale.run(1.0, 2, 3)  # type: ignore[call-arg]
    scale.run()  # type: ignore[call-arg]
    bp.sin_op.run(1.0, 2.0)  # type: ignore[call-arg]
    scale.run("a", 2)  # type: ignore[arg-type]
    scale.run(1.0, 2.5)  # type: ignore[arg-type]
    scale.run(2, 1.0)  # type: ignore[arg-type]
    bp.sin_op.run("a")  # type: ignore[arg-type]
    scale.eval(1.0, "b")  # type: ignore[arg-type]
    scale.grad(1.0)  # type: ignore[call-arg]
    scale.grad_with(1.0, 2, dy="dy")  # type: ignore[arg-type]
    scale.backprop_with(1.0, "n")  # type: ignore[arg-type]
    _e: str = scale.eval(1.0, 2)  # type: ignore[assignment]
    _g: tuple[int, int] = scale.grad(1.0, 2)  # type: ignore[assignment]
    show.then(bp.sin_op)  # type: ignore[arg-type]
    bp.sin_op.then(length)  # type: ignore[arg-type]
    scale.then(length)  # type: ignore[arg-type]
    bp.sin_op.then(bp.add_op)  # type: ignore[arg-type]
