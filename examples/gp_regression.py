#!/usr/bin/env python3
"""Gaussian process regression in plain numpy, with hyperparameters fitted by bprop's gradients.

The model is written as a numpy user writes it: ``import numpy as np``, ``np.exp``,
broadcasting, ``np.linalg.cholesky``, ``np.linalg.solve`` and ``np.linalg.slogdet``. The same
functions run on plain arrays (to evaluate and predict) and on BVars (to differentiate); the only
bprop call is ``bp.backprop(log_marginal_likelihood_of, theta)``.

Data: noisy samples of a smooth curve on [-4, 4] (seeded, so every run is the same). Model: a
zero-mean GP with the RBF kernel ``s² exp(-(x - x')² / (2 ℓ²))`` plus noise variance ``σ²`` on
the diagonal. Its three hyperparameters are kept as logs, ``theta = [log ℓ, log s², log σ²]``,
and fitted by plain gradient ascent on the log marginal likelihood

    log p(y | x, theta) = -½ yᵀK⁻¹y - ½ log|K| - ½ n log 2π,

with yᵀK⁻¹y computed from the Cholesky factor (``z = solve(L, y)``, ``yᵀK⁻¹y = zᵀz``) and
``log|K|`` from ``slogdet``.

At the end the program checks bprop's gradient at the initial hyperparameters against central
finite differences along a few random directions and prints the check.

    python examples/gp_regression.py             # 60 points, 300 steps
    python examples/gp_regression.py --quick     # 30 points, 60 steps (a second or two)

Exit status 1 if the gradient check fails or the likelihood did not increase.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Any

import bprop as bp
import numpy as np
from gradcheck import Check, check_gradient  # examples/gradcheck.py, beside this file

JITTER = 1e-8  # added to the noise variance: keeps K positive definite to rounding
DATA_SEED = 0
CHECK_SEED = 1
NOISE_SD = 0.2  # of the synthetic data
FD_STEP = 1e-4
FD_RTOL = 1e-7


# ---------------------------------------------------------------- the model (plain numpy)


def make_data(n: int, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-4.0, 4.0, n))
    y = np.sin(1.3 * x) + 0.4 * np.cos(3.1 * x) + NOISE_SD * rng.normal(size=n)
    return x, y


def rbf_kernel(theta: Any, xa: np.ndarray, xb: np.ndarray) -> Any:
    lengthscale = np.exp(theta[0])
    signal_var = np.exp(theta[1])
    sq_dist = (xa[:, None] - xb[None, :]) ** 2
    return signal_var * np.exp(-0.5 * sq_dist / lengthscale**2)


def log_marginal_likelihood(theta: Any, x: np.ndarray, y: np.ndarray) -> Any:
    n = len(x)
    K = rbf_kernel(theta, x, x) + (np.exp(theta[2]) + JITTER) * np.eye(n)
    L = np.linalg.cholesky(K)
    z = np.linalg.solve(L, y)  # L z = y, so yᵀK⁻¹y = zᵀz
    _, logdet = np.linalg.slogdet(K)  # K is positive definite: the sign is +1
    return -0.5 * np.dot(z, z) - 0.5 * logdet - 0.5 * n * np.log(2.0 * np.pi)


def predict(
    theta: np.ndarray, x: np.ndarray, y: np.ndarray, x_new: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of f at `x_new` (plain numpy)."""
    K = rbf_kernel(theta, x, x) + (np.exp(theta[2]) + JITTER) * np.eye(len(x))
    K_star = rbf_kernel(theta, x, x_new)
    L = np.linalg.cholesky(K)
    v = np.linalg.solve(L, K_star)
    mean = K_star.T @ np.linalg.solve(K, y)
    var = np.exp(theta[1]) - np.sum(v * v, axis=0)
    return mean, np.sqrt(np.maximum(var, 0.0))


# ---------------------------------------------------------------- fitting


def fit(
    theta0: np.ndarray, x: np.ndarray, y: np.ndarray, steps: int, lr: float
) -> tuple[np.ndarray, list[float]]:
    """Gradient ascent on the log marginal likelihood per data point."""
    theta = theta0.copy()
    history = []
    for _ in range(steps):
        value, grad = bp.backprop(lambda t: log_marginal_likelihood(t, x, y), theta)
        history.append(float(value))
        theta = theta + lr * grad / len(x)
    history.append(float(log_marginal_likelihood(theta, x, y)))
    return theta, history


# ---------------------------------------------------------------- gradient check


# ---------------------------------------------------------------- main


@dataclass
class Result:
    theta0: np.ndarray
    theta: np.ndarray
    history: list[float]
    check: Check


def describe(theta: np.ndarray) -> str:
    ell, sf2, sn2 = np.exp(theta)
    return f"lengthscale {ell:.4f}, signal sd {math.sqrt(sf2):.4f}, noise sd {math.sqrt(sn2):.4f}"


def run(n: int = 60, steps: int = 300, lr: float = 0.5, verbose: bool = True) -> Result:
    x, y = make_data(n)
    theta0 = np.log(np.array([1.0, 1.0, 0.5]))  # ℓ = 1, s² = 1, σ² = 0.5
    say = print if verbose else (lambda *a, **k: None)
    say(f"GP regression: {n} noisy points of a smooth curve (true noise sd {NOISE_SD}); RBF kernel")
    say(
        f"initial: {describe(theta0)}; log marginal likelihood {log_marginal_likelihood(theta0, x, y):.6f}"
    )
    theta, history = fit(theta0, x, y, steps, lr)
    every = max(1, steps // 6)
    for k in range(0, steps + 1, every):
        say(f"  step {k:4d}: log marginal likelihood {history[k]:.6f}")
    say(f"fitted after {steps} steps: {describe(theta)}")
    say(f"final log marginal likelihood {history[-1]:.6f}")
    x_test = np.linspace(-4.0, 4.0, 9)
    mean, sd = predict(theta, x, y, x_test)
    say(
        "posterior at "
        + ", ".join(f"{a:+.0f}: {m:+.3f}±{s:.3f}" for a, m, s in zip(x_test, mean, sd))
    )

    check = check_gradient(
        lambda t: log_marginal_likelihood(t, x, y),
        theta0,
        seed=CHECK_SEED,
        step=FD_STEP,
        rtol=FD_RTOL,
    )
    say(check.report("the initial hyperparameters"))
    return Result(theta0, theta, history, check)


def failures(result: Result) -> list[str]:
    """What went wrong in a run (empty: nothing)."""
    found = []
    if not result.check.passed:
        found.append("bprop's gradient differs from the finite differences")
    if not result.history[-1] > result.history[0]:
        found.append("the log marginal likelihood did not increase")
    return found


QUICK = {"n": 30, "steps": 60}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['n']} points, {QUICK['steps']} steps (a smoke run)",
    )
    ap.add_argument(
        "--points", type=int, help=f"number of data points (default 60; --quick: {QUICK['n']})"
    )
    ap.add_argument(
        "--steps", type=int, help=f"gradient-ascent steps (default 300; --quick: {QUICK['steps']})"
    )
    ap.add_argument(
        "--lr", type=float, default=0.5, help="step size on the per-point likelihood (default 0.5)"
    )
    args = ap.parse_args(argv)
    n = args.points or (QUICK["n"] if args.quick else 60)
    steps = args.steps if args.steps is not None else (QUICK["steps"] if args.quick else 300)
    found = failures(run(n, steps, args.lr))
    if found:
        print("FAILED: " + "; ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
