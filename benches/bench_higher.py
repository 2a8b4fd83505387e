#!/usr/bin/env python3
"""Higher-order derivatives (issue 13): Hessian-vector products and a full Hessian.

hvp — ``bp.hvp`` of the W2 loss (benches/README.md; the code of bench_arrays.py: the digits MLP
64 -> 128 tanh -> 10 with softmax cross-entropy, batches of 32 and of 256, at W2's initial
weights) with the parameters as one container, the list ``[W1, b1, W2, b2]``, and a random
direction of the same structure (normal, ``default_rng(5)``)::

    def loss(params):
        W1, b1, W2, b2 = params
        return bp.linalg.softmax_cross_entropy(bp.tanh(x @ W1 + b1) @ W2 + b2, y)

    bp.hvp(loss, params, v)        # timed beside   bp.grad_bp(loss, params)

Figure: µs per call, averaged over the batches of the data set (every batch; ``--quick``: the
first two), and the ratio hvp / gradient (issue 13's target: at most 4). A Hessian-vector product
written by hand in numpy (Pearlmutter's R-operator on the forward and backward pass) is the
exact reference every contender is checked against, and is timed too.

Hessian — the full Hessian of the negative log-likelihood of an L2-regularised logistic
regression with 50 weights on 200 samples (data and weights from ``default_rng(7)``), written
as a numpy user writes it and run unchanged on BVars::

    def nll(w):
        z = X @ w
        return np.sum(np.logaddexp(0.0, z) - t * z) + 0.5 * L2 * np.sum(w * w)

    bp.hessian(nll, w)

against the same Hessian written by hand, ``X.T @ (X * (p * (1 - p))[:, None]) + L2 * I``. The
gradient of the same function is timed too (the Hessian costs about one sweep per weight).
Figure: µs per Hessian, timed over 20 in a row (``--quick``: 5), since a single call of the
hand-written one lasts a few µs.

Peers, when installed (a missing or failing one is reported, never fatal): JAX
(forward-over-reverse ``jax.jvp(jax.grad(f), ...)`` and ``jax.hessian``, jitted and eager), HIPS
autograd (the gradient of ``<grad f, v>``; ``autograd.hessian``), PyTorch on one thread (double
backward with ``create_graph=True``; ``torch.autograd.functional.hessian``). Each peer's own
gradient is timed beside its second derivative, so the table under the main one gives every
contender's second-order / first-order ratio.

Before anything is timed, every result (bprop's and each peer's, second and first derivatives)
is checked against the hand-written one (allclose, rtol 1e-8): a wrong bprop result is an error
(exit status 1) and is not timed; a peer that differs is timed and flagged. Contenders run in
this one process, timed in interleaved rounds (best of N, perf_counter; bench_scalar.best_of).

    python benches/bench_higher.py              # full run
    python benches/bench_higher.py --quick      # CI smoke run: about 15 s with every peer
    python benches/bench_higher.py --no-peers
    python benches/bench_higher.py --blas-threads 1   # numpy's BLAS on one thread (threadpoolctl)
    python benches/bench_higher.py --json h.json      # also write the rows for benches/report.py
"""

from __future__ import annotations

import argparse
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
from bench_arrays import (
    BATCHES,
    Row,
    autograd_loss,
    bprop_loss,
    digits,
    finish,
    initial_params,
    speed_note,
)
from bench_scalar import best_of, verdict
from jsonrows import blas_description

Array = NDArray[np.float64]
Params = list[Any]  # W1, b1, W2, b2
Batches = list[tuple[Array, Array]]

TARGET_HVP = 4.0  # issue 13: an hvp costs at most 4 gradients
QUICK_BATCHES = 2  # batches per hvp figure in --quick
HESSIAN_SAMPLES, HESSIAN_WEIGHTS, L2 = 200, 50, 0.1
HESSIAN_REPEATS, HESSIAN_REPEATS_QUICK = 20, 5  # Hessians per timed run
# every contender computes the same float64 numbers up to summation order
RTOL, ATOL_SCALE = 1e-8, 1e-10


