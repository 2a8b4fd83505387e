"""`numpy.linalg` on BVars, called as a numpy user calls it: `np.linalg.norm` (every `ord`, `axis`
and `keepdims`), `det`, `slogdet`, `inv`, `solve`, `cholesky`, `eigh`, `eigvalsh`, `svd`, `pinv`,
`qr`, `matrix_power`, `multi_dot`, single matrices and stacks.

Values are compared with numpy's (relative 1e-12); gradients coordinate by coordinate against
central differences with random cotangents (`fd.check_vjp`). Symmetric-input functions are
checked through `sym(x) = (x + xᵀ)/2`, i.e. along symmetric perturbations (bprop's convention:
the gradient G with <G, E> = df for every symmetric E), and their gradient is checked to be
symmetric. Eigenvectors and singular vectors are compared with their
signs fixed by a constant factor (their sign is arbitrary, not differentiable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.linalg as hm
import bprop.numpy._linalg
import numpy as np
import pytest
from bprop.errors import ShapeError
from fd import check_vjp

L = np.linalg


def value(x: Any) -> Any:
    return x.value if isinstance(x, bp.BVar) else x


def check(f: Callable[..., Any], *xs: Any, seed: int = 0, rtol: float = 1e-12) -> None:
    """`f` (numpy code) on BVars: value equal to `f` on arrays; gradient against differences."""
    rng = np.random.default_rng(seed)
    xs_f = [np.asarray(x, dtype=np.float64) for x in xs]
    want = f(*xs_f)
    got = bp.eval_bp_n(f, *xs_f)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)
    check_vjp(f, xs_f, rng=rng, plain=f)


# ---- random inputs ---------------------------------------------------------------------------------


def orthogonal(rng: np.random.Generator, *shape: int) -> Any:
    q, r = np.linalg.qr(rng.normal(size=shape))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def well_conditioned(seed: int, *shape: int) -> Any:
    """Matrices with singular values in [0.5, 2] and either sign of determinant."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.5, 2.0, size=shape[:-1])
    return (orthogonal(rng, *shape) * s[..., None, :]) @ orthogonal(rng, *shape)


def separated_symmetric(seed: int, *shape: int) -> Any:
    """Symmetric matrices with eigenvalues apart by at least 0.5 (positive if `shape`'s seed
    says so) and eigenvectors whose largest entry stands clear (unambiguous sign)."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    while True:
        q = orthogonal(rng, *shape)
        mags = np.sort(np.abs(q), axis=-2)
        if n < 2 or np.all(mags[..., -1, :] - mags[..., -2, :] > 0.05):
            break
    lam = 0.5 + np.cumsum(rng.uniform(0.5, 1.5, size=shape[:-1]), axis=-1)
    return (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)


def rand(seed: int, *shape: int) -> Any:
    return np.random.default_rng(seed).normal(size=shape)


def sym(x: Any) -> Any:
    """(x + xᵀ)/2 in numpy code that runs on BVars and arrays."""
    return (x + np.einsum("...ij->...ji", x)) * 0.5


def fixed_columns(v: Any) -> Any:
    """v times the constant signs that make each column's largest entry positive."""
    vv = value(v)
    rows = np.argmax(np.abs(vv), axis=-2)
    return v * np.sign(np.take_along_axis(vv, rows[..., None, :], axis=-2))


# ---- det, slogdet, inv, solve ------------------------------------------------------------------------

STACKS = [(1, 1), (3, 3), (4, 4), (2, 3, 3), (2, 1, 2, 2)]


@pytest.mark.parametrize("shape", STACKS, ids=str)
def test_det_slogdet_inv(shape: tuple[int, ...]) -> None:
    a = well_conditioned(1, *shape)
    check(L.det, a)
    check(lambda x: L.slogdet(x)[1], a)
    check(lambda x: L.slogdet(x).logabsdet * 2.0 + L.slogdet(x).sign, a)
    check(L.inv, a)


