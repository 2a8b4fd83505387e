"""Threads: independent runs on several threads give exactly the serial results.

The reverse sweep of a tape holding only native nodes runs without the GIL (`Tape.backward`), so
other threads record and sweep meanwhile; a tape with Python ops takes the GIL back for each
Python pullback. Each check runs a mix of jobs (scalar, array and container inputs; native-only
and Python-op tapes; a `backprop_with` pullback shared by all threads; jobs that fail) on 8 threads
started together, with a short switch interval so that they interleave, and compares every result
with the serial one bit for bit. No timing is asserted here (see benches/bench_threads.py).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop.errors import ShapeError

THREADS = 8
ROUNDS = 3

square = bp.op1(lambda x: (x * x, lambda d: 2.0 * x * d))
"""A Python op (its pullback runs Python code during the sweep)."""


@dataclasses.dataclass(frozen=True)
class Layer:
    w: np.ndarray
    b: np.ndarray


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def scalar_native(seed: int) -> Any:
    x = float(_rng(seed).uniform(-2.0, 2.0))
    return bp.grad_bp(lambda v: bp.sin(v) * v + bp.exp(v * 0.5) / (v * v + 1.0), x)


def scalar_python_op(seed: int) -> Any:
    x, y = _rng(seed).uniform(-2.0, 2.0, size=2)
    return bp.backprop2(lambda a, b: square(bp.tanh(a) * b) + a * b, float(x), float(y))


def array_native(seed: int) -> Any:
    rng = _rng(seed)
    w = rng.standard_normal((24, 16))
    x = rng.standard_normal((16, 8))

    def f(v: Any) -> Any:
        h = bp.tanh(v @ x)
        return bp._core.sum(h * h + bp.sin(v @ x) * 0.25)

    return bp.backprop(f, w)


def array_python_op(seed: int) -> Any:
    rng = _rng(seed)
    w = rng.standard_normal((12, 12))

    def f(v: Any) -> Any:
        return bp._core.sum(square(bp.tanh(v @ v)) * v)

    return bp.backprop(f, w)


def container_mixed(seed: int) -> Any:
    rng = _rng(seed)
    layer = Layer(w=rng.standard_normal((6, 5)), b=rng.standard_normal(6))
    x = rng.standard_normal(5)

    def f(m: Any) -> Any:
        w = bp.view_var(bp.attr("w"), m)
        b = bp.view_var(bp.attr("b"), m)
        h = bp.tanh(w @ x + b)
        return bp._core.sum(square(h)) + bp._core.sum(w * w) * 0.01

    return bp.backprop(f, layer)


def tuple_and_dict(seed: int) -> Any:
    rng = _rng(seed)
    xs = (float(rng.uniform(0.5, 2.0)), rng.standard_normal(4))
    d = {"a": rng.standard_normal(4), "k": float(rng.uniform(0.5, 2.0))}

    def f(t: Any, m: Any) -> Any:
        s, v = bp.split_var(t)
        a = bp.view_var(bp.key("a"), m)
        k = bp.view_var(bp.key("k"), m)
        return bp._core.sum(v * a) * bp.log(s) + k * s

    return bp.backprop2(f, xs, d)


JOBS: list[Callable[[int], Any]] = [
    scalar_native,
    scalar_python_op,
    array_native,
    array_python_op,
    container_mixed,
    tuple_and_dict,
]


def shape_mismatch(seed: int) -> Any:
    """Fails in the forward pass: `ShapeError` from the matmul kernel."""
    a = _rng(seed).standard_normal((3, 4))
    return bp.grad_bp(lambda v: bp._core.sum(v @ v), a)


def raising_pullback(seed: int) -> Any:
    """Fails in the sweep: a Python pullback raises."""

    def pullback(d: Any) -> Any:
        raise ValueError(f"pullback {seed} refuses")

    bad = bp.op1(lambda x: (x * 2.0, pullback))
    return bp.grad_bp(lambda v: bp.sin(bad(v)) * v, float(seed))


FAILING: list[tuple[Callable[[int], Any], type[BaseException], str]] = [
    (shape_mismatch, ShapeError, "matmul"),
    (raising_pullback, ValueError, "refuses"),
]


def _same(a: Any, b: Any) -> bool:
    """Bitwise equality of results: same types and structure, same float bits."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return np.float64(a).tobytes() == np.float64(b).tobytes()
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return bool(a == b)


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    """Switch threads often, so that runs interleave inside each other's ops and sweeps."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _run_threads(work: Callable[[int], list[Any]]) -> list[list[Any]]:
    """`work(t)` on `THREADS` threads started together; each thread's results (an error in a
    thread is raised here)."""
    barrier = threading.Barrier(THREADS)

    def body(t: int) -> list[Any]:
        barrier.wait()
        return work(t)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(body, t) for t in range(THREADS)]
        return [f.result() for f in futures]


def test_serial_results_are_reproducible() -> None:
    # The comparison below is only meaningful if a job gives the same bits every time.
    for job in JOBS:
        assert _same(job(7), job(7)), job.__name__


def test_eight_threads_give_the_serial_results_bit_for_bit() -> None:
    seeds = range(len(JOBS) * 2)
    want = {(j, s): JOBS[j](s) for j in range(len(JOBS)) for s in seeds}
    plan = sorted(want)

    def work(t: int) -> list[Any]:
        # every thread runs every job, each thread in its own order
        k = t * len(plan) // THREADS
        order = plan[k:] + plan[:k]
        if t % 2:
            order.reverse()
        got = []
        for _ in range(ROUNDS):
            for j, s in order:
                got.append(((j, s), JOBS[j](s)))
        return got

    for results in _run_threads(work):
        assert len(results) == ROUNDS * len(plan)
        for key, got in results:
            assert _same(got, want[key]), (JOBS[key[0]].__name__, key[1])


def test_one_backprop_with_pullback_swept_by_all_threads_at_once() -> None:
    # One recorded tape, swept concurrently: sweeps only read the tape.
    rng = _rng(3)
    w, x = rng.standard_normal((32, 32)), rng.standard_normal((32, 32))
    _, pullback = bp.backprop_with(lambda v: bp.tanh(v @ x) * v, w)
    seeds = [rng.standard_normal((32, 32)) for _ in range(THREADS)]
    want = [pullback(s) for s in seeds]

    def work(t: int) -> list[Any]:
        return [pullback(seeds[(t + k) % THREADS]) for k in range(4 * ROUNDS)]

    for t, results in enumerate(_run_threads(work)):
        for k, got in enumerate(results):
            assert _same(got, want[(t + k) % THREADS])


def test_errors_in_some_threads_leave_the_others_exact() -> None:
    want = {s: JOBS[s % len(JOBS)](s) for s in range(12)}

    def work(t: int) -> list[Any]:
        got: list[Any] = []
        for r in range(ROUNDS * 4):
            s = (t + r) % 12
            if (t + r) % 3 == 0:
                fail, err, text = FAILING[(t + r) % 2]
                with pytest.raises(err, match=text):
                    fail(s)
                got.append(("raised", fail.__name__))
            else:
                got.append((s, JOBS[s % len(JOBS)](s)))
        return got

    raised = 0
    for results in _run_threads(work):
        for key, got in results:
            if key == "raised":
                raised += 1
            else:
                assert _same(got, want[key]), key
    assert raised == THREADS * ROUNDS * 4 // 3
