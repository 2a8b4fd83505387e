#!/usr/bin/env python3
"""Containers on the tape (issue 4): reading the fields of a record, and list round trips.

C — a record of 20 float64 arrays (a dataclass ``Params`` with fields f00 ... f19), each field
read 4 times, each read used in ``sum(tanh(c_r * f) * f)`` with c_r = 0.5, -0.8, 1.3, 0.3::

    loss(p) = sum over fields f, over r of sum(tanh(c_r * f) * f)

and its gradient with respect to the whole record (a ``Params``), at two field shapes: (16,),
where the per-read overhead dominates, and (64, 64), where numpy's work does. Contenders:

* (a) bprop, every read ``bp.view_var(bp.attr(name), v)`` (80 projection nodes);
* (b) bprop, one ``bp.split_var(v)``, then plain attribute reads of the record of BVars;
* (c) the hand-written baseline: a numpy forward pass that keeps what the backward pass needs,
  then the backward pass accumulating each field's gradient, and the ``Params`` built at the end;
* peers when installed: HIPS autograd on a dict of arrays (it does not know dataclasses),
  PyTorch on a dict of leaf tensors (one thread), JAX ``jit(value_and_grad)`` on a dict pytree.

S — a round trip through ``sequence_var``/``collect_var``: a list of n floats is split into n
scalar BVars, squared, collected into one BVar of a list, split again and summed; the gradient
(a list, ``2 x``) against the same loop written by hand on floats, at n = 1 000 and 10 000. The
figure is µs per element: flat between the two sizes means O(n).

Every contender runs in this one process, timed in interleaved rounds (each round runs every
contender in turn, each a batch of calls; the best round is kept; perf_counter; the helpers of
bench_scalar.py), so the noise of a shared machine hits them alike.

Before timing, (a), (b) and (c) must give the same loss and the same gradient (to 1e-12), and
bprop's gradients must be a ``Params`` (a list for S); a mismatch or an error exits non-zero. A
slow figure never does: the issue's target (C: at most 1.5x hand-written for (a) and (b)) is
printed next to the ratios. ``--profile`` prints cProfile's top costs of the bprop contenders.

    python benches/bench_containers.py              # full run
    python benches/bench_containers.py --quick      # CI smoke run (a few seconds)
    python benches/bench_containers.py --no-peers --profile
    python benches/bench_containers.py --json c.json  # also write the rows for benches/report.py
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import importlib
import io
import math
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonrows
from bench_arrays import Row, finish, speed_note
from bench_scalar import best_of, verdict

Array = NDArray[np.float64]

N_FIELDS = 20
FIELDS = tuple(f"f{i:02d}" for i in range(N_FIELDS))
COEFFS = (0.5, -0.8, 1.3, 0.3)  # one per read of a field
SHAPES = ((16,), (64, 64))
SEQ_SIZES = (1_000, 10_000)

TARGET_C = 1.5  # the target for (a) and (b), x hand-written
FLAT = 1.5  # S: per-element cost at the larger n at most this times the smaller n's
TARGET_S = 5.0  # S: at most this times the plain Python loop (issue 11)
TOL = 1e-12

# The record: a dataclass of 20 arrays, as a user would declare it (made here to keep 20 fields short).
Params = dataclasses.make_dataclass("Params", [(n, np.ndarray) for n in FIELDS])

Grad = tuple[float, Any]  # loss, gradient (a Params, a dict or a list)


def make_params(shape: tuple[int, ...]) -> Any:
    rng = np.random.default_rng(4)
    return Params(*(rng.normal(size=shape) for _ in FIELDS))


# ---------------------------------------------------------------------------- C contenders
# Each factory returns a zero-argument callable computing (loss, gradient) once.


def c_view_var(p: Any) -> Callable[[], Grad]:
    """(a): a lens read per use."""

    def loss(v: Any) -> Any:
        total: Any = 0.0
        for name in FIELDS:
            for c in COEFFS:
                f = bp.view_var(bp.attr(name), v)
                total = total + bp.linalg.sum(bp.tanh(c * f) * f)
        return total

    return lambda: bp.backprop(loss, p)


def c_split_var(p: Any) -> Callable[[], Grad]:
    """(b): split once, then plain attribute reads."""

    def loss(v: Any) -> Any:
        s = bp.split_var(v)
        total: Any = 0.0
        for name in FIELDS:
            for c in COEFFS:
                f = getattr(s, name)
                total = total + bp.linalg.sum(bp.tanh(c * f) * f)
        return total

    return lambda: bp.backprop(loss, p)


def c_manual(p: Any) -> Callable[[], Grad]:
    """(c): forward keeping (field, x, tanh, c) per read, then the reverse pass by hand."""

    def run() -> Grad:
        total = 0.0
        saved = []
        for name in FIELDS:
            for c in COEFFS:
                x = getattr(p, name)
                t = np.tanh(c * x)
                total += float(np.sum(t * x))
                saved.append((name, x, t, c))
        grads: dict[str, Array] = {}
        for name, x, t, c in reversed(saved):
            g = t + (c * x) * (1.0 - t * t)  # d/dx of tanh(c x) x
            grads[name] = grads[name] + g if name in grads else g
        return total, Params(**grads)

    return run


def dict_loss(xp: Any) -> Callable[[dict[str, Any]], Any]:
    """The workload over a dict of fields, in the array module `xp` of a peer (autograd, jax)."""

    def loss(d: dict[str, Any]) -> Any:
        total: Any = 0.0
        for name in FIELDS:
            for c in COEFFS:
                f = d[name]
                total = total + xp.sum(xp.tanh(c * f) * f)
        return total

    return loss


def c_autograd(p: Any) -> Callable[[], Grad]:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")

    value_and_grad = autograd.value_and_grad(dict_loss(anp))
    d = dataclasses.asdict(p)
    return lambda: value_and_grad(d)


def c_torch(p: Any) -> Callable[[], Grad]:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)
    tensors = {n: torch.from_numpy(getattr(p, n)) for n in FIELDS}

    def run() -> Grad:
        leaves = {n: t.detach().requires_grad_(True) for n, t in tensors.items()}
        total: Any = 0.0
        for name in FIELDS:
            for c in COEFFS:
                f = leaves[name]
                total = total + (torch.tanh(c * f) * f).sum()
        total.backward()
        return total.item(), {n: t.grad.numpy() for n, t in leaves.items()}

    return run


def c_jax(p: Any) -> Callable[[], Grad]:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)

    f = jax.jit(jax.value_and_grad(dict_loss(jnp)))
    d = {n: jnp.asarray(getattr(p, n)) for n in FIELDS}

    def run() -> Grad:
        value, g = f(d)
        jax.block_until_ready(g)
        return float(value), g

    return run


# key (jsonrows.PEER_KEYS), variant, factory
C_PEERS: list[tuple[str, str, Callable[[Any], Callable[[], Grad]]]] = [
    ("autograd", "dict", c_autograd),
    ("torch", "dict", c_torch),
    ("jax", "jit, dict", c_jax),
]


def fields_of(g: Any) -> dict[str, Array]:
    """A gradient's per-field arrays, whether a Params or a dict (peers)."""
    return {n: np.asarray(g[n] if isinstance(g, dict) else getattr(g, n)) for n in FIELDS}


