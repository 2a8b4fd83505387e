"""The higher-order examples (examples/newton_negbin.py, newton_cg_gmm.py, tanh_derivatives.py)
run in their quick mode and reach their results, checked where possible by conditions that do
not use bprop: the score equations of the negative binomial, the EM fixed point of the mixture,
the closed forms of tanh's derivatives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import bprop as bp
import numpy as np
import pytest
from scipy.special import digamma
from test_examples_numpy import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NAMES = ("newton_negbin", "newton_cg_gmm", "tanh_derivatives")


def example(name: str) -> ModuleType:
    return load(EXAMPLES / f"{name}.py", f"bprop_example_{name}")


@pytest.mark.parametrize("name", NAMES)
def test_example_help(name: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,  # the assertion below shows stderr
    )
    assert out.returncode == 0, out.stderr
    assert "--quick" in out.stdout


# ---------------------------------------------------------------- Newton on a negative binomial


@pytest.fixture(scope="module")
def negbin_result() -> Any:
    nb = example("newton_negbin")
    return nb.run(**nb.QUICK, verbose=False)


def test_negbin_converges_quadratically(negbin_result: Any) -> None:
    nb = example("newton_negbin")
    result = negbin_result
    assert nb.failures(result) == []
    assert result.converged and result.iterations[-1].grad_norm <= nb.GRAD_TOL
    assert len(result.iterations) <= 10
    norms = [it.grad_norm for it in result.iterations]
    # Near the optimum every step is a full Newton step and the gradient norm about squares.
    tail = result.iterations[-4:-1]
    assert all(it.step_length == 1.0 for it in tail)
    orders = nb.convergence_orders(norms)
    assert max(orders[-3:]) >= 1.8, orders


def test_negbin_solves_the_score_equations(negbin_result: Any) -> None:
    """The fitted parameters zero the log-likelihood's derivatives, written out by hand."""
    nb = example("newton_negbin")
    X, y = nb.make_data(nb.QUICK["n"])
    beta, r = negbin_result.theta[:-1], np.exp(negbin_result.theta[-1])
    mu = np.exp(X @ beta)
    score_beta = X.T @ ((y - mu) * r / (r + mu))
    score_r = np.sum(digamma(y + r) - digamma(r) + np.log(r / (r + mu)) + (mu - y) / (r + mu))
    np.testing.assert_allclose(score_beta, 0.0, atol=1e-8 * len(y))
    assert abs(score_r) <= 1e-8 * len(y)


def test_negbin_recovers_the_parameters(negbin_result: Any) -> None:
    nb = example("newton_negbin")
    truth = np.append(nb.TRUE_BETA, np.log(nb.TRUE_R))
    se = negbin_result.standard_errors
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert np.all(np.abs(negbin_result.theta - truth) <= nb.MAX_STANDARD_ERRORS * se)
    assert np.all(np.abs(negbin_result.theta[:-1] - nb.TRUE_BETA) <= 0.2)


def test_negbin_hessian_matches_finite_differences(negbin_result: Any) -> None:
    nb = example("newton_negbin")
    assert negbin_result.hessian_check <= nb.FD_RTOL
    X, y = nb.make_data(50)
    rng = np.random.default_rng(5)
    theta = rng.normal(scale=0.3, size=len(nb.TRUE_BETA) + 1)
    hess = bp.hessian(lambda t: nb.mean_nll(t, X, y), theta)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12, atol=1e-14)
    assert nb.hessian_check(lambda t: nb.mean_nll(t, X, y), theta, seed=6) <= nb.FD_RTOL


def test_negbin_main_quick(capsys: pytest.CaptureFixture[str]) -> None:
    nb = example("newton_negbin")
    assert nb.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "order of convergence" in out and "std. error" in out


# ---------------------------------------------------------------- Newton-CG on a mixture


def test_gmm_converges_without_forming_the_hessian(monkeypatch: pytest.MonkeyPatch) -> None:
    gmm = example("newton_cg_gmm")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Newton-CG formed a Hessian or Jacobian")

    monkeypatch.setattr(bp, "hessian", refuse)
    monkeypatch.setattr(bp, "jacobian", refuse)
    result = gmm.run(**gmm.QUICK, verbose=False)
    assert gmm.failures(result) == []
    assert result.converged and result.iterations[-1].grad_norm <= gmm.GRAD_TOL
    assert result.hvp_count == sum(it.cg_iterations for it in result.iterations) > 0
    assert result.max_mean_error <= gmm.MEAN_TOLERANCE
    # Superlinear at the end: the last step cut the gradient norm by far more than a constant.
    last, before = result.iterations[-1].grad_norm, result.iterations[-2].grad_norm
    assert last <= 1e-3 * before


