#!/usr/bin/env python3
"""A small convolutional network on scikit-learn's 8x8 digits, in plain numpy, trained with bprop.

Written as a numpy user writes it: a 'same' 3x3 convolution is ``np.einsum`` over im2col patches
built from shifted slices of the ``np.pad``-ded input (``np.stack`` of the nine slices), ReLU is
``np.maximum(z, 0.0)``, 2x2 max-pooling is a ``reshape`` and ``np.max(axis=(2, 4))``, then a dense
layer and a softmax cross-entropy with ``np.max(..., keepdims=True)``. The same functions run on
plain arrays (evaluation) and on BVars (training); the only bprop call is
``bp.backprop(loss, params)`` on the dict of parameters.

Network: 8x8x1 -> conv 3x3, 8 channels -> ReLU -> pool -> 4x4x8 -> conv 3x3, 16 channels -> ReLU
-> pool -> 2x2x16 -> dense 64 -> 10. Data: 20 % of the 1 797 images held out (fixed shuffle), SGD
with momentum on mini-batches of the rest. Prints the loss per epoch and the held-out accuracy,
then checks bprop's gradient at the initial parameters against central finite differences along
a few random directions.

    python examples/conv_net.py             # 6 epochs
    python examples/conv_net.py --quick     # 1 epoch (a few seconds)

Exit status 1 if the gradient check fails or the loss did not decrease.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any

import bprop as bp
import numpy as np
from gradcheck import Check, check_gradient  # examples/gradcheck.py, beside this file

CHANNELS = (8, 16)
CLASSES = 10
BATCH = 32
LR = 0.05
MOMENTUM = 0.9
BIAS_INIT = 0.01  # a small positive bias keeps pre-activations of blank patches off ReLU's kink
INIT_SEED = 0
SPLIT_SEED = 1
SHUFFLE_SEED = 2
CHECK_SEED = 3
TEST_SHARE = 0.2
FD_STEP = 1e-4
FD_RTOL = 1e-7

Params = Any  # a dict of arrays: plain, or a BVar of one while differentiating


# ---------------------------------------------------------------- the model (plain numpy)


def init_params(seed: int = INIT_SEED) -> Params:
    rng = np.random.default_rng(seed)
    c1, c2 = CHANNELS
    return {
        "conv1": rng.normal(0.0, 1.0, (3, 3, 1, c1)) * np.sqrt(2.0 / 9),
        "b1": np.full(c1, BIAS_INIT),
        "conv2": rng.normal(0.0, 1.0, (3, 3, c1, c2)) * np.sqrt(2.0 / (9 * c1)),
        "b2": np.full(c2, BIAS_INIT),
        "dense": rng.normal(0.0, 1.0, (4 * c2, CLASSES)) * np.sqrt(1.0 / (4 * c2)),
        "b3": np.zeros(CLASSES),
    }


def conv3x3(x: Any, w: Any, b: Any) -> Any:
    """'same' 3x3 convolution: x (n, height, width, c_in), w (3, 3, c_in, c_out), b (c_out,)."""
    _, height, width, c_in = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="constant")
    patches = np.stack(
        [padded[:, i : i + height, j : j + width, :] for i in range(3) for j in range(3)], axis=3
    )
    return np.einsum("nhwkc,kco->nhwo", patches, w.reshape(9, c_in, -1)) + b


def max_pool(x: Any) -> Any:
    """2x2 max-pooling with stride 2 of (n, height, width, c)."""
    n, height, width, c = x.shape
    return np.max(x.reshape(n, height // 2, 2, width // 2, 2, c), axis=(2, 4))


def logits(params: Params, images: np.ndarray) -> Any:
    """images (n, 8, 8) -> class scores (n, 10)."""
    x = images[:, :, :, None]
    x = max_pool(np.maximum(conv3x3(x, params["conv1"], params["b1"]), 0.0))
    x = max_pool(np.maximum(conv3x3(x, params["conv2"], params["b2"]), 0.0))
    return x.reshape(len(images), -1) @ params["dense"] + params["b3"]


def cross_entropy(scores: Any, labels: np.ndarray) -> Any:
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(labels)), labels])


def loss(params: Params, images: np.ndarray, labels: np.ndarray) -> Any:
    return cross_entropy(logits(params, images), labels)


def accuracy(params: Params, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits(params, images), axis=1) == labels))


# ---------------------------------------------------------------- data and training


class Split:
    """The digits as (n, 8, 8) images scaled to 0..1, 20 % held out by a fixed shuffle."""

    def __init__(self) -> None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = np.asarray(digits.images, dtype=np.float64) / 16.0
        labels = np.asarray(digits.target)
        order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
        n_test = round(TEST_SHARE * len(labels))
        test, train = order[:n_test], order[n_test:]
        self.x_train, self.y_train = images[train], labels[train]
        self.x_test, self.y_test = images[test], labels[test]


def train(
    params: Params, data: Split, epochs: int, lr: float, say: Any
) -> tuple[Params, list[float]]:
    """SGD with momentum; returns the parameters and the mean training loss of each epoch."""
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    shuffle = np.random.default_rng(SHUFFLE_SEED)
    n = len(data.x_train)
    epoch_losses = []
    for epoch in range(epochs):
        order = shuffle.permutation(n)
        losses = []
        for k in range(0, n, BATCH):
            idx = order[k : k + BATCH]
            x, y = data.x_train[idx], data.y_train[idx]
            value, grads = bp.backprop(partial(loss, images=x, labels=y), params)
            losses.append(float(value))
            velocity = {name: MOMENTUM * velocity[name] - lr * grads[name] for name in params}
            params = {name: params[name] + velocity[name] for name in params}
        epoch_losses.append(float(np.mean(losses)))
        say(
            f"  epoch {epoch + 1}: training loss {epoch_losses[-1]:.4f} (first batch {losses[0]:.4f}, "
            f"last {losses[-1]:.4f}); held-out accuracy {accuracy(params, data.x_test, data.y_test):.2%}"
        )
    return params, epoch_losses


# ---------------------------------------------------------------- gradient check


# ---------------------------------------------------------------- main


@dataclass
class Result:
    epoch_losses: list[float]
    initial_loss: float
    test_accuracy: float
    check: Check


def run(epochs: int = 6, lr: float = LR, verbose: bool = True) -> Result:
    data = Split()
    say = print if verbose else (lambda *a, **k: None)
    say(
        f"conv net on digits: {len(data.x_train)} training and {len(data.x_test)} held-out 8x8 images; "
        f"conv3x3({CHANNELS[0]}) -> pool -> conv3x3({CHANNELS[1]}) -> pool -> dense {4 * CHANNELS[1]} -> {CLASSES}; "
        f"SGD lr {lr:g} momentum {MOMENTUM:g}, batch {BATCH}, {epochs} epoch(s)"
    )
    params0 = init_params()
    initial = float(loss(params0, data.x_train, data.y_train))
    say(
        f"initial: training loss {initial:.4f}, held-out accuracy "
        f"{accuracy(params0, data.x_test, data.y_test):.2%}"
    )
    params, epoch_losses = train(params0, data, epochs, lr, say)
    test_accuracy = accuracy(params, data.x_test, data.y_test)
    say(
        f"held-out accuracy after {epochs} epoch(s): {test_accuracy:.2%} ({round(test_accuracy * len(data.y_test))}/{len(data.y_test)})"
    )

    x, y = data.x_train[:16], data.y_train[:16]
    check = check_gradient(
        lambda p: loss(p, x, y), params0, seed=CHECK_SEED, step=FD_STEP, rtol=FD_RTOL
    )
    say(check.report("the initial parameters"))
    return Result(epoch_losses, initial, test_accuracy, check)


def failures(result: Result) -> list[str]:
    """What went wrong in a run (empty: nothing). A low accuracy is reported, not a failure."""
    found = []
    if not result.check.passed:
        found.append("bprop's gradient differs from the finite differences")
    if not (result.epoch_losses and result.epoch_losses[-1] < result.initial_loss):
        found.append("the training loss did not decrease")
    return found


QUICK = {"epochs": 1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK['epochs']} epoch (a smoke run)")
    ap.add_argument(
        "--epochs",
        type=int,
        help=f"passes over the training set (default 6; --quick: {QUICK['epochs']})",
    )
    ap.add_argument("--lr", type=float, default=LR, help=f"SGD learning rate (default {LR:g})")
    args = ap.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (QUICK["epochs"] if args.quick else 6)
    found = failures(run(epochs, args.lr))
    if found:
        print("FAILED: " + "; ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
