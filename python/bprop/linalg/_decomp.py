"""Determinants, inverses, norms, covariance and decompositions (SPEC §7), as bprop Ops.

Each function is one Op: the forward pass is numpy / numpy.linalg on float64 (integer and other
real arrays are converted), the pullback is written out by hand. Gradient formulas are stated
next to each op; `<A, B>` is the Frobenius inner product sum(A * B).

Conventions
-----------
* Scalar results are plain Python floats; array results (values and gradients) are fresh arrays.
* Shape errors raise `bprop.errors.ShapeError` naming the function and the offending shape(s)
  when the function is called, before anything is recorded.
* Singular or non-positive-definite input: numpy's `LinAlgError` propagates unchanged
  (`inv`, `inv_logabsdet` and `chol` raise in the forward pass; `logabsdet` of a singular
  matrix is -inf like `numpy.linalg.slogdet` and raises only if its gradient is asked for).
  `det` has a gradient everywhere, singular matrices included (see `det`).
* Symmetric-input functions (`eigenvalues`, `eigensystem`, `chol`) decompose `sym(s)` =
  (s + sᵀ)/2, which is `s` itself for symmetric input. Their gradient G is symmetric and satisfies
  `<G, E> = df` for symmetric perturbations E. Because the forward pass symmetrises, G is also
  the plain (coordinate-wise) gradient of the function as computed, for any square input.
* NaN/inf entries pass through: where LAPACK would refuse them (SVD, eigh, Cholesky: `det`'s
  gradient, matrix `norm_2`, `svd`, `eigenvalues`, `eigensystem`, `chol`) the result and the
  gradient are all-NaN; elsewhere numpy's own result (usually NaN) is returned.
* Non-smooth points: the subgradient chosen is stated in each docstring (`norm_1`, `norm_2`,
  `norm_inf`, `svd`); ties go to the lowest index, as `numpy.argmax` picks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from .._core import BVar
from ..errors import ShapeError
from ..op import op1, op2
from ._multi import lift_multi
from ._common import Array, as_f64, named, value_shape

__all__ = [
    "det",
    "inv",
    "logabsdet",
    "inv_logabsdet",
    "norm_0",
    "norm_1",
    "norm_2",
    "norm_inf",
    "cov",
    "mean_cov",
    "cross",
    "eigenvalues",
    "eigensystem",
    "chol",
    "svd",
    "sym",
    "mtm",
]



# ---- helpers ------------------------------------------------------------------------------------


def _square(name: str, v: Any) -> None:
    shape = value_shape(v)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"{name}: expected a square matrix of shape (n, n), got shape {shape}")


def _matrix(name: str, v: Any) -> None:
    shape = value_shape(v)
    if len(shape) != 2:
        raise ShapeError(f"{name}: expected a 2-D matrix of shape (m, n), got shape {shape}")


def _vector_or_matrix(name: str, v: Any) -> int:
    shape = value_shape(v)
    if len(shape) not in (1, 2):
        raise ShapeError(f"{name}: expected a vector (n,) or a matrix (m, n), got shape {shape}")
    return len(shape)


def _observations(name: str, v: Any) -> None:
    shape = value_shape(v)
    if len(shape) != 2 or shape[0] < 2:
        raise ShapeError(
            f"{name}: expected a 2-D array of shape (m, n) with m >= 2 observations (rows) of "
            f"n variables (columns), got shape {shape}"
        )


def _sym(a: Array) -> Array:
    return (a + a.T) * 0.5


# ---- determinant and inverse --------------------------------------------------------------------


def _cofactor(a: Array) -> Array:
    """Cofactor matrix of `a` (transpose of the adjugate), which is d det(a) / d a.

    From the SVD a = U diag(s) Vᵀ: cof(a) = det(U) det(V) U diag(p) Vᵀ with p_i = prod_{j≠i} s_j.
    Unlike det(a) a⁻ᵀ this needs no inverse, so it is exact for singular a (rank n-1 gives a
    nonzero cofactor matrix) and accurate for nearly singular a.
    """
    if not np.isfinite(a).all():
        return np.full_like(a, np.nan)  # NaN/inf pass through (LAPACK's SVD would refuse them)
    u, s, vt = np.linalg.svd(a)
    n = s.shape[0]
    if n == 0:
        return np.zeros_like(a)
    before = np.concatenate(([1.0], np.cumprod(s[:-1])))  # prod s[:i]
    after = np.concatenate((np.cumprod(s[::-1])[::-1][1:], [1.0]))  # prod s[i+1:]
    sign = np.sign(np.linalg.det(u)) * np.sign(np.linalg.det(vt))
    return cast(Array, sign * ((u * (before * after)) @ vt))


def _det_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    a = as_f64(x)

    def pullback(d: float) -> Array:
        # d det = <cof(a), da>
        return float(d) * _cofactor(a)

    return float(np.linalg.det(a)), pullback


_DET = named(op1(_det_forward), "det")


def det(m: BVar[Array]) -> BVar[float]:
    """Determinant of a square matrix. Gradient: d · cof(m) (= d · det(m) · m⁻ᵀ when invertible),
    computed through the SVD so that it is right for singular matrices too."""
    _square("det", m)
    return _DET(m)


def _inv_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = as_f64(x)
    y = cast(Array, np.linalg.inv(a))  # LinAlgError for a singular matrix
    yt = y.T.copy()  # kept privately: the caller may mutate the returned value

    def pullback(d: Array) -> Array:
        # dY = -Y dA Y, so <D, dY> = <-Yᵀ D Yᵀ, dA>
        return -(yt @ as_f64(d) @ yt)

    return y, pullback


_INV = named(op1(_inv_forward), "inv")


def inv(m: BVar[Array]) -> BVar[Array]:
    """Inverse of a square matrix (LinAlgError if singular). Gradient: -m⁻ᵀ D m⁻ᵀ."""
    _square("inv", m)
    return _INV(m)


def _logabsdet_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    a = as_f64(x)
    _, logabs = np.linalg.slogdet(a)

    def pullback(d: float) -> Array:
        # d log|det a| = tr(a⁻¹ da) = <a⁻ᵀ, da>; a singular matrix raises LinAlgError here
        return cast(Array, float(d) * np.linalg.inv(a).T)

    return float(logabs), pullback


_LOGABSDET = named(op1(_logabsdet_forward), "logabsdet")


def logabsdet(m: BVar[Array]) -> BVar[float]:
    """log|det m| (hmatrix's `lndet`); -inf for a singular matrix. Gradient: d · m⁻ᵀ."""
    _square("logabsdet", m)
    return _LOGABSDET(m)


_InvLogAbsDet = tuple[Array, tuple[float, float]]


def _inv_logabsdet_forward(x: Array) -> tuple[_InvLogAbsDet, Callable[[_InvLogAbsDet], Array]]:
    a = as_f64(x)
    y = cast(Array, np.linalg.inv(a))  # LinAlgError for a singular matrix
    sign, logabs = np.linalg.slogdet(a)
    yt = y.T.copy()

    def pullback(d: _InvLogAbsDet) -> Array:
        d_inv, (d_logabs, _) = d  # the sign is locally constant: no gradient
        return float(d_logabs) * yt - yt @ as_f64(d_inv) @ yt

    return (y, (float(logabs), float(sign))), pullback


_INV_LOGABSDET = named(op1(_inv_logabsdet_forward), "inv_logabsdet")


def inv_logabsdet(m: BVar[Array]) -> tuple[BVar[Array], tuple[BVar[float], BVar[float]]]:
    """`(inverse, (log|det|, sign))` of a square matrix (hmatrix's `invlndet`), one node.
    LinAlgError if singular. Gradient: -m⁻ᵀ D m⁻ᵀ + d_logabs · m⁻ᵀ (the sign has none)."""
    _square("inv_logabsdet", m)
    return cast(
        "tuple[BVar[Array], tuple[BVar[float], BVar[float]]]", lift_multi(_INV_LOGABSDET, m)
    )


# ---- norms --------------------------------------------------------------------------------------


def _norm_0_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    a = as_f64(x)
    return float(np.count_nonzero(a)), lambda d: np.zeros_like(a)


_NORM_0 = named(op1(_norm_0_forward), "norm_0")


def norm_0(v: BVar[Array]) -> BVar[float]:
    """Number of non-zero entries of a vector or matrix. Gradient: zero (piecewise constant)."""
    _vector_or_matrix("norm_0", v)
    return _NORM_0(v)


def _norm_1_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    a = as_f64(x)
    if a.ndim == 1:
        # sum |x_i|; subgradient sign(x), 0 at zero entries
        return float(np.abs(a).sum()), lambda d: float(d) * np.sign(a)
    if a.size == 0:
        return 0.0, lambda d: np.zeros_like(a)
    sums = np.abs(a).sum(axis=0)
    j = int(np.argmax(sums))  # first maximal column

    def pullback(d: float) -> Array:
        g = np.zeros_like(a)
        g[:, j] = float(d) * np.sign(a[:, j])
        return g

    return float(sums[j]), pullback


_NORM_1 = named(op1(_norm_1_forward), "norm_1")


def norm_1(v: BVar[Array]) -> BVar[float]:
    """Vector: sum of absolute values; gradient d · sign(v) (0 at zero entries).
    Matrix: largest column sum of absolute values; gradient d · sign of that column, zero
    elsewhere; when several columns tie, the first one gets the whole gradient."""
    _vector_or_matrix("norm_1", v)
    return _NORM_1(v)


def _norm_2_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    a = as_f64(x)
    if a.ndim == 1:
        n = float(np.linalg.norm(a))

        def pullback_v(d: float) -> Array:
            # x / |x|; the zero vector gets the zero subgradient
            return np.zeros_like(a) if n == 0.0 else a * (float(d) / n)

        return n, pullback_v
    if a.size == 0:
        return 0.0, lambda d: np.zeros_like(a)
    if not np.isfinite(a).all():
        return float("nan"), lambda d: np.full_like(a, np.nan)  # pass NaN/inf through
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    top = float(s[0])

    def pullback_m(d: float) -> Array:
        # d sigma_1 = u_1ᵀ da v_1; the zero matrix gets the zero subgradient
        if top == 0.0:
            return np.zeros_like(a)
        return np.outer(u[:, 0] * float(d), vt[0])

    return top, pullback_m


_NORM_2 = named(op1(_norm_2_forward), "norm_2")


def norm_2(v: BVar[Array]) -> BVar[float]:
    """Vector: Euclidean norm; gradient d · v/|v| (zero at v = 0).
    Matrix: spectral norm (largest singular value); gradient d · u₁ v₁ᵀ for numpy's leading
    singular pair (when the top singular value is repeated this is one element of the
    subdifferential); zero for the zero matrix."""
    _vector_or_matrix("norm_2", v)
    return _NORM_2(v)


def _norm_inf_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    a = as_f64(x)
    if a.size == 0:
        return 0.0, lambda d: np.zeros_like(a)
    if a.ndim == 1:
        k = int(np.argmax(np.abs(a)))  # first entry of largest magnitude

        def pullback_v(d: float) -> Array:
            g = np.zeros_like(a)
            g[k] = float(d) * np.sign(a[k])
            return g

        return float(abs(a[k])), pullback_v
    sums = np.abs(a).sum(axis=1)
    i = int(np.argmax(sums))  # first maximal row

    def pullback_m(d: float) -> Array:
        g = np.zeros_like(a)
        g[i, :] = float(d) * np.sign(a[i, :])
        return g

    return float(sums[i]), pullback_m


_NORM_INF = named(op1(_norm_inf_forward), "norm_inf")


def norm_inf(v: BVar[Array]) -> BVar[float]:
    """Vector: largest absolute value; gradient d · sign at the first entry of largest magnitude,
    zero elsewhere. Matrix: largest row sum of absolute values; gradient d · sign of the first
    maximal row, zero elsewhere. (Giving every tied entry the full gradient, as hmatrix-backprop
    does, is not a subgradient.)"""
    _vector_or_matrix("norm_inf", v)
    return _NORM_INF(v)


# ---- covariance ---------------------------------------------------------------------------------


def _cov_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = as_f64(x)
    m = a.shape[0]
    centred = a - a.mean(axis=0)

    def pullback(d: Array) -> Array:
        # C = Xcᵀ Xc / (m-1) with Xc = X - 1 meanᵀ. <D, dC> = <Xc (D + Dᵀ), dXc> / (m-1), and since
        # the columns of Xc already sum to zero the centring projection leaves this unchanged.
        g = as_f64(d)
        return cast(Array, centred @ (g + g.T) / (m - 1))

    return centred.T @ centred / (m - 1), pullback


_COV = named(op1(_cov_forward), "cov")


def cov(x: BVar[Array]) -> BVar[Array]:
    """Sample covariance (ddof = 1) of an (m, n) array whose rows are observations, like
    `numpy.cov(x, rowvar=False)`; needs m >= 2. Gradient: (x - mean)(D + Dᵀ)/(m - 1)."""
    _observations("cov", x)
    return _COV(x)


_MeanCov = tuple[Array, Array]


def _mean_cov_forward(x: Array) -> tuple[_MeanCov, Callable[[_MeanCov], Array]]:
    a = as_f64(x)
    m = a.shape[0]
    mean = a.mean(axis=0)
    centred = a - mean

    def pullback(d: _MeanCov) -> Array:
        d_mean, d_cov = as_f64(d[0]), as_f64(d[1])
        # each row contributes 1/m of the mean
        return cast(Array, centred @ (d_cov + d_cov.T) / (m - 1) + d_mean / m)

    return (mean, centred.T @ centred / (m - 1)), pullback


_MEAN_COV = named(op1(_mean_cov_forward), "mean_cov")


def mean_cov(x: BVar[Array]) -> tuple[BVar[Array], BVar[Array]]:
    """`(column means, covariance)` of an (m, n) array of m >= 2 observations, one node.
    Gradient: d_mean/m in every row + (x - mean)(D + Dᵀ)/(m - 1)."""
    _observations("mean_cov", x)
    return cast("tuple[BVar[Array], BVar[Array]]", lift_multi(_MEAN_COV, x))


# ---- cross product ------------------------------------------------------------------------------


def _cross_forward(x: Array, y: Array) -> tuple[Array, Callable[[Array], tuple[Array, Array]]]:
    a, b = as_f64(x), as_f64(y)

    def pullback(d: Array) -> tuple[Array, Array]:
        # <D, da × b> = <b × D, da> and <D, a × db> = <D × a, db> (cyclic triple product)
        g = as_f64(d)
        return np.cross(b, g), np.cross(g, a)

    return np.cross(a, b), pullback


_CROSS = named(op2(_cross_forward), "cross")


def cross(u: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Cross product of two 3-vectors. Gradients: (v × D, D × u)."""
    su, sv = value_shape(u), value_shape(v)
    if su != (3,) or sv != (3,):
        raise ShapeError(f"cross: expected two vectors of shape (3,), got shapes {su} and {sv}")
    return _CROSS(u, v)


# ---- symmetric eigenproblem and Cholesky ----------------------------------------------------------


def _fix_signs(vectors: Array) -> Array:
    """Make each column's entry of largest magnitude (the first, on ties) positive, in place.

    Eigenvectors are only defined up to sign; fixing it makes `eigensystem` a function of its
    input (locally smooth where eigenvalues are distinct), so finite differences and repeated
    calls agree. Flipping columns by a fixed D = diag(±1) maps the eigenvector differential
    V (F ∘ (Vᵀ dS V)) to the same formula in V D, so the pullback needs no change."""
    if vectors.size:
        rows = np.argmax(np.abs(vectors), axis=0)
        flip = vectors[rows, np.arange(vectors.shape[1])] < 0
        vectors[:, flip] *= -1.0
    return vectors


def _eigh(x: Array) -> tuple[Array, Array]:
    """eigh of sym(x); all-NaN for non-finite input (LAPACK may refuse NaN/inf)."""
    a = _sym(as_f64(x))
    if not np.isfinite(a).all():
        return np.full(a.shape[0], np.nan), np.full_like(a, np.nan)
    lam, vecs = np.linalg.eigh(a)
    return lam, vecs


def _eigenvalues_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    lam, vecs = _eigh(x)

    def pullback(d: Array) -> Array:
        # d lambda_i = v_iᵀ dS v_i, so G = V diag(d) Vᵀ (symmetric; re-symmetrised against rounding)
        return _sym((vecs * as_f64(d)) @ vecs.T)

    return lam, pullback


_EIGENVALUES = named(op1(_eigenvalues_forward), "eigenvalues")


def eigenvalues(s: BVar[Array]) -> BVar[Array]:
    """Eigenvalues (ascending) of a symmetric matrix, like `numpy.linalg.eigvalsh` (the input is
    symmetrised first). Gradient: V diag(d) Vᵀ (symmetric; see the module notes)."""
    _square("eigenvalues", s)
    return _EIGENVALUES(s)


_Eigen = tuple[Array, Array]


def _eigensystem_forward(x: Array) -> tuple[_Eigen, Callable[[_Eigen], Array]]:
    lam, vecs = _eigh(x)
    _fix_signs(vecs)
    result = (lam, vecs.copy())  # the pullback keeps its own copy of V

    def pullback(d: _Eigen) -> Array:
        d_lam, d_vecs = as_f64(d[0]), as_f64(d[1])
        # For symmetric dS, with K = Vᵀ dS V:  d lambda = diag(K),  dV = V (F ∘ K),
        # F_ij = 1/(lambda_j - lambda_i) off the diagonal, 0 on it. Then
        #   <d_lam, d lambda> + <D_V, dV> = <V (diag(d_lam) + F ∘ (Vᵀ D_V)) Vᵀ, dS>
        # and the symmetric part of that matrix is the gradient for symmetric dS.
        inner = np.diag(d_lam)
        if np.any(d_vecs):
            gaps = lam[None, :] - lam[:, None]  # gaps[i, j] = lambda_j - lambda_i
            # Equal eigenvalues: eigenvectors are not differentiable there; dropping those pairs is
            # exact for losses invariant under rotations inside the eigenspace (no inf/nan).
            f = np.divide(1.0, gaps, out=np.zeros_like(gaps), where=gaps != 0.0)
            inner = inner + f * (vecs.T @ d_vecs)
        return _sym(vecs @ inner @ vecs.T)

    return result, pullback


_EIGENSYSTEM = named(op1(_eigensystem_forward), "eigensystem")


def eigensystem(s: BVar[Array]) -> tuple[BVar[Array], BVar[Array]]:
    """`(eigenvalues ascending, eigenvectors as columns)` of a symmetric matrix, like
    `numpy.linalg.eigh` on sym(s), with each eigenvector's entry of largest magnitude made
    positive. One node. Gradient: sym(V (diag(d_λ) + F ∘ (Vᵀ D_V)) Vᵀ), F_ij = 1/(λ_j - λ_i)
    (i ≠ j), F_ii = 0; pairs of exactly equal eigenvalues contribute nothing."""
    _square("eigensystem", s)
    return cast("tuple[BVar[Array], BVar[Array]]", lift_multi(_EIGENSYSTEM, s))


def _chol_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = _sym(as_f64(x))
    if not np.isfinite(a).all():  # NaN/inf pass through (LAPACK would call them indefinite)
        return np.full_like(a, np.nan), lambda d: np.full_like(a, np.nan)
    lower = cast(Array, np.linalg.cholesky(a))  # LinAlgError unless positive definite
    factor = lower.copy()

    def pullback(d: Array) -> Array:
        # S = L Lᵀ gives L⁻¹ dS L⁻ᵀ = M + Mᵀ with M = L⁻¹ dL lower triangular, so
        # dL = L Φ(L⁻¹ dS L⁻ᵀ), Φ = lower triangle with the diagonal halved (self-adjoint). Hence
        #   <D, dL> = <Φ(Lᵀ D), L⁻¹ dS L⁻ᵀ> = <L⁻ᵀ Φ(Lᵀ D) L⁻¹, dS>,
        # and for symmetric dS the gradient is the symmetric part of that matrix. Only the lower
        # triangle of D can matter (dL is lower triangular), so it is dropped first.
        p = np.tril(factor.T @ np.tril(as_f64(d)))
        p[np.diag_indices_from(p)] *= 0.5
        left = np.linalg.solve(factor.T, p)  # L⁻ᵀ P
        g = np.linalg.solve(factor.T, left.T).T  # (L⁻ᵀ (L⁻ᵀ P)ᵀ)ᵀ = L⁻ᵀ P L⁻¹
        return _sym(g)

    return lower, pullback


_CHOL = named(op1(_chol_forward), "chol")


def chol(s: BVar[Array]) -> BVar[Array]:
    """Lower Cholesky factor L of a symmetric positive-definite matrix, s = L Lᵀ (numpy's
    convention; the input is symmetrised first; LinAlgError unless positive definite).
    Gradient: sym(L⁻ᵀ Φ(Lᵀ tril(D)) L⁻¹), Φ = lower triangle with halved diagonal."""
    _square("chol", s)
    return _CHOL(s)


# ---- singular values, sym, mtm -------------------------------------------------------------------


def _svd_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = as_f64(x)
    if not np.isfinite(a).all():  # pass NaN/inf through (LAPACK's SVD would refuse them)
        return np.full(min(a.shape), np.nan), lambda d: np.full_like(a, np.nan)
    u, s, vt = np.linalg.svd(a, full_matrices=False)

    def pullback(d: Array) -> Array:
        # d sigma_i = u_iᵀ dA v_i, so G = U diag(d) Vᵀ (thin SVD)
        return cast(Array, (u * as_f64(d)) @ vt)

    return s, pullback


_SVD = named(op1(_svd_forward), "svd")


def svd(m: BVar[Array]) -> BVar[Array]:
    """Singular values of an (m, n) matrix, descending (min(m, n) of them). Gradient:
    U diag(d) Vᵀ with numpy's singular vectors (at repeated or zero singular values, where the
    values are not differentiable, this is one subgradient)."""
    _matrix("svd", m)
    return _SVD(m)


def _sym_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    return _sym(as_f64(x)), lambda d: _sym(as_f64(d))


_SYM = named(op1(_sym_forward), "sym")


def sym(m: BVar[Array]) -> BVar[Array]:
    """Symmetric part (m + mᵀ)/2 of a square matrix. Gradient: (D + Dᵀ)/2."""
    _square("sym", m)
    return _SYM(m)


def _mtm_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = as_f64(x)

    def pullback(d: Array) -> Array:
        # d(AᵀA) = dAᵀ A + Aᵀ dA, so G = A (D + Dᵀ)
        g = as_f64(d)
        return a @ (g + g.T)

    return a.T @ a, pullback


_MTM = named(op1(_mtm_forward), "mtm")


def mtm(m: BVar[Array]) -> BVar[Array]:
    """mᵀ m of an (m, n) matrix (an (n, n) symmetric matrix). Gradient: m (D + Dᵀ)."""
    _matrix("mtm", m)
    return _MTM(m)
