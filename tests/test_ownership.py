"""Ownership of array memory (issue 9 item 4): a gradient never depends on memory the user
can write after an op recorded it, and the GIL-free sweep never reads user-writable memory.

The tape snapshots every array that reaches it from the user (inputs, constants of native kernels
and of Python ops) into memory nobody can write: read-only arrays whose base is a
`bprop._core.FrozenBuffer`, which numpy refuses to make writeable again. Arrays bprop made itself
(kernel results, `.value` of a BVar, views of them) are such memory already and are shared.
"""

from __future__ import annotations

import threading
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop import linalg as L


def sum_sq(w: Any) -> Any:
    return L.sum_elements(w * w)


def assert_frozen(a: np.ndarray) -> None:
    """`a` is read-only for good: setting the flag back raises."""
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a.flags.writeable = True


# ---- inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda W: W.__setitem__(slice(None), 5.0),
        lambda W: np.multiply(W, 3.0, out=W),
        lambda W: W.reshape(-1).__setitem__(0, -7.0),  # through a view
        lambda W: W.fill(np.nan),
    ],
    ids=["setitem", "ufunc-out", "view", "fill"],
)
def test_mutating_an_input_after_backprop_with_changes_nothing(mutate: Any) -> None:
    W = np.arange(1.0, 7.0).reshape(2, 3)
    expected = 2 * W.copy()
    y, pull = bp.backprop_with(sum_sq, W)
    assert y == pytest.approx(float((W * W).sum()))
    mutate(W)
    for _ in range(3):
        np.testing.assert_array_equal(pull(1.0), expected)


def test_non_float64_and_non_contiguous_inputs_are_snapshotted() -> None:
    base = np.arange(12.0).reshape(3, 4)
    for x in [
        base.T,
        base[:, ::2],
        np.arange(4),
        np.array([True, False]),
        np.ones(3, dtype=np.float32),
    ]:
        want = 2 * np.asarray(x, dtype=np.float64)
        _, pull = bp.backprop_with(sum_sq, x)
        x[...] = 0
        g = pull(1.0)
        assert g.dtype == np.float64
        np.testing.assert_array_equal(g, want)


def test_read_only_view_of_a_writable_base_is_snapshotted() -> None:
    a = np.ones(3)
    b = a.view()
    b.flags.writeable = False
    seen: list[Any] = []

    def f(w: Any) -> Any:
        seen.append(w.value)
        return sum_sq(w)

    _, pull = bp.backprop_with(f, b)
    assert not np.shares_memory(seen[0], a)
    a[:] = 7.0  # b sees this; the tape must not
    np.testing.assert_array_equal(pull(1.0), [2.0, 2.0, 2.0])


def test_read_only_array_owning_its_memory_is_snapshotted() -> None:
    a = np.ones(3)
    a.flags.writeable = False  # the owner may set it back
    _, pull = bp.backprop_with(sum_sq, a)
    a.flags.writeable = True
    a[:] = 9.0
    np.testing.assert_array_equal(pull(1.0), [2.0, 2.0, 2.0])


def test_value_of_an_input_is_a_frozen_copy() -> None:
    x = np.array([1.0, 2.0, 3.0])
    seen: list[Any] = []

    def f(w: Any) -> Any:
        seen.append(w.value)
        return sum_sq(w)

    _, pull = bp.backprop_with(f, x)
    (v,) = seen
    assert v is not x and not np.shares_memory(v, x)
    np.testing.assert_array_equal(v, x)
    assert_frozen(v)
    assert_frozen(v[1:])  # views of it too
    with pytest.raises(ValueError):
        v[0] = 100.0
    np.testing.assert_array_equal(pull(1.0), [2.0, 4.0, 6.0])


def test_arrays_bprop_made_are_frozen_and_shared_not_copied() -> None:
    r = bp.eval_bp(lambda w: w * 2.0, np.arange(4.0))
    assert_frozen(r)
    assert type(r.base).__name__ == "FrozenBuffer"
    seen: list[Any] = []

    def f(w: Any) -> Any:
        seen.append(w.value)
        return sum_sq(w)

    bp.grad_bp(f, r)
    bp.grad_bp(f, r[::2])
    assert seen[0] is r  # the very array: no copy
    assert np.shares_memory(seen[1], r)


def test_const_var_snapshots() -> None:
    c = np.array([1.0, 2.0])
    k = bp.const_var(c)
    c[:] = 50.0
    np.testing.assert_array_equal(k.value, [1.0, 2.0])
    assert_frozen(k.value)


