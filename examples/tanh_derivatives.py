#!/usr/bin/env python3
"""The first four derivatives of tanh, by nesting bprop's gradients four deep, and their plot.

``bp.elementwise_grad(f, x)`` is the gradient of ``sum(f(x))``; for an elementwise ``f`` that is
``f'`` at every point of the array ``x`` at once. It is itself a function of BVars, so it can be
differentiated again::

    d1 = lambda x: bp.elementwise_grad(np.tanh, x)
    d2 = lambda x: bp.elementwise_grad(d1, x)      # and so on

Each level is a run nested in the next: the inner run's reverse sweep is recorded on the outer
run's tape, so the inner derivative is differentiable there. The results are checked against
the closed forms, with ``t = tanh x``:

    tanh'    = 1 - t²
    tanh''   = -2 t (1 - t²)
    tanh'''  = -2 (1 - t²)(1 - 3 t²)
    tanh'''' = 8 t (1 - t²)(2 - 3 t²)

and the same four numbers at one point are computed with ``bp.grad_bp`` on a float, nested four
deep, too. The five curves are plotted (matplotlib, no display needed) to a PNG file.

    python examples/tanh_derivatives.py                        # writes tanh_derivatives.png
    python examples/tanh_derivatives.py --plot /tmp/tanh.png --points 801
    python examples/tanh_derivatives.py --quick --no-plot

Exit status 1 if a derivative differs from its closed form by more than ``TOLERANCE``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bprop as bp
import numpy as np

DEFAULT_PLOT = "tanh_derivatives.png"
DEFAULT_POINTS = 401
X_RANGE = (-4.0, 4.0)
POINT = 0.7  # where the scalar check nests bp.grad_bp
TOLERANCE = 1e-12  # absolute; the derivatives are all of order one on the grid
LABELS = ("tanh", "tanh'", "tanh''", "tanh'''", "tanh''''")


def closed_forms(x: np.ndarray) -> list[np.ndarray]:
    """tanh and its first four derivatives, written in terms of t = tanh x."""
    t = np.tanh(x)
    s = 1.0 - t * t  # sech² x
    return [t, s, -2.0 * t * s, -2.0 * s * (1.0 - 3.0 * t * t), 8.0 * t * s * (2.0 - 3.0 * t * t)]


Runner = Callable[[Callable[[Any], Any], Any], Any]  # bp.elementwise_grad, bp.grad_bp


def derivative(f: Callable[[Any], Any], runner: Runner) -> Callable[[Any], Any]:
    """The derivative of `f` as a function: `runner(f, x)` at every `x`."""

    def df(x: Any) -> Any:
        return runner(f, x)

    return df


def nested_derivatives(
    f: Callable[[Any], Any], order: int, runner: Runner = bp.elementwise_grad
) -> list[Callable[[Any], Any]]:
    """f and its derivatives up to `order`, each the derivative of the one before."""
    chain = [f]
    for _ in range(order):
        chain.append(derivative(chain[-1], runner))
    return chain


@dataclass
class Result:
    x: np.ndarray
    derivatives: list[np.ndarray]  # tanh and its first four derivatives on the grid, by bprop
    worst_errors: list[float]  # per derivative, the largest difference from the closed form
    scalar: list[float]  # the four derivatives at POINT by bp.grad_bp nested on a float
    scalar_error: float
    plot: str | None  # the PNG written, if any


def plot_curves(x: np.ndarray, curves: list[np.ndarray], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, y in zip(LABELS, curves):
        ax.plot(x, y, lw=1.6 if label == "tanh" else 1.2, label=label)
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel("x")
    ax.set_title("tanh and its first four derivatives, by bp.elementwise_grad nested four deep")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(
    points: int = DEFAULT_POINTS, plot: str | None = DEFAULT_PLOT, verbose: bool = True
) -> Result:
    say = print if verbose else (lambda *a, **k: None)
    x = np.linspace(*X_RANGE, points)
    chain = nested_derivatives(np.tanh, 4)
    derivatives = [np.asarray(d(x)) for d in chain]
    expected = closed_forms(x)
    errors = [float(np.max(np.abs(got - want))) for got, want in zip(derivatives, expected)]
    say(f"tanh and its derivatives on {points} points of [{X_RANGE[0]:g}, {X_RANGE[1]:g}]:")
    for order in range(1, 5):
        say(
            f"  order {order}: largest |bprop - closed form| {errors[order]:.2e}, "
            f"range [{derivatives[order].min():+.4f}, {derivatives[order].max():+.4f}]"
        )

    # The same on one float, nested with bp.grad_bp.
    scalar_chain = nested_derivatives(np.tanh, 4, runner=bp.grad_bp)
    scalar = [float(d(POINT)) for d in scalar_chain[1:]]
    scalar_expected = [float(c[0]) for c in closed_forms(np.array([POINT]))[1:]]
    scalar_error = max(abs(a - b) for a, b in zip(scalar, scalar_expected))
    say(
        f"at x = {POINT} by bp.grad_bp nested: "
        + ", ".join(f"{label} = {v:+.12f}" for label, v in zip(LABELS[1:], scalar))
        + f" (largest difference from the closed forms {scalar_error:.1e})"
    )

    if plot is not None:
        plot_curves(x, derivatives, plot)
        say(f"plot saved to {plot}")
    return Result(x, derivatives, errors, scalar, scalar_error, plot)


def failures(result: Result) -> list[str]:
    """What went wrong in a run (empty: nothing)."""
    found = [
        f"{LABELS[k]} differs from its closed form by {e:.2e}"
        for k, e in enumerate(result.worst_errors)
        if not e <= TOLERANCE
    ]
    if not result.scalar_error <= TOLERANCE:
        found.append(f"the nested bp.grad_bp differs by {result.scalar_error:.2e}")
    return found


QUICK = {"points": 41}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK['points']} points (a smoke run)")
    ap.add_argument(
        "--points",
        type=int,
        help=f"grid points on [{X_RANGE[0]:g}, {X_RANGE[1]:g}] (default {DEFAULT_POINTS}; "
        f"--quick: {QUICK['points']})",
    )
    ap.add_argument(
        "--plot",
        default=DEFAULT_PLOT,
        metavar="PATH",
        help=f"where to save the plot (default {DEFAULT_PLOT} in the current directory)",
    )
    ap.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    args = ap.parse_args(argv)
    points = args.points or (QUICK["points"] if args.quick else DEFAULT_POINTS)
    found = failures(run(points, None if args.no_plot else args.plot))
    if found:
        print("FAILED: " + "; ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