def c_mismatches(got: Grad, want: Grad, want_type: type | None) -> list[str]:
    problems = []
    if want_type is not None and type(got[1]) is not want_type:
        problems.append(
            f"gradient is a {type(got[1]).__qualname__}, not a {want_type.__qualname__}"
        )
        return problems
    if not math.isclose(float(got[0]), want[0], rel_tol=TOL):
        problems.append(f"loss {float(got[0])!r} != {want[0]!r}")
    g, h = fields_of(got[1]), fields_of(want[1])
    for n in FIELDS:
        if g[n].shape != h[n].shape or not np.allclose(g[n], h[n], rtol=TOL, atol=TOL):
            worst = float(np.max(np.abs(g[n] - h[n]))) if g[n].shape == h[n].shape else math.nan
            problems.append(
                f"field {n}: shape {g[n].shape} vs {h[n].shape}, max |difference| {worst:.3g}"
            )
    return problems


# ---------------------------------------------------------------------------- S contenders


def s_bprop(xs: list[float]) -> Callable[[], Grad]:
    def loss(v: Any) -> Any:
        squares = [e * e for e in bp.sequence_var(v)]
        back = bp.sequence_var(bp.collect_var(squares))
        total = back[0]
        for b in back[1:]:
            total = total + b
        return total

    return lambda: bp.backprop(loss, xs)


def s_manual(xs: list[float]) -> Callable[[], Grad]:
    def run() -> Grad:
        total = 0.0
        for x in xs:
            total += x * x
        return total, [2.0 * x for x in xs]

    return run


