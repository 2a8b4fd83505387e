#!/usr/bin/env python3
"""Workloads W2 and W3 (see benches/README.md): numpy arrays on the tape.

W2 — the digits MLP (64 -> 128 tanh -> 10, softmax cross-entropy, SGD lr 0.5) trained for 5
epochs over the whole data set in order (the last incomplete batch of an epoch is skipped), at
batch 32 and at batch 256, from the same initial weights (normal(0, 0.1) from
``default_rng(0)``, biases zero). Figure: µs per training step. bprop writes the loss as a user
would::

    def loss(W1, b1, W2, b2):
        return bp.linalg.softmax_cross_entropy(bp.tanh(x @ W1 + b1) @ W2 + b2, y)

    value, grads = bp.backprop_n(loss, W1, b1, W2, b2)

against a forward and backward pass written by hand in numpy. Also ``eval_bp_n`` of that loss
(records nothing) against the plain numpy forward of the same loss, over every batch of the
data set (µs per call).

W3 — wide vectors: ``f(x, w) = sum(tanh(x * w) * x + x * x)`` on two float64 vectors of
1 000 000 elements drawn from ``default_rng(1)``, gradient with respect to both (ms per
gradient), against the gradient written by hand in numpy.

Contenders run in this one process, timed in interleaved rounds (best of N, perf_counter; the
helpers of bench_scalar.py). Peers (HIPS autograd, PyTorch on one thread, JAX jit) are added
when installed and skipped silently when not; a failing peer is reported and skipped.

Before timing, bprop is checked against the hand-written version: W2's final accuracy must be
equal (to 1e-9) and the final weights equal to rounding, ``eval_bp`` must give the plain loss,
W3's value and gradients must be allclose. A mismatch or an error exits non-zero; a slow figure
never does (the targets are printed next to the ratios).

    python benches/bench_arrays.py              # full run
    python benches/bench_arrays.py --quick      # CI smoke run: 1 epoch, fewer rounds (< 1 min)
    python benches/bench_arrays.py --no-peers
    python benches/bench_arrays.py --blas-threads 1   # numpy's BLAS on one thread (threadpoolctl)
    python benches/bench_arrays.py --json w2w3.json   # also write the rows for benches/report.py
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import bprop as bp
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonrows
from bench_scalar import best_of, verdict
from jsonrows import blas_description

Array = NDArray[np.float64]
Params = list[Any]  # W1, b1, W2, b2 (numpy arrays, or a peer's own tensors)
TrainStep = Callable[[Params, Any, Any], Params]

LR = 0.5
EPOCHS = 5
BATCHES = (32, 256)
WIDE_N = 1_000_000

TARGET_W2 = {32: 1.2, 256: 1.05}
TARGET_W3 = 1.0
TARGET_EVAL = 1.05
# W2's target: bprop faster than these at both batch sizes (issue 11 adds JAX jit)
FASTER_THAN = ("torch", "autograd", "jax")
TARGET_W3_JAX = 1.5  # W3: within 1.5x of JAX jit, which fuses the chain (issue 11)

ACCURACY_TOL = 1e-9
WEIGHT_TOL = 1e-6  # rounding (summation order) only; a wrong gradient is far above this
LOSS_RTOL = 1e-10
W3_RTOL, W3_ATOL = 1e-9, 1e-12


# ---------------------------------------------------------------------------- W2 data


def digits() -> tuple[Array, Array, NDArray[Any]]:
    # through importlib: scikit-learn ships no type information
    load_digits = importlib.import_module("sklearn.datasets").load_digits
    d = load_digits()
    x = np.asarray(d.data, dtype=np.float64) / 16.0
    labels = np.asarray(d.target)
    return x, np.eye(10)[labels], labels


def initial_params() -> list[Array]:
    rng = np.random.default_rng(0)
    return [
        rng.normal(0.0, 0.1, (64, 128)),
        np.zeros(128),
        rng.normal(0.0, 0.1, (128, 10)),
        np.zeros(10),
    ]


def accuracy(params: Params, x: Array, labels: NDArray[Any]) -> float:
    w1, b1, w2, b2 = (np.asarray(p) for p in params)
    return float(((np.tanh(x @ w1 + b1) @ w2 + b2).argmax(axis=1) == labels).mean())


class Trainer(NamedTuple):
    step: TrainStep
    # turns the initial numpy weights into the contender's own (default: fresh copies)
    prepare: Callable[[list[Array]], Params] | None = None
    # waits until the last step's results exist (for libraries that dispatch asynchronously)
    finish: Callable[[Params], Any] | None = None


def trainer(
    contender: Trainer, x: Array, y: Array, batch: int, epochs: int
) -> Callable[[], Params]:
    """The whole training run (every epoch, from the initial weights) as one callable."""
    step, prepare, finish = contender
    start = initial_params()
    n = len(x)

    def run() -> Params:
        params: Params = prepare(start) if prepare else [p.copy() for p in start]
        for _ in range(epochs):
            for i in range(0, n - batch + 1, batch):
                params = step(params, x[i : i + batch], y[i : i + batch])
        if finish:
            finish(params)
        return params

    return run


def steps_per_run(n: int, batch: int, epochs: int) -> int:
    return epochs * (n // batch)


# ---------------------------------------------------------------------------- W2 contenders


def bprop_loss(x: Array, y: Array) -> Callable[..., Any]:
    def loss(w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        return bp.linalg.softmax_cross_entropy(bp.tanh(x @ w1 + b1) @ w2 + b2, y)

    return loss


def bprop_step(params: Params, x: Array, y: Array) -> Params:
    _, grads = bp.backprop_n(bprop_loss(x, y), *params)
    return [p - LR * g for p, g in zip(params, grads)]


def manual_step(params: Params, x: Array, y: Array) -> Params:
    """The hand-written baseline: forward, softmax, then the chain rule layer by layer."""
    w1, b1, w2, b2 = params
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    g = (e / e.sum(axis=1, keepdims=True) - y) / x.shape[0]  # d loss / d logits
    dz = (g @ w2.T) * (1.0 - h * h)
    return [
        w1 - LR * (x.T @ dz),
        b1 - LR * dz.sum(axis=0),
        w2 - LR * (h.T @ g),
        b2 - LR * g.sum(axis=0),
    ]


def plain_loss(params: Params, x: Array, y: Array) -> float:
    """The loss forward in plain numpy (what eval_bp is compared with)."""
    w1, b1, w2, b2 = params
    logits = np.tanh(x @ w1 + b1) @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-(y * log_p).sum(axis=1).mean())


def forward_pass(
    loss_of_batch: Callable[[Array, Array], float], x: Array, y: Array, batch: int
) -> Callable[[], list[float]]:
    """The loss of every batch of the data set at the initial weights."""
    n = len(x)

    def run() -> list[float]:
        return [
            loss_of_batch(x[i : i + batch], y[i : i + batch])
            for i in range(0, n - batch + 1, batch)
        ]

    return run


# ---- W2 peers: each returns its Trainer, or raises ImportError when its library is missing


def autograd_loss() -> Callable[[Params, Any, Any], Any]:
    """The W2 loss written with autograd's numpy (shared with bench_higher.py)."""
    anp = importlib.import_module("autograd.numpy")

    def loss(params: Params, x: Any, y: Any) -> Any:
        w1, b1, w2, b2 = params
        logits = anp.tanh(x @ w1 + b1) @ w2 + b2
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_p = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(anp.sum(y * log_p, axis=1))

    return loss


