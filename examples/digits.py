#!/usr/bin/env python3
"""Handwritten digits with a small neural network trained by bprop (the main job: `make demo`).

The data are scikit-learn's bundled 8x8 digits (1 797 images, pixel values 0..16 scaled to
0..1). A fixed shuffle (``np.random.default_rng(SPLIT_SEED).permutation``) holds out the first
20 % of the images as the test set (359 images) and trains on the other 1 438.

The network is workload W2 of the benchmark plan: 64 inputs -> 128 tanh units -> 10 logits,
softmax cross-entropy, plain SGD (learning rate 0.5), weights drawn from normal(0, 0.1) with
``np.random.default_rng(0)``, biases zero. The loss is written with bprop as a user would::

    def loss(W1, b1, W2, b2):
        return bp.linalg.softmax_cross_entropy(bp.tanh(x @ W1 + b1) @ W2 + b2, y)

and ``bp.backprop_n(loss, W1, b1, W2, b2)`` gives its value and the four gradients.

Beside it, in the same loop, the same network is trained by a hand-written numpy forward and
backward pass (the math of ``mlp_manual`` in the benchmark peers, plus the loss value, which
the bprop step returns too): same initial weights, same batches in the same order (reshuffled
every epoch by a seeded generator; the last batch of an epoch may be smaller). The two compute
the same numbers, so their final weights must agree to rounding; they are compared at the end
(when a learning rate too large for stable training has let rounding differences grow, one step
taken by both from the same weights is compared instead).
Each step of each contender is timed on its own (the progress display is not timed), the two
alternating which goes first.

The program prints the held-out accuracy, the time per step of both and their ratio, and saves a
plot of the loss curve (training loss per step and per epoch, held-out loss per epoch).

Exit status: 1 if something fails (an error, a non-finite loss, or weights that differ between
bprop and the hand-written pass by more than ``WEIGHT_TOLERANCE``), 0 otherwise. A low accuracy is reported
but is not a failure.

    python examples/digits.py                   # defaults: 20 epochs, batch 32, lr 0.5
    python examples/digits.py --epochs 5 --batch 256 --plot /tmp/loss.png
    python examples/digits.py --no-plot
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

Array = NDArray[np.float64]
Params = tuple[Array, Array, Array, Array]
# one SGD step: (params, x batch, one-hot y batch) -> (loss before the step, new params)
Step = Callable[[Params, Array, Array], tuple[float, Params]]

INPUTS, HIDDEN, CLASSES = 64, 128, 10
INIT_SEED = 0  # initial weights (W2 of the benchmark plan)
INIT_SCALE = 0.1
SPLIT_SEED = 1  # the held-out split
SHUFFLE_SEED = 2  # the order of the training batches
TEST_SHARE = 0.2
DEFAULT_EPOCHS = 20
DEFAULT_BATCH = 32
DEFAULT_LR = 0.5
DEFAULT_PLOT = "digits_loss.png"
TARGET_ACCURACY = 0.95
# The two contenders differ only in rounding (summation order inside matrix products); a real
# mistake in a gradient moves the weights by many orders of magnitude more than this.
WEIGHT_TOLERANCE = 1e-6


# ---------------------------------------------------------------- data


class Split:
    """The digits, one-hot targets, split once into training and held-out parts."""

    def __init__(self) -> None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = np.asarray(digits.data, dtype=np.float64) / 16.0
        labels = np.asarray(digits.target)
        order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
        n_test = round(TEST_SHARE * len(labels))
        test, train = order[:n_test], order[n_test:]
        one_hot = np.eye(CLASSES)[labels]
        self.x_train, self.y_train, self.labels_train = x[train], one_hot[train], labels[train]
        self.x_test, self.y_test, self.labels_test = x[test], one_hot[test], labels[test]


def initial_params() -> Params:
    rng = np.random.default_rng(INIT_SEED)
    w1 = rng.normal(0.0, INIT_SCALE, (INPUTS, HIDDEN))
    w2 = rng.normal(0.0, INIT_SCALE, (HIDDEN, CLASSES))
    return w1, np.zeros(HIDDEN), w2, np.zeros(CLASSES)


# ---------------------------------------------------------------- the two contenders


def bprop_step(lr: float) -> Step:
    """The loss written on BVars; bprop derives the gradients."""

    def step(params: Params, x: Array, y: Array) -> tuple[float, Params]:
        # x and y are plain numpy arrays: constants of the loss, closed over.
        def loss(
            w1: bp.BVar[Array], b1: bp.BVar[Array], w2: bp.BVar[Array], b2: bp.BVar[Array]
        ) -> bp.BVar[float]:
            return bp.linalg.softmax_cross_entropy(bp.tanh(x @ w1 + b1) @ w2 + b2, y)

        value, (dw1, db1, dw2, db2) = bp.backprop_n(loss, *params)
        w1, b1, w2, b2 = params
        return float(value), (w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2)

    return step


def numpy_step(lr: float) -> Step:
    """Forward and backward pass written out by hand in numpy."""

    def step(params: Params, x: Array, y: Array) -> tuple[float, Params]:
        w1, b1, w2, b2 = params
        h = np.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)  # keeps exp from overflowing
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        value = float(-(y * (shifted - np.log(total))).sum(axis=1).mean())
        g = (e / total - y) / x.shape[0]  # d loss / d logits (each row of y sums to 1)
        dw2 = h.T @ g
        db2 = g.sum(axis=0)
        dz = (g @ w2.T) * (1.0 - h * h)
        dw1 = x.T @ dz
        db1 = dz.sum(axis=0)
        return value, (w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2)

    return step


def evaluate(params: Params, x: Array, y: Array, labels: NDArray[Any]) -> tuple[float, float]:
    """Mean cross-entropy and accuracy, in plain numpy (independent of the library)."""
    w1, b1, w2, b2 = params
    logits = np.tanh(x @ w1 + b1) @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-(y * log_p).sum(axis=1).mean())
    accuracy = float((logits.argmax(axis=1) == labels).mean())
    return loss, accuracy


# ---------------------------------------------------------------- training


class Run:
    """What one training run leaves behind."""

    def __init__(self, names: list[str]) -> None:
        self.params: dict[str, Params] = {}
        self.step_seconds: dict[str, list[float]] = {n: [] for n in names}
        self.losses: dict[str, list[float]] = {n: [] for n in names}
        self.epoch_train_loss: list[float] = []
        self.epoch_test_loss: list[float] = []
        self.epoch_test_accuracy: list[float] = []


def train(steps: dict[str, Step], data: Split, epochs: int, batch: int) -> Run:
    names = list(steps)
    run = Run(names)
    start = initial_params()
    run.params = {n: tuple(p.copy() for p in start) for n in names}  # type: ignore[misc]
    n_train = len(data.x_train)
    per_epoch = math.ceil(n_train / batch)
    shuffle = np.random.default_rng(SHUFFLE_SEED)

    # warm-up (first-call costs: lazy imports, allocator), on copies, untimed
    for n in names:
        steps[n](tuple(p.copy() for p in start), data.x_train[:batch], data.y_train[:batch])  # type: ignore[arg-type]

    sys.stdout.flush()
    with tqdm(
        total=epochs * per_epoch, unit="step", desc=f"training ({names[0]})", mininterval=0.2
    ) as bar:
        for epoch in range(epochs):
            order = shuffle.permutation(n_train)
            epoch_losses: list[float] = []
            for k in range(per_epoch):
                idx = order[k * batch : (k + 1) * batch]
                x, y = data.x_train[idx], data.y_train[idx]
                # alternate who goes first, so that neither always finds the batch in cache
                turn = names if (epoch * per_epoch + k) % 2 == 0 else names[::-1]
                for n in turn:
                    t0 = time.perf_counter()
                    value, run.params[n] = steps[n](run.params[n], x, y)
                    run.step_seconds[n].append(time.perf_counter() - t0)
                    run.losses[n].append(value)
                epoch_losses.append(run.losses[names[0]][-1])
                bar.set_postfix_str(_postfix(epoch_losses, run), refresh=False)
                bar.update(1)
            run.epoch_train_loss.append(float(np.mean(epoch_losses)))
            test_loss, test_accuracy = evaluate(
                run.params[names[0]], data.x_test, data.y_test, data.labels_test
            )
            run.epoch_test_loss.append(test_loss)
            run.epoch_test_accuracy.append(test_accuracy)
            bar.set_postfix_str(_postfix(epoch_losses, run))
    return run


def _postfix(epoch_losses: list[float], run: Run) -> str:
    text = f"loss {np.mean(epoch_losses):.4f}"  # mean over the epoch so far
    if run.epoch_test_accuracy:
        text += f", held-out acc {run.epoch_test_accuracy[-1]:.1%}"
    return text


# ---------------------------------------------------------------- report


def max_difference(ps: Params, qs: Params) -> float:
    return max(float(np.max(np.abs(p - q))) for p, q in zip(ps, qs))


def plot(run: Run, name: str, path: str, batch: int, lr: float, steps_per_epoch: int) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    losses = run.losses[name]
    epochs = len(run.epoch_train_loss)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(
        np.arange(1, len(losses) + 1) / steps_per_epoch,
        losses,
        lw=0.6,
        alpha=0.45,
        label="training loss (each step)",
    )
    marks = np.arange(1, epochs + 1)
    ax.plot(marks - 0.5, run.epoch_train_loss, "o-", ms=3, label="training loss (epoch mean)")
    ax.plot(marks, run.epoch_test_loss, "s-", ms=3, label="held-out loss (end of epoch)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("softmax cross-entropy")
    ax.set_title(
        f"bprop: 64-128-10 tanh MLP on digits (batch {batch}, SGD lr {lr:g}); "
        f"held-out accuracy {run.epoch_test_accuracy[-1]:.1%}",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--epochs",
        type=positive_int,
        default=DEFAULT_EPOCHS,
        help=f"passes over the training set (default {DEFAULT_EPOCHS})",
    )
    ap.add_argument(
        "--batch",
        type=positive_int,
        default=DEFAULT_BATCH,
        help=f"batch size (default {DEFAULT_BATCH})",
    )
    ap.add_argument(
        "--lr",
        type=positive_float,
        default=DEFAULT_LR,
        help=f"SGD learning rate (default {DEFAULT_LR})",
    )
    ap.add_argument(
        "--plot",
        default=DEFAULT_PLOT,
        metavar="PATH",
        help=f"where to save the loss plot (default {DEFAULT_PLOT})",
    )
    ap.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    args = ap.parse_args()

    data = Split()
    print(
        f"digits: {len(data.x_train)} training and {len(data.x_test)} held-out images "
        f"(fixed shuffle, seed {SPLIT_SEED}); network 64 -> 128 tanh -> 10, softmax cross-entropy; "
        f"SGD lr {args.lr:g}, batch {args.batch}, {args.epochs} epochs"
    )

    steps = {"bprop": bprop_step(args.lr), "numpy": numpy_step(args.lr)}
    run = train(steps, data, args.epochs, args.batch)

    failures = []
    for name, losses in run.losses.items():
        if not all(math.isfinite(v) for v in losses):
            failures.append(
                f"{name}: the training loss became {next(v for v in losses if not math.isfinite(v))}"
            )

    test_loss, accuracy = evaluate(run.params["bprop"], data.x_test, data.y_test, data.labels_test)
    _, train_accuracy = evaluate(run.params["bprop"], data.x_train, data.y_train, data.labels_train)
    _, numpy_accuracy = evaluate(run.params["numpy"], data.x_test, data.y_test, data.labels_test)
    print(
        f"held-out accuracy: {accuracy:.2%} ({round(accuracy * len(data.x_test))}/{len(data.x_test)}; "
        f"{'meets' if accuracy >= TARGET_ACCURACY else 'BELOW'} the {TARGET_ACCURACY:.0%} goal), "
        f"held-out loss {test_loss:.4f}, training accuracy {train_accuracy:.2%}"
    )

    weight_diff = max_difference(run.params["bprop"], run.params["numpy"])
    loss_diff = max(abs(p - q) for p, q in zip(run.losses["bprop"], run.losses["numpy"]))
    print(
        f"bprop against the hand-written pass: max |difference| of final weights {weight_diff:.3g}, "
        f"of step losses {loss_diff:.3g} (tolerance {WEIGHT_TOLERANCE:g}); "
        f"hand-written model's held-out accuracy {numpy_accuracy:.2%}"
    )
    if not weight_diff <= WEIGHT_TOLERANCE:
        # Too large a learning rate makes training chaotic: it amplifies the last-bit differences
        # of the two runs until they part. That is no fault of either, so look at one step taken
        # by both from the same weights before calling it a mismatch.
        x, y = data.x_train[: args.batch], data.y_train[: args.batch]
        one_step = max_difference(
            steps["bprop"](run.params["numpy"], x, y)[1],
            steps["numpy"](run.params["numpy"], x, y)[1],
        )
        scale = max(1.0, max(float(np.max(np.abs(p))) for p in run.params["numpy"]))
        if one_step <= WEIGHT_TOLERANCE * scale:
            print(
                f"  the two runs drifted apart (training at lr {args.lr:g} amplifies rounding), but one step "
                f"from the same weights agrees to {one_step:.3g}: ok"
            )
        else:
            failures.append(
                f"final weights differ by {weight_diff:.3g}, one step from the same weights by {one_step:.3g}"
            )

    n_steps = len(run.step_seconds["bprop"])
    us = {n: np.asarray(s) * 1e6 for n, s in run.step_seconds.items()}
    print(f"time per training step (batch {args.batch}, {n_steps} steps each; median, mean):")
    print(
        f"  bprop                  {np.median(us['bprop']):8.1f} µs  {us['bprop'].mean():8.1f} µs"
    )
    print(
        f"  hand-written numpy     {np.median(us['numpy']):8.1f} µs  {us['numpy'].mean():8.1f} µs"
    )
    print(
        f"  bprop / hand-written   {np.median(us['bprop']) / np.median(us['numpy']):8.2f} x   "
        f"{us['bprop'].mean() / us['numpy'].mean():8.2f} x"
    )

    if not args.no_plot:
        per_epoch = math.ceil(len(data.x_train) / args.batch)
        plot(run, "bprop", args.plot, args.batch, args.lr, per_epoch)
        print(f"loss curve saved to {os.path.abspath(args.plot)}")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
