"""`numpy.linalg` on BVars: `norm`, `det`, `slogdet`, `inv`, `solve`, `cholesky`, `eigh`,
`eigvalsh`, `svd`, `pinv`, `qr`, `matrix_power`, `multi_dot`.

Each decomposition is one primitive: numpy/LAPACK forward, pullback written beside it (`<A, B>`
is the Frobenius inner product sum(A * B), `ᵀ` swaps the last two axes). Stacks of matrices
(`(..., m, n)`) are supported as numpy supports them. `bprop.linalg`'s hmatrix names (`det`,
`inv`, `logabsdet`, `chol`, `eigensystem`, `svd`, `norm_1`, ...) call the same primitives with
`hm=True`, which selects hmatrix-backprop's conventions (input symmetrised, eigenvector signs
fixed, NaN/inf passed through); the pullbacks are the same functions.

Conventions
-----------
* Symmetric-input functions (`eigh`, `eigvalsh`, `cholesky`) read one triangle of the input, as
  numpy does; their gradient G is the symmetric matrix with `<G, E> = df` for symmetric
  perturbations E (SPEC §7, the same G as `bprop.linalg.eigensystem` and `chol`).
* Non-smooth points: the norm of a zero vector or matrix gets the zero subgradient; `ord=±inf`
  and `ord=±1` give the whole gradient to the first maximal (minimal) entry, row or column;
  pairs of equal eigenvalues or singular values contribute nothing to the eigenvector
  (singular vector) part of the gradient.
* `svd(a)` with `compute_uv=True` needs `full_matrices=False` unless `a` is square (the extra
  columns of a full U or V are arbitrary, so they have no gradient): TypeError otherwise.

Nested runs (gradients of gradients)
------------------------------------
In a nested run a pullback is called with BVars of the enclosing run (the cotangent, the result,
the arguments), and what it computes is recorded there, so it must use operations that work on
BVars: products, `swapaxes`, `solve` and `inv` as registered here, masks and triangles as
products with constant arrays (computed on the plain values). Each pullback below computes on
plain numpy when nothing is a BVar (the first-order path, unchanged) and in such operations
otherwise. Where the plain form recomputes a factorisation from the input (`eigvalsh`, `svd`
without vectors, the spectral and nuclear norms), the nested form applies the primitive with
vectors to the enclosing run's BVar, so the factors are differentiable too. `det`'s nested
gradient is det(a) a⁻ᵀ, so its second derivative needs an invertible `a`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from .. import _core
from .._core import BVar
from ..errors import ShapeError
from ._products import _MATMUL, dot
from ._registry import (
    any_bvar,
    defvjp,
    defvjp_n,
    float_array,
    implements,
    multi_output,
    plain_value,
    refuse,
    unbroadcast,
    value_of,
)

__all__ = [
    "EighResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matrix_power",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
]


class SlogdetResult(NamedTuple):
    """`numpy.linalg.slogdet`'s result: `sign, logabsdet = slogdet(a)`."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """`numpy.linalg.eigh`'s result: `w, v = eigh(a)`."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """`numpy.linalg.svd`'s result: `u, s, vh = svd(a, full_matrices=False)`."""

    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    """`numpy.linalg.qr`'s result: `q, r = qr(a)`."""

    Q: Any
    R: Any


# ---- helpers ------------------------------------------------------------------------------------


def _mT(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _sym(x: Any) -> Any:
    return (x + _mT(x)) * 0.5


def _f64(x: Any) -> Any:
    return np.asarray(x, dtype=np.float64)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(value_of(x)))


def _pshape(x: Any) -> tuple[int, ...]:
    """The shape of the plain value under any BVar layers."""
    return tuple(np.shape(plain_value(x)))


def _any_var(*xs: Any) -> bool:
    """Whether a pullback runs in a nested run: one of its inputs (a cotangent, a result or an
    argument; multi-output ones are tuples) is a BVar of the enclosing run."""
    for x in xs:
        if isinstance(x, BVar) or (type(x) is tuple and any_bvar(x)):
            return True
    return False


def _last2(x: Any) -> Any:
    """`x` (shape `s`) with two unit axes appended, shape `s + (1, 1)`: one scale per matrix."""
    if isinstance(x, BVar):  # (a float BVar takes no index, but expand_dims)
        return np.expand_dims(cast(Any, x), (-2, -1))
    return _f64(x)[..., None, None]


def _recip_nonzero(d: Any) -> Any:
    """1/d where d != 0, else 0. On a BVar the mask is a constant computed on the plain value, and
    the zero entries are shifted to 1 before dividing, so the result stays differentiable."""
    if not isinstance(d, BVar):
        return np.divide(1.0, d, out=np.zeros_like(d), where=d != 0.0)
    nonzero = plain_value(d) != 0.0
    return np.where(nonzero, 1.0, 0.0) / (d + np.where(nonzero, 0.0, 1.0))