def test_gmm_means_are_an_em_fixed_point() -> None:
    """At a maximum of the likelihood every mean is the responsibility-weighted mean of the
    points (the EM update leaves it unchanged), computed here in plain numpy."""
    gmm = example("newton_cg_gmm")
    result = gmm.run(**gmm.QUICK, verbose=False)
    x = gmm.make_data(gmm.QUICK["n"])
    sq_dist = np.sum((x[:, None, :] - result.means[None, :, :]) ** 2, axis=2)
    log_w = -sq_dist / (2 * gmm.SCALE**2)
    resp = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    em_means = (resp.T @ x) / resp.sum(axis=0)[:, None]
    np.testing.assert_allclose(result.means, em_means, atol=1e-8)


def test_gmm_hvp_equals_hessian_times_v() -> None:
    gmm = example("newton_cg_gmm")
    x = gmm.make_data(40)
    rng = np.random.default_rng(3)
    theta, v = rng.normal(size=6), rng.normal(size=6)

    def f(t: Any) -> Any:
        return gmm.mean_nll(t, x)

    hess = bp.hessian(f, theta)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bp.hvp(f, theta, v), hess @ v, rtol=1e-10, atol=1e-12)
    assert gmm.hvp_check(f, theta, seed=4) <= gmm.FD_RTOL


def test_gmm_logsumexp_is_stable() -> None:
    """The shifted logsumexp agrees with the direct formula, and does not overflow where it
    would."""
    gmm = example("newton_cg_gmm")
    z = np.array([[0.5, -1.0, 2.0], [800.0, 799.0, -5.0]])
    got = gmm.logsumexp(z, axis=1)
    assert np.isclose(got[0], np.log(np.sum(np.exp(z[0]))), rtol=1e-14)
    assert np.isclose(got[1], 800.0 + np.log1p(np.exp(-1.0) + np.exp(-805.0)), rtol=1e-14)
    # and its gradient through the shift is the softmax
    grad = bp.grad_bp(lambda v: np.sum(gmm.logsumexp(v, axis=1)), z)
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(grad, softmax / softmax.sum(axis=1, keepdims=True), atol=1e-15)


# ---------------------------------------------------------------- tanh's derivatives


def test_tanh_closed_forms_are_consistent() -> None:
    """The closed forms themselves (no bprop): each is the central difference of the previous."""
    th = example("tanh_derivatives")
    x, h = np.linspace(-3.0, 3.0, 25), 1e-4
    forms = th.closed_forms(x)
    for k in range(1, 5):
        fd = (th.closed_forms(x + h)[k - 1] - th.closed_forms(x - h)[k - 1]) / (2 * h)
        np.testing.assert_allclose(forms[k], fd, atol=1e-6)


def test_tanh_derivatives_match_closed_forms(tmp_path: Path) -> None:
    th = example("tanh_derivatives")
    png = tmp_path / "tanh.png"
    result = th.run(**th.QUICK, plot=str(png), verbose=False)
    assert th.failures(result) == []
    expected = th.closed_forms(result.x)
    assert len(result.derivatives) == 5
    for got, want in zip(result.derivatives, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=th.TOLERANCE)
    want_at_point = [c[0] for c in th.closed_forms(np.array([th.POINT]))[1:]]
    np.testing.assert_allclose(result.scalar, want_at_point, rtol=0, atol=th.TOLERANCE)
    assert png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tanh_main_writes_the_plot_where_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    th = example("tanh_derivatives")
    monkeypatch.chdir(tmp_path)
    assert th.main(["--quick", "--no-plot"]) == 0
    assert list(tmp_path.iterdir()) == []
    assert th.main(["--quick"]) == 0  # the default: tanh_derivatives.png here
    assert (tmp_path / th.DEFAULT_PLOT).read_bytes()[:4] == b"\x89PNG"
    elsewhere = tmp_path / "sub" / "plot.png"
    elsewhere.parent.mkdir()
    assert th.main(["--quick", "--plot", str(elsewhere)]) == 0
    assert elsewhere.stat().st_size > 1000
