"""Second (and third) derivatives through linear algebra: every `numpy.linalg` function the
registry supports (plus `numpy.trace`) and every function of `bprop.linalg`.

For each case `F` (a function of the input giving an array, a float or a tuple of them) the
loss is `f(x) = sum_i <w_i, F(x)_i>` with random cotangents `w_i` for every output, and
`bp.hvp(f, x, v)` must equal the central difference of bprop's own gradient `bp.grad_bp(f, ·)`
along a random `v`; the same with squared terms `sum_i <s_i, F(x)_i²> / 2` added, so that the
cotangent reaching `F` is itself a BVar of the enclosing run. Some Hessians are checked for
symmetry, and some third derivatives against central differences of `hvp`. Inputs are random
and well conditioned: symmetric positive-definite
matrices are built inside `F` as `a aᵀ + n I` and symmetric ones as `(a + aᵀ)/2` plus a spread
diagonal (distinct eigenvalues), so that `F` is a smooth function of an unconstrained `a` and
the symmetric-gradient convention of `eigh`/`cholesky` gives its plain gradient. Eigenvectors
and singular vectors are only used in forms that do not depend on their signs (LAPACK may flip
a sign between nearby inputs). Linear functions are squared after (`F(x) ** 2`), so that the
cotangent reaching them depends on the input and their pullbacks are differentiated.

Not covered: `numpy.linalg.lstsq`, `eig`, `eigvals`, `matrix_rank`, `cond`, `tensorsolve`,
... are not supported on BVars at all (first order either), so they have no nested case.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.linalg as bl
import numpy as np
import pytest

# ---- inputs and structure helpers ---------------------------------------------------------------


def _leaves(x: Any) -> list[Any]:
    """The floats and arrays (or BVars) of a tuple/list structure, in order."""
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def _map2(f: Callable[[Any, Any], Any], x: Any, y: Any) -> Any:
    if isinstance(x, (tuple, list)):
        return tuple(_map2(f, a, b) for a, b in zip(x, y, strict=True))
    return f(x, y)


def _like(rng: np.random.Generator, x: Any) -> Any:
    """Random normal values of the structure and shapes of `x` (floats for floats)."""
    if isinstance(x, (tuple, list)):
        return tuple(_like(rng, item) for item in x)
    shape = np.shape(x)
    return float(rng.normal()) if not shape else rng.normal(size=shape)


def _weighted(out: Any, weights: list[Any], squares: list[Any] | None = None) -> Any:
    """sum_i <w_i, out_i> over the leaves of `out`, plus sum_i <s_i, out_i²> / 2 if `squares`
    are given (the cotangent reaching `out_i` is then w_i + s_i out_i, itself a BVar)."""
    total: Any = 0.0
    for o, w in zip(_leaves(out), weights, strict=True):
        total = total + np.sum(o * w)
    for o, sq in zip(_leaves(out), squares or [], strict=False):
        total = total + np.sum(o * o * sq) * 0.5
    return total


def _step(x: Any, v: Any, h: float) -> Any:
    return _map2(lambda a, b: a + h * b, x, v)


def _flat(x: Any) -> np.ndarray:
    return np.concatenate([np.ravel(leaf) for leaf in _leaves(x)])


def _squared(out: Any) -> Any:
    """Every leaf of an output squared (makes linear functions' second derivatives nonzero)."""
    if isinstance(out, (tuple, list)):
        return tuple(_squared(o) for o in out)
    return out * out


def _spd(a: Any) -> Any:
    n = np.shape(a)[-1]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _symmetric(a: Any) -> Any:
    """A symmetric matrix (stack) with well separated eigenvalues."""
    n = np.shape(a)[-1]
    return (a + np.swapaxes(a, -1, -2)) * 0.5 + np.diag(np.arange(n) * 2.0)


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def normal(*shape: int, shift: float = 0.0) -> Callable[[np.random.Generator], Any]:
    """Inputs: one array of `shape` (plus `shift` times the identity for square matrices)."""

    def make(rng: np.random.Generator) -> Any:
        x = rng.normal(size=shape)
        if shift:
            x = x + shift * np.eye(shape[-1])
        return x

    return make


def several(*makers: Callable[[np.random.Generator], Any]) -> Callable[[np.random.Generator], Any]:
    """Inputs: a tuple, one entry per maker (the function receives them as a tuple)."""
    return lambda rng: tuple(m(rng) for m in makers)


def scalar(lo: float = -1.0, hi: float = 1.0) -> Callable[[np.random.Generator], Any]:
    return lambda rng: float(rng.uniform(lo, hi))


# ---- the cases ----------------------------------------------------------------------------------

CASES: dict[str, tuple[Callable[[Any], Any], Callable[[np.random.Generator], Any]]] = {}


def case(name: str, fn: Callable[[Any], Any], inputs: Callable[[np.random.Generator], Any]) -> None:
    assert name not in CASES, name
    CASES[name] = (fn, inputs)


la = np.linalg
_C3 = np.array([0.7, -1.3, 0.4])
_C4 = np.array([0.7, -1.3, 0.4, 1.1])


def _eigh_outputs(a: Any, **kw: Any) -> Any:
    w, v = la.eigh(_symmetric(a), **kw)
    c = _C4[: np.shape(a)[-1]]
    return w, v * v, (v * c) @ np.swapaxes(v, -1, -2)


def _svd_outputs(a: Any, full_matrices: bool = False) -> Any:
    u, s, vh = la.svd(a, full_matrices=full_matrices)
    c = _C4[: np.shape(s)[-1]]
    return s, u * u, vh * vh, (u[..., :, : len(c)] * c) @ vh[..., : len(c), :]


def _qr_outputs(a: Any) -> Any:
    q, r = la.qr(a)
    c = _C4[: np.shape(r)[-2]]
    return (q * c) @ r, q * q, r * r


# numpy.linalg
case("det", la.det, normal(4, 4, shift=2.0))
case("det stack", la.det, normal(2, 3, 3, shift=2.0))
case("slogdet", lambda a: tuple(la.slogdet(a)), normal(4, 4, shift=2.0))
case("slogdet stack", lambda a: tuple(la.slogdet(a)), normal(2, 3, 3, shift=2.0))
case("inv", la.inv, normal(4, 4, shift=3.0))
case("inv stack", la.inv, normal(2, 3, 3, shift=3.0))
case("solve matrix", lambda x: la.solve(*x), several(normal(4, 4, shift=3.0), normal(4, 2)))
case("solve vector", lambda x: la.solve(*x), several(normal(4, 4, shift=3.0), normal(4)))
case("solve stack", lambda x: la.solve(*x), several(normal(2, 3, 3, shift=3.0), normal(2, 3, 2)))
# one argument a constant (a plain array inside the nested runs)
_A = np.random.default_rng(7).normal(size=(4, 4)) + 3.0 * np.eye(4)
_B = np.random.default_rng(8).normal(size=(4, 2))
case("solve constant b", lambda a: la.solve(a, _B), normal(4, 4, shift=3.0))
case("solve constant a", lambda b: la.solve(_A, b) ** 2, normal(4, 2))
case("solve broadcast", lambda x: la.solve(*x), several(normal(3, 3, shift=3.0), normal(2, 3, 2)))
case("cholesky", lambda a: la.cholesky(_spd(a)), normal(4, 4))
case("cholesky upper", lambda a: la.cholesky(_spd(a), upper=True), normal(4, 4))
case("cholesky stack", lambda a: la.cholesky(_spd(a)), normal(2, 3, 3))
case("eigh", _eigh_outputs, normal(4, 4))
case("eigh upper", lambda a: _eigh_outputs(a, UPLO="U"), normal(4, 4))
case("eigh stack", _eigh_outputs, normal(2, 3, 3))
case("eigvalsh", lambda a: la.eigvalsh(_symmetric(a)), normal(4, 4))
case("eigvalsh stack", lambda a: la.eigvalsh(_symmetric(a)), normal(2, 3, 3))
case("svd tall", _svd_outputs, normal(5, 3))
case("svd wide", _svd_outputs, normal(3, 5))
case("svd square full", lambda a: _svd_outputs(a, full_matrices=True), normal(4, 4))
case("svd stack", _svd_outputs, normal(2, 4, 3))
case("svd values tall", lambda a: la.svd(a, compute_uv=False), normal(5, 3))
case("svd values wide", lambda a: la.svd(a, compute_uv=False), normal(3, 5))
case("pinv tall", la.pinv, normal(5, 3))
case("pinv wide", la.pinv, normal(3, 5))
case("pinv square", la.pinv, normal(4, 4, shift=2.0))
case("qr tall", _qr_outputs, normal(5, 3))
case("qr square", _qr_outputs, normal(4, 4))
case("qr wide", _qr_outputs, normal(3, 5))
case("qr r", lambda a: la.qr(a, mode="r"), normal(5, 3))
for _ord in [None, 2, 1, 3, 0.5, np.inf, -np.inf, 0]:
    case(f"norm vector ord={_ord}", lambda a, o=_ord: la.norm(a, ord=o), normal(5))
case("norm flattened", la.norm, normal(2, 3, 2))
case("norm axis keepdims", lambda a: la.norm(a, axis=1, keepdims=True), normal(3, 4))
case("norm axis ord=3", lambda a: la.norm(a, ord=3, axis=0), normal(3, 4))
for _ord in [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]:
    case(f"norm matrix ord={_ord}", lambda a, o=_ord: la.norm(a, ord=o), normal(4, 3))
case("norm matrix axes nuc", lambda a: la.norm(a, ord="nuc", axis=(2, 0)), normal(3, 2, 4))
case("norm matrix axes 2", lambda a: la.norm(a, ord=2, axis=(0, 2), keepdims=True), normal(3, 2, 4))
case("matrix_power 3", lambda a: la.matrix_power(a, 3), normal(3, 3))
case("matrix_power -2", lambda a: la.matrix_power(a, -2), normal(3, 3, shift=3.0))
case("matrix_power 0", lambda a: a * la.matrix_power(a, 0), normal(3, 3))
case("matrix_power stack", lambda a: la.matrix_power(a, 2), normal(2, 3, 3))
case(
    "multi_dot",
    lambda x: la.multi_dot([x[0], x[1], x[0].T]),
    several(normal(3, 4), normal(4, 4)),
)
case(
    "multi_dot vectors",
    lambda x: la.multi_dot([x[0], x[1], x[1], x[0]]),
    several(normal(3), normal(3, 3)),
)
case("trace", lambda a: np.trace(a @ a @ a), normal(4, 4))

# bprop.linalg: decompositions and matrix functions
case("bl.det", bl.det, normal(4, 4, shift=2.0))
case("bl.inv", bl.inv, normal(4, 4, shift=3.0))
case("bl.logabsdet", bl.logabsdet, normal(4, 4, shift=2.0))
case("bl.inv_logabsdet", bl.inv_logabsdet, normal(4, 4, shift=3.0))
case("bl.chol", lambda a: bl.chol(_spd(a)), normal(4, 4))
case("bl.chol unsymmetric", lambda a: bl.chol(_spd(a) + 0.1 * a), normal(4, 4))
case("bl.eigenvalues", lambda a: bl.eigenvalues(_symmetric(a)), normal(4, 4))
# the eigenvector signs are fixed by hmatrix's rule (locally constant), so V is used as it is
case("bl.eigensystem", lambda a: bl.eigensystem(_symmetric(a)), normal(4, 4))
case("bl.svd", bl.svd, normal(5, 3))
case("bl.norm_0", lambda a: a * bl.norm_0(a), normal(5))
case("bl.norm_1 vector", bl.norm_1, normal(5))
case("bl.norm_1 matrix", bl.norm_1, normal(4, 3))
case("bl.norm_2 vector", bl.norm_2, normal(5))
case("bl.norm_2 matrix", bl.norm_2, normal(4, 3))
case("bl.norm_inf vector", lambda a: a * bl.norm_inf(a), normal(5))
case("bl.norm_inf matrix", lambda a: a * bl.norm_inf(a), normal(4, 3))
case("bl.cov", bl.cov, normal(5, 3))
case("bl.mean_cov", bl.mean_cov, normal(5, 3))
case("bl.cross", lambda x: bl.cross(*x) ** 2, several(normal(3), normal(3)))
case("bl.sym", lambda a: bl.sym(a) ** 2, normal(3, 3))
case("bl.mtm", bl.mtm, normal(4, 3))
# bprop.linalg: native kernels (linear ones squared)
case("bl.dot", lambda x: bl.dot(*x) ** 2, several(normal(4), normal(4)))
case("bl.matmul", lambda x: bl.matmul(*x) ** 2, several(normal(3, 4), normal(4, 2)))
case("bl.matvec", lambda x: bl.matvec(*x) ** 2, several(normal(3, 4), normal(4)))
case("bl.outer", lambda x: bl.outer(*x) ** 2, several(normal(3), normal(4)))
case("bl.sum", lambda a: bl.sum(a * a, axis=0) ** 2, normal(3, 4))
case("bl.sum_elements", lambda a: bl.sum_elements(a * a) ** 2, normal(3, 4))
case("bl.mean", lambda a: bl.mean(a * a) ** 2 + bl.mean(a, axis=1) ** 2, normal(3, 4))
case("bl.reshape", lambda a: bl.reshape(a, (4, 3)) ** 2, normal(3, 4))
case("bl.transpose", lambda a: bl.transpose(a) ** 2, normal(3, 4))
case("bl.tr", lambda a: bl.tr(a) @ a, normal(3, 3))
case(
    "bl.softmax_cross_entropy",
    lambda x: bl.softmax_cross_entropy(*x),
    several(normal(3, 4), lambda rng: rng.dirichlet(np.ones(4), size=3)),
)
# bprop.linalg: structure and the softmax family
case("bl.col", lambda a: bl.col(a) ** 2, normal(3))
case("bl.row", lambda a: bl.row(a) ** 2, normal(3))
case("bl.uncol", lambda a: bl.uncol(a) ** 2, normal(3, 1))
case("bl.unrow", lambda a: bl.unrow(a) ** 2, normal(1, 3))
case("bl.concat", lambda x: bl.concat(*x) ** 2, several(normal(2), normal(3)))
case("bl.snoc", lambda x: bl.snoc(*x) ** 2, several(normal(3), scalar()))
case("bl.hstack", lambda x: bl.hstack(*x) ** 2, several(normal(2, 2), normal(2, 3)))
case("bl.vstack", lambda x: bl.vstack(*x) ** 2, several(normal(2, 3), normal(1, 3)))
case("bl.diag", lambda a: bl.diag(a) ** 2, normal(3))
case("bl.take_diag", lambda a: bl.take_diag(a) ** 2, normal(3, 4))
case("bl.konst", lambda x: bl.konst(x, (2, 3)) ** 2, scalar())
case("bl.full", lambda x: bl.full(x, 3) ** 2, scalar())
case("bl.vec2", lambda x: bl.vec2(*x) ** 2, several(scalar(), scalar()))
case("bl.vec3", lambda x: bl.vec3(*x) ** 2, several(scalar(), scalar(), scalar()))
case("bl.vec4", lambda x: bl.vec4(*x) ** 2, several(scalar(), scalar(), scalar(), scalar()))
case("bl.linspace", lambda x: bl.linspace(x[0], x[1], 4) ** 2, several(scalar(), scalar()))
case("bl.split", lambda a: _squared(bl.split(a, 2)), normal(5))
case("bl.head_tail", lambda a: _squared(bl.head_tail(a)), normal(4))
case("bl.split_rows", lambda a: _squared(bl.split_rows(a, 1)), normal(3, 2))
case("bl.split_cols", lambda a: _squared(bl.split_cols(a, 2)), normal(2, 3))
case("bl.mean_rows", lambda a: bl.mean_rows(a) ** 2, normal(3, 4))
case("bl.logsumexp", bl.logsumexp, normal(3, 4))
case("bl.logsumexp axis", lambda a: bl.logsumexp(a, axis=1), normal(3, 4))
case("bl.softmax", bl.softmax, normal(3, 4))
case("bl.log_softmax", lambda a: bl.log_softmax(a, axis=0), normal(3, 4))
case("bl.vmap python", lambda a: bl.vmap(lambda t: t * t * bp.sin(t), a), normal(2, 3))
case("bl.vmap native", lambda a: bl.vmap(bp.tanh, a), normal(2, 3))
case("bl.vmap ufunc", lambda a: bl.vmap(np.exp, a), normal(2, 3))
case(
    "bl.zip_with_vector",
    lambda x: bl.zip_with_vector(lambda s, t: s * bp.exp(t), *x),
    several(normal(3), normal(3)),
)
case(
    "bl.zip_with_vector native",
    lambda x: bl.zip_with_vector(bp.mul_op, *x),
    several(normal(3), normal(3)),
)


# ---- the checks ---------------------------------------------------------------------------------


def _loss(
    name: str, quadratic: bool = False
) -> tuple[Callable[[Any], Any], Any, np.random.Generator]:
    """The case's weighted loss (with squared terms if `quadratic`), its input, and the case's
    generator for more random values."""
    fn, inputs = CASES[name]
    rng = _rng(name)
    x = inputs(rng)
    outputs = _leaves(bp.eval_bp(fn, x))
    weights = [_like(rng, leaf) for leaf in outputs]
    squares = [_like(rng, leaf) for leaf in outputs] if quadratic else None
    return (lambda y: _weighted(fn(y), weights, squares)), x, rng


def _fd_hvp(f: Callable[[Any], Any], x: Any, v: Any, h: float = 1e-5) -> np.ndarray:
    """The central difference of bprop's gradient of `f` at `x` along `v`."""
    plus = _flat(bp.grad_bp(f, _step(x, v, h)))
    minus = _flat(bp.grad_bp(f, _step(x, v, -h)))
    return (plus - minus) / (2 * h)


def _assert_close(actual: np.ndarray, expected: np.ndarray, tol: float = 1e-5) -> None:
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("quadratic", [False, True], ids=["linear loss", "quadratic loss"])
@pytest.mark.parametrize("name", list(CASES))
def test_hvp_matches_finite_differences_of_the_gradient(name: str, quadratic: bool) -> None:
    """With a loss linear in the outputs the cotangent reaching the function is a constant; with
    squared terms it is a BVar of the enclosing run, so both kinds of pullback input are met."""
    f, x, rng = _loss(name, quadratic)
    v = _like(rng, x)
    hvp = _flat(bp.hvp(f, x, v))
    _assert_close(hvp, _fd_hvp(f, x, v))


SYMMETRIC = [
    "det",
    "inv",
    "cholesky",
    "eigh",
    "svd tall",
    "qr wide",
    "pinv tall",
    "norm matrix ord=nuc",
    "bl.eigensystem",
    "bl.cov",
]


@pytest.mark.parametrize("name", SYMMETRIC)
def test_hessian_is_symmetric_and_agrees_with_hvp(name: str) -> None:
    f, x, rng = _loss(name, quadratic=True)
    n = x.size
    h = np.reshape(bp.hessian(f, x), (n, n))
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9 * max(1.0, np.max(np.abs(h))))
    v = rng.normal(size=x.shape)
    np.testing.assert_allclose(h @ v.ravel(), _flat(bp.hvp(f, x, v)), rtol=1e-9, atol=1e-9)