def test_slogdet_result_unpacks_and_sign_has_no_gradient() -> None:
    a = well_conditioned(2, 3, 3)
    a[0] *= -1.0 if np.linalg.det(a) > 0 else 1.0  # negative determinant
    sign, logabs = bp.eval_bp(lambda x: hm.sum_elements(hm.vec2(*L.slogdet(x))), a), None
    result = bp.eval_bp(lambda x: L.slogdet(x).sign, a)
    assert result == -1.0 and sign == pytest.approx(-1.0 + np.linalg.slogdet(a)[1])
    g = bp.grad_bp(lambda x: L.slogdet(x).sign, a)
    np.testing.assert_array_equal(g, np.zeros((3, 3)))
    assert logabs is None


def test_det_of_singular_matrix_has_the_cofactor_gradient() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    v, g = bp.backprop(L.det, singular)
    assert v == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(g, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((3, 3), (3,)),
        ((3, 3), (3, 2)),
        ((2, 3, 3), (3,)),
        ((2, 3, 3), (2, 3, 1)),
        ((3, 3), (2, 3, 2)),
        ((1, 2, 2), (3, 2, 2)),
    ],
    ids=str,
)
def test_solve(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    check(L.solve, well_conditioned(3, *sa), rand(4, *sb))


def test_solve_with_a_constant_matrix() -> None:
    a = well_conditioned(5, 3, 3)
    check(lambda b: L.solve(a, b), rand(6, 3))
    check(lambda x: L.solve(x, np.ones(3)), a)


# ---- symmetric input: cholesky, eigh, eigvalsh -----------------------------------------------------

SYM_SHAPES = [(1, 1), (3, 3), (4, 4), (2, 3, 3)]


@pytest.mark.parametrize("shape", SYM_SHAPES, ids=str)
def test_cholesky(shape: tuple[int, ...]) -> None:
    s = separated_symmetric(7, *shape)
    check(lambda x: L.cholesky(sym(x)), s)
    check(lambda x: L.cholesky(sym(x), upper=True), s, seed=1)


@pytest.mark.parametrize("shape", SYM_SHAPES, ids=str)
def test_eigh_and_eigvalsh(shape: tuple[int, ...]) -> None:
    s = separated_symmetric(8, *shape)
    check(lambda x: L.eigvalsh(sym(x)), s)
    check(lambda x: L.eigh(sym(x))[0], s)
    check(lambda x: fixed_columns(L.eigh(sym(x)).eigenvectors), s)
    check(lambda x: fixed_columns(L.eigh(sym(x), UPLO="U")[1]), s)
    # both outputs at once (one node, the pullback receives both cotangents)
    check(lambda x: L.eigh(sym(x))[0][..., None, :] * fixed_columns(L.eigh(sym(x))[1]), s)


def test_symmetric_input_gradients_are_symmetric_and_match_bprop_linalg() -> None:
    s = separated_symmetric(9, 4, 4)
    c_w, c_v = rand(1, 4), rand(2, 4, 4)

    def loss_np(x: Any) -> Any:
        w, v = L.eigh(x)
        return hm.sum_elements(w * c_w) + hm.sum_elements(fixed_columns(v) * c_v)

    def loss_hm(x: Any) -> Any:
        w, v = hm.eigensystem(x)
        return hm.sum_elements(w * c_w) + hm.sum_elements(v * c_v)

    g_np, g_hm = bp.grad_bp(loss_np, s), bp.grad_bp(loss_hm, s)
    np.testing.assert_allclose(g_np, g_np.T, atol=1e-12)
    np.testing.assert_allclose(g_np, g_hm, rtol=1e-10, atol=1e-12)
    for f_np, f_hm in [(L.cholesky, hm.chol), (L.eigvalsh, hm.eigenvalues)]:
        _, pull_np = bp.backprop_with(f_np, s)
        _, pull_hm = bp.backprop_with(f_hm, s)
        c = np.tril(rand(3, 4, 4)) if f_np is L.cholesky else rand(3, 4)
        g = pull_np(c)
        np.testing.assert_allclose(g, g.T, atol=1e-12)
        np.testing.assert_allclose(g, pull_hm(c), rtol=1e-10, atol=1e-12)


def test_eigh_reads_one_triangle_like_numpy() -> None:
    s = separated_symmetric(10, 3, 3)
    lopsided = np.tril(s) + np.triu(rand(1, 3, 3), 1)
    w = bp.eval_bp(lambda x: L.eigvalsh(x), lopsided)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(lopsided), rtol=1e-12)
    u = bp.eval_bp(lambda x: L.eigh(x, UPLO="U")[0], np.triu(s) + np.tril(rand(2, 3, 3), -1))
    np.testing.assert_allclose(u, np.linalg.eigvalsh(s), rtol=1e-12)
    with pytest.raises(ValueError, match="UPLO"):
        bp.eval_bp(lambda x: L.eigh(x, UPLO="X")[0], s)


