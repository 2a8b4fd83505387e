#!/usr/bin/env python3
"""Workload W5 (see benches/README.md) and the numpy-native API on the tape: numpy code run
unchanged on BVars.

W5 — the digits MLP (64 -> 128 ReLU -> 10, mean softmax cross-entropy) written as a numpy user
writes it, with every parameter unpacked from one flat float64 vector (9 610 numbers)::

    def w5_loss(theta, x, y, xp=np):
        W1 = theta[:O1].reshape(64, 128)
        b1 = theta[O1:O2]
        W2 = theta[O2:O3].reshape(128, 10)
        b2 = theta[O3:]
        h = xp.maximum(x @ W1 + b1, 0.0)
        logits = h @ W2 + b2
        m = xp.max(logits, axis=1, keepdims=True)
        lse = m + xp.log(xp.sum(xp.exp(logits - m), axis=1, keepdims=True))
        return -xp.mean(xp.sum(y * (logits - lse), axis=1))

The same function runs on plain arrays, on BVars (``bp.backprop(lambda t: w5_loss(t, x, y),
theta)``: ``xp`` stays numpy itself), on HIPS autograd's boxes (``xp=autograd.numpy``) and under
JAX's ``jit(value_and_grad)`` (``xp=jax.numpy``), when those are installed; PyTorch runs the same
steps written with its own functions (``clamp_min``, ``amax``) on one thread. Figure: µs per gradient with respect to the flat vector, for every batch
of 128 of the digits data (14 batches) at the initial weights (normal(0, 0.1) from
``default_rng(0)``, biases zero), against a forward and backward pass written by hand in numpy
(writing the four gradients into one flat vector).

Indexing — ``sum(x[idx] * w)`` with 100 000 random, repeated indices into 10 000 numbers (the
gradient is a scatter-add), against ``np.bincount(idx, weights=w)``; and the row gather
``sum(E[rows] * G)`` with 20 000 repeated rows of a 1 000 x 32 table, against ``np.add.at``.

einsum — ``sum(np.einsum('bij,bjk->bik', A, B) * C)`` (32 products of 64 x 64 matrices) and
``np.einsum('ij,ij->', A, B)`` (1 000 x 1 000), against the same einsums written by hand with
their gradients (also einsums).

Contenders run in this one process, timed in interleaved rounds (best of N, perf_counter; the
helpers of bench_scalar.py). Peers (autograd on every case; PyTorch and JAX on W5) are added when
installed, skipped when not, and reported (never fatal) when they fail.

Before timing, bprop's values and gradients are checked against the hand-written ones (allclose
to 1e-10) and W5's plain-array value against the hand-written forward. A mismatch or an error
exits non-zero; a slow figure never does (the targets are printed next to the ratios: W5 at most
1.2x the hand-written numpy gradient, and faster than autograd).

    python benches/bench_numpy.py              # full run
    python benches/bench_numpy.py --quick      # CI smoke run (a few seconds)
    python benches/bench_numpy.py --no-peers
    python benches/bench_numpy.py --blas-threads 1   # numpy's BLAS on one thread (threadpoolctl)
    python benches/bench_numpy.py --json w5.json     # also write the rows for benches/report.py
"""

from __future__ import annotations

import argparse
import functools
import importlib
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
from bench_arrays import Row, finish, speed_note
from bench_scalar import best_of, verdict
from jsonrows import blas_description

Array = NDArray[np.float64]
# a contender: () -> (value, gradient or tuple of gradients)
Contender = Callable[[], tuple[Any, Any]]


class Case(NamedTuple):
    bprop: Contender
    manual: Contender
    autograd: Callable[[], Contender]  # builds the autograd contender; ImportError when missing


INPUTS, HIDDEN, CLASSES = 64, 128, 10
O1 = INPUTS * HIDDEN
O2 = O1 + HIDDEN
O3 = O2 + HIDDEN * CLASSES
N_PARAMS = O3 + CLASSES
BATCH = 128

TARGET_W5 = 1.2  # issue 11 (the numpy-native issue asked for 1.3)
FASTER_THAN = ("autograd",)  # W5's target: bprop faster than these
RTOL = ATOL = 1e-10


# ---------------------------------------------------------------------------- W5


