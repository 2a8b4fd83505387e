#!/usr/bin/env python3
"""Negative-binomial regression fitted by Newton's method with bprop's Hessians.

Counts ``y`` are modelled as negative binomial with mean ``mu = exp(X @ beta)`` and dispersion
``r = exp(log_r)`` (variance ``mu + mu² / r``: Poisson plus extra spread). The log-likelihood of
one count is

    log Γ(y + r) - log Γ(r) - log Γ(y + 1) + r log r + y log mu - (y + r) log(r + mu),

written below in plain numpy and ``scipy.special.gammaln``, which run on BVars unchanged. The
parameters are one vector ``theta = [beta..., log_r]``.

Newton's method needs the gradient and the Hessian of the negative log-likelihood:
``bp.grad_bp(nll, theta)`` and ``bp.hessian(nll, theta)``. The Hessian is the Jacobian of the
gradient: bprop records the gradient's computation once (a run nested in another) and sweeps it
once per parameter. Each step solves ``H step = -grad`` and halves the step until the objective
decreases (the start is far from the optimum, where the full step can overshoot); near the
optimum every step is a full one and the gradient norm falls quadratically, about squaring at
each step, which the program prints. At the optimum the inverse Hessian of the total negative
log-likelihood is the usual estimate of the parameters' covariance, which gives their standard
errors.

The data are synthetic (seeded): a few covariates and counts drawn from the model with known
parameters. The program prints the iterations, the fitted parameters beside the true ones, and
checks bprop's Hessian at the start against central differences of its own gradient.

    python examples/newton_negbin.py            # 2 000 counts
    python examples/newton_negbin.py --quick    # 400 counts

Exit status 1 if Newton's method did not converge, a parameter is further than
``MAX_STANDARD_ERRORS`` standard errors from its true value, or the Hessian check fails.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Any

import bprop as bp
import numpy as np
from scipy.special import gammaln

TRUE_BETA = np.array([1.0, 0.6, -0.4])  # intercept and two slopes
TRUE_R = 2.5  # dispersion
DATA_SEED = 0
CHECK_SEED = 1
GRAD_TOL = 1e-9  # on the per-count gradient's norm
MAX_ITERATIONS = 30
MAX_STANDARD_ERRORS = 4.0
FD_STEP = 1e-5
FD_RTOL = 1e-6
NAMES = ("intercept", "slope 1", "slope 2", "log r")


# ---------------------------------------------------------------- the model (plain numpy)


def make_data(n: int, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray]:
    """A design matrix (a column of ones, then standard normal covariates) and counts."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, len(TRUE_BETA) - 1))])
    mu = np.exp(X @ TRUE_BETA)
    # numpy counts failures before the r-th success: mean r (1 - p) / p = mu for p = r / (r + mu)
    y = rng.negative_binomial(TRUE_R, TRUE_R / (TRUE_R + mu)).astype(np.float64)
    return X, y


