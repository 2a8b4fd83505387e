"""Property law: every pullback is linear.

For each native op (the functions of `bprop._core`, the arithmetic dunders, numpy's fast paths)
and each public `bprop.linalg` function, `backprop_with` returns a pullback `pull` that must
satisfy `pull(a*u + v) == a*pull(u) + pull(v)` for random `a`, `u`, `v`. The ops are checked
against the modules' own listings, so a new op without a case makes a test fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop._core as core
import bprop.linalg as la
import numpy as np
import pytest

SEEDS = [0, 1, 2]
RTOL = 1e-10

Fn = Callable[..., Any]
#: a case: a function of BVars, and a recipe for its inputs from a seeded generator.
Case = tuple[Fn, Callable[[np.random.Generator], tuple[Any, ...]]]


# ---- inputs -------------------------------------------------------------------------------------


def _vec(n: int, lo: float = -2.0, hi: float = 2.0) -> Callable[[np.random.Generator], Any]:
    return lambda rng: rng.uniform(lo, hi, size=n)


def _mat(m: int, n: int) -> Callable[[np.random.Generator], Any]:
    return lambda rng: rng.normal(size=(m, n))


def _mat_in(m: int, n: int, lo: float, hi: float) -> Callable[[np.random.Generator], Any]:
    return lambda rng: rng.uniform(lo, hi, size=(m, n))


def _scalar(lo: float = -2.0, hi: float = 2.0) -> Callable[[np.random.Generator], Any]:
    return lambda rng: float(rng.uniform(lo, hi))


def _spd(n: int) -> Callable[[np.random.Generator], Any]:
    def make(rng: np.random.Generator) -> Any:
        a = rng.normal(size=(n, n))
        return a @ a.T + n * np.eye(n)

    return make


def _wellcond(n: int) -> Callable[[np.random.Generator], Any]:
    return lambda rng: rng.normal(size=(n, n)) + 4.0 * np.eye(n)


def _inputs(*makers: Callable[[np.random.Generator], Any]) -> Callable[..., tuple[Any, ...]]:
    return lambda rng: tuple(m(rng) for m in makers)


# ---- cotangents and comparisons -----------------------------------------------------------------


def _random_like(y: Any, rng: np.random.Generator) -> Any:
    if isinstance(y, tuple):
        return tuple(_random_like(e, rng) for e in y)
    if isinstance(y, np.ndarray):
        return rng.normal(size=y.shape)
    assert isinstance(y, float | np.floating), f"unexpected output type {type(y).__name__}"
    return float(rng.normal())


def _axpy(a: float, u: Any, v: Any) -> Any:
    if isinstance(u, tuple):
        return tuple(_axpy(a, ue, ve) for ue, ve in zip(u, v, strict=True))
    return a * u + v


def _scale(a: float, u: Any) -> Any:
    if isinstance(u, tuple):
        return tuple(_scale(a, e) for e in u)
    return a * u


def _assert_close(lhs: Any, rhs: Any) -> None:
    if isinstance(rhs, tuple):
        assert isinstance(lhs, tuple) and len(lhs) == len(rhs)
        for le, re in zip(lhs, rhs, strict=True):
            _assert_close(le, re)
        return
    lhs_a, rhs_a = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    assert lhs_a.shape == rhs_a.shape
    scale = float(np.max(np.abs(rhs_a), initial=1.0))
    np.testing.assert_allclose(lhs_a, rhs_a, rtol=RTOL, atol=RTOL * scale)


def check_linear(case: Case, seed: int) -> None:
    f, make = case
    rng = np.random.default_rng(seed)
    xs = make(rng)
    y, pull = bp.backprop_with_n(f, *xs)
    u, v = _random_like(y, rng), _random_like(y, rng)
    a = float(rng.uniform(-3.0, 3.0))
    lhs = pull(_axpy(a, u, v))
    rhs = _axpy(a, pull(u), pull(v))
    _assert_close(lhs, rhs)
    # and homogeneity on its own: pull(0) == 0
    _assert_close(pull(_scale(0.0, u)), _scale(0.0, rhs))


# ---- the native ops of bprop._core --------------------------------------------------------------

_UNARY_DOMAIN: dict[str, tuple[float, float]] = {
    "neg": (-2, 2),
    "abs": (0.1, 2),  # away from the kink, on both sides via the array case below
    "signum": (-2, 2),
    "recip": (0.5, 2),
    "exp": (-2, 2),
    "log": (0.1, 3),
    "sqrt": (0.1, 3),
    "sin": (-2, 2),
    "cos": (-2, 2),
    "tan": (-1, 1),
    "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9),
    "atan": (-2, 2),
    "sinh": (-2, 2),
    "cosh": (-2, 2),
    "tanh": (-2, 2),
    "asinh": (-2, 2),
    "acosh": (1.1, 3),
    "atanh": (-0.9, 0.9),
}

_BINARY_DOMAIN: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "add": ((-2, 2), (-2, 2)),
    "sub": ((-2, 2), (-2, 2)),
    "mul": ((-2, 2), (-2, 2)),
    "div": ((-2, 2), (0.5, 2)),
    "pow": ((0.5, 2), (-2, 2)),
    "log_base": ((1.5, 3), (0.5, 3)),
    "maximum": ((-2, 2), (-2, 2)),
    "minimum": ((-2, 2), (-2, 2)),
}


def _core_cases() -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {}
    for name, (lo, hi) in _UNARY_DOMAIN.items():
        fn = getattr(core, name)
        lo_a = -2.0 if name == "abs" else lo
        cases[name] = [
            (fn, _inputs(_scalar(lo, hi))),
            (fn, _inputs(_vec(5, lo_a, hi))),
            (lambda x, fn=fn: fn(x) * x, _inputs(_vec(4, lo, hi))),  # composed with a product
        ]
    for name, ((lo1, hi1), (lo2, hi2)) in _BINARY_DOMAIN.items():
        fn = getattr(core, name)
        cases[name] = [
            (fn, _inputs(_scalar(lo1, hi1), _scalar(lo2, hi2))),
            (fn, _inputs(_vec(4, lo1, hi1), _vec(4, lo2, hi2))),
            # broadcasting: the gradient of the row is summed over the batch
            (fn, _inputs(_mat_in(3, 4, lo1, hi1), _vec(4, lo2, hi2))),
            (lambda x, fn=fn: fn(x, 1.25), _inputs(_vec(3, lo1, hi1))),
        ]
    cases["matmul"] = [
        (core.matmul, _inputs(_mat(3, 4), _mat(4, 2))),
        (core.matmul, _inputs(_mat(3, 4), _vec(4))),
        (core.matmul, _inputs(_vec(3), _mat(3, 4))),
        (core.matmul, _inputs(_vec(3), _vec(3))),
    ]
    cases["transpose"] = [(core.transpose, _inputs(_mat(2, 5)))]
    cases["reshape"] = [(lambda x: core.reshape(x, [3, 2]), _inputs(_mat(2, 3)))]
    for name in ("sum", "mean", "max", "min"):
        fn = getattr(core, name)
        cases[name] = [
            (fn, _inputs(_mat(3, 4))),
            (lambda x, fn=fn: fn(x, 0), _inputs(_mat(3, 4))),
            (lambda x, fn=fn: fn(x, 1), _inputs(_mat(3, 4))),
        ]
    cases["softmax_cross_entropy"] = [
        (
            lambda z: core.softmax_cross_entropy(z, np.full((3, 4), 0.25)),
            _inputs(_mat(3, 4)),
        ),
        (core.softmax_cross_entropy, _inputs(_mat(3, 4), _mat(3, 4))),
    ]
    # tape-level primitives behind the containers and user-defined Ops
    cases["join"] = [(lambda x, y: bp.join_var((x, y * 2.0)), _inputs(_scalar(), _vec(3)))]
    cases["project"] = [(lambda v: bp.split_var(bp.join_var((v, v * v))), _inputs(_vec(3)))]
    lin = bp.op1(lambda x: (3.0 * x, lambda d: 3.0 * d))
    cases["lift_custom"] = [(lambda x: lin(bp.sin(x)), _inputs(_vec(3)))]
    return cases


CORE_CASES = _core_cases()

#: public names of bprop._core that are not differentiable ops
CORE_NOT_OPS = {"BVar", "Tape", "const_var", "install_hooks", "set_add"}


def test_every_core_function_has_a_linearity_case() -> None:
    public = {n for n in dir(core) if not n.startswith("_") and callable(getattr(core, n))}
    missing = sorted(public - CORE_NOT_OPS - set(CORE_CASES))
    assert not missing, f"bprop._core ops without a linearity case: {missing}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CORE_CASES))
def test_core_op_pullback_is_linear(name: str, seed: int) -> None:
    for case in CORE_CASES[name]:
        check_linear(case, seed)


# ---- arithmetic dunders and numpy's native fast paths -------------------------------------------

_rows = np.array([2, 0, 2, 1])

DUNDER_CASES: dict[str, Case] = {
    "x + y": (lambda x, y: x + y, _inputs(_vec(3), _vec(3))),
    "x - y": (lambda x, y: x - y, _inputs(_mat(2, 3), _vec(3))),
    "x * y": (lambda x, y: x * y, _inputs(_vec(3), _vec(3))),
    "x / y": (lambda x, y: x / y, _inputs(_vec(3), _vec(3, 0.5, 2))),
    "x ** y": (lambda x, y: x**y, _inputs(_vec(3, 0.5, 2), _vec(3))),
    "x ** 2": (lambda x: x**2, _inputs(_vec(3))),
    "2.0 ** x": (lambda x: 2.0**x, _inputs(_vec(3))),
    "1.5 - x": (lambda x: 1.5 - x, _inputs(_scalar())),
    "2.0 / x": (lambda x: 2.0 / x, _inputs(_scalar(0.5, 2))),
    "x @ y": (lambda x, y: x @ y, _inputs(_mat(3, 2), _mat(2, 4))),
    "const @ x": (lambda x: np.ones((2, 3)) @ x, _inputs(_vec(3))),
    "-x": (lambda x: -x, _inputs(_vec(3))),
    "abs(x)": (lambda x: abs(x), _inputs(_vec(3))),
    "scalar ops": (lambda x, y: x * y - x / y + x**y, _inputs(_scalar(0.5, 2), _scalar(0.5, 2))),
    "np.sum axis=None": (lambda x: np.sum(x), _inputs(_mat(3, 4))),
    "np.sum axis=1 keepdims": (lambda x: np.sum(x, axis=1, keepdims=True), _inputs(_mat(3, 4))),
    "np.sum axis=(0, 2)": (
        lambda x: np.sum(x, axis=(0, 2)),
        _inputs(lambda r: r.normal(size=(2, 3, 4))),
    ),
    "np.mean axis=0": (lambda x: np.mean(x, axis=0), _inputs(_mat(3, 4))),
    "np.mean axis=-1": (lambda x: np.mean(x, axis=-1), _inputs(_mat(3, 4))),
    "np.max axis=None": (lambda x: np.max(x), _inputs(_mat(3, 4))),
    "np.max axis=1": (lambda x: np.max(x, axis=1), _inputs(_mat(3, 4))),
    "np.min axis=0": (lambda x: np.min(x, axis=0), _inputs(_mat(3, 4))),
    "x.sum()": (lambda x: x.sum(), _inputs(_vec(5))),
    "np.reshape": (lambda x: np.reshape(x, (4, 3)), _inputs(_mat(3, 4))),
    "x.reshape(-1)": (lambda x: x.reshape(-1), _inputs(_mat(3, 4))),
    "x.T": (lambda x: x.T, _inputs(_mat(3, 4))),
    "x[1]": (lambda x: x[1], _inputs(_mat(3, 4))),
    "x[1, 2]": (lambda x: x[1, 2], _inputs(_mat(3, 4))),
    "x[:, 1:3]": (lambda x: x[:, 1:3], _inputs(_mat(3, 4))),
    "x[::-2]": (lambda x: x[::-2], _inputs(_vec(7))),
    "x[rows] (repeated)": (lambda x: x[_rows], _inputs(_mat(3, 4))),
    "np.take rows": (lambda x: np.take(x, _rows, axis=0), _inputs(_mat(3, 4))),
    "x[mask]": (lambda x: x[np.array([True, False, True])], _inputs(_vec(3))),
    "np.maximum(x, 0)": (lambda x: np.maximum(x, 0.0), _inputs(_vec(6))),
    "np.minimum(x, y)": (lambda x, y: np.minimum(x, y), _inputs(_vec(6), _vec(6))),
    "np.exp(x)": (lambda x: np.exp(x), _inputs(_vec(4))),
    "np.tanh(x) * y": (lambda x, y: np.tanh(x) * y, _inputs(_vec(4), _vec(4))),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(DUNDER_CASES))
def test_dunder_and_numpy_pullback_is_linear(name: str, seed: int) -> None:
    check_linear(DUNDER_CASES[name], seed)


# ---- bprop.linalg ------------------------------------------------------------------------------

LINALG_CASES: dict[str, Case] = {
    "dot": (la.dot, _inputs(_vec(4), _vec(4))),
    "matmul": (la.matmul, _inputs(_mat(3, 4), _mat(4, 2))),
    "matvec": (la.matvec, _inputs(_mat(3, 4), _vec(4))),
    "mean": (la.mean, _inputs(_mat(3, 4))),
    "outer": (la.outer, _inputs(_vec(3), _vec(4))),
    "reshape": (lambda v: la.reshape(v, (2, 3)), _inputs(_vec(6))),
    "softmax_cross_entropy": (
        lambda z: la.softmax_cross_entropy(z, np.eye(4)[[0, 2, 3]]),
        _inputs(_mat(3, 4)),
    ),
    "sum": (lambda m: la.sum(m, axis=1), _inputs(_mat(3, 4))),
    "sum_elements": (la.sum_elements, _inputs(_mat(3, 4))),
    "tr": (la.tr, _inputs(_mat(3, 4))),
    "transpose": (la.transpose, _inputs(_mat(3, 4))),
    "col": (la.col, _inputs(_vec(3))),
    "concat": (la.concat, _inputs(_vec(3), _vec(2))),
    "diag": (la.diag, _inputs(_vec(3))),
    "full": (lambda x: la.full(x, (2, 3)), _inputs(_scalar())),
    "head_tail": (la.head_tail, _inputs(_vec(4))),
    "hstack": (la.hstack, _inputs(_mat(3, 2), _mat(3, 4))),
    "konst": (lambda x: la.konst(x, 4), _inputs(_scalar())),
    "linspace": (lambda lo, hi: la.linspace(lo, hi, 5), _inputs(_scalar(), _scalar())),
    "log_softmax": (la.log_softmax, _inputs(_mat(3, 4))),
    "logsumexp": (lambda z: la.logsumexp(z, axis=0), _inputs(_mat(3, 4))),
    "mean_rows": (la.mean_rows, _inputs(_mat(3, 4))),
    "row": (la.row, _inputs(_vec(3))),
    "snoc": (la.snoc, _inputs(_vec(3), _scalar())),
    "softmax": (la.softmax, _inputs(_mat(3, 4))),
    "split": (lambda v: la.split(v, 2), _inputs(_vec(5))),
    "split_cols": (lambda m: la.split_cols(m, 1), _inputs(_mat(3, 4))),
    "split_rows": (lambda m: la.split_rows(m, 2), _inputs(_mat(3, 4))),
    "take_diag": (la.take_diag, _inputs(_mat(3, 3))),
    "uncol": (la.uncol, _inputs(_mat(3, 1))),
    "unrow": (la.unrow, _inputs(_mat(1, 3))),
    "vec2": (la.vec2, _inputs(_scalar(), _scalar())),
    "vec3": (la.vec3, _inputs(_scalar(), _scalar(), _scalar())),
    "vec4": (la.vec4, _inputs(_scalar(), _scalar(), _scalar(), _scalar())),
    "vmap": (lambda v: la.vmap(lambda e: bp.sin(e) * e, v), _inputs(_vec(4))),
    "vstack": (la.vstack, _inputs(_mat(2, 3), _mat(1, 3))),
    "zip_with_vector": (
        lambda u, v: la.zip_with_vector(lambda a, b: a * bp.exp(b), u, v),
        _inputs(_vec(3), _vec(3)),
    ),
    "chol": (la.chol, _inputs(_spd(3))),
    "cov": (la.cov, _inputs(_mat(5, 3))),
    "cross": (la.cross, _inputs(_vec(3), _vec(3))),
    "det": (la.det, _inputs(_wellcond(3))),
    "eigensystem": (la.eigensystem, _inputs(_spd(3))),
    "eigenvalues": (la.eigenvalues, _inputs(_spd(3))),
    "inv": (la.inv, _inputs(_wellcond(3))),
    "inv_logabsdet": (la.inv_logabsdet, _inputs(_wellcond(3))),
    "logabsdet": (la.logabsdet, _inputs(_wellcond(3))),
    "mean_cov": (la.mean_cov, _inputs(_mat(5, 3))),
    "mtm": (la.mtm, _inputs(_mat(4, 3))),
    "norm_0": (la.norm_0, _inputs(_vec(4))),
    "norm_1": (la.norm_1, _inputs(_vec(4))),
    "norm_2": (la.norm_2, _inputs(_vec(4))),
    "norm_inf": (la.norm_inf, _inputs(_vec(4))),
    "svd": (la.svd, _inputs(_mat(4, 3))),
    "sym": (la.sym, _inputs(_mat(3, 3))),
}

#: matrix forms of the norms, checked beside the vector forms above
LINALG_EXTRA: dict[str, Case] = {
    "norm_1 (matrix)": (la.norm_1, _inputs(_mat(3, 4))),
    "norm_2 (matrix)": (la.norm_2, _inputs(_mat(3, 4))),
    "norm_inf (matrix)": (la.norm_inf, _inputs(_mat(3, 4))),
    "mean (axis=0)": (lambda m: la.mean(m, axis=0), _inputs(_mat(3, 4))),
    "sum (axis=None)": (la.sum, _inputs(_mat(3, 4))),
    "softmax_cross_entropy (both)": (la.softmax_cross_entropy, _inputs(_mat(3, 4), _mat(3, 4))),
}


def test_every_linalg_function_has_a_linearity_case() -> None:
    missing = sorted(set(la.__all__) - set(LINALG_CASES))
    assert not missing, f"bprop.linalg functions without a linearity case: {missing}"
    stale = sorted(set(LINALG_CASES) - set(la.__all__))
    assert not stale, f"linearity cases for names bprop.linalg does not export: {stale}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(LINALG_CASES) + sorted(LINALG_EXTRA))
def test_linalg_pullback_is_linear(name: str, seed: int) -> None:
    check_linear({**LINALG_CASES, **LINALG_EXTRA}[name], seed)


# ---- the law can fail -----------------------------------------------------------------------------


def test_the_check_rejects_a_nonlinear_pullback() -> None:
    """A user Op whose pullback squares the cotangent is caught by the same check."""
    bad = bp.op1(lambda x: (x, lambda d: d * d))
    with pytest.raises(AssertionError):
        check_linear((bad, _inputs(_scalar())), 0)