def w5_loss(theta: Any, x: Array, y: Array, xp: Any = np) -> Any:
    """The numpy-style MLP loss; `xp` is numpy (plain arrays and BVars) or autograd.numpy."""
    W1 = theta[:O1].reshape(INPUTS, HIDDEN)
    b1 = theta[O1:O2]
    W2 = theta[O2:O3].reshape(HIDDEN, CLASSES)
    b2 = theta[O3:]
    h = xp.maximum(x @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    m = xp.max(logits, axis=1, keepdims=True)
    lse = m + xp.log(xp.sum(xp.exp(logits - m), axis=1, keepdims=True))
    return -xp.mean(xp.sum(y * (logits - lse), axis=1))


def w5_manual(theta: Array, x: Array, y: Array) -> tuple[float, Array]:
    """The hand-written baseline: forward, then the chain rule, into one flat gradient."""
    W1 = theta[:O1].reshape(INPUTS, HIDDEN)
    b1 = theta[O1:O2]
    W2 = theta[O2:O3].reshape(HIDDEN, CLASSES)
    b2 = theta[O3:]
    z = x @ W1 + b1
    h = np.maximum(z, 0.0)
    logits = h @ W2 + b2
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(axis=1, keepdims=True)
    value = float(-np.mean(np.sum(y * (logits - m - np.log(s)), axis=1)))
    g = (e / s - y) / x.shape[0]  # d loss / d logits (each row of y sums to 1)
    grad = np.empty_like(theta)
    np.matmul(h.T, g, out=grad[O2:O3].reshape(HIDDEN, CLASSES))
    grad[O3:] = g.sum(axis=0)
    dz = (g @ W2.T) * (z > 0.0)
    np.matmul(x.T, dz, out=grad[:O1].reshape(INPUTS, HIDDEN))
    grad[O1:O2] = dz.sum(axis=0)
    return value, grad


def digits_batches() -> list[tuple[Array, Array]]:
    # through importlib: scikit-learn ships no type information
    load_digits = importlib.import_module("sklearn.datasets").load_digits
    d = load_digits()
    x = np.asarray(d.data, dtype=np.float64) / 16.0
    y = np.eye(CLASSES)[np.asarray(d.target)]
    return [(x[i : i + BATCH], y[i : i + BATCH]) for i in range(0, len(x) - BATCH + 1, BATCH)]


def initial_theta() -> Array:
    rng = np.random.default_rng(0)
    theta = np.zeros(N_PARAMS)
    theta[:O1] = rng.normal(0.0, 0.1, O1)
    theta[O2:O3] = rng.normal(0.0, 0.1, O3 - O2)
    return theta


def over_batches(
    one: Callable[[Array, Array], tuple[Any, Any]], batches: list[tuple[Array, Array]]
) -> Callable[[], list[tuple[Any, Any]]]:
    def run() -> list[tuple[Any, Any]]:
        return [one(x, y) for x, y in batches]

    return run


def w5_contenders(theta: Array, batches: list[tuple[Array, Array]]) -> dict[str, Callable[[], Any]]:
    return {
        "bprop": over_batches(lambda x, y: bp.backprop(lambda t: w5_loss(t, x, y), theta), batches),
        "manual": over_batches(lambda x, y: w5_manual(theta, x, y), batches),
    }


def w5_autograd(
    theta: Array, batches: list[tuple[Array, Array]]
) -> Callable[[], list[tuple[Any, Any]]]:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")

    def one(x: Array, y: Array) -> tuple[Any, Any]:
        vg: Any = autograd.value_and_grad(lambda t: w5_loss(t, x, y, xp=anp))
        return vg(theta)  # type: ignore[no-any-return]

    return over_batches(one, batches)


def w5_jax(theta: Array, batches: list[tuple[Array, Array]]) -> Callable[[], list[tuple[Any, Any]]]:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    # every batch has the same shape: one compilation (in the warm-up call) serves them all
    vg = jax.jit(jax.value_and_grad(lambda t, x, y: w5_loss(t, x, y, xp=jnp)))
    theta_j = jnp.asarray(theta)
    batches_j = [(jnp.asarray(x), jnp.asarray(y)) for x, y in batches]

    def run() -> list[tuple[Any, Any]]:
        out = [vg(theta_j, x, y) for x, y in batches_j]
        jax.block_until_ready(out)
        return out

    return run


def w5_torch(
    theta: Array, batches: list[tuple[Array, Array]]
) -> Callable[[], list[tuple[Any, Any]]]:
    """w5_loss's steps in PyTorch's spelling (its max returns indices too, its ReLU is a
    clamp), on one thread."""
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)

    def one(x: Array, y: Array) -> tuple[Any, Any]:
        t = torch.from_numpy(theta).requires_grad_(True)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        W1 = t[:O1].reshape(INPUTS, HIDDEN)
        b1 = t[O1:O2]
        W2 = t[O2:O3].reshape(HIDDEN, CLASSES)
        b2 = t[O3:]
        h = torch.clamp_min(xt @ W1 + b1, 0.0)
        logits = h @ W2 + b2
        m = torch.amax(logits, dim=1, keepdim=True)
        lse = m + torch.log(torch.sum(torch.exp(logits - m), dim=1, keepdim=True))
        loss = -torch.mean(torch.sum(yt * (logits - lse), dim=1))
        loss.backward()
        return loss.item(), t.grad.numpy()

    return over_batches(one, batches)


