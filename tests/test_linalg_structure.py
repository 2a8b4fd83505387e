"""Structural linalg functions: building and splitting vectors and matrices, diagonals,
linspace, elementwise maps, mean_rows and the softmax family.

Every gradient is checked coordinate by coordinate against central finite differences for a
random cotangent, on several random shapes (`check_vjp`); forward values against numpy;
multi-output functions for one shared node (pullback called once) and zero gradients of unused
components; shape errors naming the function, raised before anything is recorded; `eval_bp`
equal to plain numpy; results and gradients that share no memory with inputs or cotangents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop._core import Tape
from bprop.linalg import _structure as la
from fd import check_vjp

Array = np.ndarray[Any, np.dtype[np.float64]]
SEEDS = range(4)


def rng_for(seed: int, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng(1000 * salt + seed)


def rand(rng: np.random.Generator, *shape: int) -> Array:
    return rng.normal(size=shape)


def sizes(rng: np.random.Generator, k: int, lo: int = 1, hi: int = 6) -> list[int]:
    return [int(s) for s in rng.integers(lo, hi + 1, size=k)]


def tup(*vs: Any) -> Any:
    """Several BVars as one BVar of a tuple (so check_vjp sees every component)."""
    return bp.op_tup(*vs)


# ---- building vectors ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_konst(seed: int) -> None:
    rng = rng_for(seed)
    shape = tuple(sizes(rng, int(rng.integers(0, 4))))
    x = float(rng.normal())
    check_vjp(lambda v: la.konst(v, shape), [x], rng=rng)
    np.testing.assert_array_equal(bp.eval_bp(lambda v: la.konst(v, shape), x), np.full(shape, x))


def test_konst_int_shape_and_alias() -> None:
    assert la.full is la.konst
    y, g = bp.backprop(lambda v: la.konst(v, 3), 2.5)
    np.testing.assert_array_equal(y, [2.5, 2.5, 2.5])
    assert g == 3.0 and type(g) is float
    np.testing.assert_array_equal(bp.eval_bp(lambda v: la.konst(v, (0, 2)), 1.0), np.zeros((0, 2)))


@pytest.mark.parametrize("seed", SEEDS)
def test_vec234(seed: int) -> None:
    rng = rng_for(seed)
    xs = [float(x) for x in rng.normal(size=4)]
    check_vjp(la.vec2, xs[:2], rng=rng)
    check_vjp(la.vec3, xs[:3], rng=rng)
    check_vjp(la.vec4, xs, rng=rng)
    np.testing.assert_array_equal(bp.eval_bp_n(la.vec4, *xs), np.array(xs))
    grads = bp.backprop_with_n(la.vec3, *xs[:3])[1](np.array([1.0, 2.0, 3.0]))
    assert grads == (1.0, 2.0, 3.0) and all(type(g) is float for g in grads)


@pytest.mark.parametrize("seed", SEEDS)
def test_concat(seed: int) -> None:
    rng = rng_for(seed)
    n, m = sizes(rng, 2, lo=0)
    u, v = rand(rng, n), rand(rng, m)
    check_vjp(la.concat, [u, v], rng=rng)
    np.testing.assert_array_equal(bp.eval_bp2(la.concat, u, v), np.concatenate([u, v]))


@pytest.mark.parametrize("seed", SEEDS)
def test_snoc(seed: int) -> None:
    rng = rng_for(seed)
    (n,) = sizes(rng, 1, lo=0)
    v, x = rand(rng, n), float(rng.normal())
    check_vjp(la.snoc, [v, x], rng=rng)
    np.testing.assert_array_equal(bp.eval_bp2(la.snoc, v, x), np.append(v, x))


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_linspace(n: int) -> None:
    rng = rng_for(n, salt=1)
    lo, hi = (float(t) for t in rng.normal(size=2))
    check_vjp(lambda a, b: la.linspace(a, b, n), [lo, hi], rng=rng)
    np.testing.assert_array_equal(
        bp.eval_bp2(lambda a, b: la.linspace(a, b, n), lo, hi), np.linspace(lo, hi, n)
    )


def test_linspace_gradient_by_hand() -> None:
    # y_i = lo + i/(n-1) (hi - lo); with d = ones: dlo = sum(1 - t), dhi = sum(t) = n/2
    _, (glo, ghi) = bp.backprop2(lambda a, b: la.linspace(a, b, 5), -1.0, 3.0)
    assert math.isclose(glo, 2.5) and math.isclose(ghi, 2.5)


# ---- taking vectors apart -----------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_split(seed: int) -> None:
    rng = rng_for(seed)
    (n,) = sizes(rng, 1, lo=0)
    v = rand(rng, n)
    for p in range(n + 1):
        check_vjp(lambda w, p=p: tup(*la.split(w, p)), [v], rng=rng)
        a, b = bp.eval_bp(lambda w, p=p: tup(*la.split(w, p)), v)
        np.testing.assert_array_equal(a, v[:p])
        np.testing.assert_array_equal(b, v[p:])


@pytest.mark.parametrize("seed", SEEDS)
def test_head_tail(seed: int) -> None:
    rng = rng_for(seed)
    (n,) = sizes(rng, 1)
    v = rand(rng, n)
    check_vjp(lambda w: tup(*la.head_tail(w)), [v], rng=rng)
    h, t = bp.eval_bp(lambda w: tup(*la.head_tail(w)), v)
    assert type(h) is float and h == v[0]
    np.testing.assert_array_equal(t, v[1:])
    # the head alone, through float arithmetic
    check_vjp(lambda w: la.head_tail(w)[0] * 3.0, [v], rng=rng)


# ---- vectors <-> matrices -----------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_row_col_unrow_uncol(seed: int) -> None:
    rng = rng_for(seed)
    (n,) = sizes(rng, 1, lo=0)
    v = rand(rng, n)
    check_vjp(la.row, [v], rng=rng)
    check_vjp(la.col, [v], rng=rng)
    check_vjp(la.unrow, [v.reshape(1, n)], rng=rng)
    check_vjp(la.uncol, [v.reshape(n, 1)], rng=rng)
    assert bp.eval_bp(la.row, v).shape == (1, n)
    assert bp.eval_bp(la.col, v).shape == (n, 1)
    np.testing.assert_array_equal(bp.eval_bp(lambda w: la.unrow(la.row(w)), v), v)
    np.testing.assert_array_equal(bp.eval_bp(lambda w: la.uncol(la.col(w)), v), v)


@pytest.mark.parametrize("seed", SEEDS)
def test_hstack_vstack(seed: int) -> None:
    rng = rng_for(seed)
    r, c1, c2 = sizes(rng, 3)
    a, b = rand(rng, r, c1), rand(rng, r, c2)
    check_vjp(la.hstack, [a, b], rng=rng)
    np.testing.assert_array_equal(bp.eval_bp2(la.hstack, a, b), np.hstack([a, b]))
    a, b = rand(rng, c1, r), rand(rng, c2, r)
    check_vjp(la.vstack, [a, b], rng=rng)
    np.testing.assert_array_equal(bp.eval_bp2(la.vstack, a, b), np.vstack([a, b]))


@pytest.mark.parametrize("seed", SEEDS)
def test_split_rows_cols(seed: int) -> None:
    rng = rng_for(seed)
    r, c = sizes(rng, 2)
    m = rand(rng, r, c)
    for p in range(r + 1):
        check_vjp(lambda w, p=p: tup(*la.split_rows(w, p)), [m], rng=rng)
        top, rest = bp.eval_bp(lambda w, p=p: tup(*la.split_rows(w, p)), m)
        np.testing.assert_array_equal(top, m[:p])
        np.testing.assert_array_equal(rest, m[p:])
    for p in range(c + 1):
        check_vjp(lambda w, p=p: tup(*la.split_cols(w, p)), [m], rng=rng)
        left, right = bp.eval_bp(lambda w, p=p: tup(*la.split_cols(w, p)), m)
        np.testing.assert_array_equal(left, m[:, :p])
        np.testing.assert_array_equal(right, m[:, p:])


def test_split_then_stack_is_identity() -> None:
    rng = rng_for(0, salt=2)
    m = rand(rng, 4, 5)
    f = lambda w: la.hstack(*la.split_cols(la.vstack(*la.split_rows(w, 1)), 3))
    y, g = bp.backprop(f, m)
    np.testing.assert_array_equal(y, m)
    np.testing.assert_array_equal(g, np.ones_like(m))


# ---- diagonals ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_diag(seed: int) -> None:
    rng = rng_for(seed)
    (n,) = sizes(rng, 1, lo=0)
    v = rand(rng, n)
    check_vjp(la.diag, [v], rng=rng)
    np.testing.assert_array_equal(bp.eval_bp(la.diag, v), np.diag(v))


@pytest.mark.parametrize("seed", SEEDS)
def test_take_diag(seed: int) -> None:
    rng = rng_for(seed)
    r, c = sizes(rng, 2)
    for shape in [(r, c), (r, r)]:
        m = rand(rng, *shape)
        check_vjp(la.take_diag, [m], rng=rng)
        np.testing.assert_array_equal(bp.eval_bp(la.take_diag, m), np.diagonal(m))


# ---- mean_rows ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_rows(seed: int) -> None:
    rng = rng_for(seed)
    r, c = sizes(rng, 2)
    m = rand(rng, r, c)
    check_vjp(la.mean_rows, [m], rng=rng)
    np.testing.assert_allclose(bp.eval_bp(la.mean_rows, m), m.mean(axis=0), rtol=1e-15)
    m[0, 0] = 0.0  # zeros count as rows (hmatrix's `mean` divides by the non-zero count)
    np.testing.assert_allclose(bp.grad_bp(lambda w: la.mean_rows(w), m), np.full((r, c), 1.0 / r))


# ---- vmap and zip_with_vector -------------------------------------------------------------


def cube_plus_sin(w: bp.BVar[float]) -> bp.BVar[float]:
    return w * w * w + bp.sin(w) * 2.0


def _square_fwd(x: float) -> tuple[float, Callable[[float], float]]:
    return x * x, lambda d: 2.0 * x * d


square_op: bp.Op[float, float] = bp.op1(_square_fwd)


def branchy(w: bp.BVar[float]) -> bp.BVar[float]:
    """Branches on the value: fine per element, impossible on a whole array."""
    return w * 3.0 if w.value > 0 else bp.exp(w)


VMAP_CASES: list[tuple[str, Any, Callable[[Array], Array]]] = [
    ("python function", cube_plus_sin, lambda x: x**3 + 2 * np.sin(x)),
    ("branching function", branchy, lambda x: np.where(x > 0, 3 * x, np.exp(x))),
    ("custom op", square_op, lambda x: x * x),
    ("native function", bp.tanh, np.tanh),
    ("native op", bp.sin_op, np.sin),
    ("numpy ufunc", np.tanh, np.tanh),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name,f,plain", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap(seed: int, name: str, f: Any, plain: Callable[[Array], Array]) -> None:
    rng = rng_for(seed)
    for shape in [(int(rng.integers(0, 7)),), tuple(sizes(rng, 2))]:
        x = rand(rng, *shape)
        check_vjp(lambda v: la.vmap(f, v), [x], rng=rng)
        np.testing.assert_allclose(bp.eval_bp(lambda v: la.vmap(f, v), x), plain(x), rtol=1e-14)
        y, _ = bp.backprop(lambda v: la.vmap(f, v), x)
        np.testing.assert_allclose(y, plain(x), rtol=1e-14)


def test_vmap_constant_function_gives_zero_gradient() -> None:
    x = np.array([1.0, -2.0, 3.0])
    y, g = bp.backprop(lambda v: la.vmap(lambda w: bp.const_var(7.0), v), x)
    np.testing.assert_array_equal(y, [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(g, np.zeros(3))


def test_vmap_evaluates_only_when_no_gradient_can_be_asked_for() -> None:
    seen: list[bool] = []

    def spy(w: bp.BVar[float]) -> bp.BVar[float]:
        seen.append(w.is_constant)
        return w * 2.0

    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(bp.eval_bp(lambda v: la.vmap(spy, v), x), [2.0, 4.0])
    assert seen == [True, True]  # eval_bp: f ran on constants, no per-element tapes
    seen.clear()
    np.testing.assert_array_equal(bp.grad_bp(lambda v: la.vmap(spy, v), x), [2.0, 2.0])
    assert seen == [False, False]


def test_vmap_function_must_not_capture_outer_bvars() -> None:
    # f runs on a tape of its own per element (hmatrix's rank-2 `forall s'.`): a captured BVar
    # of the enclosing run cannot be mixed in
    with pytest.raises(bp.TapeScopeError):
        bp.grad_bp2(lambda v, s: la.vmap(lambda w: w * s, v), np.ones(3), 2.0)


def test_vmap_rejects_non_scalar_results() -> None:
    with pytest.raises(TypeError, match="vmap"):
        pair: Any = lambda w: la.vec2(w, w)
        bp.grad_bp(lambda v: la.vmap(pair, v), np.array([1.0, 2.0]))


def hypot_ish(a: bp.BVar[float], b: bp.BVar[float]) -> bp.BVar[float]:
    return bp.sqrt(a * a + b * b + 1.0) * a


def _mul_fwd(x: float, y: float) -> tuple[float, Callable[[float], tuple[float, float]]]:
    return x * y, lambda d: (d * y, d * x)


mul_custom: bp.Op[float, float, float] = bp.op2(_mul_fwd)

ZIP_CASES: list[tuple[str, Any, Callable[[Array, Array], Array]]] = [
    ("python function", hypot_ish, lambda x, y: np.sqrt(x * x + y * y + 1) * x),
    ("custom op", mul_custom, lambda x, y: x * y),
    ("native function", bp.log_base, lambda x, y: np.log(y) / np.log(x)),
    ("native op", bp.mul_op, lambda x, y: x * y),
    ("numpy ufunc", np.subtract, np.subtract),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name,f,plain", ZIP_CASES, ids=[c[0] for c in ZIP_CASES])
def test_zip_with_vector(
    seed: int, name: str, f: Any, plain: Callable[[Array, Array], Array]
) -> None:
    rng = rng_for(seed)
    for shape in [(int(rng.integers(0, 7)),), tuple(sizes(rng, 2))]:
        # log_base wants positive arguments away from 1
        x = rng.uniform(1.5, 3.0, size=shape) if name == "native function" else rand(rng, *shape)
        y = rng.uniform(0.5, 3.0, size=shape) if name == "native function" else rand(rng, *shape)
        check_vjp(lambda u, v: la.zip_with_vector(f, u, v), [x, y], rng=rng)
        got = bp.eval_bp2(lambda u, v: la.zip_with_vector(f, u, v), x, y)
        np.testing.assert_allclose(got, plain(x, y), rtol=1e-13)


# ---- logsumexp / softmax / log_softmax ----------------------------------------------------


def np_logsumexp(x: Array, axis: Any) -> Any:
    return np.log(np.sum(np.exp(x), axis=axis))


def np_softmax(x: Array, axis: Any) -> Array:
    e = np.exp(x)
    out: Array = e / np.sum(e, axis=axis, keepdims=True)
    return out


def shapes_and_axes(rng: np.random.Generator) -> Iterator[tuple[tuple[int, ...], Any]]:
    yield tuple(sizes(rng, 1)), None
    yield tuple(sizes(rng, 1)), 0
    yield tuple(sizes(rng, 1)), -1
    shape2 = tuple(sizes(rng, 2))
    for axis in [None, 0, 1, -1, (0, 1)]:
        yield shape2, axis
    shape3 = tuple(sizes(rng, 3, hi=4))
    for axis in [None, 1, (0, 2), -1]:
        yield shape3, axis


@pytest.mark.parametrize("seed", SEEDS)
def test_logsumexp(seed: int) -> None:
    rng = rng_for(seed)
    for shape, axis in shapes_and_axes(rng):
        x = rand(rng, *shape)
        check_vjp(
            lambda v, axis=axis: la.logsumexp(v, axis),
            [x],
            rng=rng,
            what=f"logsumexp {shape} axis={axis}",
        )
        got = bp.eval_bp(lambda v, axis=axis: la.logsumexp(v, axis), x)
        want = np_logsumexp(x, axis)
        if np.ndim(want) == 0:
            assert type(got) is float
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_and_log_softmax(seed: int) -> None:
    rng = rng_for(seed)
    for shape, axis in shapes_and_axes(rng):
        x = rand(rng, *shape)
        check_vjp(
            lambda v, axis=axis: la.softmax(v, axis),
            [x],
            rng=rng,
            what=f"softmax {shape} axis={axis}",
        )
        check_vjp(
            lambda v, axis=axis: la.log_softmax(v, axis),
            [x],
            rng=rng,
            what=f"log_softmax {shape} axis={axis}",
        )
        np.testing.assert_allclose(
            bp.eval_bp(lambda v, axis=axis: la.softmax(v, axis), x), np_softmax(x, axis), rtol=1e-13
        )
        np.testing.assert_allclose(
            bp.eval_bp(lambda v, axis=axis: la.log_softmax(v, axis), x),
            np.log(np_softmax(x, axis)),
            rtol=1e-12,
            atol=1e-14,
        )


def test_softmax_default_axis_is_last() -> None:
    x = rand(rng_for(0, salt=3), 3, 4)
    np.testing.assert_allclose(bp.eval_bp(la.softmax, x).sum(axis=-1), np.ones(3))
    np.testing.assert_allclose(bp.eval_bp(la.log_softmax, x), np.log(np_softmax(x, -1)), rtol=1e-12)


def test_softmax_family_is_stable_for_large_inputs() -> None:
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]])
    shifted = x - x.max(axis=-1, keepdims=True)
    with np.errstate(all="raise"):  # no overflow, no 0/0
        lse, g = bp.backprop(lambda v: la.logsumexp(v, -1), x)
        s = bp.eval_bp(la.softmax, x)
        ls = bp.eval_bp(la.log_softmax, x)
    np.testing.assert_allclose(lse, np_logsumexp(shifted, -1) + x.max(axis=-1), rtol=1e-15)
    np.testing.assert_allclose(g, np_softmax(shifted, -1), rtol=1e-14)
    np.testing.assert_allclose(s, np_softmax(shifted, -1), rtol=1e-14)
    np.testing.assert_allclose(ls, np.log(np_softmax(shifted, -1)), rtol=1e-13)
    rng = rng_for(1, salt=3)
    check_vjp(lambda v: la.log_softmax(v, -1), [x], rng=rng, rel_step=1e-6, atol=1e-6)
    check_vjp(lambda v: la.softmax(v, -1), [x], rng=rng, rel_step=1e-6, atol=1e-6)


def test_logsumexp_edge_values() -> None:
    ninf = -np.inf
    assert bp.eval_bp(la.logsumexp, np.array([ninf, 0.0])) == 0.0
    assert bp.eval_bp(la.logsumexp, np.array([ninf, ninf])) == ninf
    assert bp.eval_bp(la.logsumexp, np.array([np.inf, 0.0])) == np.inf
    assert math.isnan(bp.eval_bp(la.logsumexp, np.array([np.nan, 0.0])))
    g = bp.grad_bp(la.logsumexp, np.array([ninf, 0.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


# ---- multi-output: one shared node ----------------------------------------------------------


class PullbackCounter:
    """Wraps op forwards so that every pullback call is counted."""

    def __init__(self) -> None:
        self.calls = 0

    def wrap_forward(self, forward: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*xs: Any) -> Any:
            y, pullback = forward(*xs)

            def counting(d: Any) -> Any:
                self.calls += 1
                return pullback(d)

            return y, counting

        return counted

    def op1(self, forward: Callable[..., Any]) -> Any:
        return bp.op1(self.wrap_forward(forward))


MULTI: list[
    tuple[str, Callable[[Any], tuple[Any, Any]], tuple[int, ...], Callable[[Any, Any], Array]]
] = [
    ("split", lambda v: la.split(v, 2), (5,), lambda a, b: np.concatenate([a, b])),
    ("split_rows", lambda m: la.split_rows(m, 1), (3, 4), lambda a, b: np.vstack([a, b])),
    ("split_cols", lambda m: la.split_cols(m, 3), (3, 4), lambda a, b: np.hstack([a, b])),
    ("head_tail", la.head_tail, (5,), lambda a, b: np.concatenate([[a], b])),
]
MULTI_IDS = [c[0] for c in MULTI]


@pytest.mark.parametrize("name,f,shape,rebuild", MULTI, ids=MULTI_IDS)
def test_multi_output_pullback_runs_once(
    name: str,
    f: Callable[[Any], tuple[Any, Any]],
    shape: tuple[int, ...],
    rebuild: Callable[[Any, Any], Array],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counter = PullbackCounter()
    monkeypatch.setattr(la, "op1", counter.op1)  # the ops built per call
    monkeypatch.setattr(la, "_head_tail_op", counter.op1(la._head_tail))  # the one built at import
    rng = rng_for(0, salt=4)
    x = rand(rng, *shape)
    y, pullback = bp.backprop_with(lambda v: tup(*f(v)), x)
    assert counter.calls == 0
    c = tuple(float(rng.normal()) if isinstance(p, float) else rng.normal(size=p.shape) for p in y)
    g = pullback(c)
    assert counter.calls == 1, f"{name}: the shared op's pullback ran {counter.calls} times"
    np.testing.assert_array_equal(g, rebuild(*c))
    # the two components used several times each, through other ops: still one call per sweep
    counter.calls = 0
    g = bp.grad_bp(lambda v: tup(*(2.0 * p + p * p for p in f(v))), x)
    assert counter.calls == 1
    parts = bp.eval_bp(lambda v: tup(*f(v)), x)
    np.testing.assert_allclose(g, rebuild(*(2.0 + 2.0 * np.asarray(p) for p in parts)), rtol=1e-15)


@pytest.mark.parametrize("name,f,shape,rebuild", MULTI, ids=MULTI_IDS)
@pytest.mark.parametrize("which", [0, 1])
def test_multi_output_unused_component_gets_zero(
    name: str,
    f: Callable[[Any], tuple[Any, Any]],
    shape: tuple[int, ...],
    rebuild: Callable[[Any, Any], Array],
    which: int,
) -> None:
    rng = rng_for(which, salt=5)
    x = rand(rng, *shape)
    parts = bp.eval_bp(lambda v: tup(*f(v)), x)
    c = [float(rng.normal()) if isinstance(p, float) else rng.normal(size=p.shape) for p in parts]
    _, pullback = bp.backprop_with(lambda v: f(v)[which], x)
    g = pullback(c[which])
    zeros = [0.0 if isinstance(p, float) else np.zeros(p.shape) for p in parts]
    zeros[which] = c[which]
    np.testing.assert_array_equal(
        g, rebuild(*zeros)
    )  # exactly zero where the unused part came from
    check_vjp(lambda v: f(v)[which], [x], rng=rng)


# ---- shape errors -------------------------------------------------------------------------

v5 = np.zeros(5)
m23 = np.zeros((2, 3))

SHAPE_ERRORS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("konst", lambda t: la.konst(t[0], (2, -1)), r"^konst: negative dimension in shape \(2, -1\)"),
    ("concat", lambda t: la.concat(t[1], t[0]), r"^concat: first argument .*shape \(2, 3\)"),
    ("concat", lambda t: la.concat(t[0], t[1]), r"^concat: second argument .*shape \(2, 3\)"),
    ("snoc", lambda t: la.snoc(t[1], t[2]), r"^snoc: .*shape \(2, 3\)"),
    ("split", lambda t: la.split(t[0], 7), r"^split: p=7 out of range for a vector of length 5$"),
    ("split", lambda t: la.split(t[0], -1), r"^split: p=-1 out of range"),
    ("split", lambda t: la.split(t[1], 1), r"^split: .*shape \(2, 3\)"),
    ("head_tail", lambda t: la.head_tail(t[3]), r"^head_tail: the vector is empty"),
    ("head_tail", lambda t: la.head_tail(t[1]), r"^head_tail: .*shape \(2, 3\)"),
    ("row", lambda t: la.row(t[1]), r"^row: .*shape \(2, 3\)"),
    ("col", lambda t: la.col(t[1]), r"^col: .*shape \(2, 3\)"),
    ("unrow", lambda t: la.unrow(t[1]), r"^unrow: expected a 1 x n matrix, got shape \(2, 3\)"),
    ("unrow", lambda t: la.unrow(t[0]), r"^unrow: .*shape \(5,\)"),
    ("uncol", lambda t: la.uncol(t[1]), r"^uncol: expected an n x 1 matrix, got shape \(2, 3\)"),
    (
        "hstack",
        lambda t: la.hstack(t[1], t[4]),
        r"^hstack: row counts differ: \(2, 3\) vs \(4, 1\)$",
    ),
    ("hstack", lambda t: la.hstack(t[1], t[0]), r"^hstack: second argument .*shape \(5,\)"),
    (
        "vstack",
        lambda t: la.vstack(t[1], t[4]),
        r"^vstack: column counts differ: \(2, 3\) vs \(4, 1\)$",
    ),
    ("vstack", lambda t: la.vstack(t[0], t[1]), r"^vstack: first argument .*shape \(5,\)"),
    ("split_rows", lambda t: la.split_rows(t[1], 3), r"^split_rows: p=3 out of range .*\(2, 3\)"),
    ("split_rows", lambda t: la.split_rows(t[0], 1), r"^split_rows: .*shape \(5,\)"),
    ("split_cols", lambda t: la.split_cols(t[1], 4), r"^split_cols: p=4 out of range .*\(2, 3\)"),
    ("diag", lambda t: la.diag(t[1]), r"^diag: .*shape \(2, 3\)"),
    ("take_diag", lambda t: la.take_diag(t[0]), r"^take_diag: .*shape \(5,\)"),
    ("linspace", lambda t: la.linspace(t[2], t[2], -2), r"^linspace: n=-2"),
    ("mean_rows", lambda t: la.mean_rows(t[0]), r"^mean_rows: .*shape \(5,\)"),
    (
        "mean_rows",
        lambda t: la.mean_rows(t[5]),
        r"^mean_rows: the matrix has no rows \(shape \(0, 3\)\)",
    ),
    (
        "zip_with_vector",
        lambda t: la.zip_with_vector(bp.mul_op, t[0], t[1]),
        r"^zip_with_vector: shapes differ: \(5,\) vs \(2, 3\)",
    ),
    (
        "logsumexp",
        lambda t: la.logsumexp(t[1], 2),
        r"^logsumexp: axis 2 out of range for shape \(2, 3\)",
    ),
    ("softmax", lambda t: la.softmax(t[1], (0, 0)), r"^softmax: bad axis"),
    ("softmax", lambda t: la.softmax(t[2]), r"^softmax: axis -1 out of range for shape \(\)"),
    ("log_softmax", lambda t: la.log_softmax(t[1], -3), r"^log_softmax: axis -3 out of range"),
]


@pytest.mark.parametrize(
    "name,call,pattern", SHAPE_ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(SHAPE_ERRORS)]
)
def test_shape_errors_name_the_function_and_record_nothing(
    name: str, call: Callable[[Any], Any], pattern: str
) -> None:
    tape = Tape()
    try:
        args = tuple(
            tape.input(x) for x in (v5, m23, 1.5, np.zeros(0), np.zeros((4, 1)), np.zeros((0, 3)))
        )
        before = len(tape)
        with pytest.raises(bp.ShapeError, match=pattern) as info:
            call(args)
        assert isinstance(info.value, ValueError)
        assert len(tape) == before, f"{name} recorded {len(tape) - before} nodes before failing"
    finally:
        tape.close()


def test_bad_integer_parameters() -> None:
    with pytest.raises(TypeError, match="split: p must be an int"):
        bp.grad_bp(lambda v: la.split(v, 1.5)[0], v5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="linspace: n must be an int"):
        bp.eval_bp2(lambda a, b: la.linspace(a, b, 2.0), 0.0, 1.0)  # type: ignore[arg-type]


# ---- dtypes, freshness, eval_bp -----------------------------------------------------------


def test_integer_arrays_are_converted_to_float64() -> None:
    ints = np.arange(6).reshape(2, 3)
    for f, want in [
        (la.mean_rows, ints.mean(axis=0)),
        (la.take_diag, np.array([0.0, 4.0])),
        (lambda v: la.softmax(v, -1), np_softmax(ints.astype(float), -1)),
    ]:
        y, g = bp.backprop(f, ints)
        assert y.dtype == np.float64
        np.testing.assert_allclose(y, want, rtol=1e-14)
        assert g.shape == ints.shape
    y = bp.eval_bp2(la.concat, np.array([1, 2]), np.array([3]))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0])


def _outputs_and_grads(
    f: Callable[..., Any], xs: list[Any]
) -> tuple[list[Any], list[Any], list[Any]]:
    """Result leaves, cotangent leaves and gradient leaves of one pullback call."""
    rng = rng_for(0, salt=6)
    y, pullback = bp.backprop_with_n(f, *xs)
    c = (
        tuple(rng.normal(size=np.shape(p)) for p in y)
        if isinstance(y, tuple)
        else rng.normal(size=np.shape(y))
    )
    grads = pullback(c)
    return _leaves(y), _leaves(c), list(grads)


def _leaves(t: Any) -> list[Any]:
    return list(t) if isinstance(t, tuple) else [t]


FRESH: list[tuple[str, Callable[..., Any], list[Any]]] = [
    ("konst", lambda a: la.konst(a, (2, 2)), [1.0]),
    ("vec3", la.vec3, [1.0, 2.0, 3.0]),
    ("concat", la.concat, [np.ones(3), np.ones(2)]),
    ("snoc", la.snoc, [np.ones(3), 2.0]),
    ("split", lambda v: tup(*la.split(v, 2)), [np.ones(5)]),
    ("head_tail", lambda v: tup(*la.head_tail(v)), [np.ones(5)]),
    ("row", la.row, [np.ones(4)]),
    ("col", la.col, [np.ones(4)]),
    ("unrow", la.unrow, [np.ones((1, 4))]),
    ("uncol", la.uncol, [np.ones((4, 1))]),
    ("hstack", la.hstack, [np.ones((2, 2)), np.ones((2, 3))]),
    ("vstack", la.vstack, [np.ones((2, 2)), np.ones((3, 2))]),
    ("split_rows", lambda m: tup(*la.split_rows(m, 1)), [np.ones((3, 2))]),
    ("split_cols", lambda m: tup(*la.split_cols(m, 1)), [np.ones((3, 2))]),
    ("diag", la.diag, [np.ones(3)]),
    ("take_diag", la.take_diag, [np.ones((3, 3))]),
    ("linspace", lambda a, b: la.linspace(a, b, 4), [0.0, 1.0]),
    ("vmap", lambda v: la.vmap(bp.tanh, v), [np.ones(3)]),
    ("vmap per element", lambda v: la.vmap(cube_plus_sin, v), [np.ones(3)]),
    ("zip_with_vector", lambda u, v: la.zip_with_vector(bp.mul_op, u, v), [np.ones(3), np.ones(3)]),
    ("mean_rows", la.mean_rows, [np.ones((2, 3))]),
    ("logsumexp", lambda v: la.logsumexp(v, 0), [np.ones((2, 3))]),
    ("softmax", la.softmax, [np.ones((2, 3))]),
    ("log_softmax", la.log_softmax, [np.ones((2, 3))]),
]


@pytest.mark.parametrize("name,f,xs", FRESH, ids=[c[0] for c in FRESH])
def test_results_and_gradients_share_no_memory(
    name: str, f: Callable[..., Any], xs: list[Any]
) -> None:
    ys, cs, gs = _outputs_and_grads(f, xs)
    arrays_in = [x for x in xs + cs if isinstance(x, np.ndarray)]
    for out in ys + gs:
        if isinstance(out, np.ndarray):
            assert out.dtype == np.float64
            for a in arrays_in:
                assert not np.shares_memory(out, a), (
                    f"{name}: an output aliases an input or the cotangent"
                )
        else:
            assert type(out) is float, (
                f"{name}: scalar {out!r} is a {type(out).__qualname__}, not a float"
            )


def test_eval_bp_equals_numpy() -> None:
    rng = rng_for(0, salt=7)
    v, m = rand(rng, 6), rand(rng, 4, 3)

    def pipeline(w: Any) -> Any:
        a, b = la.split(w, 2)
        h, t = la.head_tail(b)
        mat = la.vstack(la.row(la.snoc(a, h)), la.row(t))  # 2 x 3
        block = la.hstack(mat, la.col(la.vec2(h, h)))  # 2 x 4
        below = la.hstack(la.diag(la.take_diag(block)), la.split_cols(block, 2)[1])  # 2 x 4
        top, _ = la.split_rows(la.vstack(block, below), 2)
        return la.log_softmax(top, -1)

    def plain(w: Array) -> Array:
        a, b = w[:2], w[2:]
        h, t = b[0], b[1:]
        mat = np.vstack([np.append(a, h)[None, :], t[None, :]])
        block = np.hstack([mat, np.array([[h], [h]])])
        z = block
        out: Array = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        return out

    np.testing.assert_allclose(bp.eval_bp(pipeline, v), plain(v), rtol=1e-13)
    check_vjp(pipeline, [v], rng=rng)

    def stats(w: Any) -> Any:
        mr = la.mean_rows(w)
        left, right = la.split_cols(w, 1)
        return la.concat(la.softmax(mr), la.concat(la.uncol(left), la.take_diag(right)))

    want = np.concatenate([np_softmax(m.mean(axis=0), -1), m[:, 0], np.diagonal(m[:, 1:])])
    np.testing.assert_allclose(bp.eval_bp(stats, m), want, rtol=1e-13)
    check_vjp(stats, [m], rng=rng)


def test_public_reexports() -> None:
    from bprop import linalg

    missing = [n for n in la.__all__ if not hasattr(linalg, n)]
    if len(missing) == len(la.__all__):
        pytest.skip("bprop.linalg does not re-export the structural functions yet")
    assert not missing, f"bprop.linalg does not export {missing}"
    for n in la.__all__:
        assert getattr(linalg, n) is getattr(la, n), n
