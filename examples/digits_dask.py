#!/usr/bin/env python3
"""The digits MLP of `make demo`, trained data-parallel on a dask.distributed cluster.

Everything but the gradient is examples/digits.py (imported from it, not copied): the same data
split, initial weights, batches, SGD and report. Each batch is split into one shard per worker;
``bprop.dask.backprop`` computes the loss and gradient of each shard on a worker and adds the
gradients up on the workers (weighted by shard size, since the loss is a mean), so every step
uses the full-batch gradient, as the single-process run does.

The cluster is a ``LocalCluster`` of 2 worker processes with 1 thread each, listening on the
loopback interface only, without a dashboard. The single-process bprop step runs beside it in
the same loop (same batches, same order), and the final weights of the two runs must agree to
``WEIGHT_TOLERANCE`` (1e-10): the two differ only in the rounding of a sum split in two.

Exit status: 1 if something fails (an error, a non-finite loss, weights that differ by more
than the tolerance), 0 otherwise.

    python examples/digits_dask.py              # 20 epochs, batch 32, lr 0.5 (as make demo)
    python examples/digits_dask.py --quick      # 2 epochs, no plot: a check in seconds
    python examples/digits_dask.py --batch 256 --plot /tmp/loss_dask.png
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any

import bprop as bp
import bprop.dask as bpd
import numpy as np
from distributed import Client, LocalCluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits  # examples/digits.py: data, model, training loop, plot

WORKERS = 2
WEIGHT_TOLERANCE = 1e-10
QUICK_EPOCHS = 2
DEFAULT_PLOT = "digits_dask_loss.png"

Shard = tuple[digits.Array, digits.Array]


def loss(params: bp.BVar[digits.Params], shard: Shard) -> bp.BVar[float]:
    """Mean softmax cross-entropy of the MLP on one shard (the loss of examples/digits.py)."""
    x, y = shard
    w1, b1, w2, b2 = bp.sequence_var(params)
    return bp.linalg.softmax_cross_entropy(bp.tanh(x @ w1 + b1) @ w2 + b2, y)


def dask_step(lr: float, client: Client) -> digits.Step:
    """One SGD step whose gradient is computed shard by shard on the cluster."""

    def step(
        params: digits.Params, x: digits.Array, y: digits.Array
    ) -> tuple[float, digits.Params]:
        shards = list(zip(np.array_split(x, WORKERS), np.array_split(y, WORKERS)))
        value, (dw1, db1, dw2, db2) = bpd.backprop(loss, params, shards, client=client)
        w1, b1, w2, b2 = params
        return float(value), (w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2)

    return step


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--epochs", type=digits.positive_int, default=digits.DEFAULT_EPOCHS)
    ap.add_argument("--batch", type=digits.positive_int, default=digits.DEFAULT_BATCH)
    ap.add_argument("--lr", type=digits.positive_float, default=digits.DEFAULT_LR)
    ap.add_argument("--plot", default=DEFAULT_PLOT, metavar="PATH")
    ap.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    ap.add_argument(
        "--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs and no plot (a fast check)"
    )
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.no_plot = QUICK_EPOCHS, True

    data = digits.Split()
    print(
        f"digits: {len(data.x_train)} training and {len(data.x_test)} held-out images; "
        f"network 64 -> 128 tanh -> 10; SGD lr {args.lr:g}, batch {args.batch}, "
        f"{args.epochs} epochs; each batch split over {WORKERS} dask worker processes"
    )
    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,  # type: ignore[arg-type]
        ) as cluster,
        Client(cluster) as client,
    ):
        print(f"cluster: {WORKERS} worker processes up in {time.perf_counter() - t0:.1f} s")
        steps = {"dask": dask_step(args.lr, client), "bprop": digits.bprop_step(args.lr)}
        run = digits.train(steps, data, args.epochs, args.batch)

    failures = []
    for name, losses in run.losses.items():
        bad = [v for v in losses if not math.isfinite(v)]
        if bad:
            failures.append(f"{name}: the training loss became {bad[0]}")

    test_loss, accuracy = digits.evaluate(
        run.params["dask"], data.x_test, data.y_test, data.labels_test
    )
    _, train_accuracy = digits.evaluate(
        run.params["dask"], data.x_train, data.y_train, data.labels_train
    )
    goal = digits.TARGET_ACCURACY
    print(
        f"held-out accuracy: {accuracy:.2%} ({round(accuracy * len(data.x_test))}/"
        f"{len(data.x_test)}; {'meets' if accuracy >= goal else 'BELOW'} the {goal:.0%} goal), "
        f"held-out loss {test_loss:.4f}, training accuracy {train_accuracy:.2%}"
    )

    weight_diff = digits.max_difference(run.params["dask"], run.params["bprop"])
    loss_diff = max(abs(p - q) for p, q in zip(run.losses["dask"], run.losses["bprop"]))
    print(
        f"dask against the single-process run: max |difference| of final weights "
        f"{weight_diff:.3g}, of step losses {loss_diff:.3g} (tolerance {WEIGHT_TOLERANCE:g})"
    )
    if not weight_diff <= WEIGHT_TOLERANCE:
        failures.append(f"final weights differ by {weight_diff:.3g} > {WEIGHT_TOLERANCE:g}")

    ms: dict[str, Any] = {n: np.asarray(s) * 1e3 for n, s in run.step_seconds.items()}
    print(f"time per training step (batch {args.batch}, {len(ms['dask'])} steps; median, mean):")
    print(
        f"  dask, {WORKERS} workers        {np.median(ms['dask']):8.2f} ms  {ms['dask'].mean():8.2f} ms"
    )
    print(
        f"  single process         {np.median(ms['bprop']):8.2f} ms  {ms['bprop'].mean():8.2f} ms"
    )
    print(
        "  (a batch this small is far below the size where scattering work pays: "
        "see docs/scaling-out.md)"
    )

    if not args.no_plot:
        per_epoch = math.ceil(len(data.x_train) / args.batch)
        digits.plot(run, "dask", args.plot, args.batch, args.lr, per_epoch)
        print(f"loss curve saved to {os.path.abspath(args.plot)}")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
