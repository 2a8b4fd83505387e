#!/usr/bin/env python3
"""A Gaussian mixture's means fitted by Newton-CG with bprop's Hessian-vector products.

The data are points in the plane drawn from a mixture of three Gaussians (seeded) with equal
weights and a known, shared standard deviation; the unknowns are the three means (six
numbers). The log-likelihood of a point is the log of a sum over the components, written in
plain numpy on BVars with the usual max-shifted logsumexp:

    log p(x) = logsumexp_k [ log w_k - |x - m_k|² / (2 s²) ] - log(2π s²).

Newton-CG minimises the negative log-likelihood per point without ever forming the Hessian:
each outer step solves ``H step = -grad`` approximately by conjugate gradients, and the CG loop
touches ``H`` only through ``bp.hvp(f, theta, v)`` (the gradient of ``<grad f(theta), v>``, a
run nested in another: a few times the cost of one gradient, whatever the number of
parameters). The CG loop stops at a relative residual that shrinks with the gradient (so the
outer iteration converges superlinearly), or when it meets a direction of non-positive curvature
(the likelihood of a mixture is not convex away from the optimum); a backtracking line search
then takes the step.

The start is a deliberately poor one: the data's mean plus a small spread. The program prints
each outer iteration (objective, gradient norm, CG iterations, step length), the fitted means
beside the true ones (matched by nearest), and checks one Hessian-vector product against
central differences of bprop's gradient.

    python examples/newton_cg_gmm.py            # 1 500 points
    python examples/newton_cg_gmm.py --quick    # 300 points

Exit status 1 if the iteration did not converge, a fitted mean is further than
``MEAN_TOLERANCE`` from the true one, or the Hessian-vector check fails.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bprop as bp
import numpy as np

TRUE_MEANS = np.array([[-2.0, 0.0], [2.0, 0.5], [0.0, 3.0]])
SCALE = 0.8  # the components' shared standard deviation (known)
DATA_SEED = 0
START_SEED = 1
CHECK_SEED = 2
GRAD_TOL = 1e-8
MAX_ITERATIONS = 50
MEAN_TOLERANCE = 0.25
FD_STEP = 1e-5
FD_RTOL = 1e-6


# ---------------------------------------------------------------- the model (plain numpy)


def make_data(n: int, seed: int = DATA_SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    component = rng.integers(len(TRUE_MEANS), size=n)
    return TRUE_MEANS[component] + SCALE * rng.normal(size=(n, 2))


def logsumexp(z: Any, axis: int) -> Any:
    """log(sum(exp(z), axis)) without overflow: shifted by the maximum, whose own gradient
    cancels (the result does not depend on the shift), so it may be a BVar too."""
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))


def mean_nll(theta: Any, x: np.ndarray) -> Any:
    """The negative log-likelihood per point; `theta` holds the means, flattened."""
    k = len(TRUE_MEANS)
    means = theta.reshape(k, 2)
    sq_dist = np.sum((x[:, None, :] - means[None, :, :]) ** 2, axis=2)  # (n, k)
    log_joint = math.log(1.0 / k) - sq_dist / (2 * SCALE**2)
    log_px = logsumexp(log_joint, axis=1) - math.log(2 * math.pi * SCALE**2)
    return -np.mean(log_px)


# ---------------------------------------------------------------- Newton-CG


def conjugate_gradient(
    hvp: Callable[[np.ndarray], np.ndarray], grad: np.ndarray, rtol: float, max_iterations: int
) -> tuple[np.ndarray, int, bool]:
    """An approximate solution of H p = -grad by CG, using H only through `hvp`; stops at
    |residual| <= rtol |grad| or at non-positive curvature (then the steepest-descent direction
    if no progress was made yet). Returns the direction, the number of products taken and
    whether non-positive curvature stopped it."""
    p = np.zeros_like(grad)
    residual = -grad  # -grad - H p with p = 0
    direction = residual.copy()
    rr = residual @ residual
    for i in range(max_iterations):
        hd = hvp(direction)
        curvature = direction @ hd
        if curvature <= 0:
            return (p if i else -grad), i + 1, True
        alpha = rr / curvature
        p = p + alpha * direction
        residual = residual - alpha * hd
        rr_new = residual @ residual
        if math.sqrt(rr_new) <= rtol * np.linalg.norm(grad):
            return p, i + 1, False
        direction = residual + (rr_new / rr) * direction
        rr = rr_new
    return p, max_iterations, False


@dataclass
class Iteration:
    objective: float
    grad_norm: float
    cg_iterations: int  # Hessian-vector products taken by this step's CG loop
    negative_curvature: bool  # CG stopped at a direction of non-positive curvature
    step_length: float  # 0 at the final point


@dataclass
class Result:
    means: np.ndarray  # (k, 2), the fitted means
    iterations: list[Iteration]
    converged: bool
    hvp_count: int
    max_mean_error: float  # the largest distance of a fitted mean from its true one
    hvp_check: float  # relative difference of bp.hvp from finite differences of the gradient


def newton_cg(
    f: Callable[[Any], Any], theta0: np.ndarray, tol: float = GRAD_TOL
) -> tuple[np.ndarray, list[Iteration], bool, int]:
    """Minimise `f` by Newton-CG with a backtracking (Armijo) line search until
    |grad| <= tol. Returns the point, the iterations, whether it converged and the number of
    Hessian-vector products taken."""
    theta = theta0.copy()
    history = []
    products = 0
    for _ in range(MAX_ITERATIONS):
        value, grad = bp.backprop(f, theta)
        value, norm = float(value), float(np.linalg.norm(grad))
        if norm <= tol:
            history.append(Iteration(value, norm, 0, False, 0.0))
            return theta, history, True, products

        def hvp(v: np.ndarray, at: np.ndarray = theta) -> np.ndarray:
            return np.asarray(bp.hvp(f, at, v))

        # Forcing term min(1/2, sqrt|g|): loose far away, tight near the optimum.
        step, used, negative = conjugate_gradient(
            hvp, grad, min(0.5, math.sqrt(norm)), 2 * len(theta)
        )
        products += used
        length = 1.0
        while float(f(theta + length * step)) > value + 1e-4 * length * (grad @ step):
            length /= 2
            if length < 1e-10:
                break
        history.append(Iteration(value, norm, used, negative, length))
        theta = theta + length * step
    grad = bp.grad_bp(f, theta)
    history.append(Iteration(float(f(theta)), float(np.linalg.norm(grad)), 0, False, 0.0))
    return theta, history, False, products


def matched_error(fitted: np.ndarray, truth: np.ndarray) -> float:
    """The largest distance from a true mean to its nearest fitted one (a mixture's components
    have no order)."""
    distances = np.linalg.norm(truth[:, None, :] - fitted[None, :, :], axis=2)
    return float(np.max(np.min(distances, axis=1)))


def hvp_check(f: Callable[[Any], Any], theta: np.ndarray, seed: int = CHECK_SEED) -> float:
    """bp.hvp along a random direction against central differences of bprop's gradient."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=theta.shape)
    product = bp.hvp(f, theta, v)
    fd = (bp.grad_bp(f, theta + FD_STEP * v) - bp.grad_bp(f, theta - FD_STEP * v)) / (2 * FD_STEP)
    return float(np.linalg.norm(product - fd) / np.linalg.norm(fd))


