"""Determinants, inverses, norms, covariance and decompositions (SPEC §7), hmatrix's names.

The determinant, inverse, norm, eigen, Cholesky and singular-value functions are a thin layer
over the registry's `numpy.linalg` primitives (`bprop.numpy._linalg`): the same forward and the
same pullback as `np.linalg.det(v)`, `np.linalg.eigh(v)`, ..., called with `hm=True` where
hmatrix-backprop's conventions differ from numpy's (input symmetrised, eigenvector signs fixed,
NaN/inf passed through). `cov`, `mean_cov`, `cross`, `sym`, `mtm` and `norm_0` are Ops defined
here. Gradient formulas are stated next to each rule; `<A, B>` is the Frobenius inner product
sum(A * B).

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
* Nested runs (second and higher derivatives): the registry's pullbacks are differentiable
  (`bprop.numpy._linalg`), and the Ops defined here compute their forward and pullback with
  numpy operations that also work on BVars, so in a nested run they run on the enclosing run's
  BVars and are recorded there. `det`'s second derivative needs an invertible matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from .._core import BVar
from ..errors import ShapeError
from ..numpy import _linalg as _np_linalg
from ..numpy import _products as _np_products
from ..numpy._registry import float_array, multi_output, plain_value
from ..op import op1
from ._common import Array, as_f64, named, value_shape
from ._multi import lift_multi

__all__ = [
    "chol",
    "cov",
    "cross",
    "det",
    "eigensystem",
    "eigenvalues",
    "inv",
    "inv_logabsdet",
    "logabsdet",
    "mean_cov",
    "mtm",
    "norm_0",
    "norm_1",
    "norm_2",
    "norm_inf",
    "svd",
    "sym",
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


# ---- determinant and inverse (registry primitives) ----------------------------------------------


def det(m: BVar[Array]) -> BVar[float]:
    """Determinant of a square matrix. Gradient: d · cof(m) (= d · det(m) · m⁻ᵀ when invertible),
    computed through the SVD so that it is right for singular matrices too.

    >>> m = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> round(bp.eval_bp(bp.linalg.det, m), 4), bp.grad_bp(bp.linalg.det, m).round(4)
    (5.0, array([[ 3., -1.],
           [-1.,  2.]]))
    """
    _square("det", m)
    return cast(BVar[float], _np_linalg.DET(m))


def inv(m: BVar[Array]) -> BVar[Array]:
    """Inverse of a square matrix (LinAlgError if singular). Gradient: -m⁻ᵀ D m⁻ᵀ.

    >>> m = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bp.eval_bp(bp.linalg.inv, m).round(4)
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])
    >>> bp.grad_bp(lambda m: bp.linalg.inv(m)[0, 0], m).round(4)
    array([[-0.36,  0.12],
           [ 0.12, -0.04]])
    """
    _square("inv", m)
    return cast(BVar[Array], _np_linalg.INV(m))


def logabsdet(m: BVar[Array]) -> BVar[float]:
    """log|det m| (hmatrix's `lndet`); -inf for a singular matrix. Gradient: d · m⁻ᵀ (which
    raises LinAlgError for a singular matrix).

    >>> m = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> round(bp.eval_bp(bp.linalg.logabsdet, m), 4), bp.grad_bp(bp.linalg.logabsdet, m).round(4)
    (1.6094, array([[ 0.6, -0.2],
           [-0.2,  0.4]]))
    """
    _square("logabsdet", m)
    return cast(BVar[float], multi_output(_np_linalg.SLOGDET, m)[1])


def inv_logabsdet(m: BVar[Array]) -> tuple[BVar[Array], tuple[BVar[float], BVar[float]]]:
    """`(inverse, (log|det|, sign))` of a square matrix (hmatrix's `invlndet`), one node.
    LinAlgError if singular. Gradient: -m⁻ᵀ D m⁻ᵀ + d_logabs · m⁻ᵀ (the sign has none).

    >>> m = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bp.eval_bp(lambda m: bp.linalg.inv_logabsdet(m)[0], m).round(4)
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])
    >>> round(bp.eval_bp(lambda m: bp.linalg.inv_logabsdet(m)[1][0], m), 4)
    1.6094
    >>> bp.grad_bp(lambda m: bp.linalg.inv_logabsdet(m)[1][0], m).round(4)
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])
    """
    _square("inv_logabsdet", m)
    y, logabs, sign = multi_output(_np_linalg.INV_LOGABSDET, m)
    return cast("tuple[BVar[Array], tuple[BVar[float], BVar[float]]]", (y, (logabs, sign)))


# ---- norms --------------------------------------------------------------------------------------


def _norm_0_forward(x: Array) -> tuple[float, Callable[[float], Array]]:
    # piecewise constant: a count of the plain values, with a zero gradient, at every level
    a = as_f64(plain_value(x))
    return float(np.count_nonzero(a)), lambda d: np.zeros_like(a)


_NORM_0 = named(op1(_norm_0_forward), "norm_0")


def norm_0(v: BVar[Array]) -> BVar[float]:
    """Number of non-zero entries of a vector or matrix. Gradient: zero (piecewise constant).

    >>> bp.backprop(bp.linalg.norm_0, np.array([0.0, 3.0, -4.0]))
    (2.0, array([0., 0., 0.]))
    """
    _vector_or_matrix("norm_0", v)
    return _NORM_0(v)


def _norm(v: BVar[Array], ord: float) -> BVar[float]:
    return cast(BVar[float], _np_linalg.NORM(v, ord=ord, axis=None, keepdims=False, hm=True))


def norm_1(v: BVar[Array]) -> BVar[float]:
    """Vector: sum of absolute values; gradient d · sign(v) (0 at zero entries).
    Matrix: largest column sum of absolute values; gradient d · sign of that column, zero
    elsewhere; when several columns tie, the first one gets the whole gradient.

    >>> bp.backprop(bp.linalg.norm_1, np.array([0.0, 3.0, -4.0]))
    (7.0, array([ 0.,  1., -1.]))
    """
    _vector_or_matrix("norm_1", v)
    return _norm(v, 1)


def norm_2(v: BVar[Array]) -> BVar[float]:
    """Vector: Euclidean norm; gradient d · v/|v| (zero at v = 0).
    Matrix: spectral norm (largest singular value); gradient d · u₁ v₁ᵀ for numpy's leading
    singular pair (when the top singular value is repeated this is one element of the
    subdifferential); zero for the zero matrix.

    >>> bp.backprop(bp.linalg.norm_2, np.array([0.0, 3.0, -4.0]))
    (5.0, array([ 0. ,  0.6, -0.8]))
    """
    _vector_or_matrix("norm_2", v)
    return _norm(v, 2)


def norm_inf(v: BVar[Array]) -> BVar[float]:
    """Vector: largest absolute value; gradient d · sign at the first entry of largest magnitude,
    zero elsewhere. Matrix: largest row sum of absolute values; gradient d · sign of the first
    maximal row, zero elsewhere. (Giving every tied entry the full gradient, as hmatrix-backprop
    does, is not a subgradient.)

    >>> bp.backprop(bp.linalg.norm_inf, np.array([0.0, 3.0, -4.0]))
    (4.0, array([ 0.,  0., -1.]))
    """
    _vector_or_matrix("norm_inf", v)
    return _norm(v, np.inf)


# ---- covariance ---------------------------------------------------------------------------------


def _cov_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = float_array(x)
    m = a.shape[0]
    centred = a - np.mean(a, axis=0)

    def pullback(d: Array) -> Array:
        # C = Xcᵀ Xc / (m-1) with Xc = X - 1 meanᵀ. <D, dC> = <Xc (D + Dᵀ), dXc> / (m-1), and since
        # the columns of Xc already sum to zero the centring projection leaves this unchanged.
        g = float_array(d)
        return cast(Array, centred @ (g + g.T) / (m - 1))

    return centred.T @ centred / (m - 1), pullback


_COV = named(op1(_cov_forward), "cov")


def cov(x: BVar[Array]) -> BVar[Array]:
    """Sample covariance (ddof = 1) of an (m, n) array whose rows are observations, like
    `numpy.cov(x, rowvar=False)`; needs m >= 2. Gradient: (x - mean)(D + Dᵀ)/(m - 1).

    >>> x = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    >>> bp.eval_bp(bp.linalg.cov, x)
    array([[4., 3.],
           [3., 3.]])
    >>> bp.grad_bp(lambda x: bp.linalg.cov(x)[0, 0], x)
    array([[-2.,  0.],
           [ 0.,  0.],
           [ 2.,  0.]])
    """
    _observations("cov", x)
    return _COV(x)


_MeanCov = tuple[Array, Array]


def _mean_cov_forward(x: Array) -> tuple[_MeanCov, Callable[[_MeanCov], Array]]:
    a = float_array(x)
    m = a.shape[0]
    mean = np.mean(a, axis=0)
    centred = a - mean

    def pullback(d: _MeanCov) -> Array:
        d_mean, d_cov = float_array(d[0]), float_array(d[1])
        # each row contributes 1/m of the mean
        return cast(Array, centred @ (d_cov + d_cov.T) / (m - 1) + d_mean / m)

    return (mean, centred.T @ centred / (m - 1)), pullback


_MEAN_COV = named(op1(_mean_cov_forward), "mean_cov")


def mean_cov(x: BVar[Array]) -> tuple[BVar[Array], BVar[Array]]:
    """`(column means, covariance)` of an (m, n) array of m >= 2 observations, one node.
    Gradient: d_mean/m in every row + (x - mean)(D + Dᵀ)/(m - 1).

    >>> x = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    >>> mean, cov = bp.eval_bp(lambda x: bp.join_var(bp.linalg.mean_cov(x)), x)
    >>> mean, cov
    (array([2., 2.]), array([[4., 3.],
           [3., 3.]]))
    >>> bp.grad_bp(lambda x: bp.linalg.mean_cov(x)[0][1], x).round(4)
    array([[0.    , 0.3333],
           [0.    , 0.3333],
           [0.    , 0.3333]])
    """
    _observations("mean_cov", x)
    return cast("tuple[BVar[Array], BVar[Array]]", lift_multi(_MEAN_COV, x))


# ---- cross product ------------------------------------------------------------------------------


def cross(u: BVar[Array], v: BVar[Array]) -> BVar[Array]:
    """Cross product of two 3-vectors (the registry's `numpy.cross` primitive). Gradients:
    (v × D, D × u).

    >>> u, v = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    >>> bp.eval_bp2(bp.linalg.cross, u, v)
    array([0., 0., 1.])
    >>> bp.grad_bp2(lambda u, v: bp.linalg.cross(u, v)[2], u, v)
    (array([1., 0., 0.]), array([0., 1., 0.]))
    """
    su, sv = value_shape(u), value_shape(v)
    if su != (3,) or sv != (3,):
        raise ShapeError(f"cross: expected two vectors of shape (3,), got shapes {su} and {sv}")
    return cast(BVar[Array], _np_products._CROSS(u, v))


# ---- symmetric eigenproblem and Cholesky ----------------------------------------------------------


def eigenvalues(s: BVar[Array]) -> BVar[Array]:
    """Eigenvalues (ascending) of a symmetric matrix, like `numpy.linalg.eigvalsh` (the input is
    symmetrised first). Gradient: V diag(d) Vᵀ (symmetric; see the module notes).

    >>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> bp.eval_bp(bp.linalg.eigenvalues, s).round(4)
    array([1., 3.])
    >>> bp.grad_bp(lambda s: bp.linalg.eigenvalues(s)[1], s).round(4)
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    _square("eigenvalues", s)
    return cast(BVar[Array], _np_linalg.EIGVALSH(s, UPLO="L", hm=True))


def eigensystem(s: BVar[Array]) -> tuple[BVar[Array], BVar[Array]]:
    """`(eigenvalues ascending, eigenvectors as columns)` of a symmetric matrix, like
    `numpy.linalg.eigh` on sym(s), with each eigenvector's entry of largest magnitude made
    positive. One node. Gradient: sym(V (diag(d_λ) + F ∘ (Vᵀ D_V)) Vᵀ), F_ij = 1/(λ_j - λ_i)
    (i ≠ j), F_ii = 0; pairs of exactly equal eigenvalues contribute nothing.

    >>> s = np.diag([2.0, 1.0])
    >>> vals, vecs = bp.eval_bp(lambda s: bp.join_var(bp.linalg.eigensystem(s)), s)
    >>> vals, vecs
    (array([1., 2.]), array([[0., 1.],
           [1., 0.]]))
    >>> bp.grad_bp(lambda s: bp.linalg.eigensystem(s)[0][1], s)
    array([[1., 0.],
           [0., 0.]])
    """
    _square("eigensystem", s)
    lam, vecs = multi_output(_np_linalg.EIGH, s, UPLO="L", hm=True)
    return cast("tuple[BVar[Array], BVar[Array]]", (lam, vecs))


def chol(s: BVar[Array]) -> BVar[Array]:
    """Lower Cholesky factor L of a symmetric positive-definite matrix, s = L Lᵀ (numpy's
    convention; the input is symmetrised first; LinAlgError unless positive definite).
    Gradient: sym(L⁻ᵀ Φ(Lᵀ tril(D)) L⁻¹), Φ = lower triangle with halved diagonal.

    >>> s = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> bp.eval_bp(bp.linalg.chol, s).round(4)
    array([[2.    , 0.    ],
           [1.    , 1.4142]])
    >>> bp.grad_bp(lambda s: bp.linalg.chol(s)[0, 0], s).round(4)
    array([[0.25, 0.  ],
           [0.  , 0.  ]])
    """
    _square("chol", s)
    return cast(BVar[Array], _np_linalg.CHOLESKY(s, upper=False, hm=True))


# ---- singular values, sym, mtm -------------------------------------------------------------------


def svd(m: BVar[Array]) -> BVar[Array]:
    """Singular values of an (m, n) matrix, descending (min(m, n) of them). Gradient:
    U diag(d) Vᵀ with numpy's singular vectors (at repeated or zero singular values, where the
    values are not differentiable, this is one subgradient).

    >>> m = np.diag([3.0, 2.0])
    >>> bp.eval_bp(bp.linalg.svd, m).round(4), bp.grad_bp(lambda m: bp.linalg.svd(m)[0], m).round(4)
    (array([3., 2.]), array([[1., 0.],
           [0., 0.]]))
    """
    _matrix("svd", m)
    return cast(BVar[Array], _np_linalg.SVDVALS(m, hm=True))


def _sym_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    return _sym(float_array(x)), lambda d: _sym(float_array(d))


_SYM = named(op1(_sym_forward), "sym")


def sym(m: BVar[Array]) -> BVar[Array]:
    """Symmetric part (m + mᵀ)/2 of a square matrix. Gradient: (D + Dᵀ)/2.

    >>> bp.backprop(bp.linalg.sym, np.array([[1.0, 2.0], [0.0, 1.0]]))
    (array([[1., 1.],
           [1., 1.]]), array([[1., 1.],
           [1., 1.]]))
    """
    _square("sym", m)
    return _SYM(m)


def _mtm_forward(x: Array) -> tuple[Array, Callable[[Array], Array]]:
    a = float_array(x)

    def pullback(d: Array) -> Array:
        # d(AᵀA) = dAᵀ A + Aᵀ dA, so G = A (D + Dᵀ)
        g = float_array(d)
        return cast(Array, a @ (g + g.T))

    return a.T @ a, pullback


_MTM = named(op1(_mtm_forward), "mtm")


def mtm(m: BVar[Array]) -> BVar[Array]:
    """mᵀ m of an (m, n) matrix (an (n, n) symmetric matrix). Gradient: m (D + Dᵀ).

    >>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> bp.eval_bp(bp.linalg.mtm, m)
    array([[10., 14.],
           [14., 20.]])
    >>> bp.grad_bp(lambda m: bp.linalg.mtm(m)[0, 0], m)
    array([[2., 0.],
           [6., 0.]])
    """
    _matrix("mtm", m)
    return _MTM(m)