def s_mismatches(got: Grad, want: Grad) -> list[str]:
    value, g = got
    if type(g) is not list:
        return [f"gradient is a {type(g).__qualname__}, not a list"]
    if len(g) != len(want[1]):
        return [f"gradient has {len(g)} elements, not {len(want[1])}"]
    problems = []
    if not math.isclose(float(value), want[0], rel_tol=TOL):
        problems.append(f"value {float(value)!r} != {want[0]!r}")
    bad = [
        i
        for i, (a, b) in enumerate(zip(g, want[1]))
        if not math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)
    ]
    if bad:
        problems.append(
            f"{len(bad)} gradient elements differ, first [{bad[0]}] {g[bad[0]]!r} != {want[1][bad[0]]!r}"
        )
    return problems


# ---------------------------------------------------------------------------- timing


def batched(fn: Callable[[], object], budget: float) -> tuple[Callable[[], None], int]:
    """`fn` repeated enough times to last about `budget` seconds (timer resolution and
    per-round jitter then weigh little), and the number of repeats."""
    fn()  # warm-up (first-call costs)
    t0 = time.perf_counter()
    fn()
    reps = max(1, round(budget / max(time.perf_counter() - t0, 1e-9)))

    def run() -> None:
        for _ in range(reps):
            fn()

    return run, reps


def measure_c(
    factory: Callable[[Any], Callable[[], Grad]],
    name: str,
    params: Any,
    want: Grad,
    timing: tuple[int, float],
) -> tuple[list[str], float]:
    """How a C peer's result on `params` differs from `want`, and its µs per call (best of
    `timing` = (rounds, budget))."""
    run_peer = factory(params)
    wrong = c_mismatches(run_peer(), want, None)
    rounds, budget = timing
    return wrong, time_each({name: run_peer}, rounds, budget)[name] * 1e6


def time_each(
    contenders: dict[str, Callable[[], object]], rounds: int, budget: float
) -> dict[str, float]:
    """Seconds per call of each contender: best of `rounds` interleaved rounds of batches."""
    runs = {name: batched(fn, budget) for name, fn in contenders.items()}
    best = best_of({name: run for name, (run, _) in runs.items()}, rounds)
    return {name: best[name] / runs[name][1] for name in contenders}