def w2_autograd() -> Trainer:
    autograd = importlib.import_module("autograd")
    gradient = autograd.grad(autograd_loss())

    def step(params: Params, x: Any, y: Any) -> Params:
        return [p - LR * g for p, g in zip(params, gradient(params, x, y))]

    return Trainer(step)


def w2_torch() -> Trainer:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)

    def step(params: Params, x: Any, y: Any) -> Params:
        leaves = [p.detach().requires_grad_(True) for p in params]
        w1, b1, w2, b2 = leaves
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        logits = torch.tanh(xt @ w1 + b1) @ w2 + b2
        loss = -(torch.log_softmax(logits, dim=1) * yt).sum(dim=1).mean()
        loss.backward()
        with torch.no_grad():
            return [p - LR * p.grad for p in leaves]

    def prepare(start: list[Array]) -> Params:
        return [torch.tensor(p) for p in start]

    return Trainer(step, prepare)


def w2_jax() -> Trainer:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)

    def loss(params: Params, x: Any, y: Any) -> Any:
        w1, b1, w2, b2 = params
        logits = jnp.tanh(x @ w1 + b1) @ w2 + b2
        return -(jax.nn.log_softmax(logits, axis=1) * y).sum(axis=1).mean()

    def update(params: Params, x: Any, y: Any) -> Params:
        return [p - LR * g for p, g in zip(params, jax.grad(loss)(params, x, y))]

    step: TrainStep = jax.jit(update)

    def prepare(start: list[Array]) -> Params:
        return [jnp.asarray(p) for p in start]

    return Trainer(step, prepare, jax.block_until_ready)


