"""Reductions and scans on BVars (bprop.numpy._reductions): values equal numpy's, gradients
match central differences for random cotangents, over 0-d..4-d inputs, negative and tuple axes,
keepdims and non-contiguous inputs; ties, zeros and the refused arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.numpy._reductions
import numpy as np
import pytest
from bprop._core import Tape
from fd import check_vjp
from hypothesis import given, settings
from hypothesis import strategies as st

RNG = np.random.default_rng(20261207)


def _check(f: Callable[..., Any], *xs: Any, grad: bool = True) -> None:
    """`f` on BVars gives numpy's value (same shape), and its vjp matches central differences."""
    expected = f(*xs)
    y, _ = bp.backprop_with_n(f, *xs)
    assert np.shape(y) == np.shape(expected)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    if grad:
        check_vjp(f, list(xs), rng=RNG, plain=f)


def _distinct(shape: tuple[int, ...]) -> np.ndarray:
    """Random values at least 0.1 apart (finite differences never cross a kink of max/min)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.1 + RNG.uniform(0, 0.01, size=n) - 0.1 * n / 2).reshape(shape)


def _grad(f: Callable[..., Any], x: Any) -> Any:
    return bp.grad_bp(f, np.asarray(x, dtype=np.float64))


SHAPES = [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)]


def _axes_for(ndim: int) -> list[Any]:
    if ndim == 0:
        return [None, ()]
    out: list[Any] = [None, 0, -1, ()]
    if ndim >= 2:
        out += [(0, -1), (-1, 0)]
    if ndim >= 3:
        out += [1, (0, 2), (0, 1, 2)]
    return out


CASES = [
    (shape, axis, keepdims)
    for shape in SHAPES
    for axis in _axes_for(len(shape))
    for keepdims in (False, True)
]


def _case_id(c: Any) -> str:
    return f"{c[0]}-axis{c[1]}-kd{int(c[2])}"


REDUCTIONS: dict[str, Callable[..., Any]] = {
    "sum": np.sum,
    "mean": np.mean,
    "prod": np.prod,
    "max": np.max,
    "min": np.min,
    "amax": np.amax,
    "amin": np.amin,
    "var": np.var,
    "std": np.std,
    "nansum": np.nansum,
    "nanmean": np.nanmean,
    "ptp": np.ptp,
}


KINKED = ("max", "min", "amax", "amin", "ptp")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_value_and_vjp(name: str, case: tuple[tuple[int, ...], Any, bool]) -> None:
    shape, axis, keepdims = case
    fn = REDUCTIONS[name]
    x = _distinct(shape) if name in KINKED else RNG.normal(size=shape)
    if name in ("var", "std") and (np.size(x) == 1 or axis == ()):
        x = x + 0.0  # one element per slice: variance 0 (std's gradient is 0 there, checked below)
        _check(lambda v: fn(v, axis=axis, keepdims=keepdims), x, grad=name == "var")
        return
    _check(lambda v: fn(v, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "var", "std"])
def test_noncontiguous_inputs(name: str) -> None:
    fn = REDUCTIONS[name]
    base = _distinct((6, 4))
    _check(lambda v: fn(v[::2], axis=0), base)
    _check(lambda v: fn(v.T, axis=-1, keepdims=True), base)
    _check(lambda v: fn(v, axis=1), base[::2, ::-1])
    _check(lambda v: fn(v, axis=0), base.T)


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_std_ddof(ddof: int) -> None:
    x = RNG.normal(size=(4, 5))
    for fn in (np.var, np.std):
        _check(lambda v, fn=fn: fn(v, ddof=ddof), x)
        _check(lambda v, fn=fn: fn(v, axis=0, ddof=ddof, keepdims=True), x)
    _check(lambda v: np.var(v, axis=1, correction=1), x)


def test_std_gradient_is_zero_at_zero_variance() -> None:
    g = _grad(lambda v: np.std(v), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    g = _grad(lambda v: np.sum(np.std(v, axis=1)), [[1.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(g, [[0.0, 0.0], [-0.5, 0.5]])


def test_mean_is_the_mean() -> None:
    x = np.arange(1.0, 2001.0)
    y, pull = bp.backprop_with(lambda v: np.mean(v), x)
    assert isinstance(y, float) and y == pytest.approx(1000.5)
    np.testing.assert_allclose(pull(1.0), np.full(2000, 1 / 2000))
    assert bp.grad_bp(lambda v: v.mean(), x)[0] == pytest.approx(1 / 2000)


def test_full_reductions_give_floats() -> None:
    x = RNG.normal(size=(3, 4))
    for f in (np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std):
        y, _ = bp.backprop_with(lambda v, f=f: f(v), x)
        assert isinstance(y, float), f


@pytest.mark.parametrize(
    "x, expected",
    [
        ([1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
        ([2.0, 2.0, 2.0, 2.0], [0.25, 0.25, 0.25, 0.25]),
        ([5.0, 1.0, 5.0, 4.0], [0.5, 0.0, 0.5, 0.0]),
    ],
)
def test_max_ties_split_evenly(x: list[float], expected: list[float]) -> None:
    np.testing.assert_allclose(_grad(lambda v: np.max(v), x), expected)
    np.testing.assert_allclose(_grad(lambda v: -np.min(-v), x), expected)
    np.testing.assert_allclose(_grad(lambda v: np.maximum.reduce(v), x), expected)


def test_max_ties_along_axes() -> None:
    x = [[1.0, 1.0, 0.0], [2.0, 0.0, 2.0]]
    np.testing.assert_allclose(
        _grad(lambda v: np.sum(np.max(v, axis=1)), x), [[0.5, 0.5, 0], [0.5, 0, 0.5]]
    )
    g = _grad(lambda v: np.amin(v, axis=(0, 1)), [[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(g, [[1 / 3, 0], [1 / 3, 1 / 3]])
    g = _grad(lambda v: np.sum(v.max(axis=0, keepdims=True) * np.array([[1.0, 2.0, 3.0]])), x)
    np.testing.assert_allclose(g, [[0, 2, 0], [1, 0, 3]])


def _others(x: np.ndarray) -> np.ndarray:
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0], [0.0, 0.0, 0.0], [7.0]])
def test_prod_exact_with_zeros(x: list[float]) -> None:
    xa = np.array(x)
    np.testing.assert_array_equal(_grad(lambda v: np.prod(v), xa), _others(xa))
    np.testing.assert_array_equal(_grad(lambda v: v.prod(), xa), _others(xa))
    np.testing.assert_array_equal(_grad(lambda v: np.multiply.reduce(v), xa), _others(xa))


def test_prod_with_zeros_along_axes() -> None:
    x = RNG.normal(size=(3, 4, 2))
    x[0, 1, 0] = 0.0
    x[1, :2, 1] = 0.0
    _check(lambda v: np.prod(v, axis=1), x)
    _check(lambda v: np.prod(v, axis=(0, -1), keepdims=True), x)
    _check(lambda v: np.prod(v), x)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 2, 3, 2)])
@pytest.mark.parametrize("fn", [np.cumsum, np.cumprod])
def test_scans(fn: Callable[..., Any], shape: tuple[int, ...]) -> None:
    x = RNG.normal(size=shape)
    _check(lambda v: fn(v), x)
    for axis in range(-len(shape), len(shape)):
        _check(lambda v, axis=axis: fn(v, axis=axis), x)


def test_scans_noncontiguous_and_methods() -> None:
    x = RNG.normal(size=(6, 3))
    _check(lambda v: np.cumsum(v[::2], axis=0), x)
    _check(lambda v: np.cumprod(v.T, axis=1), x)
    _check(lambda v: v.cumsum(axis=-1), x)
    _check(lambda v: v.cumprod(0), x)


def _cumprod_grad(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """d<c, cumprod(x)>/dx by brute force: products of the other factors, no division."""
    n = x.size
    out = np.zeros(n)
    for k in range(n):
        for i in range(k, n):
            out[k] += c[i] * np.prod(np.delete(x[: i + 1], k))
    return out


@pytest.mark.parametrize(
    "x", [[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0], [1.5, 2.0, 0.0, 0.0, 3.0], [0.0]]
)
def test_cumprod_exact_with_zeros(x: list[float]) -> None:
    xa = np.array(x)
    c = RNG.normal(size=xa.size)
    _, pull = bp.backprop_with(lambda v: np.cumprod(v), xa)
    np.testing.assert_allclose(pull(c), _cumprod_grad(xa, c), rtol=1e-13, atol=1e-14)
    _, pull = bp.backprop_with(lambda v: np.multiply.accumulate(v), xa)
    np.testing.assert_allclose(pull(c), _cumprod_grad(xa, c), rtol=1e-13, atol=1e-14)


def test_cumprod_with_zeros_along_axis() -> None:
    x = RNG.normal(size=(3, 5))
    x[0, 1] = x[2, 0] = x[2, 3] = 0.0
    _check(lambda v: np.cumprod(v, axis=1), x)
    _check(lambda v: np.cumprod(v, axis=0), x)


def test_methods() -> None:
    x = _distinct((3, 4))
    _check(lambda v: v.sum(), x)
    _check(lambda v: v.sum(axis=1, keepdims=True), x)
    _check(lambda v: v.sum(0), x)
    _check(lambda v: v.mean(axis=(0, 1)), x)
    _check(lambda v: v.mean(-1), x)
    _check(lambda v: v.prod(axis=0), x)
    _check(lambda v: v.max(axis=-1, keepdims=True), x)
    _check(lambda v: v.min(), x)
    _check(lambda v: v.var(ddof=1), x)
    _check(lambda v: v.std(axis=0), x)


def test_ufunc_reduce_and_accumulate() -> None:
    x = _distinct((3, 4))
    _check(lambda v: np.add.reduce(v), x)  # axis 0 by default
    _check(lambda v: np.add.reduce(v, 1), x)
    _check(lambda v: np.add.reduce(v, axis=None), x)
    _check(lambda v: np.add.reduce(v, axis=(0, 1), keepdims=True), x)
    _check(lambda v: np.multiply.reduce(v), x)
    _check(lambda v: np.multiply.reduce(v, axis=-1, keepdims=True), x)
    _check(lambda v: np.maximum.reduce(v), x)
    _check(lambda v: np.maximum.reduce(v, axis=1), x)
    _check(lambda v: np.minimum.reduce(v, axis=-1, keepdims=True), x)
    _check(lambda v: np.add.accumulate(v), x)
    _check(lambda v: np.add.accumulate(v, axis=1), x)
    _check(lambda v: np.multiply.accumulate(v), x)
    _check(lambda v: np.multiply.accumulate(v, axis=-1), x)


def test_average() -> None:
    x = RNG.normal(size=(3, 4))
    w = RNG.uniform(0.5, 2.0, size=(3, 4))
    w1 = RNG.uniform(0.5, 2.0, size=4)
    _check(lambda v: np.average(v), x)
    _check(lambda v: np.average(v, axis=0), x)
    _check(lambda v: np.average(v, weights=w), x)
    _check(lambda v, u: np.average(v, weights=u), x, w)
    _check(lambda v, u: np.average(v, axis=1, weights=u, keepdims=True), x, w)
    _check(lambda v, u: np.average(v, axis=-1, weights=u), x, w1)
    _check(lambda v, u: np.average(v, axis=1, weights=u, returned=True)[0], x, w1)
    _check(lambda v, u: np.average(v, axis=1, weights=u, returned=True)[1], x, w1)
    _check(lambda u: np.average(x, axis=1, weights=u), w1)
    with pytest.raises(TypeError):
        bp.grad_bp(lambda v: np.average(v, weights=w1), x)
    with pytest.raises(ZeroDivisionError):
        bp.grad_bp(lambda v: np.average(v, weights=np.zeros((3, 4))), x)


def test_nan_reductions() -> None:
    x = RNG.normal(size=(3, 4))
    x[0, 1] = x[2, 2] = np.nan
    for fn in (np.nansum, np.nanmean):
        y, pull = bp.backprop_with(lambda v, fn=fn: fn(v, axis=0), x)
        np.testing.assert_allclose(y, fn(x, axis=0))
        g = pull(np.ones(4))
        assert g[0, 1] == 0.0 and g[2, 2] == 0.0
    np.testing.assert_allclose(bp.grad_bp(lambda v: np.nanmean(v), x)[~np.isnan(x)], 1 / 10)


def test_sum_and_mean_are_native_and_cheap() -> None:
    tape = Tape()
    v = tape.input(RNG.normal(size=(4, 5, 6)))
    counts = []
    for f in (
        lambda: np.sum(v),
        lambda: np.sum(v, axis=1),
        lambda: np.mean(v, axis=-1),
        lambda: np.sum(v, axis=-1, keepdims=True),
        lambda: np.mean(v, axis=(0, 2)),
    ):
        before = len(tape)
        f()
        counts.append(len(tape) - before)
    tape.close()
    assert counts == [1, 1, 1, 2, 2]


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple),
    data=st.data(),
)
def test_random_shapes_and_axes(shape: tuple[int, ...], data: st.DataObject) -> None:
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(-nd, nd - 1), max_size=nd, unique_by=lambda a: a % nd))
    axis = tuple(axes) if data.draw(st.booleans()) or len(axes) != 1 else axes[0]
    keepdims = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["sum", "mean", "prod", "max", "var"]))
    fn = REDUCTIONS[name]
    x = _distinct(shape)
    _check(lambda v: fn(v, axis=axis, keepdims=keepdims), x)


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda v: np.sum(v, axis=2), np.exceptions.AxisError),
        (lambda v: np.mean(v, axis=-3), np.exceptions.AxisError),
        (lambda v: np.max(v, axis=(0, 5)), np.exceptions.AxisError),
        (lambda v: np.sum(v, axis=(0, 0)), ValueError),
        (lambda v: np.sum(v, axis=(1, -1)), ValueError),
        (lambda v: np.sum(v, axis=1.0), TypeError),
        (lambda v: np.cumsum(v, axis=2), np.exceptions.AxisError),
        (lambda v: np.cumsum(v, axis=(0, 1)), TypeError),
        (lambda v: np.var(v, ddof=1, correction=1), ValueError),
        (lambda v: np.max(v[:0]), ValueError),
    ],
)
def test_errors(call: Callable[[Any], Any], error: type[Exception]) -> None:
    x = RNG.normal(size=(2, 3))
    with pytest.raises(error):
        call(x)  # numpy agrees on plain arrays ...
    with pytest.raises(error):
        bp.grad_bp(lambda v: np.sum(call(v)), x)  # ... and on BVars


@pytest.mark.parametrize(
    "call",
    [
        lambda v: np.sum(v, out=np.zeros(3)),
        lambda v: np.mean(v, where=np.ones((2, 3), bool)),
        lambda v: np.sum(v, initial=1.0),
        lambda v: np.max(v, initial=1.0),
        lambda v: np.sum(v, dtype=np.float32),
        lambda v: np.cumprod(v, dtype=np.int64),
        lambda v: np.var(v, mean=np.zeros(1)),
        lambda v: np.add.reduce(v, initial=0.0),
        lambda v: np.maximum.reduce(v, axis=0, out=np.zeros(3)),
        lambda v: v.sum(out=np.zeros(())),
        lambda v: v.max(where=np.ones((2, 3), bool)),
    ],
)
def test_refused_arguments(call: Callable[[Any], Any]) -> None:
    x = RNG.normal(size=(2, 3))
    with pytest.raises(TypeError, match="numpy\\.|not supported"):
        bp.grad_bp(lambda v: np.sum(call(v)), x)


def test_errors_on_0d() -> None:
    x = np.array(1.5)
    for call in (
        lambda v: np.mean(v, axis=0),
        lambda v: np.sum(v, axis=(0,)),
        lambda v: np.var(v, axis=-1),
    ):
        with pytest.raises(np.exceptions.AxisError):
            call(x)
        with pytest.raises(np.exceptions.AxisError):
            bp.grad_bp(call, x)
    _check(lambda v: np.sum(v, axis=0), x)
    _check(lambda v: np.max(v, axis=-1), x)
    _check(lambda v: np.cumsum(v, axis=0), x)


def test_plain_arguments_are_numpy() -> None:
    from bprop.numpy import _reductions as R

    x = np.arange(6).reshape(2, 3)
    assert R.sum(x, axis=1).dtype == np.sum(x, axis=1).dtype
    np.testing.assert_array_equal(R.cumprod(x, axis=0), np.cumprod(x, axis=0))
    np.testing.assert_array_equal(R.max(x, axis=0), [3, 4, 5])
