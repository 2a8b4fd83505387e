"""Type checks for the runners (SPEC §3): backprop, eval_bp, grad_bp, backprop_with, their
two-input and n-input forms, eval_bp0.

Never imported or run: tests/test_typing.py runs mypy --strict and pyright on it (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_type

import bprop as bp
from bprop import BVar

# ---- functions of BVars used below --------------------------------------------------------------


def square(x: BVar[float]) -> BVar[float]:
    return x * x


def show(x: BVar[float]) -> BVar[str]:
    return bp.const_var(str(x.value))


def shout(s: BVar[str]) -> BVar[str]:
    return s


def f2(x: BVar[float], n: BVar[int]) -> BVar[float]:
    return x


def f3(x: BVar[float], n: BVar[int], s: BVar[str]) -> BVar[str]:
    return s


def f4(a: BVar[float], b: BVar[int], c: BVar[str], d: BVar[bytes]) -> BVar[bytes]:
    return d


def f5(a: BVar[float], b: BVar[int], c: BVar[str], d: BVar[bytes], e: BVar[bool]) -> BVar[bool]:
    return e


def f6(
    a: BVar[float], b: BVar[int], c: BVar[str], d: BVar[bytes], e: BVar[bool], f: BVar[complex]
) -> BVar[complex]:
    return f


def f7(
    a: BVar[float],
    b: BVar[float],
    c: BVar[float],
    d: BVar[float],
    e: BVar[float],
    f: BVar[float],
    g: BVar[float],
) -> BVar[float]:
    return a + b + c + d + e + f + g


def constant() -> BVar[float]:
    return bp.const_var(2.0) * 3.0


# ---- accepted: one input --------------------------------------------------------------------------


def one_input() -> None:
    assert_type(bp.backprop(square, 3.0), tuple[float, float])
    assert_type(bp.backprop(show, 3.0), tuple[str, float])
    assert_type(bp.eval_bp(square, 3.0), float)
    assert_type(bp.eval_bp(show, 3.0), str)
    assert_type(bp.grad_bp(square, 3.0), float)
    assert_type(bp.grad_bp(show, 3.0), float)
    assert_type(bp.backprop_with(square, 3.0), tuple[float, Callable[[float], float]])
    assert_type(bp.backprop_with(show, 3.0), tuple[str, Callable[[str], float]])
    y, pullback = bp.backprop_with(show, 3.0)
    assert_type(pullback(y), float)
    # Lambdas are inferred from the input.
    assert_type(bp.grad_bp(lambda v: v * 2.0, 3.0), float)
    assert_type(bp.grad_bp(lambda v: bp.sin(v), 3.0), float)
    assert_type(bp.backprop(lambda v: v, 3.0), tuple[float, float])


# ---- accepted: two inputs -------------------------------------------------------------------------


def two_inputs() -> None:
    assert_type(bp.backprop2(f2, 1.0, 2), tuple[float, tuple[float, int]])
    assert_type(bp.eval_bp2(f2, 1.0, 2), float)
    assert_type(bp.grad_bp2(f2, 1.0, 2), tuple[float, int])
    assert_type(bp.backprop_with2(f2, 1.0, 2), tuple[float, Callable[[float], tuple[float, int]]])
    assert_type(bp.grad_bp2(lambda x, y: x * y, 1.0, 2.0), tuple[float, float])


# ---- accepted: n inputs, each typed arity ----------------------------------------------------------


def n_inputs() -> None:
    b = b"b"
    j = 1j
    # backprop_n
    assert_type(bp.backprop_n(square, 1.0), tuple[float, tuple[float]])
    assert_type(bp.backprop_n(f2, 1.0, 2), tuple[float, tuple[float, int]])
    assert_type(bp.backprop_n(f3, 1.0, 2, "s"), tuple[str, tuple[float, int, str]])
    assert_type(bp.backprop_n(f4, 1.0, 2, "s", b), tuple[bytes, tuple[float, int, str, bytes]])
    assert_type(
        bp.backprop_n(f5, 1.0, 2, "s", b, True), tuple[bool, tuple[float, int, str, bytes, bool]]
    )
    assert_type(
        bp.backprop_n(f6, 1.0, 2, "s", b, True, j),
        tuple[complex, tuple[float, int, str, bytes, bool, complex]],
    )
    # eval_bp_n
    assert_type(bp.eval_bp_n(square, 1.0), float)
    assert_type(bp.eval_bp_n(f2, 1.0, 2), float)
    assert_type(bp.eval_bp_n(f3, 1.0, 2, "s"), str)
    assert_type(bp.eval_bp_n(f4, 1.0, 2, "s", b), bytes)
    assert_type(bp.eval_bp_n(f5, 1.0, 2, "s", b, True), bool)
    assert_type(bp.eval_bp_n(f6, 1.0, 2, "s", b, True, j), complex)
    # grad_bp_n
    assert_type(bp.grad_bp_n(square, 1.0), tuple[float])
    assert_type(bp.grad_bp_n(f2, 1.0, 2), tuple[float, int])
    assert_type(bp.grad_bp_n(f3, 1.0, 2, "s"), tuple[float, int, str])
    assert_type(bp.grad_bp_n(f4, 1.0, 2, "s", b), tuple[float, int, str, bytes])
    assert_type(bp.grad_bp_n(f5, 1.0, 2, "s", b, True), tuple[float, int, str, bytes, bool])
    assert_type(
        bp.grad_bp_n(f6, 1.0, 2, "s", b, True, j), tuple[float, int, str, bytes, bool, complex]
    )
    # backprop_with_n
    assert_type(bp.backprop_with_n(square, 1.0), tuple[float, Callable[[float], tuple[float]]])
    assert_type(bp.backprop_with_n(f2, 1.0, 2), tuple[float, Callable[[float], tuple[float, int]]])
    assert_type(
        bp.backprop_with_n(f3, 1.0, 2, "s"), tuple[str, Callable[[str], tuple[float, int, str]]]
    )
    assert_type(
        bp.backprop_with_n(f4, 1.0, 2, "s", b),
        tuple[bytes, Callable[[bytes], tuple[float, int, str, bytes]]],
    )
    assert_type(
        bp.backprop_with_n(f5, 1.0, 2, "s", b, True),
        tuple[bool, Callable[[bool], tuple[float, int, str, bytes, bool]]],
    )
    assert_type(
        bp.backprop_with_n(f6, 1.0, 2, "s", b, True, j),
        tuple[complex, Callable[[complex], tuple[float, int, str, bytes, bool, complex]]],
    )
    # Beyond six inputs: the untyped fallback (result typed, gradients not).
    assert_type(bp.backprop_n(f7, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0), tuple[float, tuple[Any, ...]])
    assert_type(bp.eval_bp_n(f7, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0), float)
    assert_type(bp.grad_bp_n(f7, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0), tuple[Any, ...])
    assert_type(
        bp.backprop_with_n(f7, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
        tuple[float, Callable[[float], tuple[Any, ...]]],
    )


def no_input() -> None:
    assert_type(bp.eval_bp0(constant), float)
    assert_type(bp.eval_bp0(lambda: bp.const_var("s")), str)


# ---- rejected ------------------------------------------------------------------------------------


def rejected_one_input() -> None:
    # A function of the wrong BVar type for the input.
    bp.backprop(shout, 3.0)  # type: ignore[arg-type]
    bp.grad_bp(shout, 3.0)  # type: ignore[arg-type]
    bp.eval_bp(square, "s")  # type: ignore[arg-type]
    bp.backprop_with(shout, 3.0)  # type: ignore[arg-type]
    # A function of two BVars given to a one-input runner.
    bp.grad_bp(f2, 1.0)  # type: ignore[arg-type]
    # The function must return a BVar.
    bp.grad_bp(lambda v: v.value, 3.0)  # type: ignore[arg-type, return-value]
    # The gradient has the input's type, the result the output's.
    _g: str = bp.grad_bp(square, 3.0)  # type: ignore[assignment]
    _r: float = bp.eval_bp(show, 3.0)  # type: ignore[assignment]
    _y, pullback = bp.backprop_with(show, 3.0)
    pullback(1.0)  # type: ignore[arg-type]


def rejected_two_inputs() -> None:
    bp.backprop2(f2, 1.0, "s")  # type: ignore[arg-type]
    bp.grad_bp2(f2, 2, 1.0)  # type: ignore[arg-type]
    bp.eval_bp2(square, 1.0, 2.0)  # type: ignore[arg-type]
    bp.backprop_with2(f3, 1.0, 2)  # type: ignore[arg-type]
    _g: tuple[int, float] = bp.grad_bp2(f2, 1.0, 2)  # type: ignore[arg-type]


def rejected_n_inputs() -> None:
    # Within the typed arities (1-6) the inputs must match the function's BVar types and count.
    bp.backprop_n(f2, 1.0, "s")  # type: ignore[arg-type]
    bp.grad_bp_n(f3, 1.0, 2, 3.0)  # type: ignore[arg-type]
    bp.eval_bp_n(f2, 1.0)  # type: ignore[arg-type]
    bp.backprop_with_n(f2, 1.0, 2, 3)  # type: ignore[arg-type]
    bp.grad_bp_n(shout, 1.0)  # type: ignore[arg-type]
    _g: tuple[float, str] = bp.grad_bp_n(f2, 1.0, 2)  # type: ignore[arg-type]


def rejected_no_input() -> None:
    bp.eval_bp0(square)  # type: ignore[arg-type]
    _r: str = bp.eval_bp0(constant)  # type: ignore[assignment]