def _tril(x: Any, k: int = 0) -> Any:
    """The lower triangle (diagonals below the k-th zeroed); on a BVar a product with a constant
    mask."""
    if not isinstance(x, BVar):
        return np.tril(x, k)
    rows, cols = _pshape(x)[-2:]
    return x * np.tri(rows, cols, k)


def _stack(fn: str, a: Any, square: bool = False) -> None:
    s = _shape(a)
    if len(s) < 2 or (square and s[-1] != s[-2]):
        what = "a square matrix (..., n, n)" if square else "a matrix (..., m, n)"
        raise ShapeError(f"{fn}: expected {what}, got shape {s}")


def _finite(a: Any) -> Any:
    """Per matrix of a stack: whether every entry is finite (shape a.shape[:-2])."""
    return np.isfinite(a).all(axis=(-2, -1))


# ---- determinant --------------------------------------------------------------------------------


def _cofactor(a: Any) -> Any:
    """The cofactor matrix (d det(a) / d a) of each matrix of a stack, from the SVD
    a = U diag(s) Vᵀ: cof(a) = det(U) det(V) U diag(p) Vᵀ with p_i = prod_{j≠i} s_j. Unlike
    det(a) a⁻ᵀ it needs no inverse: exact for singular a, accurate near singular a. NaN for
    matrices with NaN/inf entries."""
    a = _f64(a)
    n = a.shape[-1]
    if n == 0 or a.size == 0:
        return np.zeros_like(a)
    ok = _finite(a)[..., None, None]
    u, s, vt = np.linalg.svd(np.where(ok, a, 0.0))
    ones = np.ones(s.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)  # prod s[:i]
    after = np.flip(
        np.cumprod(np.flip(np.concatenate([s[..., 1:], ones], axis=-1), -1), axis=-1), -1
    )
    sign = np.sign(np.linalg.det(u)) * np.sign(np.linalg.det(vt))
    cof = sign[..., None, None] * ((u * (before * after)[..., None, :]) @ vt)
    return np.where(ok, cof, np.nan)


def _det_vjp(g: Any, ans: Any, a: Any) -> Any:
    # d det = <cof(a), da>. In a nested run cof(a) = det(a) a⁻ᵀ, whose own derivative is that of
    # det and inv (the SVD form is not differentiable at repeated singular values).
    if not isinstance(a, BVar):
        return _last2(g) * _cofactor(a)
    try:
        inverse = INV(a)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            "numpy.linalg.det: second derivatives at a singular matrix are not supported (in a "
            "nested run the gradient is computed as det(a) a⁻ᵀ); first derivatives are"
        ) from None
    return _last2(g) * (_last2(ans) * _mT(inverse))


DET = defvjp("linalg.det", np.linalg.det, _det_vjp)


@implements(np.linalg.det, rule="g · cof(a) (through the SVD: right for singular a)")
def det(a: Any) -> Any:
    """numpy.linalg.det on BVars (stacks too)."""
    _stack("numpy.linalg.det", a, square=True)
    return DET(a)


def _inverse_t(a: Any) -> Any:
    """a⁻ᵀ (LinAlgError for a singular matrix), computed from the input each time, so that a
    caller writing into a returned inverse cannot change a gradient. Of a BVar (a nested run):
    the transposed `inv` node, differentiable."""
    return _mT(INV(a) if isinstance(a, BVar) else np.linalg.inv(a))


def _slogdet_forward(a: Any) -> tuple[Any, Any]:
    sign, logabs = np.linalg.slogdet(a)
    return sign, logabs


def _slogdet_vjp(g: tuple[Any, Any], ans: Any, a: Any) -> Any:
    # d log|det a| = <a⁻ᵀ, da>; the sign is locally constant (no gradient)
    return _last2(g[1]) * _inverse_t(a)


SLOGDET = defvjp("linalg.slogdet", _slogdet_forward, _slogdet_vjp)


@implements(np.linalg.slogdet, rule="logabsdet: g · a⁻ᵀ; sign: none")
def slogdet(a: Any) -> SlogdetResult:
    """numpy.linalg.slogdet on BVars: `(sign, logabsdet)`; the sign gets no gradient."""
    _stack("numpy.linalg.slogdet", a, square=True)
    sign, logabs = multi_output(SLOGDET, a)
    return SlogdetResult(sign, logabs)


# ---- inverse and solve --------------------------------------------------------------------------


def _inv_grad(g: Any, yt: Any) -> Any:
    # dY = -Y dA Y, so <G, dY> = <-Yᵀ G Yᵀ, dA>
    return -(yt @ float_array(g) @ yt)


