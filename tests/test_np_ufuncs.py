"""Elementwise functions on BVars: numpy ufuncs (`np.square(v)`, `np.maximum(v, 0.0)`, ...),
`np.sinc`/`np.round`/`np.fix`, and scipy.special's ufuncs (`expit(v)`, `gammaln(v)`, ...).
Values equal numpy's/scipy's; gradients are checked against central differences with random
cotangents (tests/fd.py:check_vjp) over 0-d, 1-d, 2-d, broadcast and non-contiguous inputs."""

from __future__ import annotations

import subprocess
import sys
import zlib
from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
import pytest
import scipy.special as sc
from bprop.numpy import _special, _ufuncs  # noqa: F401  (registers the entries)
from fd import check_vjp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

Sampler = Callable[[np.random.Generator, tuple[int, ...]], Any]


def _seed(*parts: Any) -> int:
    """A seed that is the same in every run (str hashes are salted per process)."""
    return zlib.crc32(repr(parts).encode())


def _uniform(lo: float, hi: float) -> Sampler:
    def sample(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
        x = rng.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return sample


def _normal(scale: float = 1.0) -> Sampler:
    def sample(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
        x = scale * rng.normal(size=shape)
        return float(x) if shape == () else x

    return sample


def _away_from_zero(lo: float = 0.5, hi: float = 2.0) -> Sampler:
    def sample(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
        x = rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        return float(x) if shape == () else x

    return sample


# ---- the functions under test ----------------------------------------------------------------

# name -> (the numpy/scipy function, sampler of its domain)
UNARY: dict[str, tuple[Callable[..., Any], Sampler]] = {
    "square": (np.square, _normal(2.0)),
    "cbrt": (np.cbrt, _away_from_zero()),
    "exp2": (np.exp2, _normal(2.0)),
    "expm1": (np.expm1, _normal(2.0)),
    "log2": (np.log2, _uniform(0.2, 5.0)),
    "log10": (np.log10, _uniform(0.2, 5.0)),
    "log1p": (np.log1p, _uniform(-0.8, 5.0)),
    "deg2rad": (np.deg2rad, _normal(90.0)),
    "rad2deg": (np.rad2deg, _normal(2.0)),
    "degrees": (np.degrees, _normal(2.0)),
    "radians": (np.radians, _normal(90.0)),
    "conjugate": (np.conjugate, _normal()),
    "sinc": (np.sinc, _normal(2.0)),
    "sc.expit": (sc.expit, _normal(3.0)),
    "sc.logit": (sc.logit, _uniform(0.05, 0.95)),
    "sc.log_expit": (sc.log_expit, _normal(5.0)),
    "sc.gammaln": (sc.gammaln, _uniform(0.3, 6.0)),
    "sc.digamma": (sc.digamma, _uniform(0.3, 6.0)),
    "sc.psi": (sc.psi, _uniform(0.3, 6.0)),
    "sc.erf": (sc.erf, _normal()),
    "sc.erfc": (sc.erfc, _normal()),
    "sc.erfinv": (sc.erfinv, _uniform(-0.9, 0.9)),
    "sc.erfcinv": (sc.erfcinv, _uniform(0.1, 1.9)),
    "sc.ndtr": (sc.ndtr, _normal(2.0)),
    "sc.log_ndtr": (sc.log_ndtr, _normal(4.0)),
    "sc.ndtri": (sc.ndtri, _uniform(0.05, 0.95)),
    "sc.softplus": (sc.softplus, _normal(3.0)),
    # scipy's ufuncs that share numpy's names
    "sc.expm1": (sc.expm1, _normal(2.0)),
    "sc.log1p": (sc.log1p, _uniform(-0.8, 5.0)),
    "sc.cbrt": (sc.cbrt, _away_from_zero()),
    "sc.exp2": (sc.exp2, _normal(2.0)),
}


def _mod_pair(
    rng: np.random.Generator, sx: tuple[int, ...], sy: tuple[int, ...]
) -> tuple[Any, Any]:
    """(x, y) with every x/y (under broadcasting) at least 0.07 from an integer, away from the
    jumps of the remainder: |y| in [1, 1.05], x an integer plus a fraction in [0.25, 0.75]."""
    y = _uniform(1.0, 1.05)(rng, sy) * rng.choice([-1.0, 1.0], size=sy)
    x = rng.integers(-3, 3, size=sx) + rng.uniform(0.25, 0.75, size=sx)
    return (float(x) if sx == () else x), (float(y) if sy == () else y)


def _pair(sample_x: Sampler, sample_y: Sampler) -> Callable[..., tuple[Any, Any]]:
    def sample(
        rng: np.random.Generator, sx: tuple[int, ...], sy: tuple[int, ...]
    ) -> tuple[Any, Any]:
        return sample_x(rng, sx), sample_y(rng, sy)

    return sample


BINARY: dict[str, tuple[Callable[..., Any], Callable[..., tuple[Any, Any]]]] = {
    # arctan2(y, x) jumps by 2π across y = 0 where x < 0: both away from zero, so a finite
    # difference never straddles the cut.
    "arctan2": (np.arctan2, _pair(_away_from_zero(), _away_from_zero())),
    "hypot": (np.hypot, _pair(_away_from_zero(), _away_from_zero())),
    "maximum": (np.maximum, _pair(_normal(), _normal())),
    "minimum": (np.minimum, _pair(_normal(), _normal())),
    "fmax": (np.fmax, _pair(_normal(), _normal())),
    "fmin": (np.fmin, _pair(_normal(), _normal())),
    "logaddexp": (np.logaddexp, _pair(_normal(3.0), _normal(3.0))),
    "logaddexp2": (np.logaddexp2, _pair(_normal(3.0), _normal(3.0))),
    "copysign": (np.copysign, _pair(_away_from_zero(), _away_from_zero())),
    "mod": (np.mod, _mod_pair),
    "remainder": (np.remainder, _mod_pair),
    "fmod": (np.fmod, _mod_pair),
    "float_power": (np.float_power, _pair(_uniform(0.3, 3.0), _normal())),
    "sc.xlogy": (sc.xlogy, _pair(_normal(), _uniform(0.1, 3.0))),
    "sc.xlog1py": (sc.xlog1py, _pair(_normal(), _uniform(-0.8, 3.0))),
}

# piecewise constant: zero gradient, a constant result
CONSTANT: dict[str, Callable[..., Any]] = {
    "floor": np.floor,
    "ceil": np.ceil,
    "trunc": np.trunc,
    "rint": np.rint,
    "fix": np.fix,
    "round": np.round,
    "around": np.around,
    "round1": lambda x: np.round(x, 1),
    "round_decimals-1": lambda x: np.round(x, decimals=-1),
}

SHAPES = [(), (5,), (3, 4)]
PAIR_SHAPES = [
    ((), ()),
    ((4,), (4,)),
    ((3, 4), (3, 4)),
    ((3, 1), (4,)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((1, 3), (2, 1)),
]


def _sum(v: Any) -> Any:
    return (
        bp.linalg.sum_elements(v)
        if isinstance(v, bp.BVar) and not isinstance(v.value, float)
        else v
    )


# ---- unary -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_value_and_vjp(name: str, shape: tuple[int, ...]) -> None:
    f, sample = UNARY[name]
    rng = np.random.default_rng(_seed(name, shape))
    x = sample(rng, shape)
    got = bp.eval_bp(f, x)
    np.testing.assert_allclose(got, f(x), rtol=1e-12, atol=0)
    assert isinstance(got, float) if shape == () else got.shape == shape
    check_vjp(f, [x], rng=rng, plain=f, what=name)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_non_contiguous(name: str) -> None:
    """A transposed BVar (`v.T`) and a BVar holding a strided view."""
    f, sample = UNARY[name]
    rng = np.random.default_rng(7)
    x = sample(rng, (3, 4))
    check_vjp(lambda v: f(v.T), [x], rng=rng, plain=lambda a: f(a.T), what=name)
    big = sample(rng, (6, 8))
    view = big[::2, 1::2]
    assert not view.flags.c_contiguous
    y, pull = bp.backprop_with(f, view)
    np.testing.assert_allclose(y, f(view), rtol=1e-12)
    c = rng.normal(size=view.shape)
    g = pull(c)
    check_vjp(f, [view.copy()], rng=rng, cotangent=c, plain=f, what=name)
    expected = bp.backprop_with(f, view.copy())[1](c)
    np.testing.assert_allclose(g, expected, rtol=1e-13)


# ---- binary ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shapes", PAIR_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_value_and_vjp(name: str, shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    f, sample = BINARY[name]
    rng = np.random.default_rng(_seed(name, shapes))
    x, y = sample(rng, *shapes)
    got = bp.eval_bp_n(f, x, y)
    np.testing.assert_allclose(got, f(x, y), rtol=1e-12, atol=0)
    check_vjp(f, [x, y], rng=rng, plain=f, what=name)
    # one argument a BVar, the other a plain number or array
    check_vjp(lambda a: f(a, y), [x], rng=rng, plain=lambda a: f(a, y), what=f"{name} (x)")
    check_vjp(lambda b: f(x, b), [y], rng=rng, plain=lambda b: f(x, b), what=f"{name} (y)")


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_non_contiguous(name: str) -> None:
    f, sample = BINARY[name]
    rng = np.random.default_rng(11)
    x, y = sample(rng, (3, 4), (4, 3))
    check_vjp(lambda a, b: f(a.T, b), [x, y], rng=rng, plain=lambda a, b: f(a.T, b), what=name)
    xp, _ = sample(rng, (4, 6), (4, 6))
    strided = xp[:, ::2]  # a plain non-contiguous operand
    check_vjp(
        lambda b: f(strided, b),
        [y[:, :3].copy()],
        rng=rng,
        plain=lambda b: f(strided, b),
        what=name,
    )


@settings(max_examples=25, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(["maximum", "hypot", "logaddexp", "mod", "arctan2", "sc.xlogy"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_binary_random_broadcasting(shapes: Any, name: str, seed: int) -> None:
    f, sample = BINARY[name]
    rng = np.random.default_rng(seed)
    sx, sy = shapes.input_shapes
    x, y = sample(rng, sx, sy)
    got = bp.eval_bp_n(f, x, y)
    np.testing.assert_allclose(got, f(x, y), rtol=1e-12)
    assert np.shape(got) == shapes.result_shape
    check_vjp(f, [x, y], rng=rng, plain=f, what=name)


# ---- maximum and minimum: ties and NaN ---------------------------------------------------------


@pytest.mark.parametrize("f", [np.maximum, np.minimum, np.fmax, np.fmin], ids=lambda f: f.__name__)
def test_ties_split_evenly(f: Callable[..., Any]) -> None:
    x = np.array([1.0, 2.0, 3.0, -1.0])
    y = np.array([1.0, 5.0, 0.0, -1.0])
    c = np.array([1.0, 10.0, 100.0, 1000.0])
    _, pull = bp.backprop_with_n(f, x, y)
    gx, gy = pull(c)
    big = f is np.maximum or f is np.fmax
    np.testing.assert_array_equal(gx, [0.5, 0.0 if big else 10.0, 100.0 if big else 0.0, 500.0])
    np.testing.assert_array_equal(gy, [0.5, 10.0 if big else 0.0, 0.0 if big else 100.0, 500.0])
    # a tie of a float with an array: the float's share is summed
    g = bp.grad_bp(lambda t: _sum(f(t, np.array([2.0, 2.0, 1.0]))), 2.0)
    assert g == (2.0 if big else 1.0)
    # relu at exactly 0
    assert bp.grad_bp(lambda t: f(t, 0.0), 0.0) == 0.5


def test_nan_selection() -> None:
    nan = np.nan
    x = np.array([nan, 1.0, nan, 2.0])
    y = np.array([1.0, nan, nan, 0.5])
    c = np.array([1.0, 2.0, 4.0, 8.0])
    for f in (np.fmax, np.fmin):  # NaN skipped: the other argument gets the gradient
        gx_expected = [0.0, 2.0, 4.0, 8.0 if f is np.fmax else 0.0]
        val, pull = bp.backprop_with_n(f, x, y)
        np.testing.assert_array_equal(val, f(x, y))
        gx, gy = pull(c)
        np.testing.assert_array_equal(gx, gx_expected, err_msg=f.__name__)
        np.testing.assert_array_equal(gy, c - np.array(gx_expected), err_msg=f.__name__)
    for f in (np.maximum, np.minimum):  # NaN propagates (native kernel: NaN gradients there)
        val, pull = bp.backprop_with_n(f, x, y)
        np.testing.assert_array_equal(val, f(x, y))
        gx, gy = pull(c)
        assert gx[3] == (8.0 if f is np.maximum else 0.0) and gy[3] == 8.0 - gx[3]
        # the keyword path gives the same gradient as the plain call, NaNs included
        kx, ky = bp.backprop_with_n(lambda a, b, f=f: f(a, b, dtype=np.float64), x, y)[1](c)
        np.testing.assert_array_equal(kx, gx)
        np.testing.assert_array_equal(ky, gy)


def test_logaddexp_stable_and_infinite() -> None:
    x = np.array([1000.0, -1000.0, -np.inf, np.inf, 0.0])
    y = np.array([1000.0, -1001.0, -np.inf, np.inf, -np.inf])
    for f in (np.logaddexp, np.logaddexp2):
        val, pull = bp.backprop_with_n(f, x, y)
        np.testing.assert_array_equal(val, f(x, y))
        gx, gy = pull(np.ones(5))
        assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))
        np.testing.assert_allclose(gx + gy, 1.0, rtol=1e-14)
        np.testing.assert_allclose(gx[[0, 2, 3]], 0.5)
        assert gx[4] == 1.0 and gy[4] == 0.0
    gx, _ = bp.backprop_with_n(np.logaddexp, x, y)[1](np.ones(5))
    assert gx[1] == pytest.approx(1.0 / (1.0 + np.exp(-1.0)), rel=1e-14)


# ---- particular derivatives --------------------------------------------------------------------


def test_sinc_near_zero() -> None:
    rng = np.random.default_rng(3)
    x = np.array([0.0, 1e-12, -1e-6, 0.01, 0.0318, 0.0319, 0.05, 0.2, 1.0, -2.5])
    check_vjp(np.sinc, [x], rng=rng, plain=np.sinc, rtol=1e-7, atol=1e-10)
    assert bp.grad_bp(np.sinc, 0.0) == 0.0
    assert bp.eval_bp(np.sinc, 0.0) == 1.0
    # derivative at 1: (cos π - sinc 1)/1 = -1
    assert bp.grad_bp(np.sinc, 1.0) == pytest.approx(-1.0, rel=1e-14)


def test_copysign_gradient_goes_to_x() -> None:
    x = np.array([2.0, -2.0, 3.0, -3.0])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    gx, gy = bp.backprop_with_n(np.copysign, x, y)[1](np.ones(4))
    np.testing.assert_array_equal(gx, [1.0, -1.0, -1.0, 1.0])
    np.testing.assert_array_equal(gy, 0.0)


@pytest.mark.parametrize("f", [np.mod, np.fmod], ids=lambda f: f.__name__)
def test_remainder_quotient(f: Callable[..., Any]) -> None:
    x = np.array([7.5, -7.5, 7.5, -7.5, 0.3])
    y = np.array([2.0, 2.0, -2.0, -2.0, 0.1])
    gx, gy = bp.backprop_with_n(f, x, y)[1](np.ones(5))
    np.testing.assert_array_equal(gx, 1.0)
    q = np.floor_divide(x, y) if f is np.mod else np.trunc(x / y)
    q[4] = 2.0  # 0.3/0.1 is a hair below 3 in binary: numpy's quotient is 2
    np.testing.assert_array_equal(gy, -q)
    np.testing.assert_allclose(f(x, y), x - q * y, atol=1e-15)


def test_xlogy_at_zero() -> None:
    x = np.array([0.0, 0.0, 2.0])
    y = np.array([0.0, 3.0, 3.0])
    val, pull = bp.backprop_with_n(sc.xlogy, x, y)
    np.testing.assert_array_equal(val, sc.xlogy(x, y))
    _, gy = pull(np.ones(3))
    np.testing.assert_allclose(gy, [0.0, 0.0, 2.0 / 3.0])


def test_log_ndtr_lower_tail() -> None:
    rng = np.random.default_rng(5)
    x = np.array([-40.0, -20.0, -5.0, 0.0, 5.0])
    check_vjp(sc.log_ndtr, [x], rng=rng, plain=sc.log_ndtr)
    g = bp.backprop_with(sc.log_ndtr, x)[1](np.ones(5))
    assert np.all(np.isfinite(g))
    assert g[0] == pytest.approx(40.0249, rel=1e-4)  # ~ -x - 1/x for x -> -inf


def test_gammaln_digamma_negative_arguments() -> None:
    rng = np.random.default_rng(9)
    x = np.array([-0.5, -1.3, -2.7])
    for f in (sc.gammaln, sc.digamma):
        check_vjp(f, [x], rng=rng, plain=f, rtol=1e-5)


def test_float_power_and_softplus_go_through_their_routes() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2.0, size=4)
    assert bp.eval_bp(lambda v: sc.softplus(v), x) == pytest.approx(sc.softplus(x), rel=1e-14)
    np.testing.assert_allclose(
        bp.eval_bp(lambda v: np.float_power(v, 2.5), x), np.float_power(x, 2.5), rtol=1e-14
    )


# ---- zero-gradient functions -------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(CONSTANT))
def test_piecewise_constant(name: str, shape: tuple[int, ...]) -> None:
    f = CONSTANT[name]
    rng = np.random.default_rng(2)
    x = _normal(30.0)(rng, shape)
    val, pull = bp.backprop_with(f, x)
    np.testing.assert_array_equal(val, f(x))
    g = pull(1.0 if shape == () else np.ones(shape))
    np.testing.assert_array_equal(g, np.zeros(shape))
    assert np.shape(g) == shape
    out = bp.eval_bp(lambda v: f(v), x)
    assert np.shape(out) == np.shape(f(x))
    # as a term of a bigger expression: only the other term contributes
    g2 = bp.grad_bp(lambda v: _sum(f(v) * 3.0 + v), x)
    np.testing.assert_array_equal(g2, np.ones(shape) if shape else 1.0)


@pytest.mark.parametrize("f", [np.floor_divide, np.heaviside], ids=lambda f: f.__name__)
def test_piecewise_constant_binary(f: Callable[..., Any]) -> None:
    x = np.array([[-1.5], [0.0], [2.5]])
    y = np.array([0.5, 2.0])
    val, pull = bp.backprop_with_n(f, x, y)
    np.testing.assert_array_equal(val, f(x, y))
    gx, gy = pull(np.ones((3, 2)))
    np.testing.assert_array_equal(gx, np.zeros((3, 1)))
    np.testing.assert_array_equal(gy, np.zeros(2))


def test_round_refuses_out() -> None:
    v = bp.const_var(np.array([1.2, 2.7]))
    with pytest.raises(TypeError, match="round"):
        np.round(v, out=np.zeros(2))


# ---- keywords, the native ufuncs through the Python path, and unsupported ufuncs ---------------

NATIVE_UNARY = [
    "negative",
    "absolute",
    "fabs",
    "sign",
    "reciprocal",
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "positive",
]
NATIVE_BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "float_power"]
DOMAIN = {"log": 1.5, "sqrt": 1.5, "arccosh": 1.5, "reciprocal": 1.5}


@pytest.mark.parametrize(
    "name", NATIVE_UNARY + [n for n in UNARY if not n.startswith("sc.") and n != "sinc"]
)
def test_unary_keywords(name: str) -> None:
    f = getattr(np, name)
    x = np.array([DOMAIN.get(name, 0.4), DOMAIN.get(name, 0.6)])
    rng = np.random.default_rng(4)
    np.testing.assert_allclose(bp.eval_bp(lambda v: f(v, dtype=np.float64), x), f(x), rtol=1e-12)
    check_vjp(
        lambda v: f(v, dtype=np.float64, casting="same_kind"), [x], rng=rng, plain=f, what=name
    )
    v = bp.const_var(x)
    with pytest.raises(TypeError, match=rf"numpy\.{f.__name__}.*out="):
        f(v, out=np.zeros(2))
    with pytest.raises(TypeError, match=rf"numpy\.{f.__name__}.*where="):
        f(v, where=np.array([True, False]))
    with pytest.raises(TypeError, match=rf"numpy\.{f.__name__}.*float32"):
        f(v, dtype=np.float32)


@pytest.mark.parametrize("name", NATIVE_BINARY + [n for n in BINARY if not n.startswith("sc.")])
def test_binary_keywords(name: str) -> None:
    f = getattr(np, name)
    x, y = np.array([1.5, 2.5]), np.array([0.7, -1.3])
    rng = np.random.default_rng(4)
    check_vjp(lambda a, b: f(a, b, dtype=np.float64), [x, y], rng=rng, plain=f, what=name)
    v = bp.const_var(x)
    with pytest.raises(TypeError, match=rf"numpy\.{f.__name__}.*out="):
        f(v, y, out=np.zeros(2))
    with pytest.raises(TypeError, match=rf"numpy\.{f.__name__}.*out="):
        f(y, v, out=(np.zeros(2),))


@pytest.mark.parametrize("name", ["expit", "gammaln", "erf", "ndtr"])
def test_scipy_keywords(name: str) -> None:
    f = getattr(sc, name)
    v = bp.const_var(np.array([0.5, 1.5]))
    with pytest.raises(TypeError, match="out="):
        f(v, out=np.zeros(2))
    np.testing.assert_allclose(f(v, dtype=np.float64).value, f(v.value), rtol=1e-14)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: np.frexp(v), "frexp"),
        (lambda v: np.ldexp(v, 2), "ldexp"),
        (lambda v: np.gcd(v, v), "gcd"),
        (lambda v: np.modf(v), "modf"),
        (lambda v: np.spacing(v), "spacing"),
        (lambda v: np.nextafter(v, 1.0), "nextafter"),
        (lambda v: np.divmod(v, 2.0), "divmod"),
        (lambda v: sc.gamma(v), "gamma"),
        (lambda v: sc.i0(v), "i0"),
        (lambda v: sc.jv(1.0, v), "jv"),
    ],
)
def test_unsupported_ufuncs_raise(call: Callable[[Any], Any], name: str) -> None:
    for x in (np.array([1.0, 2.0]), 1.5):
        with pytest.raises(TypeError, match=name):
            bp.grad_bp(lambda v: _sum(call(v)), x)