class Pair(NamedTuple):
    """A contender: its second-order derivative and the gradient of the same function, each a
    callable that computes it (over every batch, for the hvp) and returns plain arrays."""

    second: Callable[[], Any]
    first: Callable[[], Any]


# a peer: key (jsonrows.PEER_KEYS), variant, whether its figure goes into the main row (one
# variant per peer there; the others only in the harness's own table), and its Pair's factory
PeerSpec = tuple[str, str, bool, Callable[[], Pair]]


# ---------------------------------------------------------------------------- hvp on W2


def w2_batches(batch: int, limit: int | None) -> Batches:
    x, y, _ = digits()
    found = [(x[i : i + batch], y[i : i + batch]) for i in range(0, len(x) - batch + 1, batch)]
    return found[:limit] if limit else found


def direction(params: Params) -> Params:
    rng = np.random.default_rng(5)
    return [rng.normal(size=np.shape(p)) for p in params]


def over_batches(one: Callable[[Array, Array], Any], batches: Batches) -> Callable[[], list[Any]]:
    def run() -> list[Any]:
        return [one(x, y) for x, y in batches]

    return run


def hvp_bprop(params: Params, v: Params, batches: Batches) -> Pair:
    def loss_of(x: Array, y: Array) -> Callable[[Any], Any]:
        loss = bprop_loss(x, y)
        return lambda ps: loss(*ps)

    return Pair(
        over_batches(lambda x, y: bp.hvp(loss_of(x, y), params, v), batches),
        over_batches(lambda x, y: bp.grad_bp(loss_of(x, y), params), batches),
    )


def manual_forward(params: Params, x: Array, y: Array) -> tuple[Array, Array, Array, Array]:
    """h, 1 - h², the softmax probabilities and d loss / d logits."""
    w1, b1, w2, b2 = params
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return h, 1.0 - h * h, p, (p - y) / x.shape[0]  # each row of y sums to 1


def manual_grad(params: Params, x: Array, y: Array) -> Params:
    h, dtanh, _, g = manual_forward(params, x, y)
    dz = (g @ params[2].T) * dtanh
    return [x.T @ dz, dz.sum(axis=0), h.T @ g, g.sum(axis=0)]


def manual_hvp(params: Params, v: Params, x: Array, y: Array) -> Params:
    """The R-operator: the derivative of the forward and backward pass along `v` (R(q) is
    the directional derivative of q), which is H·v."""
    w2 = params[2]
    v1, c1, v2, c2 = v
    h, dtanh, p, g = manual_forward(params, x, y)
    r_h = dtanh * (x @ v1 + c1)
    r_logits = r_h @ w2 + h @ v2 + c2
    r_g = p * (r_logits - (p * r_logits).sum(axis=1, keepdims=True)) / x.shape[0]
    dh = g @ w2.T
    r_dz = (r_g @ w2.T + g @ v2.T) * dtanh - dh * 2.0 * h * r_h
    return [x.T @ r_dz, r_dz.sum(axis=0), r_h.T @ g + h.T @ r_g, r_g.sum(axis=0)]


def hvp_manual(params: Params, v: Params, batches: Batches) -> Pair:
    return Pair(
        over_batches(lambda x, y: manual_hvp(params, v, x, y), batches),
        over_batches(lambda x, y: manual_grad(params, x, y), batches),
    )