def _inv_vjp(g: Any, ans: Any, a: Any) -> Any:
    # in a nested run the inverse is `ans`, a BVar (its transpose is differentiable)
    return _inv_grad(g, _mT(ans) if isinstance(ans, BVar) else _inverse_t(a))


INV = defvjp("linalg.inv", np.linalg.inv, _inv_vjp)


@implements(np.linalg.inv, rule="-a⁻ᵀ g a⁻ᵀ")
def inv(a: Any) -> Any:
    """numpy.linalg.inv on BVars (stacks too; LinAlgError if singular)."""
    _stack("numpy.linalg.inv", a, square=True)
    return INV(a)


def _inv_logabsdet_forward(a: Any) -> tuple[Any, Any, Any]:
    sign, logabs = np.linalg.slogdet(a)
    return np.linalg.inv(a), logabs, sign


def _inv_logabsdet_vjp(g: tuple[Any, Any, Any], ans: Any, a: Any) -> Any:
    inverse = ans[0]
    yt = _mT(inverse) if isinstance(inverse, BVar) else _inverse_t(a)
    return _inv_grad(g[0], yt) + _last2(g[1]) * yt


INV_LOGABSDET = defvjp("linalg.inv_logabsdet", _inv_logabsdet_forward, _inv_logabsdet_vjp)
"""`(inv(a), log|det a|, sign)` in one node (bprop.linalg's `inv_logabsdet`), from the rules of
`inv` and `slogdet`."""


def _solve_vjp_all(g: Any, ans: Any, live: tuple[bool, ...], a: Any, b: Any) -> list[Any]:
    # x = a⁻¹ b: gb = a⁻ᵀ g, ga = -gb xᵀ (batch axes unbroadcast); on BVars `solve` is this
    # primitive again, so the gradient is differentiable
    g = float_array(g)
    vector = len(_pshape(b)) == 1
    gb = np.linalg.solve(_mT(a), g[..., None] if vector else g)
    x = ans[..., None] if vector else ans
    ga = unbroadcast(-(gb @ _mT(x)), _pshape(a)) if live[0] else None
    gb_out = unbroadcast(gb[..., 0] if vector else gb, _pshape(b)) if live[1] else None
    return [ga, gb_out]


SOLVE = defvjp_n("linalg.solve", np.linalg.solve, _solve_vjp_all)


@implements(np.linalg.solve, rule="gb = a⁻ᵀ g, ga = -gb xᵀ")
def solve(a: Any, b: Any) -> Any:
    """numpy.linalg.solve on BVars: `b` a vector (n,) or a stack of matrices (..., n, k)."""
    _stack("numpy.linalg.solve", a, square=True)
    sa, sb = _shape(a), _shape(b)
    n = sa[-1]
    if len(sb) == 0 or (sb[-1] if len(sb) == 1 else sb[-2]) != n:
        raise ShapeError(
            f"numpy.linalg.solve: shapes {sa} and {sb} do not fit (b must be (n,) or (..., n, k))"
        )
    return SOLVE(a, b)


# ---- Cholesky -----------------------------------------------------------------------------------


def _cholesky_forward(a: Any, *, upper: bool = False, hm: bool = False) -> Any:
    if hm:  # bprop.linalg.chol: factor sym(a); NaN/inf pass through
        s = _sym(_f64(a))
        if not np.isfinite(s).all():
            return np.full_like(s, np.nan)
        return np.linalg.cholesky(s)
    return np.linalg.cholesky(a, upper=upper)


def _cholesky_vjp(g: Any, ans: Any, a: Any, *, upper: bool = False, hm: bool = False) -> Any:
    lower = _mT(ans) if upper else ans
    d = _mT(float_array(g)) if upper else float_array(g)
    if not np.isfinite(plain_value(lower)).all():
        return np.full(_pshape(a), np.nan)
    # S = L Lᵀ gives L⁻¹ dS L⁻ᵀ = M + Mᵀ with M = L⁻¹ dL lower triangular, so
    # dL = L Φ(L⁻¹ dS L⁻ᵀ), Φ = lower triangle with the diagonal halved (self-adjoint), and
    # <D, dL> = <L⁻ᵀ Φ(Lᵀ D) L⁻¹, dS>; for symmetric dS the gradient is the symmetric part.
    # Only the lower triangle of D matters (dL is lower triangular).
    n = _pshape(lower)[-1]
    p = _tril(_mT(lower) @ _tril(d)) * (1.0 - 0.5 * np.eye(n))
    left = np.linalg.solve(_mT(lower), p)  # L⁻ᵀ P
    grad = _mT(np.linalg.solve(_mT(lower), _mT(left)))  # L⁻ᵀ P L⁻¹
    return _sym(grad)