# ---- constants during a run --------------------------------------------------------------------


def _mutating_run(op: Any, c: np.ndarray, w: np.ndarray) -> Any:
    def f(v: Any) -> Any:
        y = op(v, c)
        c[...] = 100.0  # between two ops
        return L.sum_elements(y) + L.sum_elements(v * 0.0)

    return bp.grad_bp(f, w)


@pytest.mark.parametrize(
    "op, grad",
    [
        (lambda v, c: v * c, lambda c, w: c),  # native kernel, plain constant
        (lambda v, c: c * v, lambda c, w: c),
        (lambda v, c: v * bp.const_var(c), lambda c, w: c),  # constant BVar
        (lambda v, c: np.divide(v, c), lambda c, w: 1.0 / c),  # native ufunc
        (lambda v, c: np.einsum("i,i->i", v, c), lambda c, w: c),  # Python op of the numpy layer
        (lambda v, c: np.tensordot(np.diag(c), v, axes=1), lambda c, w: c),
        (lambda v, c: np.maximum(v, c), lambda c, w: (w > c).astype(float)),
    ],
    ids=["mul", "rmul", "const_var", "divide", "einsum", "tensordot", "maximum"],
)
def test_constant_mutated_during_the_run_does_not_change_the_gradient(op: Any, grad: Any) -> None:
    w = np.array([1.5, -2.0, 3.0])
    c0 = np.array([2.0, -1.0, 0.5])
    got = _mutating_run(op, c0.copy(), w)
    np.testing.assert_allclose(got, grad(c0, w), rtol=0, atol=0)


def test_constant_mutated_after_backprop_with() -> None:
    c = np.array([2.0, 3.0])
    _, pull = bp.backprop_with(lambda v: L.sum_elements(v * c), np.ones(2))
    c[:] = -1.0
    np.testing.assert_array_equal(pull(1.0), [2.0, 3.0])


# ---- gradients handed back ---------------------------------------------------------------------


def test_gradients_are_fresh_writable_arrays() -> None:
    x = np.array([1.0, 2.0])
    y, pull = bp.backprop_with(lambda v: v * 1.0, x)
    g1, g2 = pull(np.ones(2)), pull(np.ones(2))
    for g in (g1, g2):
        assert g.flags.writeable
        assert not np.shares_memory(g, x) and not np.shares_memory(g, y)
    assert not np.shares_memory(g1, g2)
    g1[:] = 99.0  # writing a gradient changes nothing later
    np.testing.assert_array_equal(pull(np.ones(2)), [1.0, 1.0])
    np.testing.assert_array_equal(y, [1.0, 2.0])
    gx, gw = bp.grad_bp2(lambda a, b: L.sum_elements(a * b), x, np.ones(2))
    assert gx.flags.writeable and gw.flags.writeable


def test_cotangent_mutated_after_the_pull_changes_nothing() -> None:
    dy = np.array([1.0, 2.0])
    _, pull = bp.backprop_with(lambda v: v * 3.0, np.ones(2))
    g = pull(dy)
    dy[:] = 0.0
    np.testing.assert_array_equal(g, [3.0, 6.0])


# ---- threads -----------------------------------------------------------------------------------


def test_writer_thread_never_changes_a_gradient() -> None:
    """A thread writes the user's arrays (numpy releases the GIL for these writes) while the main
    thread records, and sweeps (GIL-free), 200 gradients: every gradient is exactly the one of the
    snapshot the tape took (`.value` of the input and of the constant)."""
    n = 200_000
    W = np.linspace(-1.0, 1.0, n)
    C = np.linspace(2.0, 3.0, n)
    stop = threading.Event()

    def writer() -> None:
        k = 0.0
        while not stop.is_set():
            k += 1.0
            np.multiply(W, -1.0, out=W)
            np.add(C, k, out=C)
            W[: n // 2] = k

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(200):
            seen: list[Any] = []

            def f(w: Any, seen: list[Any] = seen) -> Any:
                c = bp.const_var(C)
                seen.append((w.value, c.value))
                return L.sum_elements(w * w * c)

            _, pull = bp.backprop_with(f, W)
            w0, c0 = seen[0]
            expected = 2.0 * w0 * c0
            assert np.array_equal(pull(1.0), expected)
            assert np.array_equal(pull(1.0), expected)
    finally:
        stop.set()
        t.join()
