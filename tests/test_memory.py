"""Memory: resident memory stays flat over many runs, failing ones included, and reference
cycles between user closures and a tape are collected by the cycle collector.

The RSS checks compare the resident set after a warm-up with the resident set after 100 000
calls. The bound (4 MB) is far above allocator noise and far below what a leak of 100 bytes per
call (10 MB) would add; `test_the_rss_check_sees_a_small_leak` proves the measurement detects
such a leak.
"""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.linalg as la
import numpy as np
import pytest

CALLS = 100_000
WARMUP = 5_000
BOUND_MB = 4.0

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    """Resident set size of this process in bytes (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _growth_mb(call: Callable[[int], object]) -> float:
    for i in range(WARMUP):
        call(i)
    gc.collect()
    before = _rss()
    for i in range(CALLS):
        call(i)
    gc.collect()
    return (_rss() - before) / 1e6


pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm (Linux)"
)


def _boom(d: float) -> float:
    raise RuntimeError("boom in a pullback")


_bad = bp.op1(lambda x: (x, _boom))
_sq = bp.op1(lambda x: (x * x, lambda d: 2.0 * x * d))
_a3 = np.array([1.0, 2.0, 3.0])
_b2 = np.ones(2)
_m = np.array([[2.0, 1.0], [0.5, 3.0]])


def _leaked() -> bp.BVar[float]:
    kept: list[bp.BVar[float]] = []
    bp.grad_bp(lambda x: (kept.append(x), x * 2.0)[1], 1.0)
    return kept[0]


_old = _leaked()


def _mixed_call(i: int) -> object:
    """One of seven calls, cycling: scalar run with a user Op, small array run, an error in a user
    Op's pullback, a shape error, a backprop_with whose pullback is used then dropped, a linalg
    run, and a BVar of a finished run used again (TapeScopeError)."""
    k = i % 7
    if k == 6:
        try:
            bp.grad_bp(lambda x: x * _old, 1.0)
        except bp.TapeScopeError as e:
            return str(e)
        raise AssertionError("no TapeScopeError")
    if k == 0:
        return bp.grad_bp(lambda x: _sq(x) * bp.sin(x), 0.5)
    if k == 1:
        return bp.grad_bp(lambda x: np.sum(x * x) + x[0], _a3)
    if k == 2:
        try:
            bp.grad_bp(lambda x: _bad(x) * 2.0, 1.0)
        except RuntimeError as e:
            return str(e)
        raise AssertionError("the pullback's error was lost")
    if k == 3:
        try:
            bp.grad_bp(lambda x: (x + _b2).sum(), _a3)
        except bp.ShapeError as e:
            return str(e)
        raise AssertionError("no ShapeError")
    if k == 4:
        _, pull = bp.backprop_with(lambda x: x * x, _a3)
        return pull(_a3)
    return bp.grad_bp(lambda m: la.det(m) + la.sum_elements(la.inv(m)), _m)


def test_mixed_calls_give_the_right_results() -> None:
    """The workload below computes what it should (so the RSS test measures real runs)."""
    assert _mixed_call(0) == pytest.approx(2 * 0.5 * np.sin(0.5) + 0.25 * np.cos(0.5))
    np.testing.assert_allclose(np.asarray(_mixed_call(1)), [3.0, 4.0, 6.0])
    assert _mixed_call(2) == "boom in a pullback"
    assert "[3]" in str(_mixed_call(3)) and "[2]" in str(_mixed_call(3))
    np.testing.assert_allclose(np.asarray(_mixed_call(4)), 2.0 * _a3 * _a3)
    inv = np.linalg.inv(_m)
    expected = np.linalg.det(_m) * inv.T - (inv.T @ np.ones((2, 2)) @ inv.T)
    np.testing.assert_allclose(np.asarray(_mixed_call(5)), expected, rtol=1e-12)
    assert "backprop run" in str(_mixed_call(6))


def test_resident_memory_is_flat_over_many_calls() -> None:
    growth = _growth_mb(_mixed_call)
    assert growth < BOUND_MB, f"RSS grew by {growth:.1f} MB over {CALLS} calls"


def test_the_rss_check_sees_a_small_leak() -> None:
    """Control: the same measurement, with 100 bytes kept per call, exceeds the bound."""
    kept: list[bytes] = []

    def leaky(i: int) -> object:
        kept.append(bytes(100 - 33))  # 33 bytes of object header: 100 bytes per call
        return i

    assert _growth_mb(leaky) > BOUND_MB


# ---- reference cycles through a tape -----------------------------------------------------------


class _Holder:
    """A user object; a weak reference to it tells whether it was collected."""

    var: Any
    fn: Any
    pull: Any
    scale: float


def _collected(make: Callable[[], weakref.ref[_Holder]]) -> bool:
    ref = make()
    gc.collect()
    return ref() is None


def _cycle_closure_and_pullback() -> weakref.ref[_Holder]:
    """The holder keeps backprop_with's pullback; the function run keeps the holder.
    Cycle: holder -> pullback -> f's closure -> holder."""
    h = _Holder()
    h.scale = 3.0

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        return x * h.scale

    _, h.pull = bp.backprop_with(f, 2.0)
    assert h.pull(1.0) == 3.0
    return weakref.ref(h)


def _cycle_bvar_and_op_pullback() -> weakref.ref[_Holder]:
    """A user Op's pullback (recorded on the tape) references the holder; the holder keeps a BVar
    of that tape. Cycle: holder -> BVar -> tape -> pullback closure -> holder."""
    h = _Holder()

    def f(x: bp.BVar[float]) -> bp.BVar[float]:
        sq = bp.op1(lambda a: (a * a, lambda d: 2.0 * a * d + 0.0 * h.scale))
        h.var = x
        return sq(x)

    h.scale = 1.0
    assert bp.grad_bp(f, 2.0) == 4.0
    return weakref.ref(h)


def _cycle_pullback_and_op_pullback() -> weakref.ref[_Holder]:
    """The holder keeps backprop_with's pullback, whose tape holds a user Op's pullback that reads
    the holder. Cycle: holder -> pullback -> tape -> Op pullback -> holder."""
    h = _Holder()
    h.scale = 2.0
    op = bp.op1(lambda a: (a * 2.0, lambda d: d * h.scale))
    _, h.pull = bp.backprop_with(lambda x: op(x) * 1.0, 1.5)
    assert h.pull(1.0) == 2.0
    return weakref.ref(h)


def test_cycle_through_a_python_pullback_is_collected() -> None:
    assert _collected(_cycle_closure_and_pullback)


def test_cycle_through_a_bvar_and_a_tape_is_collected() -> None:
    assert _collected(_cycle_bvar_and_op_pullback)


def test_cycle_through_a_pullback_and_a_tape_is_collected() -> None:
    assert _collected(_cycle_pullback_and_op_pullback)


def test_no_cycle_no_leak() -> None:
    """Without a cycle the holder goes as soon as it is dropped (reference counting), which shows
    the weakref check itself works."""

    def make() -> weakref.ref[_Holder]:
        h = _Holder()
        h.scale = 2.0
        op = bp.op1(lambda a: (a * 2.0, lambda d: d * 2.0))
        _, h.pull = bp.backprop_with(lambda x: op(x) * 1.0, 1.5)
        return weakref.ref(h)

    ref = make()
    assert ref() is None