W5Factory = Callable[[Array, list[tuple[Array, Array]]], Callable[[], Any]]
# key (jsonrows.PEER_KEYS), variant, factory of the W5 contender
W5_PEERS: list[tuple[str, str, W5Factory]] = [
    ("torch", "", w5_torch),
    ("jax", "jit", w5_jax),
    ("autograd", "", w5_autograd),
]


# ---------------------------------------------------------------------------- indexing


def gather_data() -> tuple[Array, NDArray[np.intp], Array]:
    rng = np.random.default_rng(1)
    n, k = 10_000, 100_000
    return rng.normal(size=n), rng.integers(0, n, k), rng.normal(size=k)


def gather_contenders(x: Array, idx: NDArray[np.intp], w: Array) -> Case:
    def f(v: Any, xp: Any = np) -> Any:
        return xp.sum(v[idx] * w)

    def manual() -> tuple[Any, Any]:
        return float(np.sum(x[idx] * w)), np.bincount(idx, weights=w, minlength=len(x))

    def autograd_peer() -> Contender:
        autograd = importlib.import_module("autograd")
        anp = importlib.import_module("autograd.numpy")
        vg = autograd.value_and_grad(lambda v: f(v, anp))
        return lambda: vg(x)

    return Case(lambda: bp.backprop(f, x), manual, autograd_peer)


def rows_data() -> tuple[Array, NDArray[np.intp], Array]:
    rng = np.random.default_rng(2)
    n, d, k = 1_000, 32, 20_000
    return rng.normal(size=(n, d)), rng.integers(0, n, k), rng.normal(size=(k, d))


def rows_contenders(table: Array, rows: NDArray[np.intp], g: Array) -> Case:
    def f(e: Any, xp: Any = np) -> Any:
        return xp.sum(e[rows] * g)

    def manual() -> tuple[Any, Any]:
        value = float(np.sum(table[rows] * g))
        grad = np.zeros_like(table)
        np.add.at(grad, rows, g)
        return value, grad

    def autograd_peer() -> Contender:
        autograd = importlib.import_module("autograd")
        anp = importlib.import_module("autograd.numpy")
        vg = autograd.value_and_grad(lambda e: f(e, anp))
        return lambda: vg(table)

    return Case(lambda: bp.backprop(f, table), manual, autograd_peer)


# ---------------------------------------------------------------------------- einsum


def bmm_data() -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(3)
    return (
        rng.normal(size=(32, 64, 64)),
        rng.normal(size=(32, 64, 64)),
        rng.normal(size=(32, 64, 64)),
    )


def bmm_contenders(a: Array, b: Array, c: Array) -> Case:
    def f(a_: Any, b_: Any, xp: Any = np) -> Any:
        return xp.sum(xp.einsum("bij,bjk->bik", a_, b_) * c)

    def manual() -> tuple[Any, Any]:
        value = float(np.sum(np.einsum("bij,bjk->bik", a, b) * c))
        return value, (np.einsum("bik,bjk->bij", c, b), np.einsum("bij,bik->bjk", a, c))

    def autograd_peer() -> Contender:
        autograd = importlib.import_module("autograd")
        anp = importlib.import_module("autograd.numpy")
        vg = autograd.value_and_grad(lambda ab: f(ab[0], ab[1], anp))
        return lambda: vg((a, b))

    return Case(lambda: bp.backprop_n(f, a, b), manual, autograd_peer)