# ---- svd, pinv, qr -----------------------------------------------------------------------------------

RECT = [(3, 3), (4, 2), (2, 4), (2, 3, 2), (2, 2, 3)]


def well_spread(seed: int, *shape: int) -> Any:
    """Matrices with singular values apart by at least 0.3 (and away from zero) and left singular
    vectors with a clear largest entry."""
    rng = np.random.default_rng(seed)
    m, n = shape[-2:]
    k = min(m, n)
    while True:
        u = orthogonal(rng, *shape[:-2], m, k) if m >= k else orthogonal(rng, *shape[:-2], m, m)
        mags = np.sort(np.abs(u), axis=-2)
        if m < 2 or np.all(mags[..., -1, :] - mags[..., -2, :] > 0.05):
            break
    v = orthogonal(rng, *shape[:-2], n, k)
    s = 0.5 + np.cumsum(rng.uniform(0.3, 1.0, size=shape[:-2] + (k,)), axis=-1)[..., ::-1]
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def svd_fixed(x: Any, part: int) -> Any:
    u, s, vh = L.svd(x, full_matrices=False)
    uv = value(u)
    rows = np.argmax(np.abs(uv), axis=-2)
    signs = np.sign(np.take_along_axis(uv, rows[..., None, :], axis=-2))
    return [u * signs, s, vh * np.swapaxes(signs, -1, -2)][part]


@pytest.mark.parametrize("shape", RECT, ids=str)
def test_svd(shape: tuple[int, ...]) -> None:
    a = well_spread(11, *shape)
    check(lambda x: L.svd(x, compute_uv=False), a)
    for part in range(3):
        check(lambda x, part=part: svd_fixed(x, part), a, seed=part)
    # all three outputs together
    check(
        lambda x: (
            svd_fixed(x, 0) * svd_fixed(x, 1)[..., None, :] @ svd_fixed(x, 2)
            + svd_fixed(x, 0)[..., :1, :1]
        ),
        a,
    )


def test_svd_square_full_matrices_and_refusals() -> None:
    a = well_spread(12, 3, 3)  # square: full_matrices=True (numpy's default) is the thin SVD
    check(lambda x: L.svd(x)[1], a)
    check(lambda x: L.svd(x).U @ L.svd(x).Vh, a)  # sign-invariant product of both vector sets
    with pytest.raises(TypeError, match="full_matrices=False"):
        bp.eval_bp(lambda x: L.svd(x)[1], rand(1, 3, 2))
    with pytest.raises(TypeError, match="hermitian"):
        bp.eval_bp(lambda x: L.svd(x, hermitian=True)[1], a)


@pytest.mark.parametrize("shape", RECT, ids=str)
def test_pinv(shape: tuple[int, ...]) -> None:
    check(L.pinv, well_spread(13, *shape))


def test_pinv_rcond_and_refusal() -> None:
    a = well_spread(14, 3, 2)
    check(lambda x: L.pinv(x, rcond=1e-10), a)
    check(lambda x: L.pinv(x, rtol=1e-8), a)
    with pytest.raises(TypeError, match="hermitian"):
        bp.eval_bp(lambda x: L.pinv(x, hermitian=True), a)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2), (2, 2, 3)], ids=str)
