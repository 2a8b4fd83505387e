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

import numpy as np

__all__ = ["assert_grad_close", "central_diff", "check_vjp", "close", "random_like"]

#: relative step: h = REL_STEP * max(1, |x|). With the O(h^4) stencil this balances truncation
#: error (~h^4 f^(5)) against rounding error (~eps |f| / h) for well-conditioned points.
REL_STEP = 1e-3


def central_diff(
    f: Callable[..., Any], xs: Sequence[Any], *, rel_step: float = REL_STEP
) -> tuple[Any, ...]:
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


def random_like(rng: np.random.Generator, value: Any) -> Any:
    """A random value of the same structure as `value` (float, array, or tuples of them)."""
    if isinstance(value, tuple):
        return tuple(random_like(rng, v) for v in value)
    if isinstance(value, np.ndarray):
        return rng.normal(size=value.shape)
    return float(rng.normal())


def _flat(value: Any) -> np.ndarray:
    if isinstance(value, tuple):
        return np.concatenate([_flat(v) for v in value]) if value else np.zeros(0)
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()


def check_vjp(
    f: Callable[..., Any],
    xs: Sequence[Any],
    *,
    rng: np.random.Generator,
    cotangent: Any = None,
    plain: Callable[..., Any] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    rel_step: float = REL_STEP,
    what: str = "vjp",
) -> None:
    """Check bprop's vector-Jacobian product of `f` against central differences, coordinate by
    coordinate (not a norm): for a random cotangent `c` (or the one given), the gradient of
    `<c, f(x)>` with respect to every element of every argument.

    `f` runs on BVars; `plain` (default `f` under `eval_bp_n`) is the same function on plain values,
    used for the differences. Arguments are floats or float64 arrays; outputs may also be tuples.
    """
    import bprop as bp

    xs = [x if isinstance(x, float) else np.array(x, dtype=np.float64) for x in xs]
    evaluate: Callable[..., Any] = plain if plain is not None else (lambda *a: bp.eval_bp_n(f, *a))
    y, pullback = bp.backprop_with_n(f, *xs)
    c = random_like(rng, y) if cotangent is None else cotangent
    grads = pullback(c)
    assert len(grads) == len(xs), f"{what}: {len(grads)} gradients for {len(xs)} arguments"
    c_flat = _flat(c)

    def objective(*args: Any) -> float:
        return float(np.dot(c_flat, _flat(evaluate(*args))))

    for i, (x, g) in enumerate(zip(xs, grads)):
        if isinstance(x, float):
            (expected,) = central_diff(
                lambda t, i=i: objective(*xs[:i], t, *xs[i + 1 :]), [x], rel_step=rel_step
            )
            assert close(g, expected, rtol=rtol, atol=atol), (
                f"{what}: argument {i}: got {g!r}, expected {expected!r}"
            )
            continue
        g = np.asarray(g)
        assert g.shape == x.shape, (
            f"{what}: argument {i}: gradient shape {g.shape} != value shape {x.shape}"
        )
        expected_arr = np.empty_like(x)
        for idx in np.ndindex(x.shape):

            def along(t: float, idx: tuple[int, ...] = idx, i: int = i, x: np.ndarray = x) -> float:
                moved = x.copy()
                moved[idx] = t
                return objective(*xs[:i], moved, *xs[i + 1 :])

            (expected_arr[idx],) = central_diff(along, [float(x[idx])], rel_step=rel_step)
        bad = ~np.isclose(g, expected_arr, rtol=rtol, atol=atol)
        assert not bad.any(), (
            f"{what}: argument {i}: {int(bad.sum())} of {bad.size} entries differ; "
            f"got {g[bad][:5]!r}, expected {expected_arr[bad][:5]!r}"
        )