CHOLESKY = defvjp("linalg.cholesky", _cholesky_forward, _cholesky_vjp)


@implements(
    np.linalg.cholesky, rule="sym(L⁻ᵀ Φ(Lᵀ tril(g)) L⁻¹), Φ: lower triangle, halved diagonal"
)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """numpy.linalg.cholesky on BVars (reads the lower triangle; `upper=True` gives Lᵀ).
    Gradient: symmetric (SPEC §7's convention for symmetric input)."""
    _stack("numpy.linalg.cholesky", a, square=True)
    return CHOLESKY(a, upper=bool(upper))


# ---- symmetric eigenproblem ---------------------------------------------------------------------


def _fix_signs(vectors: Any) -> Any:
    """Make each column's entry of largest magnitude (the first, on ties) positive, in place
    (hmatrix mode: eigenvectors then are a function of the input). Flipping columns by a fixed
    diag(±1) leaves the pullback's formula unchanged."""
    if vectors.size:
        rows = np.argmax(np.abs(vectors), axis=-2)
        picked = np.take_along_axis(vectors, rows[..., None, :], axis=-2)
        vectors *= np.where(picked < 0, -1.0, 1.0)
    return vectors


def _eigh_values(a: Any, uplo: Any, hm: bool) -> tuple[Any, Any]:
    if hm:
        s = _sym(_f64(a))
        if not np.isfinite(s).all():
            return np.full(s.shape[:-1], np.nan), np.full_like(s, np.nan)
        w, v = np.linalg.eigh(s)
        return w, _fix_signs(v)
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return w, v


def _eigh_grad(w: Any, v: Any, gw: Any, gv: Any | None) -> Any:
    """Gradient of (w, V) = eigh(S) for symmetric S. With K = Vᵀ dS V: dw = diag(K),
    dV = V (F ∘ K), F_ij = 1/(w_j - w_i) (i ≠ j), 0 on the diagonal. Hence
    G = sym(V (diag(gw) + F ∘ (Vᵀ gV)) Vᵀ). Pairs of equal eigenvalues are dropped (exact for
    losses invariant under rotations inside an eigenspace)."""
    inner = float_array(gw)[..., :, None] * np.eye(_pshape(w)[-1])
    # a BVar cotangent counts even where its value is zero: its derivative need not be
    if gv is not None and (isinstance(gv, BVar) or np.any(gv)):
        f = _recip_nonzero(w[..., None, :] - w[..., :, None])  # 1/(w_j - w_i)
        inner = inner + f * (_mT(v) @ float_array(gv))
    return _sym(v @ inner @ _mT(v))


def _eigh_forward(a: Any, *, UPLO: str = "L", hm: bool = False) -> tuple[Any, Any]:
    return _eigh_values(a, UPLO, hm)


def _eigh_vjp(
    g: tuple[Any, Any], ans: tuple[Any, Any], a: Any, *, UPLO: str = "L", hm: bool = False
) -> Any:
    w, v = ans
    return _eigh_grad(w, v, g[0], g[1])


EIGH = defvjp("linalg.eigh", _eigh_forward, _eigh_vjp)


def _check_uplo(fn: str, uplo: Any) -> str:
    if uplo not in ("L", "U"):
        raise ValueError(f"numpy.linalg.{fn}: UPLO must be 'L' or 'U', got {uplo!r}")
    return str(uplo)


@implements(np.linalg.eigh, rule="sym(V (diag(g_w) + F ∘ (Vᵀ g_V)) Vᵀ), F_ij = 1/(w_j - w_i)")
def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """numpy.linalg.eigh on BVars: `(w, v)`, reading the `UPLO` triangle as numpy does.
    Gradient: symmetric (SPEC §7), as bprop.linalg.eigensystem's."""
    _stack("numpy.linalg.eigh", a, square=True)
    w, v = multi_output(EIGH, a, UPLO=_check_uplo("eigh", UPLO), hm=False)
    return EighResult(w, v)


def _eigvalsh_forward(a: Any, *, UPLO: Any = "L", hm: bool = False) -> Any:
    if hm:
        return _eigh_values(a, UPLO, hm)[0]
    return np.linalg.eigvalsh(a, UPLO=UPLO)


def _eigvalsh_vjp(g: Any, ans: Any, a: Any, *, UPLO: str = "L", hm: bool = False) -> Any:
    # the eigenvectors, recomputed for the gradient (as BVars in a nested run: the eigh node)
    if isinstance(a, BVar):
        w, v = multi_output(EIGH, a, UPLO=UPLO, hm=hm)
    else:
        w, v = _eigh_values(a, UPLO, hm)
    return _eigh_grad(w, v, g, None)