# ---------------------------------------------------------------------------- W3


def wide_data() -> tuple[Array, Array]:
    rng = np.random.default_rng(1)
    return rng.normal(size=WIDE_N), rng.normal(size=WIDE_N)


Wide = tuple[float, tuple[Any, Any]]


def w3_bprop(x: Array, w: Array) -> Callable[[], Wide]:
    def f(x: Any, w: Any) -> Any:
        return bp.linalg.sum(bp.tanh(x * w) * x + x * x)

    def run() -> Wide:
        return bp.backprop_n(f, x, w)

    return run


def w3_manual(x: Array, w: Array) -> Callable[[], Wide]:
    def run() -> Wide:
        t = np.tanh(x * w)
        value = float((t * x + x * x).sum())
        d_inner = x * (1.0 - t * t)  # d/d(x*w) of the tanh term, times its outer factor x
        return value, (d_inner * w + t + 2.0 * x, d_inner * x)

    return run


def w3_autograd(x: Array, w: Array) -> Callable[[], Wide]:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")
    value_and_grad = autograd.value_and_grad(
        lambda xw: anp.sum(anp.tanh(xw[0] * xw[1]) * xw[0] + xw[0] * xw[0])
    )

    def run() -> Wide:
        value, (gx, gw) = value_and_grad((x, w))
        return float(value), (gx, gw)

    return run


def w3_torch(x: Array, w: Array) -> Callable[[], Wide]:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)

    def run() -> Wide:
        xt = torch.from_numpy(x).requires_grad_(True)
        wt = torch.from_numpy(w).requires_grad_(True)
        s = (torch.tanh(xt * wt) * xt + xt * xt).sum()
        s.backward()
        return s.item(), (xt.grad.numpy(), wt.grad.numpy())

    return run


def w3_jax(x: Array, w: Array) -> Callable[[], Wide]:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(
        jax.value_and_grad(lambda x, w: jnp.sum(jnp.tanh(x * w) * x + x * x), argnums=(0, 1))
    )
    xj, wj = jnp.asarray(x), jnp.asarray(w)

    def run() -> Wide:
        value, (gx, gw) = f(xj, wj)
        gx.block_until_ready()
        gw.block_until_ready()
        return float(value), (gx, gw)

    return run


# key (jsonrows.PEER_KEYS), variant, W2 factory, W3 factory
PEERS: list[
    tuple[str, str, Callable[[], Trainer], Callable[[Array, Array], Callable[[], Wide]]]
] = [
    ("autograd", "", w2_autograd, w3_autograd),
    ("torch", "", w2_torch, w3_torch),
    ("jax", "jit", w2_jax, w3_jax),
]