def test_qr(shape: tuple[int, ...]) -> None:
    a = well_conditioned(15, *shape) if shape[-1] == shape[-2] else rand(15, *shape)
    check(lambda x: L.qr(x)[0], a)
    check(lambda x: L.qr(x).R, a, seed=1)
    check(lambda x: L.qr(x)[0][..., :1] * L.qr(x)[1][..., :1, :], a, seed=2)
    check(lambda x: L.qr(x, mode="r"), a, seed=3)


def test_qr_modes() -> None:
    check(lambda x: L.qr(x, mode="complete")[0], rand(16, 2, 3))
    with pytest.raises(TypeError, match="mode"):
        bp.eval_bp(lambda x: L.qr(x, mode="complete")[0], rand(16, 3, 2))
    with pytest.raises(TypeError, match="mode"):
        bp.eval_bp(lambda x: L.qr(x, mode="raw")[0], rand(16, 3, 2))


# ---- matrix_power, multi_dot ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [-3, -1, 1, 2, 3, 6])
def test_matrix_power(n: int) -> None:
    check(lambda x: L.matrix_power(x, n), well_conditioned(17, 3, 3))
    check(lambda x: L.matrix_power(x, n), well_conditioned(18, 2, 2, 2), seed=1)


def test_matrix_power_zero_and_errors() -> None:
    a = well_conditioned(19, 3, 3)
    v, g = bp.backprop(lambda x: L.matrix_power(x, 0) * x, a)
    np.testing.assert_array_equal(v, np.eye(3) * a)
    np.testing.assert_array_equal(g, np.eye(3))
    with pytest.raises(TypeError, match="integer"):
        bp.eval_bp(lambda x: L.matrix_power(x, 1.5), a)
    with pytest.raises(ShapeError, match="matrix_power"):
        bp.eval_bp(lambda x: L.matrix_power(x, 2), rand(1, 2, 3))


def test_multi_dot() -> None:
    check(lambda a, b, c: L.multi_dot([a, b, c]), rand(1, 3), rand(2, 3, 4), rand(3, 4))
    check(
        lambda a, b, c, d: L.multi_dot([a, b, c, d]),
        rand(1, 2, 3),
        rand(2, 3, 4),
        rand(3, 4, 2),
        rand(4, 2, 2),
    )
    with pytest.raises(ShapeError, match="multi_dot"):
        bp.eval_bp(lambda a: L.multi_dot([a, a[None], a]), rand(1, 2, 2))


# ---- norm ------------------------------------------------------------------------------------------


# entries whose magnitudes, row sums and column sums are far apart (no ties near the input)
def spread(seed: int, *shape: int) -> Any:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


VECTOR_ORDS: list[Any] = [None, 0, 1, 2, 3, 0.5, 1.5, np.inf, -np.inf]
MATRIX_ORDS: list[Any] = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
def test_vector_norms(ord: Any) -> None:
    check(lambda x: L.norm(x, ord), spread(20, 5))
    for axis in (0, 1, -1):
        for keepdims in (False, True):
            check(
                lambda x, a=axis, k=keepdims: L.norm(x, ord, axis=a, keepdims=k), spread(21, 3, 4)
            )
    check(lambda x: L.norm(x, ord, axis=(1,)), spread(22, 2, 3, 2))
    check(lambda x: L.norm(x[::2], ord, axis=0), spread(23, 6, 2))  # a strided view


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norms(ord: Any) -> None:
    check(lambda x: L.norm(x, ord), well_spread(24, 3, 4) + spread(24, 3, 4) * 0.01)
    check(lambda x: L.norm(x.T, ord), well_spread(25, 3, 2) + spread(25, 3, 2) * 0.01)
    for axis in ((0, 1), (1, 0), (-1, 0), (2, 0)):
        for keepdims in (False, True):
            x = spread(26, 3, 2, 4)
            if ord in (2, -2, "nuc"):
                x = np.moveaxis(well_spread(26, 2, 4, 3) + spread(26, 2, 4, 3) * 0.01, 0, 1)
            check(lambda v, a=axis, k=keepdims: L.norm(v, ord, axis=a, keepdims=k), x)


