"""Finite-difference helpers shared by the gradient tests.

`central_diff` estimates every partial derivative of a function of several scalar arguments with
the five-point central stencil (error O(h^4)); `assert_grad_close` compares gradients (scalars or
tuples of scalars, real or complex) with a relative and an absolute tolerance.

Steps are real, so for a complex argument the estimate is the derivative along the real axis,
which for a holomorphic function is f'(z) (Haskell's convention: no conjugation).
"""

from __future__ import annotations

import cmath
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["central_diff", "assert_grad_close", "close"]

#: relative step: h = REL_STEP * max(1, |x|). With the O(h^4) stencil this balances truncation
#: error (~h^4 f^(5)) against rounding error (~eps |f| / h) for well-conditioned points.
REL_STEP = 1e-3


def central_diff(f: Callable[..., Any], xs: Sequence[Any], *, rel_step: float = REL_STEP) -> tuple[Any, ...]:
    """Partial derivatives of `f` at `xs`, one per argument, by central differences."""
    grads: list[Any] = []
    for i, x in enumerate(xs):
        h = rel_step * max(1.0, abs(x))

        def at(k: int, i: int = i, x: Any = x, h: float = h) -> Any:
            args = list(xs)
            args[i] = x + k * h
            return f(*args)

        grads.append((at(-2) - 8 * at(-1) + 8 * at(1) - at(2)) / (12 * h))
    return tuple(grads)


def close(actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """|actual - expected| <= rtol * |expected| + atol, for real or complex scalars."""
    a, e = complex(actual), complex(expected)
    if cmath.isnan(a) or cmath.isnan(e):
        return False
    return abs(a - e) <= rtol * abs(e) + atol


def assert_grad_close(
    actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9, what: str = "gradient"
) -> None:
    """Assert that two gradients (scalars, or equally long tuples of scalars) agree."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple), f"{what}: expected a tuple, got {actual!r}"
        assert len(actual) == len(expected), f"{what}: {actual!r} vs expected {expected!r}"
        pairs = list(zip(actual, expected))
    else:
        pairs = [(actual, expected)]
    for k, (a, e) in enumerate(pairs):
        assert close(a, e, rtol=rtol, atol=atol), (
            f"{what} [{k}]: got {a!r}, expected {e!r} (all: {actual!r} vs {expected!r}; rtol={rtol}, atol={atol})"
        )
