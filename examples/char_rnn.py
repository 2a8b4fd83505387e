#!/usr/bin/env python3
"""A character-level RNN in plain numpy, trained with bprop's gradients.

A vanilla tanh RNN (Karpathy's min-char-rnn, batched) written as a numpy user writes it: the
parameters live in a dict of arrays, inputs are one-hot rows of ``np.eye``, each step is
``h = np.tanh(np.concatenate([x_t, h], axis=1) @ W_h + b_h)``, the states are collected with
``np.stack``, the first few positions of each window are sliced off (they only warm the state up)
and the loss is a softmax cross-entropy written with ``np.max(..., keepdims=True)``. The same
functions run on plain arrays (sampling text) and on BVars (training); the only bprop call is
``bp.backprop(loss, params)`` on the dict.

Training: Adagrad on random windows of a short text embedded below, a batch of windows per
step, from a seeded start. The program prints the loss as it falls, then a sample drawn from the
trained model, then checks bprop's gradient at the initial parameters against central finite
differences along a few random directions.

    python examples/char_rnn.py              # 400 steps
    python examples/char_rnn.py --quick      # 60 steps (a few seconds)

Exit status 1 if the gradient check fails or the loss did not decrease.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any

import bprop as bp
import numpy as np
from gradcheck import Check, check_gradient  # examples/gradcheck.py, beside this file

TEXT = (
    "the river runs down to the sea and the sea runs out to the rain. "
    "the rain falls on the hill and the hill sends it back to the river. "
    "so the water goes round and round, and the stones in the river grow smooth. "
    "the miller sits by the wheel and counts the turns: one for the river, "
    "one for the rain, one for the sea, and one for the stones that are not there again. "
)

HIDDEN = 64
WINDOW = 40  # characters per training window
WARMUP = 8  # positions that only warm the hidden state up (not scored)
BATCH = 16
LR = 0.05
CLIP = 5.0
INIT_SEED = 0
DATA_SEED = 1
CHECK_SEED = 2
FD_STEP = 1e-4
FD_RTOL = 1e-7

Params = Any  # a dict of arrays: plain, or a BVar of one while differentiating


# ---------------------------------------------------------------- the model (plain numpy)


def init_params(vocab: int, hidden: int = HIDDEN, seed: int = INIT_SEED) -> Params:
    rng = np.random.default_rng(seed)
    return {
        "W_h": rng.normal(0.0, 1.0, (vocab + hidden, hidden))
        / np.sqrt(vocab + hidden),  # [input; state] -> state
        "b_h": np.zeros(hidden),
        "W_y": rng.normal(0.0, 1.0, (hidden, vocab)) / np.sqrt(hidden),
        "b_y": np.zeros(vocab),
    }


def rnn_step(params: Params, x_t: Any, h: Any) -> Any:
    """One step of the recurrence: x_t (batch, vocab), h (batch, hidden) -> next h."""
    return np.tanh(np.concatenate([x_t, h], axis=1) @ params["W_h"] + params["b_h"])


def log_softmax(logits: Any) -> Any:
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def loss(params: Params, inputs: np.ndarray, targets: np.ndarray) -> Any:
    """Mean cross-entropy of the next character. inputs, targets: one-hot (time, batch, vocab)."""
    h = np.zeros((inputs.shape[1], params["b_h"].shape[0]))
    states = []
    for x_t in inputs:
        h = rnn_step(params, x_t, h)
        states.append(h)
    hs = np.stack(states)  # (time, batch, hidden)
    logits = (hs @ params["W_y"] + params["b_y"])[WARMUP:]
    return -np.mean(np.sum(targets[WARMUP:] * log_softmax(logits), axis=-1))


def sample(
    params: Params,
    vocab: list[str],
    start: str,
    length: int,
    rng: np.random.Generator,
    temperature: float = 0.6,
) -> str:
    """Text drawn from the model, character by character (plain numpy: the same step)."""
    eye = np.eye(len(vocab))
    h = np.zeros((1, params["b_h"].shape[0]))
    out = list(start)
    for c in start[:-1]:
        h = rnn_step(params, eye[[vocab.index(c)]], h)
    c = start[-1]
    for _ in range(length):
        h = rnn_step(params, eye[[vocab.index(c)]], h)
        logits = (h @ params["W_y"] + params["b_y"])[0] / temperature
        p = np.exp(log_softmax(logits))
        c = vocab[rng.choice(len(vocab), p=p / p.sum())]
        out.append(c)
    return "".join(out)


# ---------------------------------------------------------------- data and training


class Corpus:
    def __init__(self, text: str = TEXT) -> None:
        self.vocab = sorted(set(text))
        self.codes = np.array([self.vocab.index(c) for c in text])
        self.eye = np.eye(len(self.vocab))

    def batch(
        self, rng: np.random.Generator, size: int = BATCH, window: int = WINDOW
    ) -> tuple[np.ndarray, np.ndarray]:
        """One-hot inputs and next-character targets, (window, size, vocab) each."""
        starts = rng.integers(0, len(self.codes) - window - 1, size)
        idx = starts[None, :] + np.arange(window)[:, None]  # (window, size)
        return self.eye[self.codes[idx]], self.eye[self.codes[idx + 1]]


def train(
    params: Params, corpus: Corpus, steps: int, lr: float, rng: np.random.Generator, report: Any
) -> tuple[Params, list[float]]:
    """Adagrad, gradients clipped elementwise to ±CLIP."""
    memory = {k: np.full_like(v, 1e-8) for k, v in params.items()}
    losses = []
    for step in range(steps):
        inputs, targets = corpus.batch(rng)
        value, grads = bp.backprop(partial(loss, inputs=inputs, targets=targets), params)
        losses.append(float(value))
        new = {}
        for k, p in params.items():
            g = np.clip(grads[k], -CLIP, CLIP)
            memory[k] += g * g
            new[k] = p - lr * g / np.sqrt(memory[k])
        params = new
        report(step, losses)
    return params, losses


# ---------------------------------------------------------------- gradient check


# ---------------------------------------------------------------- main


@dataclass
class Result:
    losses: list[float]
    sample: str
    check: Check


def run(steps: int = 400, lr: float = LR, sample_length: int = 160, verbose: bool = True) -> Result:
    corpus = Corpus()
    say = print if verbose else (lambda *a, **k: None)
    vocab = len(corpus.vocab)
    say(
        f"char RNN: {len(TEXT)} characters of text, {vocab} distinct; tanh RNN with {HIDDEN} hidden units; "
        f"windows of {WINDOW} ({WARMUP} warm-up), batch {BATCH}, Adagrad lr {lr:g}, {steps} steps"
    )
    say(f"uniform guessing would score {math.log(vocab):.4f}")
    params0 = init_params(vocab)
    rng = np.random.default_rng(DATA_SEED)
    every = max(1, steps // 8)

    def report(step: int, losses: list[float]) -> None:
        if step % every == 0 or step == steps - 1:
            recent = losses[-every:]
            say(
                f"  step {step:4d}: loss {losses[-1]:.4f} (mean of the last {len(recent)}: {np.mean(recent):.4f})"
            )

    params, losses = train(params0, corpus, steps, lr, rng, report)
    text = sample(params, corpus.vocab, "the ", sample_length, np.random.default_rng(3))
    say(f"sample: {text!r}")

    inputs, targets = corpus.batch(np.random.default_rng(CHECK_SEED), size=4)
    check = check_gradient(
        lambda p: loss(p, inputs, targets), params0, seed=CHECK_SEED, step=FD_STEP, rtol=FD_RTOL
    )
    say(check.report("the initial parameters"))
    return Result(losses, text, check)


def loss_fell(losses: list[float]) -> bool:
    """The mean loss of the last tenth of the steps is below that of the first tenth."""
    k = max(1, len(losses) // 10)
    return float(np.mean(losses[-k:])) < float(np.mean(losses[:k]))


def failures(result: Result) -> list[str]:
    """What went wrong in a run (empty: nothing)."""
    found = []
    if not result.check.passed:
        found.append("bprop's gradient differs from the finite differences")
    if not loss_fell(result.losses):
        found.append("the training loss did not decrease")
    return found


QUICK = {"steps": 60}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK['steps']} steps (a smoke run)")
    ap.add_argument(
        "--steps", type=int, help=f"training steps (default 400; --quick: {QUICK['steps']})"
    )
    ap.add_argument("--lr", type=float, default=LR, help=f"Adagrad learning rate (default {LR:g})")
    args = ap.parse_args(argv)
    steps = args.steps if args.steps is not None else (QUICK["steps"] if args.quick else 400)
    found = failures(run(steps, args.lr))
    if found:
        print("FAILED: " + "; ".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