def test_flattened_norm_of_any_rank() -> None:
    for shape in [(5,), (2, 3), (2, 3, 2), (1, 2, 1, 3)]:
        check(L.norm, spread(27, *shape))
        check(lambda x: L.norm(x, keepdims=True), spread(28, *shape))


def test_norm_subgradients_at_zero_and_ties() -> None:
    for f in [L.norm, lambda x: L.norm(x, 2), lambda x: L.norm(x, 3), lambda x: L.norm(x, 1)]:
        np.testing.assert_array_equal(bp.grad_bp(f, np.zeros(3)), np.zeros(3))
    for ord in [None, "fro", 2, "nuc"]:
        g = bp.grad_bp(lambda x, ord=ord: L.norm(x, ord), np.zeros((2, 3)))
        if ord != "nuc":  # the zero matrix: zero subgradient (nuc: U Vᵀ, also a subgradient)
            np.testing.assert_array_equal(g, np.zeros((2, 3)))
    np.testing.assert_array_equal(
        bp.grad_bp(lambda x: L.norm(x, np.inf), np.array([1.0, -3.0, 3.0])), [0, -1, 0]
    )
    np.testing.assert_array_equal(
        bp.grad_bp(lambda x: L.norm(x, 1), np.array([2.0, 0.0, -1.0])), [1, 0, -1]
    )
    np.testing.assert_array_equal(
        bp.grad_bp(lambda x: L.norm(x, 1), np.array([[1.0, -2.0], [-2.0, 1.0]])), [[1, 0], [-1, 0]]
    )


def test_norm_errors() -> None:
    x = spread(29, 2, 3, 2)
    with pytest.raises(ValueError):
        bp.eval_bp(lambda v: L.norm(v, 2), x)  # ord with a 3-D array and no axis
    with pytest.raises(ValueError):
        bp.eval_bp(lambda v: L.norm(v, "fro", axis=0), x)
    with pytest.raises(ValueError):
        bp.eval_bp(lambda v: L.norm(v, 3, axis=(0, 1)), x)
    with pytest.raises(np.exceptions.AxisError):
        bp.eval_bp(lambda v: L.norm(v, axis=3), x)
    with pytest.raises(TypeError, match="numpy.linalg.norm"):
        bp.eval_bp(lambda v: L.norm(v, -1, axis=0), x)


# ---- shape errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "f", "shape"),
    [
        ("det", L.det, (2, 3)),
        ("slogdet", lambda x: L.slogdet(x)[1], (3,)),
        ("inv", L.inv, (2, 2, 3)),
        ("cholesky", L.cholesky, (3, 2)),
        ("eigh", lambda x: L.eigh(x)[0], (3,)),
        ("eigvalsh", L.eigvalsh, (1, 2)),
        ("svd", lambda x: L.svd(x, compute_uv=False), (3,)),
        ("pinv", L.pinv, (4,)),
        ("qr", lambda x: L.qr(x)[0], (2,)),
    ],
    ids=lambda p: p if isinstance(p, str) else "",
)
def test_shape_errors_name_the_function(
    name: str, f: Callable[[Any], Any], shape: tuple[int, ...]
) -> None:
    with pytest.raises(ShapeError, match=rf"numpy\.linalg\.{name}: .*{re_shape(shape)}"):
        bp.eval_bp(f, np.ones(shape))


def re_shape(shape: tuple[int, ...]) -> str:
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_solve_shape_errors() -> None:
    with pytest.raises(ShapeError, match="numpy.linalg.solve"):
        bp.eval_bp2(L.solve, np.eye(3), np.ones(2))
    with pytest.raises(ShapeError, match="numpy.linalg.solve"):
        bp.eval_bp2(L.solve, np.ones((2, 3)), np.ones(2))


def test_singular_matrices_raise_linalgerror() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError):
        bp.eval_bp(L.inv, singular)
    with pytest.raises(np.linalg.LinAlgError):
        bp.eval_bp2(L.solve, singular, np.ones(2))
    with pytest.raises(np.linalg.LinAlgError):
        bp.eval_bp(L.cholesky, np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert bp.eval_bp(lambda x: L.slogdet(x)[1], singular) == -np.inf