def measure_w2(
    factory: Callable[[], Trainer],
    name: str,
    data: tuple[Array, Array, NDArray[Any]],
    batch: int,
    epochs: int,
    rounds: int,
) -> tuple[float, float]:
    """A W2 peer's accuracy after training, and its best time over `rounds`."""
    x, y, labels = data
    run_peer = trainer(factory(), x, y, batch, epochs)
    acc_peer = accuracy(run_peer(), x, labels)
    return acc_peer, best_of({name: run_peer}, rounds)[name]


def measure_w3(
    factory: Callable[[Array, Array], Callable[[], Wide]],
    name: str,
    data: tuple[Array, Array],
    want: Wide,
    rounds: int,
) -> tuple[list[str], float]:
    """How a W3 peer's result differs from `want`, and its best time over `rounds`."""
    run_peer = factory(*data)
    return w3_mismatches(run_peer(), want), best_of({name: run_peer}, rounds)[name]


def peer_label(key: str, variant: str) -> str:
    return f"{key} ({variant})" if variant else key


# ---------------------------------------------------------------------------- checking


def max_abs_diff(ps: Params, qs: Params) -> float:
    return max(float(np.max(np.abs(np.asarray(p) - np.asarray(q)))) for p, q in zip(ps, qs))


def w3_mismatches(got: Wide, want: Wide) -> list[str]:
    problems = []
    if not math.isclose(float(got[0]), want[0], rel_tol=W3_RTOL):
        problems.append(f"value {float(got[0])!r} != {want[0]!r}")
    for name, g, h in zip(("d/dx", "d/dw"), got[1], want[1]):
        g = np.asarray(g)
        if g.shape != h.shape or not np.allclose(g, h, rtol=W3_RTOL, atol=W3_ATOL):
            worst = float(np.max(np.abs(g - h))) if g.shape == h.shape else math.nan
            problems.append(f"{name}: shape {g.shape} vs {h.shape}, max |difference| {worst:.3g}")
    return problems


# ---------------------------------------------------------------------------- report


Row = tuple[str, str, str, str, str]


def speed_note(bprop_time: float, peer_time: float) -> str:
    if peer_time >= bprop_time:
        return f"bprop {peer_time / bprop_time:.2f}x faster"
    return f"bprop {bprop_time / peer_time:.2f}x slower"


