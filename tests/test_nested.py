"""Nested runs (higher-order derivatives): a runner called inside another runner's function
records its computation and its sweep on the enclosing tape, so its gradient is differentiable.

Checked against closed forms (polynomials, exp, sin, tanh to the fourth order) and against
central finite differences of bprop's own first gradients at random points; perturbation
confusion; containers, Ops (differentiable and opaque pullbacks), `backprop_with` and `eval_bp`
inside a run; the helpers `hessian`, `hvp`, `jacobian`, `elementwise_grad`; threads.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop._core import Tape

RNG = np.random.default_rng(20261206)


def d(f: Callable[[Any], Any], n: int) -> Callable[[float], Any]:
    """The n-th derivative of a scalar function, by nesting `grad_bp` n deep."""
    if n == 0:
        return f
    inner = d(f, n - 1)
    return lambda x: bp.grad_bp(inner, x)


def fd(g: Callable[[Any], Any], x: Any, v: Any, h: float = 1e-5) -> Any:
    """Central difference of `g` at `x` along `v`."""
    return (np.asarray(g(x + h * v)) - np.asarray(g(x - h * v))) / (2 * h)


# ---- closed forms ---------------------------------------------------------------------------


def _tanh_derivatives(x: float) -> list[float]:
    t = math.tanh(x)
    s = 1 - t * t
    return [t, s, -2 * t * s, -2 * s * (1 - 3 * t * t), 8 * t * s * (2 - 3 * t * t)]


CLOSED_FORMS: list[tuple[str, Callable[[Any], Any], Callable[[float], list[float]]]] = [
    (
        "polynomial",
        lambda x: x**5 - 3 * x**3 + 2 * x,
        lambda x: [
            x**5 - 3 * x**3 + 2 * x,
            5 * x**4 - 9 * x**2 + 2,
            20 * x**3 - 18 * x,
            60 * x**2 - 18,
            120 * x,
        ],
    ),
    ("exp", bp.exp, lambda x: [math.exp(x)] * 5),
    ("np.exp", np.exp, lambda x: [math.exp(x)] * 5),
    (
        "sin",
        bp.sin,
        lambda x: [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x), math.sin(x)],
    ),
    ("tanh", bp.tanh, _tanh_derivatives),
    ("np.tanh", np.tanh, _tanh_derivatives),
    (
        "log",
        bp.log,
        lambda x: [math.log(x), 1 / x, -1 / x**2, 2 / x**3, -6 / x**4],
    ),
    (
        "recip",
        lambda x: 1.0 / x,
        lambda x: [1 / x, -1 / x**2, 2 / x**3, -6 / x**4, 24 / x**5],
    ),
]


@pytest.mark.parametrize("name,f,forms", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_derivatives_to_fourth_order_match_closed_forms(
    name: str, f: Callable[[Any], Any], forms: Callable[[float], list[float]]
) -> None:
    for x in RNG.uniform(0.2, 1.5, size=3):
        want = forms(float(x))
        for n in range(1, 5):
            got = d(f, n)(float(x))
            assert math.isclose(got, want[n], rel_tol=1e-10, abs_tol=1e-10), (name, n, x)


def test_fourth_derivative_of_tanh_on_arrays() -> None:
    x = RNG.uniform(-2, 2, size=7)

    def derivative(g: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda v: bp.elementwise_grad(g, v)

    f: Callable[[Any], Any] = np.tanh
    for _ in range(4):
        f = derivative(f)
    got = f(x)
    want = np.array([_tanh_derivatives(float(e))[4] for e in x])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# ---- every native scalar and elementwise op: second derivatives against FD -------------------

UNARY: list[tuple[str, Callable[[Any], Any], tuple[float, float]]] = [
    ("neg", lambda x: -x, (-2, 2)),
    ("abs", abs, (0.3, 2)),
    ("signum", bp.signum, (0.3, 2)),
    ("recip", bp.recip, (0.5, 2)),
    ("exp", bp.exp, (-1, 1)),
    ("log", bp.log, (0.5, 2)),
    ("sqrt", bp.sqrt, (0.5, 2)),
    ("sin", bp.sin, (-2, 2)),
    ("cos", bp.cos, (-2, 2)),
    ("tan", bp.tan, (-1, 1)),
    ("asin", bp.asin, (-0.7, 0.7)),
    ("acos", bp.acos, (-0.7, 0.7)),
    ("atan", bp.atan, (-2, 2)),
    ("sinh", bp.sinh, (-1, 1)),
    ("cosh", bp.cosh, (-1, 1)),
    ("tanh", bp.tanh, (-1, 1)),
    ("asinh", bp.asinh, (-2, 2)),
    ("acosh", bp.acosh, (1.3, 3)),
    ("atanh", bp.atanh, (-0.7, 0.7)),
    ("square", lambda x: x * x, (-2, 2)),
    ("pow const", lambda x: x**2.5, (0.5, 2)),
    ("const pow", lambda x: 1.7**x, (-1, 1)),
]


@pytest.mark.parametrize("name,f,dom", UNARY, ids=[u[0] for u in UNARY])
def test_second_derivative_of_unary_ops(
    name: str, f: Callable[[Any], Any], dom: tuple[float, float]
) -> None:
    first = d(f, 1)
    for x in RNG.uniform(*dom, size=3):
        got = d(f, 2)(float(x))
        want = fd(first, float(x), 1.0)
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-7), (name, x, got, want)
    # the same op on arrays (the array kernels, and numpy's ufuncs where they exist)
    xs = RNG.uniform(*dom, size=5)
    got_a = bp.elementwise_grad(lambda v: bp.elementwise_grad(f, v), xs)
    want_a = np.array([d(f, 2)(float(e)) for e in xs])
    np.testing.assert_allclose(got_a, want_a, rtol=1e-10, atol=1e-12)


BINARY: list[tuple[str, Callable[[Any, Any], Any], tuple[float, float]]] = [
    ("add", lambda x, y: x + y, (-2, 2)),
    ("sub", lambda x, y: x - y, (-2, 2)),
    ("mul", lambda x, y: x * y, (-2, 2)),
    ("div", lambda x, y: x / y, (0.5, 2)),
    ("pow", lambda x, y: x**y, (0.5, 2)),
    ("maximum", np.maximum, (-2, 2)),
    ("minimum", np.minimum, (-2, 2)),
    ("log_base", bp.log_base, (1.5, 3)),
    ("mixed", lambda x, y: bp.sin(x * y) / (1 + y * y), (-2, 2)),
]


@pytest.mark.parametrize("name,f,dom", BINARY, ids=[b[0] for b in BINARY])
def test_hessian_of_binary_ops(
    name: str, f: Callable[[Any, Any], Any], dom: tuple[float, float]
) -> None:
    def grad(p: np.ndarray) -> Any:
        return np.array(bp.grad_bp2(f, float(p[0]), float(p[1])))

    for _ in range(3):
        p = RNG.uniform(*dom, size=2)
        # scalar path: mixed partials by nesting grad_bp2 on floats
        h = np.array(
            [
                bp.grad_bp2(lambda x, y, i=i: bp.grad_bp2(f, x, y)[i], float(p[0]), float(p[1]))
                for i in range(2)
            ]
        )
        want = np.stack([fd(grad, p, e) for e in np.eye(2)], axis=1)
        np.testing.assert_allclose(h, want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)
        # array path: the Hessian of the op applied to the two entries of a vector
        ha = bp.hessian(lambda v: f(v[0], v[1]), p)
        np.testing.assert_allclose(ha, h, rtol=1e-10, atol=1e-12)


def test_hessian_of_array_kernels_against_fd() -> None:
    # matmul, sum/mean/max over axes, reshape, transpose and the fused cross-entropy, as
    # bprop's own kernels run them, composed into one scalar function
    a = RNG.normal(size=(3, 4))
    t = np.eye(4)[[0, 2, 1]]

    def f(w: Any) -> Any:
        m = w.reshape(4, 3).T  # (3, 4)
        z = np.tanh(a @ m.T) @ w.reshape(3, 4)  # (3, 3) @ (3, 4)
        s = np.sum(z, axis=0) + np.mean(z * z, axis=1).sum() + np.max(z, axis=1).sum()
        return bp.linalg.softmax_cross_entropy(z, t) + np.sum(s) / 3

    w = RNG.normal(size=12)
    h = bp.hessian(f, w)
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9)
    for v in RNG.normal(size=(3, 12)):
        np.testing.assert_allclose(
            h @ v, fd(lambda u: bp.grad_bp(f, u), w, v), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(bp.hvp(f, w, v), h @ v, rtol=1e-10, atol=1e-10)


# ---- perturbation confusion -----------------------------------------------------------------


@pytest.mark.parametrize("x0", [1.0, 2.5, -0.7])
def test_no_perturbation_confusion(x0: float) -> None:
    # d/dx (x * d/dy (x + y)) is 1 everywhere: the inner derivative is with respect to y only,
    # and x is a constant of the inner run
    assert bp.grad_bp(lambda x: x * bp.grad_bp(lambda y: x + y, 1.0), x0) == 1.0
    assert bp.grad_bp(lambda x: x * bp.grad_bp(lambda y: x + y, x), x0) == 1.0
    # d/dx (x * d/dy (x * y)) = d/dx (x * x) = 2x
    got = bp.grad_bp(lambda x: x * bp.grad_bp(lambda y: x * y, 3.0), x0)
    assert math.isclose(got, 2 * x0)
    # the same inner function on the outer variable itself: d/dx (d/dy (x*y) at y = x) = 1
    assert bp.grad_bp(lambda x: bp.grad_bp(lambda y: x * y, x), x0) == 1.0


def test_inner_gradient_is_a_bvar_of_the_outer_run_only_where_it_depends_on_it() -> None:
    seen: list[Any] = []

    def outer(x: Any) -> Any:
        g = bp.grad_bp(lambda y: y * y * x, 2.0)
        c = bp.grad_bp(lambda y: y * 3.0, 2.0)
        seen.extend([g, c])
        return g + c

    assert bp.grad_bp(outer, 5.0) == 4.0
    assert isinstance(seen[0], bp.BVar) and seen[0].value == 20.0
    assert seen[1] == 3.0  # independent of x: a plain number


def test_three_levels_with_arrays() -> None:
    # the third derivative tensor contracted with v three times, against FD of the hvp
    a = RNG.normal(size=(4, 3))

    def f(w: Any) -> Any:
        return np.sum(np.tanh(a @ w) ** 2)

    w, v = RNG.normal(size=3), RNG.normal(size=3)

    def third(u: Any) -> Any:
        return bp.grad_bp(lambda x: bp.hvp(f, x, v) @ v, u)

    want = fd(lambda u: bp.hvp(f, u, v) @ v, w, np.eye(3)[0])
    np.testing.assert_allclose(third(w)[0], want, rtol=1e-5, atol=1e-7)


# ---- containers --------------------------------------------------------------------------------


@dataclasses.dataclass
class Params:
    w: np.ndarray
    b: float


def test_hessian_of_containers() -> None:
    x = RNG.normal(size=3)

    def loss(p: Any) -> Any:
        w, b = bp.view_var(bp.attr("w"), p), bp.view_var(bp.attr("b"), p)
        return np.sum(np.tanh(w * x + b) ** 2) + b**3

    p0 = Params(RNG.normal(size=3), 0.3)
    h = bp.hessian(loss, p0)
    # JAX's layout: h.w.w is 3x3, h.w.b is 3, h.b.w is 3, h.b.b a float
    assert isinstance(h, Params) and isinstance(h.w, Params) and isinstance(h.b, Params)
    assert np.shape(h.w.w) == (3, 3) and np.shape(h.w.b) == (3,) and np.shape(h.b.w) == (3,)
    flat = np.block([[h.w.w, h.w.b[:, None]], [h.b.w[None, :], np.array([[h.b.b]])]])
    np.testing.assert_allclose(flat, flat.T, rtol=1e-10, atol=1e-12)

    def grad_flat(u: np.ndarray) -> np.ndarray:
        g = bp.grad_bp(loss, Params(u[:3], float(u[3])))
        return np.concatenate([g.w, [g.b]])

    u0 = np.concatenate([p0.w, [p0.b]])
    for e in np.eye(4):
        np.testing.assert_allclose(flat @ e, fd(grad_flat, u0, e), rtol=1e-6, atol=1e-7)


def test_nesting_through_dicts_tuples_and_optics() -> None:
    def f(p: Any) -> Any:
        a, b = p["ab"]
        return a * a * b + bp.sin(p["c"]) * a

    p0 = {"ab": (1.5, -0.5), "c": 0.7}
    h = bp.hessian(f, p0)
    a, b, c = 1.5, -0.5, 0.7
    assert math.isclose(h["ab"][0]["ab"][0], 2 * b)
    assert math.isclose(h["ab"][0]["ab"][1], 2 * a)
    assert math.isclose(h["ab"][0]["c"], math.cos(c))
    assert math.isclose(h["c"]["c"], -math.sin(c) * a)
    # a view (optics) of the outer BVar, differentiated inside
    g = bp.grad_bp(lambda p: bp.grad_bp(lambda q: bp.view_var(bp.key("c"), q) * p["c"], p)["c"], p0)
    assert g == {"ab": (0.0, 0.0), "c": 1.0}


# ---- Ops -----------------------------------------------------------------------------------------

cube = bp.op1(lambda x: (x**3, lambda g: 3 * g * x**2))
hypot = bp.op2(
    lambda x, y: (
        np.sqrt(x * x + y * y),
        lambda g: (g * x / np.sqrt(x * x + y * y), g * y / np.sqrt(x * x + y * y)),
    )
)


def test_ops_with_differentiable_pullbacks_nest() -> None:
    assert d(cube, 2)(2.0) == 12.0
    assert d(cube, 3)(2.0) == 6.0
    p = np.array([3.0, 4.0])
    h = bp.hessian(lambda v: hypot(v[0], v[1]), p)
    r = 5.0
    want = np.array([[16, -12], [-12, 9]]) / r**3
    np.testing.assert_allclose(h, want, rtol=1e-12)
    # array Ops too
    smooth = bp.op1(lambda a: (np.log1p(np.exp(a)), lambda g: g / (1 + np.exp(-a))))
    x = RNG.normal(size=4)
    got = bp.elementwise_grad(lambda v: bp.elementwise_grad(smooth, v), x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(got, s * (1 - s), rtol=1e-12)


def test_inline_ops_and_op_arithmetic_nest() -> None:
    f = bp.bp_op(lambda x: x * bp.sin(x))
    g = bp.sin_op * bp.cos_op
    assert math.isclose(d(f, 2)(0.4), 2 * math.cos(0.4) - 0.4 * math.sin(0.4))
    assert math.isclose(d(g, 2)(0.4), -4 * math.sin(0.4) * math.cos(0.4))


opaque = bp.op1(lambda x: (math.sin(x), lambda g: g * math.cos(x)))


def test_an_opaque_pullback_works_to_first_order_in_a_nested_run() -> None:
    # the op's code cannot run on BVars (math.sin): a nested run still gets its value and
    # gradient, and the outer run its first derivative through the value
    got = bp.grad_bp(lambda x: x * bp.grad_bp(lambda y: opaque(y), 1.0), 2.0)
    assert got == math.cos(1.0)
    y, g = bp.grad_bp(lambda x: bp.backprop(lambda u: opaque(u) * u, x)[0], 1.0), None
    assert math.isclose(y, math.cos(1.0) + math.sin(1.0))
    assert g is None


def test_a_second_derivative_through_an_opaque_pullback_names_the_op() -> None:
    with pytest.raises(bp.NoGradientError, match="op1.*second derivative reached this op"):
        d(opaque, 2)(1.0)
    with pytest.raises(bp.NoGradientError, match="second derivative"):
        bp.hessian(lambda v: opaque(v[0]) * v[1], np.array([1.0, 2.0]))
    # nothing is left broken: the next calls work
    assert d(opaque, 1)(0.0) == 1.0
    assert d(cube, 2)(1.0) == 6.0


def test_an_op_error_is_still_the_op_error_in_a_nested_run() -> None:
    bad = bp.op1(lambda x: (math.sqrt(-1.0 - x * x), lambda g: g))
    with pytest.raises(ValueError, match="math domain error"):
        d(lambda x: bad(x), 2)(1.0)


# ---- runners inside runs ---------------------------------------------------------------------


def test_backprop_with_pullback_takes_a_cotangent_of_the_enclosing_run() -> None:
    a = RNG.normal(size=(3, 3))

    def f(x: Any) -> Any:
        return np.tanh(a @ x)

    x0, w = RNG.normal(size=3), RNG.normal(size=3)

    def vjp_dot(x: Any, c: Any) -> Any:
        # <J(x)^T c, w>: differentiable in both x and the cotangent c
        _, pullback = bp.backprop_with(f, x)
        return pullback(c) @ w

    gx, gc = bp.grad_bp2(vjp_dot, x0, np.ones(3))
    np.testing.assert_allclose(gc, bp.jacobian(f, x0) @ w, rtol=1e-12)
    want_gx = fd(lambda u: bp.grad_bp(lambda v: f(v) @ np.ones(3), u) @ w, x0, np.eye(3)[1])
    assert math.isclose(gx[1], want_gx, rel_tol=1e-6)


def test_eval_bp_inside_a_run_keeps_the_outer_gradient() -> None:
    assert bp.grad_bp(lambda x: bp.eval_bp(lambda y: y * y, x), 3.0) == 6.0
    assert bp.grad_bp(lambda x: x * bp.eval_bp(lambda y: y * 2.0, 1.0), 3.0) == 2.0


def test_explicit_runners_nest() -> None:
    got = bp.grad_bp(
        lambda x: bp.explicit.grad_bp(
            lambda y: y * y * x, 3.0, zero=lambda _: 0.0, add=lambda a, b: a + b, one=lambda _: 1.0
        ),
        2.0,
    )
    assert got == 6.0


def test_inner_bvars_are_tied_to_their_run() -> None:
    kept: list[Any] = []

    def outer(x: Any) -> Any:
        g = bp.grad_bp(lambda y: (kept.append(y), y * x)[1], 1.0)
        return g * x

    assert bp.grad_bp(outer, 2.0) == 4.0
    with pytest.raises(bp.TapeScopeError, match="after its backprop run finished"):
        kept[0] + 1.0
    # a BVar of an unrelated live run is not a constant of a nested one
    other = Tape()
    v = other.input(1.0)
    with pytest.raises(TypeError, match="not nested in"):
        bp.grad_bp(lambda x: bp.grad_bp(lambda y: y, v) * x, 1.0)


def test_nested_runs_on_threads_give_the_serial_results() -> None:
    a = RNG.normal(size=(4, 4))

    def job(seed: int) -> np.ndarray:
        w = np.random.default_rng(seed).normal(size=4)
        return np.asarray(bp.hessian(lambda x: np.sum(np.tanh(a @ x) ** 3), w))

    serial = [job(s) for s in range(8)]
    results: dict[int, np.ndarray] = {}
    threads = [
        threading.Thread(target=lambda s=s: results.__setitem__(s, job(s))) for s in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in range(8):
        np.testing.assert_array_equal(results[s], serial[s])


# ---- the helpers ----------------------------------------------------------------------------


def test_jacobian_records_once_and_matches_fd() -> None:
    a = RNG.normal(size=(3, 4))
    calls = []

    def f(x: Any) -> Any:
        calls.append(1)
        return np.sin(a @ x) * x[0]

    x0 = RNG.normal(size=4)
    j = bp.jacobian(f, x0)
    assert len(calls) == 1 and j.shape == (3, 4)
    for k, e in enumerate(np.eye(4)):
        np.testing.assert_allclose(j[:, k], fd(f, x0, e), rtol=1e-7, atol=1e-8)
    # matrix input and output: out.shape + in.shape
    assert bp.jacobian(lambda m: m.T @ m, RNG.normal(size=(2, 3))).shape == (3, 3, 2, 3)
    # float in, float out
    assert bp.jacobian(lambda x: x * x, 3.0) == 6.0


def test_hessian_hvp_and_elementwise_grad_agree() -> None:
    a = RNG.normal(size=(5, 4))

    def f(x: Any) -> Any:
        return np.sum(np.log1p(np.exp(a @ x))) + 0.5 * x @ x

    x0 = RNG.normal(size=4)
    h = bp.hessian(f, x0)
    s = 1 / (1 + np.exp(-(a @ x0)))
    np.testing.assert_allclose(h, a.T @ np.diag(s * (1 - s)) @ a + np.eye(4), rtol=1e-12)
    for v in RNG.normal(size=(3, 4)):
        np.testing.assert_allclose(bp.hvp(f, x0, v), h @ v, rtol=1e-12, atol=1e-12)
    xs = RNG.normal(size=6)
    np.testing.assert_allclose(
        bp.elementwise_grad(np.sin, xs), np.diag(bp.jacobian(np.sin, xs)), rtol=1e-15
    )


def test_hvp_on_containers() -> None:
    def f(p: Any) -> Any:
        return np.sum(p["w"] ** 3) * p["b"]

    p0 = {"w": np.array([1.0, 2.0]), "b": 0.5}
    v = {"w": np.array([1.0, -1.0]), "b": 2.0}
    got = bp.hvp(f, p0, v)
    # d2/dw2 = diag(6 w b), d2/dwdb = 3 w^2, d2/db2 = 0
    np.testing.assert_allclose(got["w"], 6 * p0["w"] * 0.5 * v["w"] + 3 * p0["w"] ** 2 * 2.0)
    assert math.isclose(got["b"], float(3 * p0["w"] ** 2 @ v["w"]))


def test_first_order_runs_are_not_nested() -> None:
    # a run outside any other has a tape of its own (the fast native path)
    assert not Tape().nested
    assert Tape(Tape()).nested


def _product(t: Any) -> Any:
    return t[0] * t[1]


def _sequence(v: Any) -> Any:
    a = bp.sequence_var(v)
    return a[0] * a[1] * a[2]


def _split(v: Any) -> Any:
    a = bp.split_var(v)
    return bp.sin(a[0]) * a[2] ** 2


OPTICS: list[tuple[str, Callable[[Any], Any]]] = [
    ("sequence_var", _sequence),
    ("split_var", _split),
    ("collect_var", lambda v: _product(bp.sequence_var(bp.collect_var([v[0] * v[1], v[2] ** 2])))),
    (
        "join_var + view_var",
        lambda v: bp.view_var(bp.item(1), bp.join_var((v[0], v[1] * v[2]))) * v[0],
    ),
    (
        "set_var",
        lambda v: _product(
            bp.split_var(bp.set_var(bp.item(0), v[1] * v[2], bp.join_var((v[0], v[1]))))
        ),
    ),
    (
        "over_var",
        lambda v: _product(
            bp.split_var(bp.over_var(bp.item(1), lambda y: y * y, bp.join_var((v[0], v[2]))))
        ),
    ),
    ("iteration", lambda v: sum(e * e * e for e in v)),
]


@pytest.mark.parametrize("name,f", OPTICS, ids=[o[0] for o in OPTICS])
def test_hessians_through_optics_and_containers_of_bvars(
    name: str, f: Callable[[Any], Any]
) -> None:
    x0 = RNG.uniform(-1, 1, size=3)
    h = np.asarray(bp.hessian(f, x0))
    for e in np.eye(3):
        np.testing.assert_allclose(
            h @ e, fd(lambda u: bp.grad_bp(f, u), x0, e), rtol=1e-6, atol=1e-7
        )