def hvp_jax(params: Params, v: Params, batches: Batches, jit: bool) -> Pair:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)

    def loss(ps: Params, x: Any, y: Any) -> Any:
        w1, b1, w2, b2 = ps
        logits = jnp.tanh(x @ w1 + b1) @ w2 + b2
        return -(jax.nn.log_softmax(logits, axis=1) * y).sum(axis=1).mean()

    def hvp(ps: Params, u: Params, x: Any, y: Any) -> Any:
        return jax.jvp(lambda q: jax.grad(loss)(q, x, y), (ps,), (u,))[1]

    grad = jax.grad(loss)
    if jit:  # one compilation per batch shape, in the check's call
        hvp, grad = jax.jit(hvp), jax.jit(grad)
    ps, u = [jnp.asarray(p) for p in params], [jnp.asarray(p) for p in v]
    on_device = [(jnp.asarray(x), jnp.asarray(y)) for x, y in batches]

    def run(one: Callable[[Any, Any], Any]) -> Callable[[], list[Any]]:
        def all_batches() -> list[Any]:
            return jax.block_until_ready([one(x, y) for x, y in on_device])  # type: ignore[no-any-return]

        return all_batches

    return Pair(run(lambda x, y: hvp(ps, u, x, y)), run(lambda x, y: grad(ps, x, y)))


def hvp_autograd(params: Params, v: Params, batches: Batches) -> Pair:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")
    grad = autograd.grad(autograd_loss())

    # autograd's hessian_vector_product takes a tensordot of the gradient with v, which a list
    # of arrays does not support: the gradient of the inner product, written out
    def grad_dot_v(ps: Params, x: Any, y: Any) -> Any:
        return sum(anp.sum(g * u) for g, u in zip(grad(ps, x, y), v))

    hvp = autograd.grad(grad_dot_v)
    return Pair(
        over_batches(lambda x, y: hvp(params, x, y), batches),
        over_batches(lambda x, y: grad(params, x, y), batches),
    )


def hvp_torch(params: Params, v: Params, batches: Batches) -> Pair:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)
    leaves = [torch.tensor(p, requires_grad=True) for p in params]
    u = [torch.tensor(p) for p in v]
    on_torch = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def loss(x: Any, y: Any) -> Any:
        w1, b1, w2, b2 = leaves
        logits = torch.tanh(x @ w1 + b1) @ w2 + b2
        return -(torch.log_softmax(logits, dim=1) * y).sum(dim=1).mean()

    def hvp(x: Any, y: Any) -> list[Array]:
        grads = torch.autograd.grad(loss(x, y), leaves, create_graph=True)
        dot = sum((g * d).sum() for g, d in zip(grads, u))
        return [t.numpy() for t in torch.autograd.grad(dot, leaves)]

    def grad(x: Any, y: Any) -> list[Array]:
        return [t.numpy() for t in torch.autograd.grad(loss(x, y), leaves)]

    return Pair(over_batches(hvp, on_torch), over_batches(grad, on_torch))


def hvp_peers(params: Params, v: Params, batches: Batches) -> list[PeerSpec]:
    return [
        ("torch", "double backward", True, lambda: hvp_torch(params, v, batches)),
        ("jax", "jit", True, lambda: hvp_jax(params, v, batches, jit=True)),
        ("jax", "eager", False, lambda: hvp_jax(params, v, batches, jit=False)),
        ("autograd", "grad of <grad, v>", True, lambda: hvp_autograd(params, v, batches)),
    ]


# ---------------------------------------------------------------------------- Hessian


class Logistic(NamedTuple):
    x: Array  # samples x weights
    t: Array  # 0/1 labels
    w: Array  # where the Hessian is taken


def logistic_data() -> Logistic:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(HESSIAN_SAMPLES, HESSIAN_WEIGHTS))
    truth = rng.normal(0.0, 0.3, HESSIAN_WEIGHTS)
    t = (rng.random(HESSIAN_SAMPLES) < 1.0 / (1.0 + np.exp(-x @ truth))).astype(np.float64)
    return Logistic(x, t, rng.normal(0.0, 0.1, HESSIAN_WEIGHTS))


def nll(w: Any, x: Array, t: Array, xp: Any = np) -> Any:
    """The regularised negative log-likelihood; `xp` is numpy (arrays and BVars),
    autograd.numpy or jax.numpy."""
    z = x @ w
    return xp.sum(xp.logaddexp(0.0, z) - t * z) + 0.5 * L2 * xp.sum(w * w)