def inner_data() -> tuple[Array, Array]:
    rng = np.random.default_rng(4)
    return rng.normal(size=(1000, 1000)), rng.normal(size=(1000, 1000))


def inner_contenders(a: Array, b: Array) -> Case:
    def f(a_: Any, b_: Any, xp: Any = np) -> Any:
        return xp.einsum("ij,ij->", a_, b_)

    def manual() -> tuple[Any, Any]:
        g = 1.0  # the seed
        return float(np.einsum("ij,ij->", a, b)), (g * b, g * a)

    def autograd_peer() -> Contender:
        autograd = importlib.import_module("autograd")
        anp = importlib.import_module("autograd.numpy")
        vg = autograd.value_and_grad(lambda ab: f(ab[0], ab[1], anp))
        return lambda: vg((a, b))

    return Case(lambda: bp.backprop_n(f, a, b), manual, autograd_peer)


# ---------------------------------------------------------------------------- checking


def mismatches(got: tuple[Any, Any], want: tuple[Any, Any]) -> list[str]:
    """Differences between (value, gradient(s)) pairs beyond RTOL/ATOL."""
    problems = []
    gv, wv = np.asarray(got[0]), np.asarray(want[0])
    if gv.shape != () or not np.allclose(gv, wv, rtol=RTOL, atol=ATOL):
        problems.append(f"value {got[0]!r} != {want[0]!r}")
    gg = got[1] if isinstance(got[1], tuple) else (got[1],)
    wg = want[1] if isinstance(want[1], tuple) else (want[1],)
    if len(gg) != len(wg):
        return problems + [f"{len(gg)} gradients, expected {len(wg)}"]
    for k, (g, w) in enumerate(zip(gg, wg)):
        g = np.asarray(g)
        if g.shape != w.shape:
            problems.append(f"gradient {k}: shape {g.shape}, expected {w.shape}")
        elif not np.allclose(g, w, rtol=RTOL, atol=ATOL):
            problems.append(f"gradient {k}: max |difference| {float(np.max(np.abs(g - w))):.3g}")
    return problems