EIGVALSH = defvjp("linalg.eigvalsh", _eigvalsh_forward, _eigvalsh_vjp)


@implements(np.linalg.eigvalsh, rule="sym(V diag(g) Vᵀ)")
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """numpy.linalg.eigvalsh on BVars (ascending). Gradient: V diag(g) Vᵀ (symmetric)."""
    _stack("numpy.linalg.eigvalsh", a, square=True)
    return EIGVALSH(a, UPLO=_check_uplo("eigvalsh", UPLO), hm=False)


# ---- singular value decomposition ---------------------------------------------------------------


def _svdvals_forward(a: Any, *, hm: bool = False) -> Any:
    if hm and not np.isfinite(a).all():
        return np.full(min(np.shape(a)[-2:]), np.nan)
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_vjp(g: Any, ans: Any, a: Any, *, hm: bool = False) -> Any:
    if hm and not np.isfinite(plain_value(a)).all():
        return np.full(_pshape(a), np.nan)
    # the singular vectors, recomputed (as BVars in a nested run: the svd node)
    if isinstance(a, BVar):
        u, _, vt = multi_output(SVD, a)
    else:
        u, _, vt = np.linalg.svd(a, full_matrices=False)
    # d s_i = u_iᵀ da v_i, so G = U diag(g) Vᵀ (at repeated or zero values: one subgradient)
    return (u * float_array(g)[..., None, :]) @ vt


SVDVALS = defvjp("linalg.svdvals", _svdvals_forward, _svdvals_vjp)


def _svd_forward(a: Any) -> tuple[Any, Any, Any]:
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return u, s, vt


def _svd_vjp(g: tuple[Any, Any, Any], ans: tuple[Any, Any, Any], a: Any) -> Any:
    """Thin SVD a = U diag(s) Vᵀ (m x k, k, k x n). With F_ij = 1/(s_j² - s_i²) (i ≠ j, 0 else),
    J = F ∘ (Uᵀ gU), K = F ∘ (Vᵀ gV):
      G = U [(J + Jᵀ) S + diag(gS) + S (K + Kᵀ)] Vᵀ
          + (I - U Uᵀ) gU S⁻¹ Vᵀ + U S⁻¹ gVᵀ (I - V Vᵀ)
    (the last two terms vanish for square a). Pairs of equal singular values are dropped;
    a zero singular value with a nonzero projection term gives inf (not differentiable)."""
    u, s, vt = ans
    gu, gs, gvt = float_array(g[0]), float_array(g[1]), float_array(g[2])
    v, gv = _mT(vt), _mT(gvt)
    m, n = _pshape(u)[-2], _pshape(vt)[-1]
    rank = _pshape(s)[-1]
    s2 = s * s
    f = _recip_nonzero(s2[..., None, :] - s2[..., :, None])  # 1/(s_j² - s_i²)
    j = f * (_mT(u) @ gu)
    k = f * (_mT(v) @ gv)
    core = (
        (j + _mT(j)) * s[..., None, :]
        + gs[..., :, None] * np.eye(rank)
        + s[..., :, None] * (k + _mT(k))
    )
    grad = u @ core @ vt
    with np.errstate(divide="ignore", invalid="ignore"):
        if m > rank:
            grad = grad + ((gu - u @ (_mT(u) @ gu)) / s[..., None, :]) @ vt
        if n > rank:
            grad = grad + (u / s[..., None, :]) @ (gvt - (gvt @ v) @ vt)
    return grad


SVD = defvjp("linalg.svd", _svd_forward, _svd_vjp)


@implements(np.linalg.svd, rule="U [(J+Jᵀ)S + diag(g_S) + S(K+Kᵀ)] Vᵀ + projections (thin SVD)")
def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """numpy.linalg.svd on BVars. `compute_uv=False`: the singular values; otherwise `(U, S, Vh)`,
    which needs `full_matrices=False` unless the matrices are square (TypeError otherwise)."""
    if hermitian:
        raise TypeError("numpy.linalg.svd: hermitian=True is not supported on BVars")
    _stack("numpy.linalg.svd", a)
    if not compute_uv:
        return SVDVALS(a, hm=False)
    m, n = _shape(a)[-2:]
    if full_matrices and m != n:
        raise TypeError(
            "numpy.linalg.svd: full_matrices=True with compute_uv=True is not supported on BVars for "
            f"non-square matrices (shape {_shape(a)}): the extra singular vectors are arbitrary; "
            "pass full_matrices=False"
        )
    u, s, vh = multi_output(SVD, a)
    return SVDResult(u, s, vh)


# ---- pseudo-inverse -----------------------------------------------------------------------------


def _pinv_forward(a: Any, *, rcond: Any = None, rtol: Any = None) -> Any:
    if rtol is not None:
        return np.linalg.pinv(a, rtol=rtol)
    if rcond is not None:
        return np.linalg.pinv(a, rcond=rcond)
    return np.linalg.pinv(a)


