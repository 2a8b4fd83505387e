#!/usr/bin/env python3
"""Dask: when does splitting the digits MLP gradient over 2 worker processes pay?

For each shard size n, the gradient of the mean softmax cross-entropy of the W2 network
(64 -> 128 tanh -> 10, examples/digits.py) over a batch of 2n rows is computed

* in one process: ``bp.backprop`` over the whole batch;
* on a ``LocalCluster`` of 2 worker processes (1 thread each, loopback, no dashboard):
  ``bprop.dask.backprop`` over 2 shards of n rows, with the shards either
  - sent with each call (the data lives on the client), or
  - already on the workers (scattered once beforehand: the usual setup when the workers load
    the data set)

    (one shard per worker, weights given as ``[0.5, 0.5]``, which spares the row-count tasks).

The parameters travel with every call (they change every step). The rows are drawn with
replacement from scikit-learn's digits. Each figure is the median of `--repeats` calls after a
warm-up, perf_counter; every dask gradient is checked against the one-process gradient
(max |difference| <= 1e-10) and a mismatch exits non-zero.

The dask workers run one BLAS thread each (dask's default). The one process is timed twice:
with numpy's default BLAS threading (which already spreads the matrix products over the cores)
and limited to one BLAS thread (threadpoolctl), the fair baseline for "one core against two".
A control, "overlap", times one shard of n rows alone on one worker against the two shards on
two workers: it is near 1 when the machine gives the two workers a core each. The break-even
is the smallest shard size from which 2 workers (shards on the workers) beat
the one process for all larger sizes measured, against each baseline. On a shared machine the
figures are noisy.

    python benches/bench_dask.py
    python benches/bench_dask.py --sizes 64 1024 16384 --repeats 5
    python benches/bench_dask.py --json dask.json   # also write the table for benches/report.py
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.dask as bpd
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonrows

# examples/digits.py: the data and the initial weights. distributed, threadpoolctl and the
# example are imported through importlib, as they have no type information for mypy.
digits = importlib.import_module("digits")
distributed = importlib.import_module("distributed")
threadpool_limits = importlib.import_module("threadpoolctl").threadpool_limits

WORKERS = 2
DEFAULT_SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536]
TOLERANCE = 1e-10


def loss(params: Any, shard: tuple[np.ndarray, np.ndarray]) -> Any:
    x, y = shard
    w1, b1, w2, b2 = bp.sequence_var(params)
    return bp.linalg.softmax_cross_entropy(bp.tanh(x @ w1 + b1) @ w2 + b2, y)


def median_seconds(f: Callable[[], Any], repeats: int) -> float:
    f()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def max_difference(a: Any, b: Any) -> float:
    return max(float(np.max(np.abs(p - q))) for p, q in zip(a, b))


def blas_threads() -> str:
    threadpool_info = importlib.import_module("threadpoolctl").threadpool_info
    info = sorted({f"{i['internal_api']}: {i['num_threads']}" for i in threadpool_info()})
    return ", ".join(info) or "none found"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES, metavar="N")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", metavar="PATH", help="also write the table there (report.py)")
    args = ap.parse_args()
    # the "sent" mode ships megabytes of shard data with the tasks on purpose
    warnings.filterwarnings("ignore", message=".*[Ll]arge graph.*")

    data = digits.Split()
    params = digits.initial_params()
    rng = np.random.default_rng(0)
    print(
        f"digits MLP gradient (64 -> 128 tanh -> 10, mean softmax cross-entropy), batch of "
        f"{WORKERS} x n rows; median of {args.repeats} calls; {os.cpu_count()} cores; "
        f"BLAS threads in this process: {blas_threads()}"
    )
    with (
        distributed.LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = list(client.scheduler_info()["workers"])
        header = (
            f"{'n (rows/shard)':>15} {'one process':>12} {'(1 BLAS thr.)':>14} "
            f"{'dask, sent':>11} {'dask, on workers':>17} {'speed-up':>9} {'(1 thr.)':>9} "
            f"{'overlap':>9}"
        )
        print(header)
        failures = []
        table: list[list[str]] = []
        faster: dict[str, dict[int, bool]] = {"default": {}, "1 BLAS thread": {}}
        halves = [1.0 / WORKERS] * WORKERS
        for n in args.sizes:
            idx = rng.integers(0, len(data.x_train), size=WORKERS * n)
            x, y = data.x_train[idx], data.y_train[idx]
            shards = list(zip(np.split(x, WORKERS), np.split(y, WORKERS)))
            on_workers = [
                client.scatter([s], workers=[w], hash=False)[0] for s, w in zip(shards, workers)
            ]

            batch = (x, y)
            want = bp.backprop(functools.partial(loss, shard=batch), params)[1]
            for name, sh in (("sent", shards), ("on workers", on_workers)):
                got = bpd.backprop(loss, params, sh, client=client, weights=halves)[1]
                diff = max_difference(got, want)
                if not diff <= TOLERANCE:
                    failures.append(f"n={n}, shards {name}: gradients differ by {diff:.3g}")

            def one_process(b: tuple[np.ndarray, np.ndarray] = batch) -> Any:
                return bp.backprop(lambda p: loss(p, b), params)

            one = median_seconds(one_process, args.repeats)
            with threadpool_limits(limits=1):
                one_1 = median_seconds(one_process, args.repeats)
            sent = median_seconds(
                functools.partial(bpd.backprop, loss, params, shards, client=client), args.repeats
            )
            there = median_seconds(
                functools.partial(
                    bpd.backprop, loss, params, on_workers, client=client, weights=halves
                ),
                args.repeats,
            )
            single = median_seconds(
                functools.partial(
                    bpd.backprop, loss, params, on_workers[:1], client=client, weights=[1.0]
                ),
                args.repeats,
            )
            faster["default"][n] = there < one
            faster["1 BLAS thread"][n] = there < one_1
            print(
                f"{n:>15} {one * 1e3:>9.2f} ms {one_1 * 1e3:>11.2f} ms {sent * 1e3:>8.2f} ms "
                f"{there * 1e3:>14.2f} ms {one / there:>8.2f}x {one_1 / there:>8.2f}x "
                f"{single / there:>9.2f}"
            )
            table.append(
                [
                    str(n),
                    f"{one * 1e3:.2f} ms",
                    f"{one_1 * 1e3:.2f} ms",
                    f"{sent * 1e3:.2f} ms",
                    f"{there * 1e3:.2f} ms",
                    f"{one / there:.2f}x",
                    f"{one_1 / there:.2f}x",
                    f"{single / there:.2f}",
                ]
            )
            del on_workers

    notes = []
    for baseline, wins in faster.items():
        sizes = sorted(wins)
        even = next((n for i, n in enumerate(sizes) if all(wins[m] for m in sizes[i:])), None)
        where = "not reached in the sizes measured" if even is None else f"n = {even} rows/shard"
        notes.append(f"break-even against one process ({baseline}): {where}")
    notes.append("speed-up = one process / dask with the shards on the workers")
    notes.append(
        "overlap = (dask, 1 shard of n rows on one worker) / (dask, 2 shards of n rows): near 1.0"
        " when the two workers really run at once, near 0.5 when they take turns (a busy core)"
    )
    print("\n".join(notes))
    jsonrows.write(
        args.json,
        [],
        failures,
        [
            jsonrows.Table(
                title=(
                    f"Dask: the digits MLP gradient over {WORKERS} shards of n rows on a "
                    f"LocalCluster of {WORKERS} worker processes against one process "
                    f"(benches/bench_dask.py; median of {args.repeats} calls)"
                ),
                columns=[
                    "n (rows/shard)",
                    "one process",
                    "(1 BLAS thread)",
                    "dask, sent",
                    "dask, on workers",
                    "speed-up",
                    "(1 thread)",
                    "overlap",
                ],
                rows=table,
                notes=notes,
            )
        ],
    )
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