# ---------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: fewer rounds and repeats")
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

    rounds = args.rounds or (3 if args.quick else 7)
    peer_rounds = 1 if args.quick else 3
    batches = digits_batches()
    print(
        f"W5 numpy-style MLP ({len(batches)} batches of {BATCH}, {N_PARAMS} parameters in one flat vector), "
        f"indexing and einsum; best of {rounds} rounds; Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; {blas_description()}"
    )

    problems: list[str] = []
    rows: list[Row] = [("workload", "bprop", "baseline", "ratio", "target / peers")]
    results: list[jsonrows.Row] = []

    # ---- W5
    theta = initial_theta()
    w5 = w5_contenders(theta, batches)
    try:
        got, want = w5["bprop"](), w5["manual"]()
        for k, (g, w) in enumerate(zip(got, want)):
            problems += [f"W5 batch {k}: {m}" for m in mismatches(g, w)]
        for k, (x, y) in enumerate(batches):
            plain = w5_loss(theta, x, y)
            if not (
                isinstance(plain, float) and np.isclose(plain, want[k][0], rtol=RTOL, atol=ATOL)
            ):
                problems.append(
                    f"W5 batch {k}: the loss on plain arrays {plain!r} != hand-written {want[k][0]!r}"
                )
    # the checker reports any exception from bprop as a failed check, with the other problems
    except Exception as exc:  # noqa: BLE001
        problems.append(f"W5: bprop raised {type(exc).__name__}: {exc}")
    if not any(p.startswith("W5") for p in problems):
        print(
            f"check W5: loss and flat gradient of every batch equal the hand-written ones (allclose {RTOL:g}); plain-array loss too: ok"
        )
        t = best_of(w5, rounds)
        us = {k: v / len(batches) * 1e6 for k, v in t.items()}
        ratio = us["bprop"] / us["manual"]
        note = f"<= {TARGET_W5:g}x: {verdict(ratio, TARGET_W5)}"
        w5_peers: dict[str, jsonrows.Peer] = {}
        for key, variant, factory in W5_PEERS:
            text, w5_peers[key] = time_peer(
                key,
                variant,
                functools.partial(factory, theta, batches),
                want,
                peer_rounds,
                t["bprop"],
                len(batches),
                run=not args.no_peers,
                target=True,
            )
            note += f"; {text}" if text else ""
        results.append(
            jsonrows.row(
                "W5 numpy-style MLP, batch 128",
                "µs",
                us["bprop"],
                us["manual"],
                "hand-written numpy",
                TARGET_W5,
                w5_peers,
                peer_targets={key: 1.0 for key in FASTER_THAN},
            )
        )
        rows.append(
            (
                "W5 numpy-style MLP: gradient",
                f"{us['bprop']:.1f} µs",
                f"{us['manual']:.1f} µs",
                f"{ratio:.2f}x",
                note,
            )
        )

    # ---- indexing and einsum
    cases: list[tuple[str, str, Callable[[], Case]]] = [
        (
            "x[idx], 1e5 repeated indices",
            "scatter-add vs np.bincount",
            lambda: gather_contenders(*gather_data()),
        ),
        ("E[rows], 2e4 rows of 1000x32", "vs np.add.at", lambda: rows_contenders(*rows_data())),
        (
            "einsum bij,bjk->bik (32x64x64)",
            "vs hand-written einsums",
            lambda: bmm_contenders(*bmm_data()),
        ),
        ("einsum ij,ij-> (1000x1000)", "vs hand-written", lambda: inner_contenders(*inner_data())),
    ]
    for name, what, make in cases:
        try:
            case = make()
            reference = case.manual()
            wrong = mismatches(case.bprop(), reference)
        # the checker reports any exception from bprop as a failed check, with the other problems
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{name}: bprop raised {type(exc).__name__}: {exc}")
            continue
        if wrong:
            problems += [f"{name}: {m}" for m in wrong]
            continue
        print(f"check {name}: value and gradient equal the hand-written ones: ok")
        t = best_of({"bprop": case.bprop, "manual": case.manual}, rounds)
        ratio = t["bprop"] / t["manual"]
        note = what
        text, peer = time_peer(
            "autograd",
            "",
            case.autograd,
            reference,
            peer_rounds,
            t["bprop"],
            None,
            run=not args.no_peers,
        )
        note += f"; {text}" if text else ""
        results.append(
            jsonrows.row(
                name,
                "ms",
                t["bprop"] * 1e3,
                t["manual"] * 1e3,
                "hand-written numpy",
                None,
                {"autograd": peer},
            )
        )
        rows.append(
            (
                name,
                f"{t['bprop'] * 1e3:.2f} ms",
                f"{t['manual'] * 1e3:.2f} ms",
                f"{ratio:.2f}x",
                note,
            )
        )

    jsonrows.write(args.json, results, problems)
    return finish(rows, problems, "the hand-written numpy version")


def time_peer(
    key: str,
    variant: str,
    factory: Callable[[], Any],
    want: Any,
    rounds: int,
    bprop_seconds: float,
    n_batches: int | None,
    *,
    run: bool,
    target: bool = False,
) -> tuple[str, jsonrows.Peer]:
    """How bprop compares with a peer, checked against the hand-written results (never fatal):
    the table's note, and the peer's time per batch (µs) when `n_batches` is given, else in ms
    for the whole case."""
    name = f"{key} ({variant})" if variant else key
    if not run:
        return "", jsonrows.peer_skipped(jsonrows.NOT_RUN, variant)

    def measure() -> tuple[list[str], float]:
        contender = factory()
        got = contender()
        pairs = list(zip(got, want)) if n_batches is not None else [(got, want)]
        wrong = [m for g, w in pairs for m in mismatches((float(g[0]), g[1]), w)]
        return wrong, best_of({name: contender}, rounds)[name]

    tried: dict[str, jsonrows.Peer] = {}
    measured = jsonrows.try_peer(tried, key, variant, measure)
    if measured is None:
        return f"{name} {jsonrows.failure(tried[key]) or 'not installed'}", tried[key]
    wrong, secs = measured
    value = secs / n_batches * 1e6 if n_batches else secs * 1e3
    note = f"{name} {value:.1f} µs" if n_batches else f"{name} {value:.2f} ms"
    note += f": {speed_note(bprop_seconds, secs)}"
    if target and key in FASTER_THAN:
        note += f" (target faster: {'meets' if secs > bprop_seconds else 'above'})"
    differs = f"result differs: {wrong[0]}" if wrong else ""
    if wrong:
        note += f"; {name}'s {differs}"
    return note, jsonrows.peer_time(value, variant, differs)


if __name__ == "__main__":
    sys.exit(main())
