"""bprop.linalg decompositions, determinants, norms and covariance.

Every gradient is checked coordinate by coordinate against central finite differences of an
independent numpy implementation, with random shapes (sizes 1-5) and random cotangents, never
through a norm. The symmetric-input functions (eigenvalues, eigensystem, chol) are also checked
along random symmetric directions, which is what their gradient convention `<G, E> = df`
promises. A few tests re-implement the formulas hmatrix-backprop gets wrong and show that the
same checks reject them, so the checks are known to be sharp enough.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop.errors import ShapeError
from bprop.linalg import _decomp as la
from fd import central_diff, check_vjp

SEEDS = range(8)


# ---- random inputs ------------------------------------------------------------------------------


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def well_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random n x n matrix with singular values in [0.5, 2] (either sign of determinant)."""
    return orthogonal(rng, n) @ np.diag(rng.uniform(0.5, 2.0, n)) @ orthogonal(rng, n)


def separated(rng: np.random.Generator, n: int, lo: float = -3.0) -> np.ndarray:
    """n ascending values with gaps in [0.5, 1.5]."""
    return lo + rng.uniform(0.0, 1.0) + np.cumsum(rng.uniform(0.5, 1.5, n))


def clear_sign_entries(v: np.ndarray) -> bool:
    """Each column's largest-magnitude entry stands clear of the runner-up (so a small step does
    not change which entry fixes the column's sign)."""
    mags = np.sort(np.abs(v), axis=0)
    return v.shape[0] < 2 or bool(np.all(mags[-1] - mags[-2] > 0.05))


def symmetric_with_gaps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random symmetric matrix with well-separated eigenvalues and unambiguous eigenvector signs."""
    while True:
        q = orthogonal(rng, n)
        if clear_sign_entries(q):
            lam = separated(rng, n)
            return (q * lam) @ q.T


def spd(rng: np.random.Generator, n: int) -> np.ndarray:
    q = orthogonal(rng, n)
    return (q * rng.uniform(0.5, 3.0, n)) @ q.T


def random_symmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, n))
    return (a + a.T) / 2


def size(rng: np.random.Generator, lo: int = 1, hi: int = 5) -> int:
    return int(rng.integers(lo, hi + 1))


# ---- plain numpy references ----------------------------------------------------------------------


def sign_fixed(v: np.ndarray) -> np.ndarray:
    """Eigenvectors with each column's largest-magnitude entry made positive (bprop's choice)."""
    v = v.copy()
    rows = np.argmax(np.abs(v), axis=0)
    v[:, v[rows, np.arange(v.shape[1])] < 0] *= -1
    return v


def np_sym(a: np.ndarray) -> np.ndarray:
    return (a + a.T) / 2


def np_eigh(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, v = np.linalg.eigh(np_sym(s))
    return lam, sign_fixed(v)


def np_chol(s: np.ndarray) -> np.ndarray:
    return np.linalg.cholesky(np_sym(s))


def np_inv_logabsdet(a: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    sign, logabs = np.linalg.slogdet(a)
    return np.linalg.inv(a), (float(logabs), float(sign))


def np_mean_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])


def np_cov(x: np.ndarray) -> np.ndarray:
    return np_mean_cov(x)[1]


def matrix_norm(ord_: Any) -> Callable[[np.ndarray], float]:
    return lambda a: float(np.linalg.norm(a, ord_))


# ---- finite-difference helpers -------------------------------------------------------------------


def flat(value: Any) -> np.ndarray:
    if isinstance(value, tuple):
        return np.concatenate([flat(v) for v in value])
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()


def fd_gradient(objective: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Coordinate-wise central-difference gradient of a scalar function of an array."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):

        def along(t: float, idx: tuple[int, ...] = idx) -> float:
            moved = x.copy()
            moved[idx] = t
            return objective(moved)

        (grad[idx],) = central_diff(along, [float(x[idx])])
    return grad


def directional_fd(f: Callable[[np.ndarray], Any], s: np.ndarray, e: np.ndarray, c: Any) -> float:
    """d/dt <c, f(s + t e)> at t = 0, by central differences."""
    c_flat = flat(c)
    (d,) = central_diff(lambda t: float(c_flat @ flat(f(s + t * e))), [0.0], rel_step=1e-3)
    return float(d)


def pullback_of(f: Callable[[Any], Any], x: np.ndarray, cotangent: Any) -> np.ndarray:
    _, pullback = bp.backprop_with(f, x)
    return np.asarray(pullback(cotangent))


# bprop functions as single-output BVar functions (multi-output ones packed with op_tup)


def eigensystem_tup(v: Any) -> Any:
    lam, vecs = la.eigensystem(v)
    return bp.op_tup(lam, vecs)


def mean_cov_tup(v: Any) -> Any:
    mean, c = la.mean_cov(v)
    return bp.op_tup(mean, c)


def inv_logabsdet_tup(v: Any) -> Any:
    inverse, (logabs, sign) = la.inv_logabsdet(v)
    return bp.op_tup(inverse, bp.op_tup(logabs, sign))


# ---- gradients against finite differences (coordinate-wise, random cotangents) -------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_det_inv_logabsdet_vjp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = well_conditioned(rng, size(rng))
    check_vjp(la.det, [a], rng=rng, plain=np.linalg.det, what="det")
    check_vjp(la.inv, [a], rng=rng, plain=np.linalg.inv, what="inv")
    check_vjp(la.logabsdet, [a], rng=rng, plain=lambda m: np.linalg.slogdet(m)[1], what="logabsdet")
    check_vjp(inv_logabsdet_tup, [a], rng=rng, plain=np_inv_logabsdet, what="inv_logabsdet")


@pytest.mark.parametrize("seed", SEEDS)
def test_inv_logabsdet_single_components(seed: int) -> None:
    """Using one component only: the other components' gradients are zero-filled."""
    rng = np.random.default_rng(seed)
    a = well_conditioned(rng, size(rng))
    only_logabs = lambda v: la.inv_logabsdet(v)[1][0]
    only_inv = lambda v: la.inv_logabsdet(v)[0]
    only_sign = lambda v: la.inv_logabsdet(v)[1][1]
    np.testing.assert_allclose(
        bp.grad_bp(only_logabs, a), np.linalg.inv(a).T, rtol=1e-10, atol=1e-12
    )
    check_vjp(only_inv, [a], rng=rng, plain=np.linalg.inv)
    np.testing.assert_array_equal(bp.grad_bp(only_sign, a), np.zeros_like(a))


