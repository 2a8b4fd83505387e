"""Native float64 arrays in BVars: elementwise arithmetic and math, broadcasting
gradients, matmul and the core linalg reductions, softmax cross-entropy, error reporting, and the
memory contract of results and gradients.

Gradients are checked coordinate by coordinate against central finite differences for a random
cotangent (`check_vjp`) on random shapes from 0-d to 3-D, in C order, Fortran order and as
non-contiguous views; forward values against plain numpy.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
import pytest
from fd import check_vjp

L = bp.linalg
SEEDS = range(3)
SHAPES = [(), (1,), (4,), (2, 3), (3, 1), (5, 2), (2, 3, 2), (1, 4, 3)]


def rng_for(seed: int, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng(7919 * salt + seed)


# --- 1. elementwise math --------------------------------------------------------------------------


def _away_from_zero(
    rng: np.random.Generator, shape: tuple[int, ...], lo: float, hi: float
) -> np.ndarray:
    # magnitude in [lo, hi] with a random sign: keeps 1/x, signum and abs differentiable
    return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# name -> (function on BVars, sampler of a domain-appropriate input)
UNARY: dict[
    str, tuple[Callable[[Any], Any], Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]]
] = {
    "exp": (bp.exp, lambda r, s: r.normal(size=s)),
    "log": (bp.log, lambda r, s: r.uniform(0.5, 3.0, size=s)),
    "sqrt": (bp.sqrt, lambda r, s: r.uniform(0.5, 3.0, size=s)),
    "sin": (bp.sin, lambda r, s: r.normal(size=s)),
    "cos": (bp.cos, lambda r, s: r.normal(size=s)),
    "tan": (bp.tan, lambda r, s: r.uniform(-1.0, 1.0, size=s)),
    "asin": (bp.asin, lambda r, s: r.uniform(-0.8, 0.8, size=s)),
    "acos": (bp.acos, lambda r, s: r.uniform(-0.8, 0.8, size=s)),
    "atan": (bp.atan, lambda r, s: r.normal(size=s)),
    "sinh": (bp.sinh, lambda r, s: r.normal(size=s)),
    "cosh": (bp.cosh, lambda r, s: r.normal(size=s)),
    "tanh": (bp.tanh, lambda r, s: r.normal(size=s)),
    "asinh": (bp.asinh, lambda r, s: r.normal(size=s)),
    "acosh": (bp.acosh, lambda r, s: r.uniform(1.2, 3.0, size=s)),
    "atanh": (bp.atanh, lambda r, s: r.uniform(-0.8, 0.8, size=s)),
    "recip": (bp.recip, lambda r, s: _away_from_zero(r, s, 0.5, 2.0)),
    "signum": (bp.signum, lambda r, s: _away_from_zero(r, s, 0.5, 2.0)),
    "abs": (abs, lambda r, s: _away_from_zero(r, s, 0.5, 2.0)),
    "neg": (lambda v: -v, lambda r, s: r.normal(size=s)),
    "pos": (lambda v: +v, lambda r, s: r.normal(size=s)),
    "log_base2": (lambda v: bp.log_base(2.0, v), lambda r, s: r.uniform(0.5, 3.0, size=s)),
}

NUMPY_EQUIV: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "recip": np.reciprocal,
    "signum": np.sign,
    "abs": np.abs,
    "neg": np.negative,
    "pos": np.positive,
    "log_base2": np.log2,
}


def _layouts(x: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(x), np.asfortranarray(x)]


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_vjp(name: str, shape: tuple[int, ...]) -> None:
    fn, sample = UNARY[name]
    rng = rng_for(len(shape), salt=zlib.crc32(name.encode()) % 1000)
    x = sample(rng, shape)
    for arr in _layouts(x):
        check_vjp(fn, [arr], rng=rng, what=f"{name}{shape}")
    np.testing.assert_allclose(bp.eval_bp(fn, x), NUMPY_EQUIV[name](x), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_on_non_contiguous_view(name: str) -> None:
    fn, sample = UNARY[name]
    rng = rng_for(1, salt=17)
    base = sample(rng, (4, 6))
    view = base[:, ::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    c = rng.normal(size=view.shape)
    y_view, pb_view = bp.backprop_with(fn, view)
    y_copy, pb_copy = bp.backprop_with(fn, view.copy())
    np.testing.assert_array_equal(y_view, y_copy)
    np.testing.assert_array_equal(pb_view(c), pb_copy(c))
    np.testing.assert_allclose(y_view, NUMPY_EQUIV[name](view), rtol=1e-14, atol=0)
    check_vjp(fn, [view.copy()], rng=rng, what=name)
    # a transposed (F-ordered) view of a C array
    check_vjp(fn, [sample(rng, (3, 4)).T], rng=rng, what=name)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


BINARY: dict[
    str, tuple[Callable[[Any, Any], Any], Callable[..., np.ndarray], Callable[..., np.ndarray]]
] = {
    "add": (lambda a, b: a + b, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
    "sub": (lambda a, b: a - b, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
    "mul": (lambda a, b: a * b, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
    "div": (
        lambda a, b: a / b,
        lambda r, s: r.normal(size=s),
        lambda r, s: _away_from_zero(r, s, 0.5, 2.0),
    ),
    "pow": (lambda a, b: a**b, _positive, lambda r, s: r.normal(size=s)),
    "np.add": (np.add, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
    "np.multiply": (np.multiply, lambda r, s: r.normal(size=s), lambda r, s: r.normal(size=s)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_binary_vjp_same_shape(name: str, shape: tuple[int, ...]) -> None:
    fn, sa, sb = BINARY[name]
    rng = rng_for(len(shape), salt=zlib.crc32(name.encode()) % 1000)
    a, b = sa(rng, shape), sb(rng, shape)
    check_vjp(fn, [a, b], rng=rng, what=name)
    check_vjp(fn, [np.asfortranarray(a), np.ascontiguousarray(b)], rng=rng, what=name)
    # one side a plain array (a constant), the other a BVar
    check_vjp(lambda v: fn(v, b), [a], rng=rng, what=name)
    check_vjp(lambda v: fn(a, v), [b], rng=rng, what=name)
    np.testing.assert_allclose(bp.eval_bp_n(fn, a, b), fn(a, b), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_on_non_contiguous_views(name: str) -> None:
    fn, sa, sb = BINARY[name]
    rng = rng_for(3, salt=23)
    a_base, b_base = sa(rng, (3, 8)), sb(rng, (6, 4))
    a, b = a_base[:, 1::2], b_base[::2, :].T.T  # (3, 4) strided views
    assert not a.flags.c_contiguous and not b.flags.c_contiguous
    c = rng.normal(size=(3, 4))
    y1, pb1 = bp.backprop_with_n(fn, a, b)
    y2, pb2 = bp.backprop_with_n(fn, a.copy(), b.copy())
    np.testing.assert_array_equal(y1, y2)
    for g1, g2 in zip(pb1(c), pb2(c)):
        np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(y1, fn(a, b), rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_float_bvar_with_array_bvar(seed: int) -> None:
    rng = rng_for(seed, salt=3)
    x = rng.normal(size=(2, 3))
    s = float(rng.uniform(0.5, 2.0))
    for fn in (
        lambda s, x: s * x,
        lambda s, x: x + s,
        lambda s, x: x - s,
        lambda s, x: s / (x * x + 1.0),
        lambda s, x: (x * x + 1.0) ** s,
        lambda s, x: s ** (x * 0.5),
    ):
        check_vjp(fn, [s, x], rng=rng)
        _, gs_gx = bp.backprop_n(lambda s, x, fn=fn: L.sum(fn(s, x)), s, x)
        gs, gx = gs_gx
        assert isinstance(gs, float), type(gs)
        assert gx.shape == x.shape and gx.dtype == np.float64


# --- 2. broadcasting ------------------------------------------------------------------------------

BROADCAST_CASES = [
    ("add", lambda a, b: a + b, (3, 4), (4,)),
    ("mul", lambda a, b: a * b, (3, 1), (1, 4)),
    ("div", lambda a, b: a / b, (2, 3, 4), (3, 1)),
    ("sub", lambda a, b: a - b, (1,), (2, 3)),
    ("pow", lambda a, b: a**b, (3, 4), ()),
    ("mul0d", lambda a, b: a * b, (), (2, 2)),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", BROADCAST_CASES, ids=lambda c: c[0])
def test_broadcast_gradients(case: Any, seed: int) -> None:
    name, fn, sa, sb = case
    rng = rng_for(seed, salt=5)
    a = rng.uniform(0.5, 2.0, size=sa)
    b = _away_from_zero(rng, sb, 0.5, 2.0)
    _, (ga, gb) = bp.backprop_n(lambda u, v: L.sum(fn(u, v)), a, b)
    assert np.shape(ga) == a.shape and np.shape(gb) == b.shape
    check_vjp(fn, [a, b], rng=rng, what=name)
    np.testing.assert_allclose(bp.eval_bp_n(fn, a, b), fn(a, b), rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_array_pow_float_bvar_and_float_times_array(seed: int) -> None:
    rng = rng_for(seed, salt=6)
    x = rng.uniform(0.5, 2.0, size=(3, 2))
    p = float(rng.uniform(0.5, 2.5))
    check_vjp(lambda x, p: x**p, [x, p], rng=rng)
    check_vjp(lambda p, x: p * x, [p, x], rng=rng)
    (gx, gp) = bp.grad_bp_n(lambda x, p: L.sum(x**p), x, p)
    assert gx.shape == x.shape and isinstance(gp, float)
    np.testing.assert_allclose(gx, p * x ** (p - 1), rtol=1e-13)
    np.testing.assert_allclose(gp, np.sum(x**p * np.log(x)), rtol=1e-13)
    gp2, gx2 = bp.grad_bp_n(lambda p, x: L.sum(p * x), p, x)
    assert isinstance(gp2, float)
    np.testing.assert_allclose(gp2, x.sum(), rtol=1e-13)
    np.testing.assert_allclose(gx2, np.full_like(x, p), rtol=1e-15)


# --- 3. matmul and linalg -------------------------------------------------------------------------

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 1), (1, 5))]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_all_combinations(shapes: Any, seed: int) -> None:
    rng = rng_for(seed, salt=8)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    expected = a @ b
    for fn in (lambda u, v: u @ v, L.matmul, np.matmul):
        np.testing.assert_allclose(bp.eval_bp_n(fn, a, b), expected, rtol=1e-13)
        check_vjp(fn, [a, b], rng=rng)
    # plain array on either side
    check_vjp(lambda v: a @ v, [b], rng=rng, what="plain @ BVar")
    check_vjp(lambda u: u @ b, [a], rng=rng, what="BVar @ plain")
    np.testing.assert_allclose(bp.eval_bp(lambda v: a @ v, b), expected, rtol=1e-13)
    # F-ordered operands
    check_vjp(lambda u, v: u @ v, [np.asfortranarray(a), np.asfortranarray(b)], rng=rng)


def test_matmul_full_reduction_is_float() -> None:
    u, v = np.array([1.0, 2.0, 3.0]), np.array([4.0, -1.0, 0.5])
    y = bp.eval_bp_n(lambda a, b: a @ b, u, v)
    assert np.ndim(y) == 0 and y == pytest.approx(3.5)


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 2)], ids=str)
def test_sum_mean_axes(shape: tuple[int, ...], axis: int | None) -> None:
    rng = rng_for(len(shape), salt=9)
    x = rng.normal(size=shape)
    for fn, ref in ((L.sum, np.sum), (L.mean, np.mean)):
        y = bp.eval_bp(lambda v, fn=fn: fn(v, axis=axis), x)
        np.testing.assert_allclose(y, ref(x, axis=axis), rtol=1e-13)
        check_vjp(
            lambda v, fn=fn: fn(v, axis=axis), [x], rng=rng, what=f"{fn.__name__} axis={axis}"
        )
    if axis is None:
        y, _ = bp.backprop(lambda v: L.sum(v), x)
        assert isinstance(y, float)
        assert isinstance(bp.eval_bp(lambda v: L.mean(v), x), float)


def test_mean_with_zeros_divides_by_n() -> None:
    x = np.array([0.0, 0.0, 3.0, 0.0])
    y, g = bp.backprop(L.mean, x)
    assert y == pytest.approx(0.75)
    np.testing.assert_allclose(g, np.full(4, 0.25), rtol=1e-15)
    m = np.array([[0.0, 2.0], [0.0, 0.0], [0.0, 4.0]])
    y0, g0 = bp.backprop(lambda v: L.sum(L.mean(v, axis=0)), m)
    np.testing.assert_allclose(y0, 2.0)
    np.testing.assert_allclose(g0, np.full((3, 2), 1 / 3), rtol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_transpose_reshape_outer(seed: int) -> None:
    rng = rng_for(seed, salt=10)
    m = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(bp.eval_bp(L.transpose, m), m.T)
    np.testing.assert_array_equal(bp.eval_bp(lambda v: v.T, m), m.T)
    check_vjp(L.transpose, [m], rng=rng)
    check_vjp(lambda v: v.T, [m], rng=rng)
    check_vjp(lambda v: v.T * 2.0, [np.asfortranarray(m)], rng=rng)
    for shape in [(6,), (3, 2), (1, 6, 1), (6, 1)]:
        np.testing.assert_array_equal(
            bp.eval_bp(lambda v, shape=shape: L.reshape(v, shape), m), m.reshape(shape)
        )
        check_vjp(lambda v, shape=shape: L.reshape(v, shape), [m], rng=rng, what=f"reshape {shape}")
    check_vjp(lambda v: L.reshape(v, (3, 2)), [np.asfortranarray(m)], rng=rng, what="reshape F")
    u, v = rng.normal(size=3), rng.normal(size=4)
    np.testing.assert_allclose(bp.eval_bp_n(L.outer, u, v), np.outer(u, v), rtol=1e-15)
    check_vjp(L.outer, [u, v], rng=rng)


def _sce_numpy(z: np.ndarray, t: np.ndarray) -> float:
    z2, t2 = np.atleast_2d(z), np.atleast_2d(t)
    shifted = z2 - z2.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(np.mean(-np.sum(t2 * logp, axis=-1)))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(5,), (1, 3), (4, 3), (2, 5)], ids=str)
def test_softmax_cross_entropy(shape: tuple[int, ...], seed: int) -> None:
    rng = rng_for(seed, salt=11)
    z = rng.normal(size=shape) * 2
    t = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).reshape(shape)
    y = bp.eval_bp_n(L.softmax_cross_entropy, z, t)
    assert isinstance(y, float)
    assert y == pytest.approx(_sce_numpy(z, t), rel=1e-13)
    check_vjp(L.softmax_cross_entropy, [z, t], rng=rng)
    # the analytic gradient w.r.t. logits: (softmax(z) * sum(t) - t) / rows
    if len(shape) == 2:
        gz, _ = bp.grad_bp_n(L.softmax_cross_entropy, z, t)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(
            gz, (p * t.sum(axis=1, keepdims=True) - t) / shape[0], rtol=1e-12, atol=1e-15
        )


def test_softmax_cross_entropy_large_logits() -> None:
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    (y, (gz, gt)) = bp.backprop_n(L.softmax_cross_entropy, z, t)
    assert math.isfinite(y)
    assert y == pytest.approx(_sce_numpy(z, t), rel=1e-13)
    assert np.all(np.isfinite(gz)) and np.all(np.isfinite(gt))
    rng = rng_for(0, salt=12)
    # the finite-difference step scales with |x|, so keep it small next to 1000
    check_vjp(
        L.softmax_cross_entropy, [z + rng.normal(size=z.shape) * 0.1, t], rng=rng, rel_step=1e-6
    )


# --- 4. the seed guide's examples -----------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_guide_examples(seed: int) -> None:
    rng = rng_for(seed, salt=13)
    x = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(bp.grad_bp(L.sum_elements, x), np.ones((3, 4)))
    assert bp.eval_bp(L.sum_elements, x) == pytest.approx(x.sum())
    u, v = rng.normal(size=5), rng.normal(size=5)
    gu, gv = bp.grad_bp_n(L.dot, u, v)
    np.testing.assert_allclose(gu, v, rtol=1e-15)
    np.testing.assert_allclose(gv, u, rtol=1e-15)
    m, w = rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(bp.eval_bp_n(L.matvec, m, w), m @ w, rtol=1e-13)
    gm, gw = bp.grad_bp_n(lambda m, w: L.sum_elements(L.matvec(m, w)), m, w)
    np.testing.assert_allclose(gm, np.outer(np.ones(3), w), rtol=1e-15)
    np.testing.assert_allclose(gw, m.T @ np.ones(3), rtol=1e-13)
    check_vjp(L.matvec, [m, w], rng=rng)
    check_vjp(L.dot, [u, v], rng=rng)


# --- 5. eval_bp equals numpy for an MLP -----------------------------------------------------------


def _mlp_params(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return (
        rng.normal(size=(4, 5)) * 0.5,
        rng.normal(size=5) * 0.1,
        rng.normal(size=(5, 3)) * 0.5,
        rng.normal(size=3) * 0.1,
    )


def _mlp_loss(x: np.ndarray, t: np.ndarray) -> Callable[..., Any]:
    def loss(w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        h = bp.tanh(x @ w1 + b1)
        return L.softmax_cross_entropy(h @ w2 + b2, t)

    return loss


def _mlp_numpy(
    x: np.ndarray, t: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> float:
    return _sce_numpy(np.tanh(x @ w1 + b1) @ w2 + b2, t)


@pytest.mark.parametrize("seed", SEEDS)
def test_mlp_eval_equals_numpy(seed: int) -> None:
    rng = rng_for(seed, salt=14)
    x = rng.normal(size=(6, 4))
    t = np.eye(3)[rng.integers(0, 3, size=6)]
    params = _mlp_params(rng)
    loss = _mlp_loss(x, t)
    expected = _mlp_numpy(x, t, *params)
    np.testing.assert_allclose(bp.eval_bp_n(loss, *params), expected, rtol=1e-13)
    np.testing.assert_allclose(
        bp.eval_bp(lambda w1: loss(w1, *params[1:]), params[0]), expected, rtol=1e-13
    )
    check_vjp(loss, list(params), rng=rng, cotangent=1.0)


# --- 6. errors ------------------------------------------------------------------------------------


def _recovers() -> None:
    y, g = bp.backprop(lambda v: L.sum(v * v), np.array([1.0, 2.0]))
    assert y == 5.0
    np.testing.assert_array_equal(g, [2.0, 4.0])


SHAPE_ERRORS = [
    ("add", lambda a, b: a + b, (3, 4), (3,), ["3, 4", "3"]),
    ("mul", lambda a, b: a * b, (2, 3), (3, 2), ["2, 3", "3, 2"]),
    ("matmul", lambda a, b: a @ b, (3, 4), (3,), ["3, 4", "3"]),
    ("matmul", lambda a, b: a @ b, (2, 3), (2, 3), ["2, 3"]),
    ("matmul", lambda a, b: a @ b, (2, 3, 4), (3,), ["2, 3, 4", "3"]),
    ("softmax_cross_entropy", L.softmax_cross_entropy, (3, 4), (3, 3), ["3, 4", "3, 3"]),
]


@pytest.mark.parametrize("case", SHAPE_ERRORS, ids=lambda c: f"{c[0]}{c[2]}{c[3]}")
def test_shape_errors(case: Any) -> None:
    op_name, fn, sa, sb, fragments = case
    with pytest.raises(bp.ShapeError) as info:
        bp.backprop_n(lambda a, b: fn(a, b), np.ones(sa), np.ones(sb))
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert op_name in msg, msg
    for frag in fragments:
        assert frag in msg, msg
    # same check with a plain operand on one side
    with pytest.raises(bp.ShapeError):
        bp.backprop(lambda b: fn(np.ones(sa), b), np.ones(sb))
    _recovers()


@pytest.mark.parametrize("axis", [2, -3, 5])
def test_bad_axis(axis: int) -> None:
    for fn, name in ((L.sum, "sum"), (L.mean, "mean")):
        with pytest.raises(bp.ShapeError) as info:
            bp.backprop(lambda v, fn=fn: L.sum(fn(v, axis=axis)), np.ones((3, 4)))
        assert name in str(info.value) and str(axis) in str(info.value)
        _recovers()


def test_wrong_shape_pullback_gradient() -> None:
    bad = bp.op1(lambda x: (x * 2.0, lambda d: np.ones(5)))
    with pytest.raises(bp.ShapeError) as info:
        bp.backprop(lambda v: L.sum(bad(v)), np.ones((3, 4)))
    msg = str(info.value)
    assert "op1" in msg and "argument 0" in msg and "[5]" in msg.replace("(5,)", "[5]"), msg
    assert "3, 4" in msg, msg
    _recovers()
    bad2 = bp.op2(lambda x, y: (x + y, lambda d: (d, np.ones((2, 2)))))
    with pytest.raises(bp.ShapeError) as info2:
        bp.backprop_n(lambda a, b: L.sum(bad2(a, b)), np.ones(3), np.ones(3))
    msg2 = str(info2.value)
    assert "op2" in msg2 and "argument 1" in msg2 and "2, 2" in msg2 and "3" in msg2, msg2
    _recovers()


def test_nan_and_inf_pass_through() -> None:
    x = np.array([np.nan, 1.0, np.inf, -np.inf])
    with np.errstate(all="ignore"):
        y, g = bp.backprop(lambda v: L.sum(v * 2.0), x)
        assert math.isnan(y)
        np.testing.assert_array_equal(g, np.full(4, 2.0))
        z = bp.eval_bp(lambda v: bp.log(v - 2.0), np.array([1.0, 3.0]))
        assert math.isnan(z[0]) and z[1] == pytest.approx(0.0)
        _, g2 = bp.backprop(lambda v: L.sum(bp.sqrt(v)), np.array([-1.0, 4.0]))
        assert math.isnan(g2[0]) and g2[1] == pytest.approx(0.25)
        y3 = bp.eval_bp(lambda v: v @ v, x)
        assert math.isnan(y3)
    _recovers()


# --- 7. conversions, fresh results, read-only values, sharing ---------------------------------


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(6).reshape(2, 3),
        np.array([True, False, True]),
        np.arange(4, dtype=np.float32),
        np.arange(3, dtype=np.int32),
    ],
    ids=["int64", "bool", "float32", "int32"],
)
def test_input_dtypes_converted(arr: np.ndarray) -> None:
    y, g = bp.backprop(lambda v: L.sum(v * v), arr)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == arr.shape
    np.testing.assert_allclose(g, 2.0 * arr.astype(np.float64), rtol=1e-15)
    assert y == pytest.approx(float(np.sum(arr.astype(np.float64) ** 2)))
    seen: list[np.dtype[Any]] = []

    def record(v: Any) -> Any:
        seen.append(v.value.dtype)
        return L.sum(v)

    bp.backprop(record, arr)
    assert seen == [np.dtype(np.float64)]


def test_gradients_are_fresh() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    c = np.array([[1.0, -1.0], [0.5, 2.0]])
    for fn in (lambda v: v, lambda v: v * 3.0, lambda v: v + v, lambda v: L.reshape(v, (4,)).T):
        y, pb = bp.backprop_with(fn, x)
        cc = c.reshape(np.shape(y)).copy()
        g1 = pb(cc)
        assert g1.flags.writeable
        assert not np.shares_memory(g1, cc) and not np.shares_memory(g1, x)
        expected = g1.copy()
        g1[...] = 1e9
        g2 = pb(cc)
        np.testing.assert_array_equal(g2, expected)
        assert not np.shares_memory(g1, g2)
        np.testing.assert_array_equal(cc, c.reshape(np.shape(y)))
    np.testing.assert_array_equal(x, [[1.0, 2.0], [3.0, 4.0]])


def test_runner_gradient_does_not_alias_input() -> None:
    x = np.array([1.0, 2.0, 3.0])
    _, g = bp.backprop(lambda v: L.sum(v), x)
    g += 5.0
    _, g_again = bp.backprop(lambda v: L.sum(v), x)
    np.testing.assert_array_equal(g_again, np.ones(3))
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_op_result_value_is_read_only() -> None:
    checked: list[bool] = []

    def f(v: Any) -> Any:
        for w in (
            v * 2.0,
            v + v,
            bp.exp(v),
            v @ np.ones((3, 2)),
            v.T,
            L.reshape(v, (6,)),
            L.sum(v, axis=0),
        ):
            val = w.value
            assert isinstance(val, np.ndarray)
            assert not val.flags.writeable
            with pytest.raises(ValueError):
                val[...] = 0.0
            checked.append(True)
        return L.sum(v)

    bp.backprop(f, np.ones((2, 3)))
    assert len(checked) == 7


@pytest.mark.parametrize("seed", SEEDS)
def test_same_array_used_twice(seed: int) -> None:
    rng = rng_for(seed, salt=15)
    x = rng.normal(size=(3, 2))
    np.testing.assert_allclose(bp.grad_bp(lambda v: L.sum(v * v), x), 2 * x, rtol=1e-15)
    np.testing.assert_allclose(
        bp.grad_bp(lambda v: L.sum(v + v), x), np.full_like(x, 2.0), rtol=1e-15
    )
    np.testing.assert_allclose(bp.grad_bp(lambda v: L.sum(v - v), x), np.zeros_like(x), atol=0)

    def fan_out(v: Any) -> Any:
        e = bp.exp(v)
        return L.sum(e * e + bp.sin(e) - e / (v * v + 1.0)) + L.dot(
            L.reshape(v, (6,)), L.reshape(e, (6,))
        )

    check_vjp(fan_out, [x], rng=rng)
    check_vjp(lambda v: v @ v.T + v * v, [rng.normal(size=(3, 3))], rng=rng)
    e = np.exp(x)
    expected = (
        2 * e * e + np.cos(e) * e - e / (x * x + 1) + e * 2 * x / (x * x + 1) ** 2 + e + x * e
    )
    np.testing.assert_allclose(bp.grad_bp(fan_out, x), expected, rtol=1e-12)


# --- numpy ufuncs and random broadcast shapes -------------------------------------------------

UFUNCS: list[
    tuple[Callable[..., Any], Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]]
] = [
    (np.tanh, lambda r, s: r.normal(size=s)),
    (np.exp, lambda r, s: r.normal(size=s)),
    (np.log, lambda r, s: r.uniform(0.5, 3.0, size=s)),
    (np.sqrt, lambda r, s: r.uniform(0.5, 3.0, size=s)),
    (np.sin, lambda r, s: r.normal(size=s)),
    (np.arctan, lambda r, s: r.normal(size=s)),
    (np.negative, lambda r, s: r.normal(size=s)),
    (np.abs, lambda r, s: _away_from_zero(r, s, 0.5, 2.0)),
]


@pytest.mark.parametrize("ufunc_case", UFUNCS, ids=lambda c: c[0].__name__)
def test_numpy_ufuncs_on_bvars(ufunc_case: Any) -> None:
    uf, sample = ufunc_case
    rng = rng_for(2, salt=19)
    x = sample(rng, (2, 3))
    np.testing.assert_allclose(bp.eval_bp(uf, x), uf(x), rtol=1e-14, atol=0)
    check_vjp(uf, [x], rng=rng, what=uf.__name__)


@pytest.mark.parametrize(
    "uf", [np.subtract, np.divide, np.power, np.add, np.multiply], ids=lambda u: u.__name__
)
def test_numpy_binary_ufuncs_on_bvars(uf: Any) -> None:
    rng = rng_for(4, salt=20)
    a, b = rng.uniform(0.5, 2.0, size=(3, 1)), rng.uniform(0.5, 2.0, size=(4,))
    np.testing.assert_allclose(bp.eval_bp_n(uf, a, b), uf(a, b), rtol=1e-14, atol=0)
    check_vjp(uf, [a, b], rng=rng, what=uf.__name__)
    check_vjp(lambda v: uf(a, v), [b], rng=rng, what=f"plain {uf.__name__} BVar")


@pytest.mark.parametrize("seed", range(12))
def test_random_broadcast_shapes(seed: int) -> None:
    # draw a full shape, then drop leading axes / set axes to 1 independently for each operand
    rng = rng_for(seed, salt=21)
    full = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(0, 4))))

    def squash() -> tuple[int, ...]:
        keep = full[int(rng.integers(0, len(full) + 1)) :]
        return tuple(1 if rng.random() < 0.4 else n for n in keep)

    sa, sb = squash(), squash()
    a, b = rng.uniform(0.5, 2.0, size=sa), rng.uniform(0.5, 2.0, size=sb)
    for name, fn in (
        ("add", lambda u, v: u + v),
        ("mul", lambda u, v: u * v),
        ("div", lambda u, v: u / v),
        ("pow", lambda u, v: u**v),
    ):
        check_vjp(fn, [a, b], rng=rng, what=f"{name} {sa} {sb}")
        np.testing.assert_allclose(bp.eval_bp_n(fn, a, b), fn(a, b), rtol=1e-14, atol=0)


# --- edge cases ---------------------------------------------------------------------------------


def test_edge_conventions_on_arrays() -> None:
    # x ** y: exponent gradient 0 (not NaN) at x == 0; abs and signum: gradient 0 at 0
    gx, gy = bp.grad_bp_n(lambda x, y: L.sum(x**y), np.array([0.0, 1.0, 2.0]), np.full(3, 2.0))
    np.testing.assert_allclose(gx, [0.0, 2.0, 4.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 4.0 * math.log(2.0)], rtol=1e-15)
    np.testing.assert_array_equal(
        bp.grad_bp(lambda x: L.sum(abs(x) + bp.signum(x)), np.array([0.0, -1.0, 2.0])),
        [0.0, -1.0, 1.0],
    )
    # 0-d arrays stay arrays and get 0-d gradients
    g = bp.grad_bp(lambda x: x * x, np.array(3.0))
    assert np.shape(g) == () and float(g) == 6.0


def test_unused_inputs_and_none_pullbacks_give_zero_arrays() -> None:
    gx, gy = bp.grad_bp_n(lambda x, y: L.sum(x), np.ones(2), np.ones((2, 3)))
    np.testing.assert_array_equal(gx, np.ones(2))
    np.testing.assert_array_equal(gy, np.zeros((2, 3)))
    zero = bp.op1(lambda a: (a * 2.0, lambda d: None))
    g = bp.grad_bp(lambda x: L.sum(zero(x)), np.ones((2, 2)))
    assert g.shape == (2, 2) and g.dtype == np.float64 and not g.any()


def test_unsupported_ufunc_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="spacing"):
        bp.eval_bp(lambda x: np.spacing(x), np.ones(3))
    with pytest.raises(TypeError, match="out"):
        bp.eval_bp(lambda x: np.tanh(x, out=np.empty(3)), np.ones(3))
    _recovers()


def test_wrong_seed_shape_is_a_shape_error() -> None:
    _, pb = bp.backprop_with(lambda x: x * 2.0, np.ones(2))
    with pytest.raises(bp.ShapeError):
        pb(np.ones(3))
    np.testing.assert_array_equal(pb(np.ones(2)), [2.0, 2.0])


@pytest.mark.parametrize(
    "fn",
    [lambda v: v * 2.0, lambda v: v.T, bp.exp, lambda v: v + v],
    ids=["mul", "T", "exp", "add"],
)
def test_fortran_and_view_inputs_get_fresh_gradients(fn: Any) -> None:
    base = np.arange(12.0).reshape(3, 4)
    for x in (np.asfortranarray(base), base[:, ::2], base.T):
        y, pb = bp.backprop_with(fn, x)
        c = np.ones(np.shape(y))
        g1 = pb(c)
        assert g1.shape == x.shape and g1.flags.writeable
        assert not np.shares_memory(g1, base) and not np.shares_memory(g1, c)
        expected = g1.copy()
        g1[...] = -7.0
        np.testing.assert_array_equal(pb(c), expected)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize("fn, name", [(L.dot, "dot"), (L.matvec, "matvec")], ids=["dot", "matvec"])
def test_dot_matvec_shape_errors_name_their_op(fn: Any, name: str) -> None:
    a = np.ones(3) if name == "dot" else np.ones((3, 2))
    with pytest.raises(bp.ShapeError, match=name):
        bp.eval_bp_n(fn, a, np.ones(4 if name == "dot" else 3))


def test_inputs_are_snapshotted() -> None:
    """Documented (README, "Arrays"): the tape keeps its own read-only copy of an input array, so
    mutating the user's array while its `backprop_with` pullback is alive changes nothing
    (tests/test_ownership.py covers the rest of the contract)."""
    x = np.array([1.0, 2.0])
    _, pb = bp.backprop_with(lambda a: a * a, x)
    x[...] = 100.0
    np.testing.assert_array_equal(pb(np.ones(2)), [2.0, 4.0])
