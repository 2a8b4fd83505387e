"""The finite-difference check the numpy-style examples end with: bprop's gradient of a scalar
function, along random unit directions, against a five-point central difference. Parameters
are one float64 array or a dict of them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bprop as bp
import numpy as np

__all__ = ["Check", "check_gradient"]


@dataclass
class Check:
    worst: float  # largest relative difference over the directions
    directions: int
    passed: bool
    rtol: float

    def report(self, at: str) -> str:
        """One line for the example's output; `at` says where the gradient was taken."""
        return (
            f"gradient check at {at}: {self.directions} random directions, bprop vs central "
            f"differences, worst relative difference {self.worst:.2e} (tolerance {self.rtol:g}): "
            f"{'ok' if self.passed else 'FAILED'}"
        )


def _dot(a: Any, b: Any) -> float:
    if isinstance(a, dict):
        return sum(float(np.sum(a[k] * b[k])) for k in a)
    return float(np.sum(a * b))


def check_gradient(
    f: Callable[[Any], Any],
    params: Any,
    *,
    seed: int,
    step: float = 1e-4,
    rtol: float = 1e-7,
    directions: int = 4,
) -> Check:
    """Compare `bp.grad_bp(f, params)` with central differences of `f` along `directions`
    random unit directions (relative error, worst case)."""
    grads = bp.grad_bp(f, params)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(directions):
        if isinstance(params, dict):
            u = {k: rng.normal(size=np.shape(v)) for k, v in params.items()}
        else:
            u = rng.normal(size=np.shape(params))
        norm = math.sqrt(_dot(u, u))
        u = {k: d / norm for k, d in u.items()} if isinstance(u, dict) else u / norm

        def at(t: float, u: Any = u) -> float:
            if isinstance(params, dict):
                return float(f({k: params[k] + t * u[k] for k in params}))
            return float(f(params + t * u))

        fd = (at(-2 * step) - 8 * at(-step) + 8 * at(step) - at(2 * step)) / (12 * step)
        worst = max(worst, abs(_dot(grads, u) - fd) / max(abs(fd), 1e-8))
    return Check(worst, directions, worst <= rtol, rtol)