def hessian_bprop(d: Logistic) -> Pair:
    def f(w: Any) -> Any:
        return nll(w, d.x, d.t)

    return Pair(lambda: bp.hessian(f, d.w), lambda: bp.grad_bp(f, d.w))


def hessian_manual(d: Logistic) -> Pair:
    def second() -> Array:
        p = 1.0 / (1.0 + np.exp(-d.x @ d.w))
        return d.x.T @ (d.x * (p * (1.0 - p))[:, None]) + L2 * np.eye(len(d.w))

    def first() -> Array:
        p = 1.0 / (1.0 + np.exp(-d.x @ d.w))
        return d.x.T @ (p - d.t) + L2 * d.w

    return Pair(second, first)


def hessian_jax(d: Logistic, jit: bool) -> Pair:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    x, t, w = jnp.asarray(d.x), jnp.asarray(d.t), jnp.asarray(d.w)

    def f(u: Any) -> Any:
        return nll(u, x, t, jnp)

    hessian, grad = jax.hessian(f), jax.grad(f)
    if jit:
        hessian, grad = jax.jit(hessian), jax.jit(grad)
    return Pair(lambda: jax.block_until_ready(hessian(w)), lambda: jax.block_until_ready(grad(w)))


def hessian_autograd(d: Logistic) -> Pair:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")

    def f(u: Any) -> Any:
        return nll(u, d.x, d.t, anp)

    hessian, grad = autograd.hessian(f), autograd.grad(f)
    return Pair(lambda: hessian(d.w), lambda: grad(d.w))


def hessian_torch(d: Logistic) -> Pair:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)
    x, t = torch.from_numpy(d.x), torch.from_numpy(d.t)
    w = torch.tensor(d.w, requires_grad=True)

    def f(u: Any) -> Any:
        z = x @ u
        return (torch.logaddexp(torch.zeros_like(z), z) - t * z).sum() + 0.5 * L2 * (u * u).sum()

    def second() -> Array:
        return torch.autograd.functional.hessian(f, w).numpy()  # type: ignore[no-any-return]

    def first() -> Array:
        return torch.autograd.grad(f(w), w)[0].numpy()  # type: ignore[no-any-return]

    return Pair(second, first)


def hessian_peers(d: Logistic) -> list[PeerSpec]:
    return [
        ("torch", "functional.hessian", True, lambda: hessian_torch(d)),
        ("jax", "jit", True, lambda: hessian_jax(d, jit=True)),
        ("jax", "eager", False, lambda: hessian_jax(d, jit=False)),
        ("autograd", "", True, lambda: hessian_autograd(d)),
    ]


# ---------------------------------------------------------------------------- checking


def flat(result: Any) -> Array:
    """Every number of a result (an array, or nested lists of them) as one vector."""
    if isinstance(result, (list, tuple)):
        return np.concatenate([flat(r) for r in result]) if result else np.zeros(0)
    return np.ravel(np.asarray(result, dtype=np.float64))


def mismatches(got: tuple[Any, Any], want: tuple[Any, Any], what: str) -> list[str]:
    """How the computed (second, first) derivatives differ from the reference ones."""
    problems = []
    for name, g, w in zip((what, "gradient"), got, want):
        g, w = flat(g), flat(w)
        atol = ATOL_SCALE * float(np.max(np.abs(w)))
        if g.shape != w.shape:
            problems.append(f"{name}: {g.size} numbers, expected {w.size}")
        elif not np.allclose(g, w, rtol=RTOL, atol=atol):
            problems.append(f"{name}: max |difference| {float(np.max(np.abs(g - w))):.3g}")
    return problems


# ---------------------------------------------------------------------------- running