def run(n: int = 1500, verbose: bool = True) -> Result:
    say = print if verbose else (lambda *a, **k: None)
    x = make_data(n)

    def objective(t: Any) -> Any:
        return mean_nll(t, x)

    rng = np.random.default_rng(START_SEED)
    theta0 = (np.mean(x, axis=0) + 0.5 * rng.normal(size=TRUE_MEANS.shape)).ravel()
    say(
        f"Gaussian mixture: {n} points in the plane, {len(TRUE_MEANS)} components (sd {SCALE}, "
        f"equal weights); their means fitted by Newton-CG with bp.hvp"
    )
    theta, history, converged, products = newton_cg(objective, theta0)
    for k, it in enumerate(history):
        if it.step_length:
            curvature = " (stopped at negative curvature)" if it.negative_curvature else ""
            tail = f"{it.cg_iterations} CG iterations{curvature}, step length {it.step_length:g}"
        else:
            tail = "converged" if converged else "stopped"
        say(
            f"  iteration {k:2d}: mean negative log-likelihood {it.objective:.12f}, "
            f"|gradient| {it.grad_norm:.3e}, {tail}"
        )
    say(f"  {products} Hessian-vector products in all; the Hessian itself was never formed")
    means = theta.reshape(TRUE_MEANS.shape)
    order = np.argmin(np.linalg.norm(TRUE_MEANS[:, None] - means[None], axis=2), axis=1)
    for true, fitted in zip(TRUE_MEANS, means[order]):
        say(
            f"  true mean ({true[0]:+.2f}, {true[1]:+.2f}), fitted ({fitted[0]:+.4f}, {fitted[1]:+.4f})"
        )
    error = matched_error(means, TRUE_MEANS)
    say(f"  largest distance of a fitted mean from the true one: {error:.4f}")
    check = hvp_check(objective, theta0)
    say(
        f"Hessian-vector check at the start: bp.hvp against central differences of the "
        f"gradient, relative difference {check:.2e} (tolerance {FD_RTOL:g})"
    )
    return Result(means, history, converged, products, error, check)


def failures(result: Result) -> list[str]:
    """What went wrong in a run (empty: nothing)."""
    found = []
    if not result.converged:
        found.append(f"Newton-CG did not converge in {MAX_ITERATIONS} iterations")
    if not result.max_mean_error <= MEAN_TOLERANCE:
        found.append(f"a fitted mean is {result.max_mean_error:.3f} from the true one")
    if not result.hvp_check <= FD_RTOL:
        found.append(f"bp.hvp differs from finite differences ({result.hvp_check:.2e})")
    return found


QUICK = {"n": 300}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK['n']} points (a smoke run)")
    ap.add_argument(
        "--points", type=int, help=f"number of points (default 1500; --quick: {QUICK['n']})"
    )
    args = ap.parse_args(argv)
    n = args.points or (QUICK["n"] if args.quick else 1500)
    found = failures(run(n))
    if found:
        print("FAILED: " + "; ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
