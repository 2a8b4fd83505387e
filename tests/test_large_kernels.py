"""Long arrays: the elementwise kernels, their backward passes and `sum` on arrays long enough to
be split into pieces that every core shares (from 2**17 elements), at a length the pieces do not
divide evenly.

Values are checked against numpy, gradients against hand-written formulas and directional
central finite differences (a coordinate-wise check is out of reach at this size). Results must
be the same bits on every run, for any number of threads (`BPROP_NUM_THREADS`, in child
processes) and from several Python threads at once; a process forked after the pool started
must still run long kernels.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
import pytest

L = bp.linalg
#: above the parallel threshold (2**17 elements), not a multiple of the pieces' length
LONG = 3 * 2**17 + 7
SHORT = 1000


def data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.uniform(0.5, 2.0, size=n)


def w3(x: Any, w: Any) -> Any:
    """The wide-vector workload W3."""
    return L.sum(bp.tanh(x * w) * x + x * x)


def w3_numpy(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    t = np.tanh(x * w)
    inner = x * (1.0 - t * t)
    return float((t * x + x * x).sum()), inner * w + t + 2.0 * x, inner * x


def mixed(x: Any, w: Any) -> Any:
    """Every other kind of elementwise backward pass: a float operand, division, maximum,
    subtraction, exp and sin, one operand used by several ops, and a mean."""
    a = bp.exp(bp.sin(x) * 0.5) / (1.0 + w * w)
    b = np.maximum(x, w) * bp.tanh(w - x)
    return L.mean(a - b + x / w)


def mixed_numpy(x: np.ndarray, w: np.ndarray) -> float:
    a = np.exp(np.sin(x) * 0.5) / (1.0 + w * w)
    b = np.maximum(x, w) * np.tanh(w - x)
    return float(np.mean(a - b + x / w))


def directional(f: Callable[..., Any], args: list[np.ndarray], i: int, v: np.ndarray) -> float:
    """d/dt f(..., args[i] + t v, ...) at 0: five-point central differences of bprop's values
    (the step keeps the few elements that cross `maximum`'s kink from mattering)."""
    h = 1e-4

    def at(t: float) -> float:
        moved = list(args)
        moved[i] = args[i] + t * v
        return float(bp.eval_bp_n(f, *moved))

    return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)


@pytest.mark.parametrize("n", [SHORT, LONG])
def test_w3_value_and_gradients_match_numpy(n: int) -> None:
    x, w = data(n)
    value, (gx, gw) = bp.backprop_n(w3, x, w)
    want, want_gx, want_gw = w3_numpy(x, w)
    assert value == pytest.approx(want, rel=1e-12)
    # bprop's vectorised tanh differs from numpy's by a few ulp
    np.testing.assert_allclose(gx, want_gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gw, want_gw, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("f", [w3, mixed])
def test_gradients_match_directional_finite_differences(f: Callable[..., Any]) -> None:
    x, w = data(LONG, seed=1)
    _, grads = bp.backprop_n(f, x, w)
    rng = np.random.default_rng(2)
    for i, g in enumerate(grads):
        for _ in range(2):
            v = rng.normal(size=LONG)
            fd = directional(f, [x, w], i, v)
            assert float(np.dot(g, v)) == pytest.approx(fd, rel=1e-6, abs=1e-9), (i, fd)


def test_mixed_value_matches_numpy() -> None:
    x, w = data(LONG, seed=3)
    assert float(bp.eval_bp_n(mixed, x, w)) == pytest.approx(mixed_numpy(x, w), rel=1e-12)


@pytest.mark.parametrize("n", [SHORT, LONG])
def test_exact_ops_give_numpy_bits(n: int) -> None:
    """+, -, *, / are one IEEE operation per element: the same bits as numpy's, and the
    gradients of x * w, the same bits as the products written out."""
    x, w = data(n, seed=4)
    for op in (np.add, np.subtract, np.multiply, np.divide):
        got = op(bp.const_var(x), w).value
        assert np.array_equal(got, op(x, w)), op.__name__
    g = np.random.default_rng(5).normal(size=n)
    _, (gx, gw) = bp.backprop_n(lambda x, w: L.sum(x * w * g), x, w)
    assert np.array_equal(gx, (w * g)) and np.array_equal(gw, (x * g))


def test_sum_is_within_rounding_of_numpy_and_repeatable() -> None:
    x, _ = data(LONG, seed=6)
    x = x * 1e3 + 0.25
    got = L.sum(bp.const_var(x)).value
    assert got == pytest.approx(float(np.sum(x)), rel=1e-13)
    exact = float(np.sum(np.asarray(x, dtype=np.longdouble)))
    assert abs(got - exact) <= 1e-13 * float(np.abs(x).sum())
    assert L.sum(bp.const_var(x)).value == got
    assert L.mean(bp.const_var(x)).value == pytest.approx(got / LONG, rel=1e-15)


def _digest(f: Callable[..., Any], n: int) -> str:
    x, w = data(n, seed=7)
    value, grads = bp.backprop_n(f, x, w)
    h = hashlib.sha256(np.float64(value).tobytes())
    for g in grads:
        h.update(np.ascontiguousarray(g).tobytes())
    return h.hexdigest()


def test_results_repeat_bit_for_bit() -> None:
    for f in (w3, mixed):
        assert _digest(f, LONG) == _digest(f, LONG)


# The child processes print the digests of both functions on short and long arrays.
_DIGESTS = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    import test_large_kernels as t
    print([t._digest(f, n) for f in (t.w3, t.mixed) for n in (t.SHORT, t.LONG)])
    """
)


def _run_child(code: str, threads: int | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BPROP_NUM_THREADS", None)
    if threads is not None:
        env["BPROP_NUM_THREADS"] = str(threads)
    # the caller reads the exit status (and shows stderr when it is not 0)
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_results_are_the_same_bits_for_any_number_of_threads() -> None:
    code = _DIGESTS.format(tests=os.path.dirname(os.path.abspath(__file__)))
    outputs = {}
    for threads in (1, 2, 3, None):
        r = _run_child(code, threads)
        assert r.returncode == 0, r.stderr
        outputs[threads] = r.stdout
    assert len(set(outputs.values())) == 1, outputs
    # and the same as in this process
    here = [_digest(f, n) for f in (w3, mixed) for n in (SHORT, LONG)]
    assert outputs[1].strip() == repr(here)


def test_python_threads_share_the_pool() -> None:
    """Several Python threads running long gradients at once (the kernels release the GIL):
    each gets the single-threaded answer."""
    want = _digest(mixed, LONG)
    got: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                got.append(_digest(mixed, LONG))
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert got == [want] * 12


_FORK = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    import bprop as bp

    x = np.linspace(-2.0, 2.0, {n})
    # long kernels: the parent's pool is running when it forks
    want = [bp.tanh(x), bp.linalg.sum(bp.const_var(x) * x).value]
    pid = os.fork()
    if pid == 0:
        got = [bp.tanh(x), bp.linalg.sum(bp.const_var(x) * x).value]
        os._exit(0 if all(np.array_equal(g, w) for g, w in zip(got, want)) else 1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            sys.exit(os.waitstatus_to_exitcode(status))
        time.sleep(0.01)
    os.kill(pid, 9)
    sys.exit("the forked child hung on a long kernel")
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_runs_long_kernels() -> None:
    r = _run_child(_FORK.format(n=LONG), threads=2)
    assert r.returncode == 0, r.stderr