def test_integer_and_bool_operands_with_bvars() -> None:
    x = np.array([0.5, 2.0, -1.0])
    val, pull = bp.backprop_with(lambda v: np.maximum(v, np.array([1, 1, 1])), x)
    np.testing.assert_array_equal(val, np.maximum(x, 1))
    np.testing.assert_array_equal(pull(np.ones(3)), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(
        bp.eval_bp(lambda v: np.arctan2(v, 2), x), np.arctan2(x, 2), rtol=1e-15
    )


# ---- scipy.special.logsumexp / softmax / log_softmax ------------------------------------------


@pytest.mark.parametrize("fn", [sc.logsumexp, sc.softmax, sc.log_softmax], ids=lambda f: f.__name__)
def test_scipy_reductions_refuse_bvars(fn: Callable[..., Any]) -> None:
    """scipy's own functions convert with np.asarray, which BVars refuse: a TypeError, never a
    wrong value. (The bprop equivalents are in bprop.numpy._special.)"""
    with pytest.raises(TypeError):
        bp.grad_bp(lambda v: _sum(fn(v)), np.array([1.0, 2.0]))


LSE_CASES: list[tuple[tuple[int, ...], Any, bool]] = [
    ((), None, False),
    ((5,), None, False),
    ((5,), 0, True),
    ((3, 4), None, True),
    ((3, 4), 1, False),
    ((3, 4), -2, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (-1, 1), True),
]


@pytest.mark.parametrize("shape, axis, keepdims", LSE_CASES, ids=str)
def test_logsumexp_softmax_log_softmax(shape: tuple[int, ...], axis: Any, keepdims: bool) -> None:
    rng = np.random.default_rng(_seed(shape, axis))
    x = _normal(3.0)(rng, shape)
    cases: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
        (
            lambda v: _special.logsumexp(v, axis=axis, keepdims=keepdims),
            lambda a: sc.logsumexp(a, axis=axis, keepdims=keepdims),
        ),
        (lambda v: _special.softmax(v, axis=axis), lambda a: sc.softmax(a, axis=axis)),
        (lambda v: _special.log_softmax(v, axis=axis), lambda a: sc.log_softmax(a, axis=axis)),
    ]
    for ours, theirs in cases:
        got = bp.eval_bp(ours, x)
        want = theirs(x)
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        check_vjp(ours, [x], rng=rng, plain=theirs)


def test_logsumexp_large_and_infinite() -> None:
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 0.0]])
    got = bp.eval_bp(lambda v: _special.logsumexp(v, axis=1), x)
    np.testing.assert_allclose(got, sc.logsumexp(x, axis=1), rtol=1e-15)
    np.testing.assert_array_equal(
        bp.eval_bp(lambda v: _special.log_softmax(v, axis=1), x[:1]), sc.log_softmax(x[:1], axis=1)
    )
    g = bp.grad_bp(lambda v: _sum(_special.logsumexp(v, axis=1)), x[:1])
    np.testing.assert_array_equal(g, [[0.5, 0.5]])
    with pytest.raises(TypeError, match="return_sign"):
        _special.logsumexp(bp.const_var(x), b=np.ones(2))


# ---- no scipy import with bprop ----------------------------------------------------------------


def test_bprop_does_not_import_scipy() -> None:
    code = "import sys, bprop, bprop.numpy, bprop.numpy._special; assert 'scipy' not in sys.modules, 'scipy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