def _pinv_vjp(g: Any, ans: Any, a: Any, *, rcond: Any = None, rtol: Any = None) -> Any:
    # where the rank is locally constant: dX = -X dA X + X Xᵀ dAᵀ (I - A X) + (I - X A) dAᵀ Xᵀ X, so
    # G_A = -Xᵀ g Xᵀ + (I - A X) gᵀ X Xᵀ + Xᵀ X gᵀ (I - X A)
    x = ans
    g = float_array(g)
    gt = _mT(g)
    xt = _mT(x)
    m, n = _pshape(a)[-2:]
    left = np.eye(m) - a @ x
    right = np.eye(n) - x @ a
    return -(xt @ g @ xt) + left @ gt @ (x @ xt) + (xt @ x) @ gt @ right


PINV = defvjp("linalg.pinv", _pinv_forward, _pinv_vjp)


@implements(np.linalg.pinv, rule="-Xᵀ g Xᵀ + (I - A X) gᵀ X Xᵀ + Xᵀ X gᵀ (I - X A) (constant rank)")
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """numpy.linalg.pinv on BVars. The gradient is exact where the rank is locally constant."""
    if hermitian:
        raise TypeError("numpy.linalg.pinv: hermitian=True is not supported on BVars")
    _stack("numpy.linalg.pinv", a)
    rtol = None if rtol is getattr(np, "_NoValue", None) else rtol
    if rcond is not None and rtol is not None:
        raise ValueError("numpy.linalg.pinv: `rtol` and `rcond` can't be both set.")
    return PINV(a, rcond=rcond, rtol=rtol)


# ---- QR -----------------------------------------------------------------------------------------


def _qr_forward(a: Any) -> tuple[Any, Any]:
    q, r = np.linalg.qr(a, mode="reduced")
    return q, r