class Workload(NamedTuple):
    label: str  # the row's workload
    what: str  # "hvp" or "Hessian"
    calls: int  # results per call of a Pair's functions (the batches, for the hvp)
    repeats: int  # calls per timed run, so that a short call is not timed alone and cold
    bprop: Pair
    manual: Pair
    peers: list[PeerSpec]
    baseline_is_gradient: bool  # the row's baseline: bprop's gradient, else the hand-written
    target: float | None


class Outcome(NamedTuple):
    row: jsonrows.Row | None
    lines: list[Row]  # the printed table's lines
    detail: list[list[str]]  # every contender: second-order, gradient, ratio
    problems: list[str]


def repeated(fn: Callable[[], Any], times: int) -> Callable[[], Any]:
    def run() -> Any:
        for _ in range(times - 1):
            fn()
        return fn()

    return run


def timed(pair: Pair, w: Workload, prefix: str = "") -> dict[str, Callable[[], Any]]:
    return {
        prefix + "second": repeated(pair.second, w.repeats),
        prefix + "first": repeated(pair.first, w.repeats),
    }


def run_workload(
    w: Workload, rounds: int, peer_rounds: int, run_peers: bool, every_variant: bool
) -> Outcome:
    try:
        want = (w.manual.second(), w.manual.first())
        wrong = mismatches((w.bprop.second(), w.bprop.first()), want, w.what)
    # the checker reports any exception from bprop as a failed check
    except Exception as exc:  # noqa: BLE001
        wrong = [f"bprop raised {type(exc).__name__}: {exc}"]
    if wrong:
        return Outcome(None, [], [], [f"{w.label}: {m}" for m in wrong])
    print(f"check {w.label}: bprop's {w.what} and gradient equal the hand-written ones: ok")

    def per_call(seconds: float) -> float:
        return seconds / (w.calls * w.repeats) * 1e6

    t = best_of(timed(w.bprop, w) | timed(w.manual, w, "manual "), rounds)
    us = {k: per_call(v) for k, v in t.items()}
    baseline = us["first"] if w.baseline_is_gradient else us["manual second"]
    ratio = us["second"] / baseline
    target = f"<= {w.target:g}x: {verdict(ratio, w.target)}" if w.target else ""
    lines: list[Row] = [
        (
            f"{w.label}: {w.what}"
            + (" / bprop gradient" if w.baseline_is_gradient else " / hand-written"),
            f"{us['second']:.1f} µs",
            f"{baseline:.1f} µs",
            f"{ratio:.2f}x",
            target,
        )
    ]

    def detail(name: str, second: float, first: float, note: str = "") -> list[str]:
        return [w.label, name, f"{second:.1f}", f"{first:.1f}", f"{second / first:.2f}×", note]

    details = [
        detail("bprop", us["second"], us["first"]),
        detail("hand-written numpy", us["manual second"], us["manual first"]),
    ]

    def measure(factory: Callable[[], Pair]) -> tuple[list[str], float, float]:
        pair = factory()
        peer_wrong = mismatches((pair.second(), pair.first()), want, w.what)
        best = best_of(timed(pair, w), peer_rounds)
        return peer_wrong, best["second"], best["first"]

    peers: dict[str, jsonrows.Peer] = {}
    for key, variant, in_row, factory in w.peers:
        name = f"{key} ({variant})" if variant else key
        if not run_peers:
            if in_row:
                peers[key] = jsonrows.peer_skipped(jsonrows.NOT_RUN, variant)
            continue
        if not (in_row or every_variant):
            continue
        tried: dict[str, jsonrows.Peer] = {}
        measured = jsonrows.try_peer(tried, key, variant, measure, factory)
        if measured is None:
            why = jsonrows.failure(tried[key])
            if in_row:
                peers[key] = tried[key]
            if why:
                lines.append((f"{w.label}: peer {name}", "-", "-", "-", why))
            details.append([w.label, name, "-", "-", "-", why or jsonrows.NOT_INSTALLED])
            continue
        peer_wrong, second, first = measured
        second_us, first_us = per_call(second), per_call(first)
        differs = f"result differs: {peer_wrong[0]}" if peer_wrong else ""
        if in_row:
            peers[key] = jsonrows.peer_time(second_us, variant, differs)
        note = speed_note(us["second"], second_us) + (f"; {differs}" if differs else "")
        lines.append(
            (
                f"{w.label}: peer {name}",
                f"{us['second']:.1f} µs",
                f"{second_us:.1f} µs",
                f"{us['second'] / second_us:.2f}x",
                note,
            )
        )
        details.append(detail(name, second_us, first_us, differs))

    row = jsonrows.row(
        w.label,
        "µs",
        us["second"],
        baseline,
        jsonrows.OWN_GRADIENT if w.baseline_is_gradient else "hand-written numpy",
        w.target,
        peers,
    )
    return Outcome(row, lines, details, [])