def log_likelihood(theta: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """The negative-binomial log-likelihood of the counts `y` (a sum over them)."""
    beta, log_r = theta[:-1], theta[-1]
    eta = X @ beta  # log mu
    r = np.exp(log_r)
    terms = (
        gammaln(y + r)
        - gammaln(r)
        - gammaln(y + 1.0)
        + r * log_r
        + y * eta
        - (y + r) * np.log(r + np.exp(eta))
    )
    return np.sum(terms)


def mean_nll(theta: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """The objective: the negative log-likelihood per count (so tolerances do not grow with n)."""
    return -log_likelihood(theta, X, y) / len(y)


# ---------------------------------------------------------------- Newton's method


@dataclass
class Iteration:
    objective: float
    grad_norm: float
    step_length: float  # 1 for a full Newton step, 1/2, 1/4, ... when it was halved


@dataclass
class Result:
    theta: np.ndarray
    iterations: list[Iteration]  # one per Newton step, then the final point (step length 0)
    converged: bool
    standard_errors: np.ndarray
    hessian_check: float  # worst relative difference of bprop's Hessian from finite differences


def newton(
    f: Any, theta0: np.ndarray, tol: float = GRAD_TOL, max_iterations: int = MAX_ITERATIONS
) -> tuple[np.ndarray, list[Iteration], bool]:
    """Minimise `f` by Newton's method with step halving; stop when |grad| <= tol."""
    theta = theta0.copy()
    history = []
    for _ in range(max_iterations):
        value, grad = bp.backprop(f, theta)
        value = float(value)
        if np.linalg.norm(grad) <= tol:
            history.append(Iteration(value, float(np.linalg.norm(grad)), 0.0))
            return theta, history, True
        hess = bp.hessian(f, theta)
        step = np.linalg.solve(hess, -grad)
        if grad @ step >= 0:  # not a descent direction (H not positive definite here)
            step = -grad
        length = 1.0
        while float(f(theta + length * step)) > value and length > 1e-10:
            length /= 2
        history.append(Iteration(value, float(np.linalg.norm(grad)), length))
        theta = theta + length * step
    grad = bp.grad_bp(f, theta)
    history.append(Iteration(float(f(theta)), float(np.linalg.norm(grad)), 0.0))
    return theta, history, False


def convergence_orders(norms: list[float]) -> list[float]:
    """Estimates of the order of convergence from successive gradient norms:
    log(g[k+1] / g[k]) / log(g[k] / g[k-1]) (2 for quadratic convergence)."""
    return [
        math.log(norms[k + 1] / norms[k]) / math.log(norms[k] / norms[k - 1])
        for k in range(1, len(norms) - 1)
        if norms[k + 1] > 0 and norms[k] != norms[k - 1]
    ]


def hessian_check(f: Any, theta: np.ndarray, seed: int = CHECK_SEED) -> float:
    """bprop's Hessian times random directions against central differences of bprop's own
    gradient along them (worst relative difference)."""
    hess = bp.hessian(f, theta)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(3):
        u = rng.normal(size=theta.shape)
        u /= np.linalg.norm(u)
        fd = (bp.grad_bp(f, theta + FD_STEP * u) - bp.grad_bp(f, theta - FD_STEP * u)) / (
            2 * FD_STEP
        )
        worst = max(worst, float(np.linalg.norm(hess @ u - fd) / np.linalg.norm(fd)))
    return worst


def run(n: int = 2000, verbose: bool = True) -> Result:
    say = print if verbose else (lambda *a, **k: None)
    X, y = make_data(n)

    def objective(t: Any) -> Any:
        return mean_nll(t, X, y)

    # A neutral start: all counts at their mean, no covariate effect, dispersion 1.
    theta0 = np.zeros(len(TRUE_BETA) + 1)
    theta0[0] = math.log(float(np.mean(y)))
    say(
        f"negative-binomial regression: {n} counts (mean {np.mean(y):.2f}, variance "
        f"{np.var(y):.2f}), {len(TRUE_BETA) - 1} covariates; Newton's method with bp.hessian"
    )
    theta, history, converged = newton(objective, theta0)
    for k, it in enumerate(history):
        step = f"step length {it.step_length:g}" if it.step_length else "converged"
        say(
            f"  iteration {k:2d}: mean negative log-likelihood {it.objective:.12f}, "
            f"|gradient| {it.grad_norm:.3e}, {step}"
        )
    orders = convergence_orders([it.grad_norm for it in history])
    if orders:
        say(
            "  order of convergence from successive gradient norms: "
            + ", ".join(f"{p:.2f}" for p in orders)
        )

    # Observed information: the Hessian of the total negative log-likelihood, n times ours.
    covariance = np.linalg.inv(n * bp.hessian(objective, theta))
    standard_errors = np.sqrt(np.diag(covariance))
    truth = np.append(TRUE_BETA, math.log(TRUE_R))
    say("  parameter     true   fitted  std. error")
    for name, t, v, se in zip(NAMES, truth, theta, standard_errors):
        say(f"  {name:<10} {t:7.3f} {v:8.4f} {se:10.4f}")
    say(f"  dispersion r: true {TRUE_R}, fitted {math.exp(theta[-1]):.4f}")
    check = hessian_check(objective, theta0)
    say(
        f"Hessian check at the start: bprop's Hessian against central differences of its "
        f"gradient along 3 random directions, worst relative difference {check:.2e} "
        f"(tolerance {FD_RTOL:g})"
    )
    return Result(theta, history, converged, standard_errors, check)


def failures(result: Result) -> list[str]:
    """What went wrong in a run (empty: nothing)."""
    found = []
    if not result.converged:
        found.append(f"Newton's method did not converge in {MAX_ITERATIONS} iterations")
    truth = np.append(TRUE_BETA, math.log(TRUE_R))
    off = np.abs(result.theta - truth) / result.standard_errors
    for name, z in zip(NAMES, off):
        if not z <= MAX_STANDARD_ERRORS:
            found.append(f"{name} is {z:.1f} standard errors from its true value")
    if not result.hessian_check <= FD_RTOL:
        found.append(
            f"bprop's Hessian differs from finite differences ({result.hessian_check:.2e})"
        )
    return found


QUICK = {"n": 400}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK['n']} counts (a smoke run)")
    ap.add_argument(
        "--counts", type=int, help=f"number of counts (default 2000; --quick: {QUICK['n']})"
    )
    args = ap.parse_args(argv)
    n = args.counts or (QUICK["n"] if args.quick else 2000)
    found = failures(run(n))
    if found:
        print("FAILED: " + "; ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