def profile(label: str, fn: Callable[[], object], calls: int, top: int) -> None:
    """cProfile's top costs (by own time) of `calls` calls of `fn`."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    print(f"\n-- cProfile: {label}, {calls} gradients, top {top} by own time")
    print("\n".join(ln for ln in lines[start:] if ln.strip()))


# ---------------------------------------------------------------------------- main


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="CI smoke run: fewer, shorter rounds")
    ap.add_argument("--rounds", type=int, help="timed rounds, best kept (default 11; --quick: 3)")
    ap.add_argument("--no-peers", action="store_true", help="skip the peer libraries")
    ap.add_argument(
        "--profile", action="store_true", help="print cProfile's top costs of the bprop contenders"
    )
    ap.add_argument("--json", metavar="PATH", help="also write the result rows there (report.py)")
    args = ap.parse_args()

    rounds = args.rounds or (3 if args.quick else 11)
    budget = 0.01 if args.quick else 0.03  # seconds per contender per round (many short rounds: a
    # quiet moment of the shared machine is more likely caught by each contender)
    peer_rounds = 1 if args.quick else 3
    print(
        f"C: {N_FIELDS}-field dataclass, {len(COEFFS)} reads a field, each sum(tanh(c*f)*f), fields of shape "
        f"{' and '.join(shape_text(s) for s in SHAPES)}; S: sequence_var/collect_var round trip at n = "
        f"{' and '.join(map(str, SEQ_SIZES))}; best of {rounds} interleaved rounds; "
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs"
    )

    problems: list[str] = []
    rows: list[Row] = [("workload: contender", "time", "hand-written", "ratio", "target / note")]
    peers = [] if args.no_peers else C_PEERS
    results: list[jsonrows.Row] = []

    # ---- C: the record, at both shapes
    for shape in SHAPES:
        where = f"C {N_FIELDS} fields {shape_text(shape)}"
        p = make_params(shape)
        ours = {"(a) view_var(attr)": c_view_var(p), "(b) split_var": c_split_var(p)}
        manual = c_manual(p)
        want = manual()
        bad = {name: c_mismatches(fn(), want, Params) for name, fn in ours.items()}
        if any(bad.values()):
            problems += [f"{where} {name}: {m}" for name, ms in bad.items() for m in ms]
            continue
        print(
            f"check {where}: (a), (b) give the hand-written loss and gradient (to {TOL:g}), as a Params: ok"
        )
        t = time_each({**ours, "manual": manual}, rounds, budget)
        us = {k: v * 1e6 for k, v in t.items()}
        reads = N_FIELDS * len(COEFFS)
        for name in ours:
            ratio = us[name] / us["manual"]
            note = f"<= {TARGET_C:g}x: {verdict(ratio, TARGET_C)}"
            if name.startswith("(a)"):  # what a lens read costs over reusing split_var's BVars
                note += f"; {(us[name] - us['(b) split_var']) / reads:+.2f} µs a read vs (b)"
            rows.append(
                (
                    f"{where}: {name}",
                    f"{us[name]:.1f} µs",
                    f"{us['manual']:.1f} µs",
                    f"{ratio:.2f}x",
                    note,
                )
            )
        c_peers = (
            {key: jsonrows.peer_skipped(jsonrows.NOT_RUN, v) for key, v, _ in C_PEERS}
            if args.no_peers
            else {}
        )
        for key, variant, factory in peers:
            peer = f"{key} ({variant})"
            measured = jsonrows.try_peer(
                c_peers, key, variant, measure_c, factory, peer, p, want, (peer_rounds, budget)
            )
            if measured is None:
                if why := jsonrows.failure(c_peers[key]):
                    rows.append((f"{where}: peer {peer}", "-", "-", "-", why))
                continue
            peer_bad, peer_us = measured
            note = f"(a): {speed_note(us['(a) view_var(attr)'], peer_us)}; (b): {speed_note(us['(b) split_var'], peer_us)}"
            differs = ""
            if peer_bad:
                differs = "peer result differs: " + "; ".join(peer_bad)
                note += "; " + differs
            c_peers[key] = jsonrows.peer_time(peer_us, variant, differs)
            rows.append(
                (
                    f"{where}: peer {peer}",
                    f"{peer_us:.1f} µs",
                    f"{us['manual']:.1f} µs",
                    f"{peer_us / us['manual']:.2f}x",
                    note,
                )
            )
        results += [
            jsonrows.row(
                f"C {N_FIELDS} fields of {shape_text(shape)}, {name}",
                "µs",
                us[name],
                us["manual"],
                "hand-written numpy",
                TARGET_C,
                c_peers,
            )
            for name in ours
        ]
        if args.profile:
            for name, fn in ours.items():
                profile(f"{where} {name}", fn, 200 if shape == SHAPES[0] else 20, 15)

    # ---- S: the round trip, at both sizes
    per_elem: dict[int, float] = {}
    for n in SEQ_SIZES:
        where = f"S round trip n={n}"
        xs = np.random.default_rng(5).normal(size=n).tolist()
        ours_s, manual_s = s_bprop(xs), s_manual(xs)
        wrong = s_mismatches(ours_s(), manual_s())
        if wrong:
            problems += [f"{where}: {m}" for m in wrong]
            continue
        print(f"check {where}: gradient is a list equal to 2x (to {TOL:g}): ok")
        t = time_each({"bprop": ours_s, "manual": manual_s}, rounds, budget)
        us = {k: v / n * 1e6 for k, v in t.items()}
        per_elem[n] = us["bprop"]
        ratio = us["bprop"] / us["manual"]
        note = f"<= {TARGET_S:g}x: {verdict(ratio, TARGET_S)}"
        if len(per_elem) > 1:
            n0 = SEQ_SIZES[0]
            growth = us["bprop"] / per_elem[n0]
            note += f"; per element {growth:.2f}x the n={n0} figure (flat: <= {FLAT:g}x: {verdict(growth, FLAT)})"
        rows.append(
            (
                f"{where}: sequence_var/collect_var",
                f"{us['bprop']:.3f} µs/elem",
                f"{us['manual']:.3f} µs/elem",
                f"{ratio:.2f}x",
                note,
            )
        )
        results.append(
            jsonrows.row(
                f"S round trip, n = {n}",
                "µs/element",
                us["bprop"],
                us["manual"],
                "plain Python loop",
                TARGET_S,
            )
        )
        if args.profile and n == SEQ_SIZES[-1]:
            profile(where, ours_s, 5, 15)

    jsonrows.write(args.json, results, problems)
    return finish(rows, problems, "the hand-written version")


if __name__ == "__main__":
    sys.exit(main())
