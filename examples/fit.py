#!/usr/bin/env python3
"""Robust curve fitting by gradient descent with user-defined Ops (the demo run by `make demo`).

The model is a smooth hinge, ``f(x) = a * softplus(w * x + c) + d``, with four parameters. The
data are 200 points drawn from it with a little Gaussian noise, and one point in ten is an
outlier pushed up by 2 to 5. Squared error would let those outliers drag the curve upwards, so
the loss is the pseudo-Huber function of the residual (quadratic for small residuals, linear for
large ones).

Both non-standard pieces are defined here as bprop Ops, each a forward value plus a hand-written
pullback:

* ``softplus`` — an ``op1`` (one argument; its pullback returns one gradient);
* ``pseudo_huber(r, delta)`` — an ``op2`` (its pullback returns the gradients of both
  arguments; ``delta`` is a constant here, so its gradient is simply dropped).

The pullbacks are checked against central finite differences first, then 1 000 steps of
gradient descent with momentum run from a deliberately wrong start.

Success (exit code 0) means both of:

* the final loss is at most ``LOSS_TOLERANCE`` (2 %) above the loss of the true parameters on
  the same data (a good fit goes slightly below it: it also fits the noise), and
* every parameter is within ``PARAM_TOLERANCE`` (0.15) of the true value.

Otherwise the program prints what went wrong and exits with code 1.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence

import bprop as bp
import numpy as np

TRUE_PARAMS = (2.0, 1.5, -0.5, 0.3)  # a, w, c, d
START = (1.0, 1.0, 0.0, 0.0)
NAMES = ("a", "w", "c", "d")
N_POINTS = 200
NOISE = 0.05
OUTLIER_SHARE = 0.1
DELTA = 0.1  # pseudo-Huber scale: residuals beyond ~DELTA count linearly
STEPS = 1000
LEARNING_RATE = 0.2
MOMENTUM = 0.9
LOSS_TOLERANCE = 0.02
PARAM_TOLERANCE = 0.15
SEED = 0


# ---------------------------------------------------------------- user-defined Ops


def _softplus(x: float) -> tuple[float, Callable[[float], float]]:
    """log(1 + e^x), written so that it neither overflows nor loses precision."""
    y = max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    def pullback(dy: float) -> float:
        return dy / (1.0 + math.exp(-x))  # d softplus / dx = logistic sigmoid

    return y, pullback


softplus: bp.Op[float, float] = bp.op1(_softplus)


def _pseudo_huber(r: float, delta: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    """delta^2 * (sqrt(1 + (r / delta)^2) - 1)."""
    s = math.sqrt(1.0 + (r / delta) ** 2)

    def pullback(dy: float) -> tuple[float, float]:
        d_r = r / s
        d_delta = 2.0 * delta * (s - 1.0) - r * r / (delta * s)
        return dy * d_r, dy * d_delta

    return delta * delta * (s - 1.0), pullback


pseudo_huber: bp.Op[float, float, float] = bp.op2(_pseudo_huber)


def check_pullbacks() -> None:
    """Compare the hand-written gradients with central finite differences."""
    h = 1e-6
    for x in (-30.0, -2.0, -0.3, 0.0, 0.7, 4.0, 30.0):
        (got,) = bp.grad_op(softplus, (x,))
        want = (_softplus(x + h)[0] - _softplus(x - h)[0]) / (2 * h)
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), ("softplus", x, got, want)
    for r, delta in ((-2.0, 0.1), (-0.05, 0.3), (0.0, 1.0), (0.4, 0.1), (3.0, 2.0)):
        got_r, got_delta = bp.grad_op(pseudo_huber, (r, delta))
        want_r = (_pseudo_huber(r + h, delta)[0] - _pseudo_huber(r - h, delta)[0]) / (2 * h)
        want_delta = (_pseudo_huber(r, delta + h)[0] - _pseudo_huber(r, delta - h)[0]) / (2 * h)
        assert math.isclose(got_r, want_r, rel_tol=1e-6, abs_tol=1e-9), ("d/dr", r, delta)
        assert math.isclose(got_delta, want_delta, rel_tol=1e-6, abs_tol=1e-9), (
            "d/ddelta",
            r,
            delta,
        )


# ---------------------------------------------------------------- data and model


def make_data() -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(SEED)
    xs = rng.uniform(-3.0, 3.0, N_POINTS)
    a, w, c, d = TRUE_PARAMS
    ys = a * np.logaddexp(0.0, w * xs + c) + d + rng.normal(0.0, NOISE, N_POINTS)
    outliers = rng.random(N_POINTS) < OUTLIER_SHARE
    ys[outliers] += rng.uniform(2.0, 5.0, int(outliers.sum()))
    return [float(x) for x in xs], [float(y) for y in ys]


def make_loss(
    xs: Sequence[float], ys: Sequence[float]
) -> Callable[[bp.BVar[float], bp.BVar[float], bp.BVar[float], bp.BVar[float]], bp.BVar[float]]:
    delta = bp.auto(DELTA)

    def loss(
        a: bp.BVar[float], w: bp.BVar[float], c: bp.BVar[float], d: bp.BVar[float]
    ) -> bp.BVar[float]:
        total: bp.BVar[float] = bp.auto(0.0)
        for x, y in zip(xs, ys):
            prediction = a * softplus(w * x + c) + d
            total = total + pseudo_huber(prediction - y, delta)
        return total / len(xs)

    return loss


# ---------------------------------------------------------------- progress display


def progress(step: int, loss: float, interactive: bool) -> None:
    width = 30
    done = step * width // STEPS
    line = f"[{'#' * done}{'.' * (width - done)}] step {step:4d}/{STEPS}  loss {loss:.6f}"
    if interactive:
        print("\r" + line, end="" if step < STEPS else "\n", flush=True)
    elif step % (STEPS // 10) == 0:
        print(line, flush=True)


# ---------------------------------------------------------------- main


def main() -> int:
    check_pullbacks()
    print("custom ops: softplus (op1) and pseudo_huber (op2) pullbacks match finite differences")

    xs, ys = make_data()
    loss = make_loss(xs, ys)
    loss_at_truth = bp.eval_bp_n(loss, *TRUE_PARAMS)
    print(
        f"data: {N_POINTS} points of a*softplus(w*x + c) + d, noise {NOISE}, "
        f"{OUTLIER_SHARE:.0%} outliers; loss at the true parameters {loss_at_truth:.6f}"
    )

    interactive = sys.stdout.isatty()
    params = START
    velocity = (0.0, 0.0, 0.0, 0.0)
    t0 = time.perf_counter()
    value = math.inf
    for step in range(STEPS + 1):
        value, grads = bp.backprop_n(loss, *params)
        progress(step, value, interactive)
        if step == STEPS:
            break
        velocity = (
            MOMENTUM * velocity[0] - LEARNING_RATE * grads[0],
            MOMENTUM * velocity[1] - LEARNING_RATE * grads[1],
            MOMENTUM * velocity[2] - LEARNING_RATE * grads[2],
            MOMENTUM * velocity[3] - LEARNING_RATE * grads[3],
        )
        params = (
            params[0] + velocity[0],
            params[1] + velocity[1],
            params[2] + velocity[2],
            params[3] + velocity[3],
        )
    elapsed = time.perf_counter() - t0

    print(f"{STEPS} gradient steps in {elapsed:.1f} s")
    print("parameter   fitted     true")
    for name, got, want in zip(NAMES, params, TRUE_PARAMS):
        print(f"{name:>9} {got:9.4f} {want:8.4f}")

    failures = []
    limit = loss_at_truth * (1.0 + LOSS_TOLERANCE)
    if not value <= limit:
        failures.append(
            f"final loss {value:.6f} is above {limit:.6f} (loss at the truth + {LOSS_TOLERANCE:.0%})"
        )
    for name, got, want in zip(NAMES, params, TRUE_PARAMS):
        if not abs(got - want) <= PARAM_TOLERANCE:
            failures.append(f"{name} = {got:.4f} is further than {PARAM_TOLERANCE} from {want}")
    if failures:
        print("FAILED to fit:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(
        f"fit ok: final loss {value:.6f} <= {limit:.6f}, every parameter within {PARAM_TOLERANCE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
