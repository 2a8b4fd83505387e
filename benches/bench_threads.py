#!/usr/bin/env python3
"""Threads: the same total work of native-only gradients on one thread and on two.

The reverse sweep of a tape holding only native nodes runs without the GIL, so two threads
computing independent gradients overlap their sweeps. The workload is large-array elementwise
math and matrix products, where the kernels dominate the Python overhead::

    def f(w):                       # w, x: float64 (n, n), n = 256 by default
        h = w
        for _ in range(depth):      # depth = 4
            h = bp.tanh(h @ x) * 0.5 + h * h
        return sum(h)

Figures (seconds for `jobs` gradients, best of `rounds` interleaved rounds, perf_counter):

* `grad_bp`: record and sweep (`jobs` calls of ``bp.grad_bp(f, w)``): the forward pass holds the
  GIL, the sweep does not;
* sweep only: one ``bp.backprop_with(f, w)`` pullback called `jobs` times (the sweeps of one tape
  run concurrently: they only read it).

* control: the same gradient written by hand in numpy (whose loops and matrix products release
  the GIL too; BLAS is limited to one thread), the speed-up this machine allows at that moment.

Each is run with all jobs on one thread, then split over two threads, and the speed-up
(one-thread time / two-thread time; 2.0 is perfect) is printed. Every threaded gradient is checked
bit for bit against the serial one first; a mismatch exits non-zero. The figure needs two idle
cores: on a loaded machine it drops toward 1 (compare it with the control's).

    python benches/bench_threads.py
    python benches/bench_threads.py --n 384 --jobs 16 --rounds 5
    python benches/bench_threads.py --json threads.json   # also write the table for report.py
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

# one BLAS thread for the numpy control (set before numpy is imported)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import bprop as bp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonrows


def workload(n: int, depth: int) -> tuple[Callable[[Any], Any], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n)) / np.sqrt(n)
    w = rng.standard_normal((n, n)) / np.sqrt(n)

    def f(v: Any) -> Any:
        h = v
        for _ in range(depth):
            h = bp.tanh(h @ x) * 0.5 + h * h
        return bp._core.sum(h)

    return f, w, x


def by_hand(x: np.ndarray, w: np.ndarray, depth: int) -> np.ndarray:
    """The gradient of `f` written in numpy: the forward pass kept, then the chain rule."""
    hs, ts = [w], []
    for _ in range(depth):
        t = np.tanh(hs[-1] @ x)
        ts.append(t)
        hs.append(t * 0.5 + hs[-1] * hs[-1])
    g = np.ones_like(w)
    for h, t in zip(reversed(hs[:-1]), reversed(ts)):
        g = (g * 0.5 * (1.0 - t * t)) @ x.T + 2.0 * h * g
    return g


def on_threads(threads: int, jobs: int, job: Callable[[int], Any]) -> tuple[float, list[Any]]:
    """Seconds to run `job(0..jobs-1)` split over `threads` threads started together, and the
    results in job order."""
    results: list[Any] = [None] * jobs
    barrier = threading.Barrier(threads + 1)

    def body(t: int) -> None:
        barrier.wait()
        for k in range(t, jobs, threads):
            results[k] = job(k)

    workers = [threading.Thread(target=body, args=(t,)) for t in range(threads)]
    for th in workers:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    for th in workers:
        th.join()
    return time.perf_counter() - start, results


def check_same(a: list[Any], b: list[Any], what: str) -> None:
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        if x.tobytes() != y.tobytes():
            sys.exit(f"{what}: job {k} differs between one and two threads")


def measure(name: str, job: Callable[[int], Any], jobs: int, rounds: int) -> list[str]:
    """Print the best one- and two-thread times and the speed-up; return them as a table row."""
    _, serial = on_threads(1, jobs, job)
    _, threaded = on_threads(2, jobs, job)
    check_same(serial, threaded, name)
    best = {1: float("inf"), 2: float("inf")}
    for _ in range(rounds):
        for threads in (1, 2):
            best[threads] = min(best[threads], on_threads(threads, jobs, job)[0])
    ratio = best[1] / best[2]
    print(
        f"{name:28s} 1 thread {best[1] * 1e3:8.1f} ms   2 threads {best[2] * 1e3:8.1f} ms   "
        f"speed-up {ratio:4.2f}x"
    )
    return [name, f"{best[1] * 1e3:.1f} ms", f"{best[2] * 1e3:.1f} ms", f"{ratio:.2f}x"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=256, help="arrays are n x n (default 256)")
    ap.add_argument("--depth", type=int, default=4, help="layers of the chain (default 4)")
    ap.add_argument("--jobs", type=int, default=16, help="gradients per timing (default 16)")
    ap.add_argument("--rounds", type=int, default=5, help="best of this many (default 5)")
    ap.add_argument("--json", metavar="PATH", help="also write the table there (report.py)")
    args = ap.parse_args()

    f, w, x = workload(args.n, args.depth)
    if not np.allclose(bp.grad_bp(f, w), by_hand(x, w, args.depth), rtol=1e-9, atol=1e-12):
        sys.exit("bprop's gradient differs from the hand-written one")
    _, pullback = bp.backprop_with(f, w)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"native-only chain: n = {args.n}, depth {args.depth}, {args.jobs} gradients per timing, "
        f"best of {args.rounds}; {cores} cores, load average {os.getloadavg()[0]:.1f}"
    )
    rows = [
        measure("grad_bp (record + sweep)", lambda k: bp.grad_bp(f, w), args.jobs, args.rounds),
        measure("sweep only (backprop_with)", lambda k: pullback(1.0), args.jobs, args.rounds),
        measure(
            "control: numpy by hand", lambda k: by_hand(x, w, args.depth), args.jobs, args.rounds
        ),
    ]
    title = (
        f"Two threads: {args.jobs} native-only gradients (n = {args.n}, depth {args.depth}) "
        f"on one thread and split over two (benches/bench_threads.py; 2.0x is perfect)"
    )
    columns = ["contender", "1 thread", "2 threads", "speed-up"]
    jsonrows.write(args.json, [], [], [jsonrows.Table(title=title, columns=columns, rows=rows)])


if __name__ == "__main__":
    main()