# ---------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke run: 2 batches, fewer rounds, no JAX eager (its first calls take seconds)",
    )
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
    limit = QUICK_BATCHES if args.quick else None
    print(
        f"hvp of the W2 loss (batches {' and '.join(map(str, BATCHES))}, "
        f"{f'the first {limit} batches' if limit else 'every batch'} of the digits) and the Hessian "
        f"of a logistic NLL ({HESSIAN_WEIGHTS} weights, {HESSIAN_SAMPLES} samples); best of "
        f"{rounds} rounds; Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; {blas_description()}"
    )

    params = initial_params()
    v = direction(params)
    workloads = []
    for batch in BATCHES:
        batches = w2_batches(batch, limit)
        workloads.append(
            Workload(
                f"hvp, W2 loss, batch {batch}",
                "hvp",
                len(batches),
                1,
                hvp_bprop(params, v, batches),
                hvp_manual(params, v, batches),
                hvp_peers(params, v, batches),
                baseline_is_gradient=True,
                target=TARGET_HVP,
            )
        )
    logistic = logistic_data()
    workloads.append(
        Workload(
            f"Hessian, logistic NLL, {HESSIAN_WEIGHTS} weights",
            "Hessian",
            1,
            HESSIAN_REPEATS_QUICK if args.quick else HESSIAN_REPEATS,
            hessian_bprop(logistic),
            hessian_manual(logistic),
            hessian_peers(logistic),
            baseline_is_gradient=False,
            target=None,
        )
    )

    problems: list[str] = []
    lines: list[Row] = [("workload", "bprop", "baseline", "ratio", "target")]
    peer_lines: list[Row] = []
    results: list[jsonrows.Row] = []
    details: list[list[str]] = []
    for w in workloads:
        out = run_workload(w, rounds, peer_rounds, not args.no_peers, not args.quick)
        problems += out.problems
        if out.row is not None:
            results.append(out.row)
            lines.append(out.lines[0])
            peer_lines += out.lines[1:]
        details += out.detail

    table = jsonrows.Table(
        title="Higher-order derivatives: every contender's second-order and first-order cost",
        columns=["workload", "contender", "hvp or Hessian (µs)", "gradient (µs)", "ratio", "note"],
        rows=details,
        notes=[
            (
                "ratio: the second-order derivative over the same contender's gradient of the "
                f"same function (issue 13's target for bprop's hvp: ≤ {TARGET_HVP:g}×)"
            ),
            (
                "hvp: per batch, W2's parameters as one list [W1, b1, W2, b2]; hand-written: "
                "Pearlmutter's R-operator in numpy"
            ),
        ],
    )
    jsonrows.write(args.json, results, problems, [table])
    if details:
        print("\nevery contender (µs per call; ratio = second-order / its own gradient):")
        width = max(len(r[1]) for r in details)
        for r in details:
            print(f"  {r[0]:<32} {r[1]:<{width}}  {r[2]:>10}  {r[3]:>10}  {r[4]:>7}  {r[5]}")
    return finish(lines + peer_lines, problems, "the hand-written derivatives")


if __name__ == "__main__":
    sys.exit(main())