def _qr_square_grad(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """Gradient for a = Q R with R square (m ≥ n): M = R gRᵀ - gQᵀ Q,
    G = (gQ + Q copyltu(M)) R⁻ᵀ, copyltu(M) the symmetric matrix with M's lower triangle."""
    mm = r @ _mT(gr) - _mT(gq) @ q
    low = _tril(mm, -1)
    sym_low = low + _mT(low) + mm * np.eye(_pshape(mm)[-1])
    b = gq + q @ sym_low
    # b R⁻ᵀ = (R⁻¹ bᵀ)ᵀ
    return _mT(np.linalg.solve(r, _mT(b)))


def _qr_vjp(g: tuple[Any, Any], ans: tuple[Any, Any], a: Any) -> Any:
    q, r = ans
    gq, gr = float_array(g[0]), float_array(g[1])
    m, n = _pshape(a)[-2:]
    if m >= n:
        return _qr_square_grad(q, r, gq, gr)
    # wide a = [X | Y] with X = Q U (U = R[:, :m]) and Y = Q V (V = R[:, m:] = Qᵀ Y):
    # V's dependence on Q adds Y gVᵀ to gQ; gY = Q gV
    y = a[..., :, m:]
    gv = gr[..., :, m:]
    gx = _qr_square_grad(q, r[..., :, :m], gq + y @ _mT(gv), gr[..., :, :m])
    return np.concatenate([gx, q @ gv], axis=-1)


QR = defvjp("linalg.qr", _qr_forward, _qr_vjp)


@implements(np.linalg.qr, rule="(gQ + Q copyltu(R gRᵀ - gQᵀ Q)) R⁻ᵀ (wide matrices by blocks)")
def qr(a: Any, mode: str = "reduced") -> Any:
    """numpy.linalg.qr on BVars: modes 'reduced' (and 'complete' for m ≤ n, the same) give
    `(Q, R)`, 'r' gives R. A full-rank input is needed for the gradient."""
    _stack("numpy.linalg.qr", a)
    m, n = _shape(a)[-2:]
    if mode not in ("reduced", "r") and not (mode == "complete" and m <= n):
        raise TypeError(f"numpy.linalg.qr: mode={mode!r} is not supported on BVars (use 'reduced')")
    q, r = multi_output(QR, a)
    if mode == "r":
        return r
    return QRResult(q, r)


# ---- matrix_power, multi_dot --------------------------------------------------------------------


def _mm(a: Any, b: Any) -> Any:
    if len(_shape(a)) <= 2 and len(_shape(b)) <= 2:
        return _core.matmul(a, b)
    return _MATMUL(a, b)


@implements(np.linalg.matrix_power, rule="products of a (or of inv(a) for n < 0): matmul's rule")
def matrix_power(a: Any, n: int) -> Any:
    """numpy.linalg.matrix_power on BVars (integer n; n = 0 gives a constant identity)."""
    _stack("numpy.linalg.matrix_power", a, square=True)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError("numpy.linalg.matrix_power: exponent must be an integer")
    n = int(n)
    if n == 0:
        eye = np.broadcast_to(np.eye(_shape(a)[-1]), _shape(a)).copy()
        return _core.const_var(eye) if isinstance(a, BVar) else eye
    base = inv(a) if n < 0 else a
    k = abs(n)
    result: Any = None
    while True:  # binary powering: about log2(k) products
        if k & 1:
            result = base if result is None else _mm(result, base)
        k >>= 1
        if not k:
            return result
        base = _mm(base, base)


@implements(np.linalg.multi_dot, rule="a chain of dot products (matmul's rule)")
def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Any:
    """numpy.linalg.multi_dot on BVars (first and last arrays may be 1-D; products from the left)."""
    refuse("linalg.multi_dot", out=out)
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("numpy.linalg.multi_dot: expecting at least two arrays.")
    for i, x in enumerate(arrays):
        nd = len(_shape(x))
        if not (nd == 2 or (nd == 1 and i in (0, len(arrays) - 1))):
            raise ShapeError(
                f"numpy.linalg.multi_dot: array {i} has shape {_shape(x)}: expected 2-D "
                "(the first and last may be 1-D)"
            )
    result = arrays[0]
    for x in arrays[1:]:
        result = dot(result, x)
    return result


# ---- norms --------------------------------------------------------------------------------------


def _first_onehot(values: Any, axis: int, pick: str) -> Any:
    """1.0 at the first maximal (`pick='max'`) or minimal entry along `axis`, 0 elsewhere."""
    idx = (np.argmax if pick == "max" else np.argmin)(values, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = values.shape[axis]
    return (np.expand_dims(idx, axis) == np.arange(values.shape[axis]).reshape(shape)).astype(
        np.float64
    )


def _over_norm(g: Any, x: Any, n: Any) -> Any:
    """g x / n, zero where n = 0 (the zero vector or matrix gets the zero subgradient)."""
    if not _any_var(g, x, n):
        return np.divide(g * x, n, out=np.zeros_like(x), where=n != 0.0)
    return g * x * _recip_nonzero(n)


def _vector_norm_grad(x: Any, n: Any, g: Any, ord: Any, axis: int) -> Any:
    """Gradient of the vector norm along `axis`; `n` and `g` have that axis kept (size 1)."""
    xv = plain_value(x)
    if ord is None or ord == 2:
        return _over_norm(g, x, n)
    # signs and the picked entries are locally constant: computed on the plain values
    if ord == 1:
        return g * np.sign(xv)
    if ord == 0:
        return np.zeros_like(xv)
    if ord in (np.inf, -np.inf):
        return g * (np.sign(xv) * _first_onehot(np.abs(xv), axis, "max" if ord > 0 else "min"))
    p = float(ord)
    # d (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) n^(1-p); zero at zero entries and at the zero vector
    nv = plain_value(n)
    ok = (xv != 0.0) & (nv != 0.0)
    if not _any_var(g, x, n):
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.sign(x) * np.abs(x) ** (p - 1.0) * np.asarray(n, dtype=np.float64) ** (1.0 - p)
        return g * np.where(ok, d, 0.0)
    # on BVars the excluded entries are shifted to 1 before the powers, so that none is infinite
    on = np.where(ok, 1.0, 0.0)
    abs_x = np.abs(x) * on + (1.0 - on)
    n_safe = n * np.where(nv != 0.0, 1.0, 0.0) + np.where(nv != 0.0, 0.0, 1.0)
    return g * (np.sign(xv) * on) * abs_x ** (p - 1.0) * n_safe ** (1.0 - p)


def _matrix_norm_grad(x: Any, g: Any, ord: Any, rows: int, cols: int) -> Any:
    """Gradient of a matrix norm over the axes (rows, cols); `g` has both axes kept."""
    xv = plain_value(x)
    if ord in (1, -1):
        sums = np.abs(xv).sum(axis=rows, keepdims=True)
        return g * (np.sign(xv) * _first_onehot(sums, cols, "max" if ord > 0 else "min"))
    if ord in (np.inf, -np.inf):
        sums = np.abs(xv).sum(axis=cols, keepdims=True)
        return g * (np.sign(xv) * _first_onehot(sums, rows, "max" if ord > 0 else "min"))
    # spectral and nuclear norms: move the matrix axes last (g: one entry per matrix, (..., 1, 1))
    m = np.moveaxis(x, (rows, cols), (-2, -1))
    gm = np.moveaxis(g, (rows, cols), (-2, -1))
    if isinstance(m, BVar):  # a nested run: the singular vectors as BVars (the svd node)
        u, s, vt = multi_output(SVD, m)
    else:
        u, s, vt = np.linalg.svd(m, full_matrices=False)
    if ord == "nuc":  # d sum(s) = <U Vᵀ, da> (one subgradient at rank-deficient a)
        grad = (u @ vt) * gm
    else:  # ±2: d s_1 (d s_k) = u vᵀ of that singular pair; zero for the zero matrix
        pick = slice(0, 1) if ord == 2 else slice(-1, None)
        nonzero = (plain_value(s)[..., 0] != 0.0)[..., None, None]
        gm = (
            gm * np.where(nonzero, 1.0, 0.0) if isinstance(gm, BVar) else np.where(nonzero, gm, 0.0)
        )
        grad = u[..., :, pick] * vt[..., pick, :] * gm
    return np.moveaxis(grad, (-2, -1), (rows, cols))


def _norm_forward(x: Any, *, ord: Any, axis: Any, keepdims: bool, hm: bool = False) -> Any:
    if hm:  # bprop.linalg's norm_1/2/inf: empty arrays have norm 0; NaN/inf pass through
        if np.size(x) == 0:
            return 0.0
        if np.ndim(x) == 2 and ord == 2 and not np.isfinite(x).all():
            return np.nan
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _norm_vjp(
    g: Any, ans: Any, x: Any, *, ord: Any, axis: Any, keepdims: bool, hm: bool = False
) -> Any:
    xv = _f64(plain_value(x))
    if xv.size == 0:
        return np.zeros_like(xv)
    if hm and xv.ndim == 2 and ord == 2 and not np.isfinite(xv).all():
        return np.full_like(xv, np.nan)
    x = float_array(x)
    if axis is None:
        if ord is None:  # the 2-norm of the flattened array
            if not xv.ndim:
                return float_array(g) * np.sign(xv)
            return _vector_norm_grad(x, float_array(ans), float_array(g), None, 0)
        axes: tuple[int, ...] = tuple(range(xv.ndim))
    else:
        axes = axis
    g, n = float_array(g), float_array(ans)
    if not keepdims:
        g, n = np.expand_dims(g, axes), np.expand_dims(n, axes)
    if len(axes) == 1:
        return _vector_norm_grad(x, n, g, ord, axes[0])
    rows, cols = axes
    if ord in (None, "fro"):
        return _over_norm(g, x, n)
    return _matrix_norm_grad(x, g, ord, rows, cols)


NORM = defvjp("linalg.norm", _norm_forward, _norm_vjp)


def _norm_axis(x_ndim: int, axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) not in (1, 2):
        raise ValueError("numpy.linalg.norm: improper number of dimensions to norm")
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(
                "numpy.linalg.norm: 'axis' must be None, an integer or a tuple of integers"
            )
        if not -x_ndim <= int(a) < x_ndim:
            raise np.exceptions.AxisError(int(a), x_ndim, msg_prefix="numpy.linalg.norm")
        out.append(int(a) % x_ndim)
    if len(out) == 2 and out[0] == out[1]:
        raise ValueError("numpy.linalg.norm: duplicate axes given")
    return tuple(out)


_MATRIX_ORDS = (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)


@implements(
    np.linalg.norm,
    rule="vector: x/|x|, sign(x), p-norm rule; matrix: x/|x|_F, u₁v₁ᵀ, UVᵀ, sign of the max row/column",
)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.linalg.norm on BVars: vector norms (ord None, 0, ±1, ±2, ±inf, p > 0) and matrix
    norms (ord None, 'fro', 'nuc', ±1, ±2, ±inf) over `axis` (int or pair). The zero vector or
    matrix gets the zero subgradient; ties at ±inf and ±1 go to the first entry/row/column."""
    nd = len(_shape(x))
    axes = _norm_axis(nd, axis)
    vector = (axes is not None and len(axes) == 1) or (axes is None and nd == 1)
    if axes is None and ord is not None and nd not in (1, 2):
        raise ValueError("numpy.linalg.norm: improper number of dimensions to norm")
    if vector:
        if (
            isinstance(ord, str)
            or ord is not None
            and not (ord in (0, np.inf, -np.inf) or float(ord) > 0)
        ):
            if isinstance(ord, str):
                raise ValueError(f"numpy.linalg.norm: invalid norm order {ord!r} for vectors")
            raise TypeError(
                f"numpy.linalg.norm: vector ord={ord!r} (negative orders) is not supported on BVars"
            )
    elif ord not in _MATRIX_ORDS:
        raise ValueError(f"numpy.linalg.norm: invalid norm order {ord!r} for matrices")
    return NORM(x, ord=ord, axis=axes, keepdims=bool(keepdims))