@pytest.mark.parametrize("seed", SEEDS)
def test_det_gradient_at_singular_matrix(seed: int) -> None:
    """det's gradient is the cofactor matrix, defined at singular matrices too."""
    rng = np.random.default_rng(seed)
    n = size(rng, 2, 5)
    a = well_conditioned(rng, n)
    u, s, vt = np.linalg.svd(a)
    s[-1] = 0.0  # rank n-1
    singular = (u * s) @ vt
    g = bp.grad_bp(la.det, singular)
    expected = fd_gradient(lambda m: float(np.linalg.det(m)), singular)
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)
    assert np.abs(g).max() > 1e-3  # rank n-1: the cofactor matrix is not zero


@pytest.mark.parametrize("seed", SEEDS)
def test_norms_vjp_vectors(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = size(rng)
    while True:
        v = rng.normal(size=n)
        mags = np.sort(np.abs(v))
        if mags[0] > 0.05 and (n == 1 or mags[-1] - mags[-2] > 0.05):
            break
    check_vjp(la.norm_0, [v], rng=rng, plain=lambda x: float(np.count_nonzero(x)), what="norm_0")
    check_vjp(la.norm_1, [v], rng=rng, plain=lambda x: float(np.linalg.norm(x, 1)), what="norm_1")
    check_vjp(la.norm_2, [v], rng=rng, plain=lambda x: float(np.linalg.norm(x, 2)), what="norm_2")
    check_vjp(
        la.norm_inf, [v], rng=rng, plain=lambda x: float(np.linalg.norm(x, np.inf)), what="norm_inf"
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_norms_vjp_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (size(rng), size(rng))
    while True:
        a = rng.normal(size=shape)
        cols = np.sort(np.abs(a).sum(axis=0))
        rows = np.sort(np.abs(a).sum(axis=1))
        sv = np.linalg.svd(a, compute_uv=False)
        if (
            np.abs(a).min() > 0.05
            and (cols.size == 1 or cols[-1] - cols[-2] > 0.05)
            and (rows.size == 1 or rows[-1] - rows[-2] > 0.05)
            and (sv.size == 1 or sv[0] - sv[1] > 0.05)
        ):
            break
    check_vjp(la.norm_0, [a], rng=rng, plain=lambda x: float(np.count_nonzero(x)), what="norm_0")
    check_vjp(la.norm_1, [a], rng=rng, plain=matrix_norm(1), what="norm_1")
    check_vjp(la.norm_2, [a], rng=rng, plain=matrix_norm(2), what="norm_2")
    check_vjp(la.norm_inf, [a], rng=rng, plain=matrix_norm(np.inf), what="norm_inf")


@pytest.mark.parametrize("seed", SEEDS)
def test_cov_mean_cov_vjp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(size(rng, 2, 6), size(rng)))
    # random (hence non-symmetric) cotangents: the factor (G + Gᵀ) is what is tested
    check_vjp(la.cov, [x], rng=rng, plain=np_cov, what="cov")
    check_vjp(mean_cov_tup, [x], rng=rng, plain=np_mean_cov, what="mean_cov")
    check_vjp(
        lambda v: la.mean_cov(v)[0], [x], rng=rng, plain=lambda m: m.mean(axis=0), what="mean only"
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_vjp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=3), rng.normal(size=3)
    check_vjp(la.cross, [u, v], rng=rng, plain=np.cross, what="cross")


@pytest.mark.parametrize("seed", SEEDS)
def test_svd_sym_mtm_vjp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (size(rng), size(rng))
    k = min(shape)
    sv = separated(rng, k, lo=0.0)[::-1]  # distinct, positive: the values are smooth here
    a = orthogonal(rng, shape[0])[:, :k] @ np.diag(sv) @ orthogonal(rng, shape[1])[:k, :]
    check_vjp(la.svd, [a], rng=rng, plain=lambda m: np.linalg.svd(m, compute_uv=False), what="svd")
    check_vjp(la.mtm, [a], rng=rng, plain=lambda m: m.T @ m, what="mtm")
    sq = rng.normal(size=(shape[0], shape[0]))
    check_vjp(la.sym, [sq], rng=rng, plain=np_sym, what="sym")


@pytest.mark.parametrize("seed", SEEDS)
def test_symmetric_input_vjp_coordinatewise(seed: int) -> None:
    """The forward pass decomposes sym(s), so the returned symmetric gradient is also the plain
    coordinate-wise gradient, even at a non-symmetric point."""
    rng = np.random.default_rng(seed)
    n = size(rng)
    s = symmetric_with_gaps(rng, n) + 0.01 * rng.normal(size=(n, n))  # slightly non-symmetric
    check_vjp(la.eigenvalues, [s], rng=rng, plain=lambda m: np_eigh(m)[0], what="eigenvalues")
    check_vjp(eigensystem_tup, [s], rng=rng, plain=np_eigh, what="eigensystem")
    check_vjp(
        lambda v: la.eigensystem(v)[1],
        [s],
        rng=rng,
        plain=lambda m: np_eigh(m)[1],
        what="eigenvectors",
    )
    p = spd(rng, n) + 0.01 * rng.normal(size=(n, n))
    check_vjp(la.chol, [p], rng=rng, plain=np_chol, what="chol")


# ---- symmetric-input functions: directional checks ------------------------------------------------


def directional_case(
    fn: Callable[[Any], Any],
    ref: Callable[[np.ndarray], Any],
    s: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float, float, np.ndarray, Any]:
    """(G, <G, E>, finite difference of <C, ref(s + tE)>, E, C) for random symmetric E, random C."""
    n = s.shape[0]
    e = random_symmetric(rng, n)
    y = ref(s)
    c = (
        tuple(rng.normal(size=np.shape(p)) for p in y)
        if isinstance(y, tuple)
        else rng.normal(size=y.shape)
    )
    g = pullback_of(fn, s, c)
    return g, float(np.sum(g * e)), directional_fd(ref, s, e, c), e, c


@pytest.mark.parametrize("seed", SEEDS)
def test_eigenvalues_directional(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = symmetric_with_gaps(rng, size(rng))
    g, got, want, _, _ = directional_case(la.eigenvalues, lambda m: np.linalg.eigvalsh(m), s, rng)
    np.testing.assert_array_equal(g, g.T)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_eigensystem_directional(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = symmetric_with_gaps(rng, size(rng))
    g, got, want, _, _ = directional_case(eigensystem_tup, np_eigh, s, rng)
    np.testing.assert_array_equal(g, g.T)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)
    # eigenvectors alone
    g, got, want, _, _ = directional_case(
        lambda v: la.eigensystem(v)[1], lambda m: np_eigh(m)[1], s, rng
    )
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_chol_directional(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = spd(rng, size(rng))
    g, got, want, _, _ = directional_case(la.chol, np.linalg.cholesky, s, rng)
    np.testing.assert_array_equal(g, g.T)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


# ---- hmatrix-backprop's wrong formulas are rejected by the same checks -----------------------------
# Each `hmatrix_*` below restates (in numpy) the pullback hmatrix-backprop uses, to show that the
# checks above would catch it; bprop's own result passes the identical comparison.


def hmatrix_cov_grad(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """2 (x - mean) G / (m - 1): right only for symmetric G."""
    xc = x - x.mean(axis=0)
    return 2 * xc @ g / (x.shape[0] - 1)


def hmatrix_eigensystem_grad(s: np.ndarray, d_lam: np.ndarray, d_vecs: np.ndarray) -> np.ndarray:
    """Uses F_ij = lambda_j - lambda_i (a difference where a reciprocal belongs), unsymmetrised."""
    lam, v = np_eigh(s)
    f = (lam[None, :] - lam[:, None]) * (1 - np.eye(len(lam)))
    return np.linalg.inv(v).T @ (np.diag(d_lam) + f * (v.T @ d_vecs)) @ v.T


def hmatrix_chol_grad(s: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Mask on the upper triangle, then X + Xᵀ - diag(X) (the off-diagonal counted twice)."""
    lower = np.linalg.cholesky(s)
    l_inv = np.linalg.inv(lower)
    mask = np.triu(np.ones_like(s), 1) + 0.5 * np.eye(len(s))
    x = l_inv.T @ (mask * (lower.T @ d)) @ l_inv
    return x + x.T - np.eye(len(s)) * x


@pytest.mark.parametrize("seed", SEEDS)
def test_cov_gradient_rejects_hmatrix_factor(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(size(rng, 2, 6), size(rng, 2, 5)))
    g = rng.normal(size=(x.shape[1], x.shape[1]))  # not symmetric
    want = fd_gradient(lambda m: float(np.sum(g * np_cov(m))), x)
    np.testing.assert_allclose(pullback_of(la.cov, x, g), want, rtol=1e-6, atol=1e-8)
    assert not np.allclose(hmatrix_cov_grad(x, g), want, rtol=1e-6, atol=1e-8)
    # mean_cov's covariance component, the same way
    d = (np.zeros(x.shape[1]), g)
    np.testing.assert_allclose(pullback_of(mean_cov_tup, x, d), want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_eigensystem_gradient_rejects_hmatrix_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = symmetric_with_gaps(rng, size(rng, 2, 5))
    e = random_symmetric(rng, s.shape[0])
    c = (rng.normal(size=s.shape[0]), rng.normal(size=s.shape))
    want = directional_fd(np_eigh, s, e, c)
    got = float(np.sum(pullback_of(eigensystem_tup, s, c) * e))
    wrong = float(np.sum(hmatrix_eigensystem_grad(s, *c) * e))
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert wrong != pytest.approx(want, rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_chol_gradient_rejects_hmatrix_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = spd(rng, size(rng, 2, 5))
    e = random_symmetric(rng, s.shape[0])
    c = rng.normal(size=s.shape)
    want = directional_fd(np.linalg.cholesky, s, e, c)
    got = float(np.sum(pullback_of(la.chol, s, c) * e))
    wrong = float(np.sum(hmatrix_chol_grad(s, c) * e))
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert wrong != pytest.approx(want, rel=1e-3, abs=1e-6)


# ---- forward values, eval_bp, result types ---------------------------------------------------------


def forward_cases(
    rng: np.random.Generator,
) -> list[tuple[str, Callable[[Any], Any], Callable[[np.ndarray], Any], np.ndarray]]:
    n = size(rng)
    a = well_conditioned(rng, n)
    rect = rng.normal(size=(size(rng), size(rng)))
    vec = rng.normal(size=size(rng))
    obs = rng.normal(size=(size(rng, 2, 6), size(rng)))
    s = symmetric_with_gaps(rng, n)
    return [
        ("det", la.det, lambda m: float(np.linalg.det(m)), a),
        ("inv", la.inv, np.linalg.inv, a),
        ("logabsdet", la.logabsdet, lambda m: float(np.linalg.slogdet(m)[1]), a),
        ("inv_logabsdet", inv_logabsdet_tup, np_inv_logabsdet, a),
        (
            "norm_0 vector",
            la.norm_0,
            lambda x: float(np.count_nonzero(x)),
            np.where(vec > 0.3, vec, 0.0),
        ),
        (
            "norm_0 matrix",
            la.norm_0,
            lambda x: float(np.count_nonzero(x)),
            np.where(rect > 0.3, rect, 0.0),
        ),
        ("norm_1 vector", la.norm_1, lambda x: float(np.linalg.norm(x, 1)), vec),
        ("norm_1 matrix", la.norm_1, matrix_norm(1), rect),
        ("norm_2 vector", la.norm_2, lambda x: float(np.linalg.norm(x)), vec),
        ("norm_2 matrix", la.norm_2, matrix_norm(2), rect),
        ("norm_inf vector", la.norm_inf, lambda x: float(np.linalg.norm(x, np.inf)), vec),
        ("norm_inf matrix", la.norm_inf, matrix_norm(np.inf), rect),
        ("cov", la.cov, lambda x: np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1]), obs),
        ("mean_cov", mean_cov_tup, np_mean_cov, obs),
        ("eigenvalues", la.eigenvalues, np.linalg.eigvalsh, s),
        ("eigensystem", eigensystem_tup, np_eigh, s),
        ("chol", la.chol, np.linalg.cholesky, spd(rng, n)),
        ("svd", la.svd, lambda m: np.linalg.svd(m, compute_uv=False), rect),
        ("sym", la.sym, np_sym, a),
        ("mtm", la.mtm, lambda m: m.T @ m, rect),
    ]


def assert_same(got: Any, want: Any, what: str) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for g, w in zip(got, want):
            assert_same(g, w, what)
    elif isinstance(want, float):
        assert type(got) is float, f"{what}: scalar result should be a float, got {type(got)}"
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12), what
    else:
        assert isinstance(got, np.ndarray) and got.dtype == np.float64, what
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("seed", SEEDS)
def test_forward_values_and_eval_bp_match_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for name, fn, ref, x in forward_cases(rng):
        want = ref(x)
        assert_same(bp.eval_bp(fn, x), want, f"{name} (eval_bp)")
        value, grad = bp.backprop(fn, x)
        assert_same(value, want, f"{name} (backprop)")
        assert isinstance(grad, np.ndarray) and grad.shape == x.shape, name
        assert not np.shares_memory(grad, x), name


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_forward(seed: int) -> None:
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(bp.eval_bp2(la.cross, u, v), np.cross(u, v), rtol=1e-14)
    value, (gu, gv) = bp.backprop2(la.cross, u, v)
    np.testing.assert_allclose(value, np.cross(u, v), rtol=1e-14)
    # seed ones: gradients are v × 1 and 1 × u
    np.testing.assert_allclose(gu, np.cross(v, np.ones(3)), rtol=1e-14)
    np.testing.assert_allclose(gv, np.cross(np.ones(3), u), rtol=1e-14)


def test_eigensystem_conventions() -> None:
    rng = np.random.default_rng(42)
    s = symmetric_with_gaps(rng, 5)
    lam, vecs = bp.eval_bp(eigensystem_tup, s)
    assert np.all(np.diff(lam) > 0)  # ascending
    np.testing.assert_allclose((vecs * lam) @ vecs.T, s, atol=1e-12)  # columns are eigenvectors
    cols = np.arange(5)
    assert np.all(vecs[np.argmax(np.abs(vecs), axis=0), cols] > 0)  # sign normalisation
    assert bp.eval_bp(la.eigenvalues, s) == pytest.approx(lam)


def test_chol_and_svd_conventions() -> None:
    rng = np.random.default_rng(7)
    s = spd(rng, 4)
    lower = bp.eval_bp(la.chol, s)
    np.testing.assert_array_equal(lower, np.tril(lower))
    np.testing.assert_allclose(lower @ lower.T, s, atol=1e-12)
    values = bp.eval_bp(la.svd, rng.normal(size=(3, 5)))
    assert values.shape == (3,) and np.all(np.diff(values) <= 0)


def test_results_are_fresh_and_pullback_is_unaffected_by_mutation() -> None:
    rng = np.random.default_rng(3)
    a = well_conditioned(rng, 3)
    c = rng.normal(size=(3, 3))
    y, pullback = bp.backprop_with(la.inv, a)
    expected = pullback(c)
    assert not y.flags.writeable  # results are frozen (the tape may read them again) ...
    y.copy()[...] = 0.0  # ... a copy is the caller's
    a[...] = 0.0  # and the input was snapshotted
    np.testing.assert_array_equal(pullback(c), expected)
    assert not np.shares_memory(bp.eval_bp(la.sym, a), a)


def test_integer_input_is_converted() -> None:
    m = np.array([[2, 1], [1, 3]])
    value, grad = bp.backprop(la.det, m)
    assert type(value) is float and value == pytest.approx(5.0)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [[3.0, -1.0], [-1.0, 2.0]])
    np.testing.assert_allclose(bp.eval_bp(la.chol, m), np.linalg.cholesky(m.astype(float)))
    assert bp.eval_bp(la.norm_1, np.array([1, -2, 3])) == 6.0


# ---- subgradient conventions at ties and zeros ------------------------------------------------------


def test_norm_subgradients_at_zeros_and_ties() -> None:
    # zero entries get sign 0
    np.testing.assert_array_equal(
        bp.grad_bp(la.norm_1, np.array([2.0, 0.0, -1.0])), [1.0, 0.0, -1.0]
    )
    # zero vector / matrix: zero gradient, no nan
    np.testing.assert_array_equal(bp.grad_bp(la.norm_2, np.zeros(3)), np.zeros(3))
    np.testing.assert_array_equal(bp.grad_bp(la.norm_2, np.zeros((2, 3))), np.zeros((2, 3)))
    # ties: the first maximal entry / column / row takes the whole gradient
    np.testing.assert_array_equal(
        bp.grad_bp(la.norm_inf, np.array([1.0, -3.0, 3.0])), [0.0, -1.0, 0.0]
    )
    np.testing.assert_array_equal(
        bp.grad_bp(la.norm_1, np.array([[1.0, -2.0], [-2.0, 1.0]])), [[1.0, 0.0], [-1.0, 0.0]]
    )
    np.testing.assert_array_equal(
        bp.grad_bp(la.norm_inf, np.array([[1.0, -2.0], [-2.0, 1.0]])), [[1.0, -1.0], [0.0, 0.0]]
    )
    np.testing.assert_array_equal(
        bp.grad_bp(la.norm_0, np.array([[1.0, 0.0], [3.0, 0.0]])), np.zeros((2, 2))
    )
    assert bp.eval_bp(la.norm_0, np.array([[1.0, 0.0], [3.0, 0.0]])) == 2.0


def test_eigenvalues_of_repeated_eigenvalues_have_finite_gradient() -> None:
    s = np.eye(3) * 2.0
    g = bp.grad_bp(lambda v: la.eigensystem(v)[0], s)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, np.eye(3), atol=1e-12)  # d sum(lambda) = d trace


# ---- errors -----------------------------------------------------------------------------------------

BAD_SHAPES: list[tuple[str, Callable[[Any], Any], tuple[int, ...]]] = [
    ("det", la.det, (2, 3)),
    ("inv", la.inv, (3,)),
    ("logabsdet", la.logabsdet, (2, 2, 2)),
    ("inv_logabsdet", la.inv_logabsdet, (1, 2)),
    ("eigenvalues", la.eigenvalues, (3, 2)),
    ("eigensystem", la.eigensystem, (4,)),
    ("chol", la.chol, (2, 3)),
    ("sym", la.sym, (1, 3)),
    ("svd", la.svd, (3,)),
    ("mtm", la.mtm, (2, 2, 1)),
    ("norm_0", la.norm_0, ()),
    ("norm_1", la.norm_1, (2, 2, 2)),
    ("norm_2", la.norm_2, ()),
    ("norm_inf", la.norm_inf, (1, 1, 1)),
    ("cov", la.cov, (5,)),
    ("cov", la.cov, (1, 3)),
    ("mean_cov", la.mean_cov, (4, 2, 1)),
]


@pytest.mark.parametrize(
    ("name", "fn", "shape"), BAD_SHAPES, ids=[f"{n}-{s}" for n, _, s in BAD_SHAPES]
)
def test_shape_errors_name_function_and_shape(
    name: str, fn: Callable[[Any], Any], shape: tuple[int, ...]
) -> None:
    x = np.ones(shape)
    for runner in (bp.eval_bp, bp.backprop):
        with pytest.raises(ShapeError) as info:
            runner(fn, x)
        assert isinstance(info.value, ValueError)
        assert str(info.value).startswith(f"{name}:"), str(info.value)
        assert str(shape) in str(info.value)


def test_cross_shape_error_names_both_shapes() -> None:
    with pytest.raises(ShapeError, match=r"cross: .*\(2,\) and \(3,\)"):
        bp.eval_bp2(la.cross, np.ones(2), np.ones(3))
    with pytest.raises(ShapeError, match=r"cross: .*\(3,\) and \(3, 1\)"):
        bp.backprop2(la.cross, np.ones(3), np.ones((3, 1)))


def test_singular_and_indefinite_matrices_raise_linalgerror() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError):
        bp.eval_bp(la.inv, singular)
    with pytest.raises(np.linalg.LinAlgError):
        bp.backprop(inv_logabsdet_tup, singular)
    with pytest.raises(np.linalg.LinAlgError):
        bp.eval_bp(la.chol, np.array([[1.0, 2.0], [2.0, 1.0]]))
    # logabsdet: -inf like slogdet; only its gradient needs the inverse
    assert bp.eval_bp(la.logabsdet, singular) == -np.inf
    with pytest.raises(np.linalg.LinAlgError):
        bp.backprop(la.logabsdet, singular)
    # det itself is fine at a singular matrix
    value, grad = bp.backprop(la.det, singular)
    assert value == 0.0
    np.testing.assert_allclose(grad, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


NAN_CASES: list[tuple[str, Callable[[Any], Any]]] = [
    ("det", la.det),
    ("inv", la.inv),
    ("logabsdet", la.logabsdet),
    ("inv_logabsdet", inv_logabsdet_tup),
    ("norm_1", la.norm_1),
    ("norm_2", la.norm_2),
    ("norm_inf", la.norm_inf),
    ("cov", la.cov),
    ("mean_cov", mean_cov_tup),
    ("eigenvalues", la.eigenvalues),
    ("eigensystem", eigensystem_tup),
    ("chol", la.chol),
    ("svd", la.svd),
    ("sym", la.sym),
    ("mtm", la.mtm),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize(("name", "fn"), NAN_CASES, ids=[n for n, _ in NAN_CASES])
def test_nan_and_inf_pass_through(name: str, fn: Callable[[Any], Any], bad: float) -> None:
    x = np.array([[2.0, bad, 0.5], [0.0, 3.0, 0.1], [0.5, 0.1, 4.0]])
    value, grad = bp.backprop(fn, x)  # no exception
    assert not (np.isfinite(flat(value)).all() and np.isfinite(grad).all()), name