def print_table(rows: list[Row]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        print(
            f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}"
        )
        if i == 0:
            print("-" * (sum(widths) + 8 + max(len(r[4]) for r in rows)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: 1 epoch, fewer rounds")
    ap.add_argument("--rounds", type=int, help="timed rounds, best kept (default 7; --quick: 3)")
    ap.add_argument("--no-peers", action="store_true", help="skip the peer libraries")
    ap.add_argument(
        "--blas-threads",
        type=int,
        help="limit numpy's BLAS to this many threads (needs threadpoolctl)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write the result rows there (report.py)")
    args = ap.parse_args()

    jsonrows.limit_blas_threads(args.blas_threads)

    epochs = 1 if args.quick else EPOCHS
    rounds = args.rounds or (3 if args.quick else 7)
    peer_rounds = 1 if args.quick else 3
    x, y, labels = digits()
    print(
        f"W2 digits MLP ({len(x)} samples, {epochs} epoch(s), batches {' and '.join(map(str, BATCHES))}) "
        f"and W3 wide vectors ({WIDE_N} elements); best of {rounds} rounds; "
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {blas_description()}"
    )

    problems: list[str] = []
    rows: list[Row] = [("workload", "bprop", "baseline", "ratio", "target")]
    peer_rows: list[Row] = []
    peers = [] if args.no_peers else PEERS
    results: list[jsonrows.Row] = []
    # what the JSON says of each peer when --no-peers leaves it out
    unrun = {key: jsonrows.peer_skipped(jsonrows.NOT_RUN, v) for key, v, _, _ in PEERS}

    # ---- W2 training, both batch sizes
    for batch in BATCHES:
        n_steps = steps_per_run(len(x), batch, epochs)
        run_bprop = trainer(Trainer(bprop_step), x, y, batch, epochs)
        run_manual = trainer(Trainer(manual_step), x, y, batch, epochs)
        got, want = run_bprop(), run_manual()
        acc_bp, acc_manual = accuracy(got, x, labels), accuracy(want, x, labels)
        diff = max_abs_diff(got, want)
        if not abs(acc_bp - acc_manual) <= ACCURACY_TOL or not diff <= WEIGHT_TOL:
            problems.append(
                f"W2 batch {batch}: bprop accuracy {acc_bp!r} vs hand-written {acc_manual!r}, "
                f"final weights differ by up to {diff:.3g}"
            )
            continue
        print(
            f"check W2 batch {batch}: accuracy {acc_bp:.4f} equal to the hand-written one; final weights agree to {diff:.2g}: ok"
        )
        t = best_of({"bprop": run_bprop, "manual": run_manual}, rounds)
        us = {k: v / n_steps * 1e6 for k, v in t.items()}
        ratio = us["bprop"] / us["manual"]
        target = TARGET_W2[batch]
        rows.append(
            (
                f"W2 batch {batch}: training step",
                f"{us['bprop']:.1f} µs",
                f"{us['manual']:.1f} µs",
                f"{ratio:.2f}x",
                f"<= {target:g}x: {verdict(ratio, target)}",
            )
        )
        w2_peers = dict(unrun) if args.no_peers else {}
        for key, variant, w2_factory, _ in peers:
            name = peer_label(key, variant)
            measured = jsonrows.try_peer(
                w2_peers,
                key,
                variant,
                measure_w2,
                w2_factory,
                name,
                (x, y, labels),
                batch,
                epochs,
                peer_rounds,
            )
            if measured is None:
                if why := jsonrows.failure(w2_peers[key]):
                    peer_rows.append((f"W2 batch {batch}: peer {name}", "-", "-", "-", why))
                continue
            acc_peer, secs = measured
            peer_us = secs / n_steps * 1e6
            note = speed_note(us["bprop"], peer_us)
            if key in FASTER_THAN:
                note += f" (target: faster: {'meets' if peer_us > us['bprop'] else 'above'})"
            differs = ""
            if abs(acc_peer - acc_manual) > ACCURACY_TOL:
                differs = f"peer accuracy {acc_peer:.4f} differs from {acc_manual:.4f}"
                note += "; " + differs
            w2_peers[key] = jsonrows.peer_time(peer_us, variant, differs)
            peer_rows.append(
                (
                    f"W2 batch {batch}: peer {name}",
                    f"{us['bprop']:.1f} µs",
                    f"{peer_us:.1f} µs",
                    f"{us['bprop'] / peer_us:.2f}x",
                    note,
                )
            )
        results.append(
            jsonrows.row(
                f"W2 training step, batch {batch}",
                "µs",
                us["bprop"],
                us["manual"],
                "hand-written numpy",
                target,
                w2_peers,
                peer_targets={key: 1.0 for key in FASTER_THAN},
            )
        )

    # ---- W2 eval_bp: the loss forward, recording nothing
    start = initial_params()
    eval_ok = True
    for batch in BATCHES:
        n_calls = len(x) // batch
        run_eval = forward_pass(
            lambda xb, yb: bp.eval_bp_n(bprop_loss(xb, yb), *start), x, y, batch
        )
        run_plain = forward_pass(lambda xb, yb: plain_loss(start, xb, yb), x, y, batch)
        got_losses, want_losses = run_eval(), run_plain()
        bad = [
            (g, w)
            for g, w in zip(got_losses, want_losses)
            if not (isinstance(g, float) and math.isclose(g, w, rel_tol=LOSS_RTOL))
        ]
        if bad:
            problems.append(
                f"W2 eval_bp batch {batch}: {len(bad)} losses differ from numpy's, first {bad[0][0]!r} != {bad[0][1]!r}"
            )
            eval_ok = False
            continue
        t = best_of({"eval": run_eval, "plain": run_plain}, rounds)
        us = {k: v / n_calls * 1e6 for k, v in t.items()}
        ratio = us["eval"] / us["plain"]
        rows.append(
            (
                f"W2 batch {batch}: eval_bp_n vs numpy forward",
                f"{us['eval']:.1f} µs",
                f"{us['plain']:.1f} µs",
                f"{ratio:.2f}x",
                f"<= {TARGET_EVAL:g}x: {verdict(ratio, TARGET_EVAL)}",
            )
        )
        results.append(
            jsonrows.row(
                f"W2 eval_bp, batch {batch}",
                "µs",
                us["eval"],
                us["plain"],
                "numpy forward",
                TARGET_EVAL,
            )
        )
    if eval_ok:
        print(
            f"check W2 eval_bp_n: every batch's loss equals the numpy forward (rel {LOSS_RTOL:g}): ok"
        )

    # ---- W3
    xw, ww = wide_data()
    run_bprop_w3, run_manual_w3 = w3_bprop(xw, ww), w3_manual(xw, ww)
    want_w3 = run_manual_w3()
    wrong = w3_mismatches(run_bprop_w3(), want_w3)
    if wrong:
        problems += [f"W3: {m}" for m in wrong]
    else:
        print(
            f"check W3: value and both gradients allclose to the hand-written ones (rtol {W3_RTOL:g}): ok"
        )
        t = best_of({"bprop": run_bprop_w3, "manual": run_manual_w3}, rounds)
        ms = {k: v * 1e3 for k, v in t.items()}
        ratio = ms["bprop"] / ms["manual"]
        rows.append(
            (
                "W3 wide vectors: gradient",
                f"{ms['bprop']:.2f} ms",
                f"{ms['manual']:.2f} ms",
                f"{ratio:.2f}x",
                f"<= {TARGET_W3:g}x: {verdict(ratio, TARGET_W3)}",
            )
        )
        w3_peers = dict(unrun) if args.no_peers else {}
        for key, variant, _, w3_factory in peers:
            name = peer_label(key, variant)
            measured_w3 = jsonrows.try_peer(
                w3_peers, key, variant, measure_w3, w3_factory, name, (xw, ww), want_w3, peer_rounds
            )
            if measured_w3 is None:
                if why := jsonrows.failure(w3_peers[key]):
                    peer_rows.append((f"W3: peer {name}", "-", "-", "-", why))
                continue
            peer_wrong, secs = measured_w3
            peer_ms = secs * 1e3
            note = speed_note(ms["bprop"], peer_ms)
            differs = ""
            if peer_wrong:
                differs = "peer result differs: " + "; ".join(peer_wrong)
                note += "; " + differs
            w3_peers[key] = jsonrows.peer_time(peer_ms, variant, differs)
            peer_rows.append(
                (
                    f"W3: peer {name}",
                    f"{ms['bprop']:.2f} ms",
                    f"{peer_ms:.2f} ms",
                    f"{ms['bprop'] / peer_ms:.2f}x",
                    note,
                )
            )
        results.append(
            jsonrows.row(
                f"W3 wide vectors, {WIDE_N:_} elements".replace("_", " "),
                "ms",
                ms["bprop"],
                ms["manual"],
                "hand-written numpy",
                TARGET_W3,
                w3_peers,
                peer_targets={"jax": TARGET_W3_JAX},
            )
        )

    jsonrows.write(args.json, results, problems)
    return finish(rows + peer_rows, problems, "the hand-written numpy version")


def finish(rows: list[Row], problems: list[str], baseline: str) -> int:
    """Print the table, then any wrong result; the exit status fails only on those."""
    print()
    print_table(rows)
    if problems:
        print(f"\nMISMATCH between bprop and {baseline}:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