THIRD_ORDER = [
    "det",
    "slogdet",
    "inv",
    "solve matrix",
    "cholesky",
    "eigh",
    "svd tall",
    "qr tall",
    "pinv tall",
    "norm matrix ord=2",
    "bl.inv_logabsdet",
]


@pytest.mark.parametrize("name", THIRD_ORDER)
def test_third_derivatives_match_finite_differences_of_hvp(name: str) -> None:
    """D³f[v, u, ·] as the hvp of x ↦ <∇f(x), v> along u, against the central difference of
    `hvp(f, ·, v)` along u: the gradients of the nested pullbacks are differentiable again."""
    f, x, rng = _loss(name)
    v, u = _like(rng, x), _like(rng, x)

    def directional(y: Any) -> Any:
        return _weighted(bp.grad_bp(f, y), _leaves(v))

    third = _flat(bp.hvp(directional, x, u))
    h = 1e-5
    fd = (_flat(bp.hvp(f, _step(x, u, h), v)) - _flat(bp.hvp(f, _step(x, u, -h), v))) / (2 * h)
    _assert_close(third, fd, tol=1e-4)


def test_every_linalg_function_has_a_case() -> None:
    """Every `numpy.linalg` entry of the registry and every `bprop.linalg` name is exercised."""
    from bprop.numpy._registry import TABLE

    covered = {name.split(" ")[0] for name in CASES}
    registered = {k.split(".")[-1] for k in TABLE if k.startswith("numpy.linalg.")}
    missing_np = sorted(registered - covered)
    missing_bl = sorted(n for n in bl.__all__ if f"bl.{n}" not in covered)
    assert not missing_np and not missing_bl, (missing_np, missing_bl)


def test_second_derivative_of_det_at_a_singular_matrix_is_refused_by_name() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose(bp.grad_bp(la.det, singular), [[4.0, -2.0], [-2.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError, match="numpy.linalg.det: second derivatives"):
        bp.hessian(la.det, singular)
