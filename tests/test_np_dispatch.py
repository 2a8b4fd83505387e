"""numpy's protocols on BVars: every numpy call either gives numpy's value with an exact
gradient or raises TypeError naming the function; never an object array, never a wrong value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import numpy as np
import pytest
from fd import check_vjp

RNG = np.random.default_rng(20261206)


def _pos(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, size=shape)


def _any(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.normal(size=shape)


def _off_zero(shape: tuple[int, ...]) -> np.ndarray:
    """Away from 0, so that finite differences do not cross a kink there."""
    return RNG.choice([-1.0, 1.0], size=shape) * RNG.uniform(0.2, 2.0, size=shape)


# (name, function of the BVar(s), inputs). The same function runs on plain arrays for numpy's
# value. Supported or not, each call must end in one of the two outcomes the test accepts.
CASES: list[tuple[str, Callable[..., Any], Callable[[], list[Any]]]] = [
    ("sum", lambda v: np.sum(v), lambda: [_any((3, 4))]),
    ("sum", lambda v: np.sum(v, axis=1, keepdims=True), lambda: [_any((3, 4))]),
    ("mean", lambda v: np.mean(v), lambda: [_any((5,))]),
    ("mean", lambda v: np.mean(v, axis=(0, 2)), lambda: [_any((2, 3, 4))]),
    ("prod", lambda v: np.prod(v, axis=0), lambda: [_any((3, 2))]),
    ("max", lambda v: np.max(v, axis=-1), lambda: [_any((3, 4))]),
    ("min", lambda v: np.min(v), lambda: [_any((6,))]),
    ("var", lambda v: np.var(v, axis=0), lambda: [_any((4, 3))]),
    ("std", lambda v: np.std(v, ddof=1), lambda: [_any((5,))]),
    ("cumsum", lambda v: np.cumsum(v, axis=1), lambda: [_any((2, 3))]),
    ("cumprod", lambda v: np.cumprod(v), lambda: [_any((4,))]),
    ("dot", lambda a, b: np.dot(a, b), lambda: [_any((3, 4)), _any((4,))]),
    ("dot", lambda a, b: np.dot(a, b), lambda: [_any((2, 3, 4)), _any((4, 2))]),
    ("matmul", lambda a, b: np.matmul(a, b), lambda: [_any((2, 3, 4)), _any((4, 2))]),
    ("outer", lambda a, b: np.outer(a, b), lambda: [_any((3,)), _any((2,))]),
    ("inner", lambda a, b: np.inner(a, b), lambda: [_any((2, 3)), _any((3,))]),
    ("tensordot", lambda a, b: np.tensordot(a, b, axes=2), lambda: [_any((2, 3, 4)), _any((3, 4))]),
    ("einsum", lambda a, b: np.einsum("ij,jk->ik", a, b), lambda: [_any((2, 3)), _any((3, 2))]),
    ("kron", lambda a, b: np.kron(a, b), lambda: [_any((2, 2)), _any((2, 3))]),
    ("reshape", lambda v: np.reshape(v, (2, -1)), lambda: [_any((3, 4))]),
    ("ravel", lambda v: np.ravel(v), lambda: [_any((3, 4))]),
    ("transpose", lambda v: np.transpose(v, (1, 2, 0)), lambda: [_any((2, 3, 4))]),
    ("swapaxes", lambda v: np.swapaxes(v, 0, 2), lambda: [_any((2, 3, 4))]),
    ("moveaxis", lambda v: np.moveaxis(v, 0, -1), lambda: [_any((2, 3, 4))]),
    ("expand_dims", lambda v: np.expand_dims(v, 1), lambda: [_any((3,))]),
    ("squeeze", lambda v: np.squeeze(v), lambda: [_any((3, 1))]),
    ("broadcast_to", lambda v: np.broadcast_to(v, (4, 3)), lambda: [_any((3,))]),
    (
        "concatenate",
        lambda a, b: np.concatenate([a, b], axis=0),
        lambda: [_any((2, 3)), _any((1, 3))],
    ),
    ("stack", lambda a, b: np.stack([a, b], axis=1), lambda: [_any((3,)), _any((3,))]),
    ("vstack", lambda a, b: np.vstack([a, b]), lambda: [_any((3,)), _any((2, 3))]),
    ("hstack", lambda a, b: np.hstack([a, b]), lambda: [_any((3,)), _any((2,))]),
    ("split", lambda v: np.split(v, 2)[1], lambda: [_any((4, 2))]),
    ("repeat", lambda v: np.repeat(v, 2, axis=0), lambda: [_any((2, 3))]),
    ("tile", lambda v: np.tile(v, (2, 1)), lambda: [_any((2, 3))]),
    ("flip", lambda v: np.flip(v, axis=1), lambda: [_any((2, 3))]),
    ("roll", lambda v: np.roll(v, 1, axis=0), lambda: [_any((3, 2))]),
    ("tril", lambda v: np.tril(v), lambda: [_any((3, 3))]),
    ("diag", lambda v: np.diag(v), lambda: [_any((3,))]),
    ("trace", lambda v: np.trace(v), lambda: [_any((3, 3))]),
    ("pad", lambda v: np.pad(v, 1), lambda: [_any((2, 2))]),
    (
        "where",
        lambda v: np.where(v.value > 0 if isinstance(v, bp.BVar) else v > 0, v, 0.0),
        lambda: [_any((5,))],
    ),
    (
        "clip",
        lambda v: np.clip(v, -0.5, 0.5),
        lambda: [RNG.choice([-1.0, 0.0, 1.0], size=6) + RNG.uniform(-0.3, 0.3, size=6)],
    ),
    ("take", lambda v: np.take(v, [0, 2, 2]), lambda: [_any((4,))]),
    ("maximum", lambda v: np.maximum(v, 0.0), lambda: [_off_zero((3, 4))]),
    ("logaddexp", lambda a, b: np.logaddexp(a, b), lambda: [_any((3,)), _any((3,))]),
    ("log1p", lambda v: np.log1p(v), lambda: [_pos((3,))]),
    ("expm1", lambda v: np.expm1(v), lambda: [_any((3,))]),
    ("square", lambda v: np.square(v), lambda: [_any((3,))]),
    ("arctan2", lambda a, b: np.arctan2(a, b), lambda: [_any((3,)), _pos((3,))]),
    ("hypot", lambda a, b: np.hypot(a, b), lambda: [_pos((3,)), _pos((3,))]),
    ("linalg.norm", lambda v: np.linalg.norm(v), lambda: [_any((3, 4))]),
    ("linalg.det", lambda v: np.linalg.det(v), lambda: [_any((3, 3)) + 3 * np.eye(3)]),
    ("linalg.inv", lambda v: np.linalg.inv(v), lambda: [_any((3, 3)) + 3 * np.eye(3)]),
    (
        "linalg.solve",
        lambda a, b: np.linalg.solve(a, b),
        lambda: [_any((3, 3)) + 3 * np.eye(3), _any((3,))],
    ),
    # Functions bprop may not support: they must raise TypeError naming themselves.
    ("sort", lambda v: np.sort(v), lambda: [_any((4,))]),
    ("median", lambda v: np.median(v), lambda: [_any((5,))]),
    ("percentile", lambda v: np.percentile(v, 50.0), lambda: [_any((5,))]),
    ("fft", lambda v: np.fft.fft(v), lambda: [_any((4,))]),
    ("convolve", lambda a, b: np.convolve(a, b), lambda: [_any((4,)), _any((2,))]),
    ("interp", lambda v: np.interp(v, [0.0, 1.0], [0.0, 2.0]), lambda: [_any((3,))]),
    ("diff", lambda v: np.diff(v), lambda: [_any((4,))]),
    ("polyval", lambda v: np.polyval(v, 2.0), lambda: [_any((3,))]),
    ("unique", lambda v: np.unique(v), lambda: [_any((4,))]),
    ("sort", lambda v: np.sort(v, axis=0), lambda: [_any((4, 3))]),
    ("sort", lambda v: np.sort(v, axis=None), lambda: [_any((2, 3))]),
    ("linalg.eig", lambda v: np.linalg.eig(v)[0], lambda: [_any((3, 3))]),
]


def _first_output(y: Any) -> Any:
    return y


@pytest.mark.parametrize("name,f,inputs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_numpy_call_is_right_or_a_type_error(
    name: str, f: Callable[..., Any], inputs: Callable[[], list[Any]]
) -> None:
    xs = inputs()
    expected = f(*[x.copy() for x in xs])
    try:
        value = bp.eval_bp_n(f, *xs)
    except TypeError as e:
        short = name.split(".")[-1]
        assert short in str(e), f"the TypeError must name {name}: {e}"
        with pytest.raises(TypeError, match=short):
            bp.grad_bp_n(f, *xs)
        return
    assert not (isinstance(value, np.ndarray) and value.dtype == object), "an object array escaped"
    np.testing.assert_allclose(np.asarray(value), np.asarray(expected), rtol=1e-12, atol=1e-12)
    check_vjp(f, xs, rng=RNG, plain=f, what=name)


def test_the_function_mean_is_the_mean() -> None:
    """Regression: numpy treated a BVar as a 0-d object array, so np.mean(v) returned v."""
    x = np.arange(1.0, 2001.0)
    y, g = bp.backprop(lambda v: np.mean(v), x)
    assert y == pytest.approx(1000.5)
    np.testing.assert_allclose(g, np.full(2000, 1 / 2000))


def test_dot_of_matrix_and_vector_is_not_elementwise() -> None:
    a, b = _any((3, 4)), _any((4,))
    y = bp.eval_bp2(lambda u, w: np.dot(u, w), a, b)
    np.testing.assert_allclose(y, a @ b, rtol=1e-12, atol=1e-14)


def test_object_arrays_are_refused() -> None:
    def build(v: bp.BVar[Any]) -> Any:
        return np.array([v, v])

    with pytest.raises(TypeError, match="np.stack"):
        bp.grad_bp(build, np.ones(3))
    with pytest.raises(TypeError, match="np.stack"):
        bp.grad_bp(lambda v: np.asarray(v), 1.0)


def test_comparisons_and_predicates_give_plain_booleans() -> None:
    x = np.array([-1.0, 0.0, 2.0, np.inf])
    seen: dict[str, Any] = {}

    def f(v: bp.BVar[Any]) -> bp.BVar[Any]:
        seen["gt"] = v > 0
        seen["greater"] = np.greater(v, 0.0)
        seen["isfinite"] = np.isfinite(v)
        seen["signbit"] = np.signbit(v)
        seen["equal"] = np.equal(v, v)
        return np.sum(v * 2.0)

    bp.grad_bp(f, x)
    for k, r in seen.items():
        assert isinstance(r, np.ndarray) and r.dtype == bool, k
    np.testing.assert_array_equal(seen["gt"], x > 0)
    np.testing.assert_array_equal(seen["isfinite"], np.isfinite(x))


def test_unsupported_ufuncs_and_methods_name_themselves() -> None:
    x = np.ones(3)
    with pytest.raises(TypeError, match="frexp"):
        bp.grad_bp(lambda v: np.frexp(v)[0], x)
    with pytest.raises(TypeError, match=r"add\.outer"):
        bp.grad_bp(lambda v: np.sum(np.add.outer(v, v)), x)
    with pytest.raises(TypeError, match="bp.op1"):
        bp.grad_bp(lambda v: np.sum(np.unique(v)), x)
    with pytest.raises(AttributeError, match="tofile"):
        bp.grad_bp(lambda v: v.tofile("x"), x)


def test_len_iteration_and_attributes() -> None:
    x = _any((3, 2))

    def f(v: bp.BVar[Any]) -> bp.BVar[Any]:
        assert len(v) == 3
        assert v.size == 6 and v.shape == (3, 2) and v.ndim == 2 and v.dtype == np.float64
        rows = list(v)
        assert len(rows) == 3
        return rows[0][1] * 2.0 + rows[2][0]

    g = bp.grad_bp(f, x)
    expected = np.zeros((3, 2))
    expected[0, 1], expected[2, 0] = 2.0, 1.0
    np.testing.assert_array_equal(g, expected)
    with pytest.raises(TypeError, match="len"):
        bp.grad_bp(lambda v: v * float(len(v)), 1.0)


def test_setitem_points_to_at() -> None:
    def f(v: bp.BVar[Any]) -> bp.BVar[Any]:
        v[0] = 1.0
        return v

    with pytest.raises(TypeError, match=r"\.at\["):
        bp.grad_bp(f, np.ones(3))


def test_array_namespace_is_bprop_numpy() -> None:
    import bprop.numpy as bnp

    def f(v: bp.BVar[Any]) -> bp.BVar[Any]:
        xp = v.__array_namespace__()
        assert xp is bnp
        return xp.sum(xp.exp(v))

    x = _any((4,))
    np.testing.assert_allclose(bp.grad_bp(f, x), np.exp(x), rtol=1e-13)


def test_ufunc_reduce_and_accumulate() -> None:
    x = _any((3, 4))
    check_vjp(lambda v: np.add.reduce(v), [x], rng=RNG, plain=lambda v: np.add.reduce(v))
    check_vjp(
        lambda v: np.maximum.reduce(v, axis=1),
        [x],
        rng=RNG,
        plain=lambda v: np.maximum.reduce(v, axis=1),
    )
    check_vjp(
        lambda v: np.multiply.accumulate(v), [x], rng=RNG, plain=lambda v: np.multiply.accumulate(v)
    )


def test_errors_leave_the_next_call_working() -> None:
    x = np.ones(3)
    for bad in (
        lambda v: np.median(v),
        lambda v: np.array([v]),
        lambda v: np.sum(v, out=np.zeros(())),
    ):
        with pytest.raises(TypeError):
            bp.grad_bp(bad, x)
        np.testing.assert_array_equal(bp.grad_bp(lambda v: np.sum(v * v), x), 2 * x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "amax", "amin"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_native_fast_path_agrees_with_the_registry(name: str, shape: tuple[int, ...]) -> None:
    """`np.sum(v, axis=1, keepdims=True)` and friends run natively in the extension
    (rust/bprop-py/src/fastpath.rs); the registry's implementation (`bprop.numpy.sum`, called
    directly) must give the same values and gradients, for every axis and keepdims."""
    import bprop.numpy as bnp

    x = _any(shape)
    numpy_fn, registry_fn = getattr(np, name), getattr(bnp, name)
    for axis in [None, *range(-len(shape), len(shape))]:
        for keepdims in (False, True):

            def via_numpy(v: Any, axis: int | None = axis, keepdims: bool = keepdims) -> Any:
                return numpy_fn(v, axis=axis, keepdims=keepdims) * 1.5

            def via_registry(v: Any, axis: int | None = axis, keepdims: bool = keepdims) -> Any:
                return registry_fn(v, axis=axis, keepdims=keepdims) * 1.5

            y1, p1 = bp.backprop_with(via_numpy, x)
            y2, p2 = bp.backprop_with(via_registry, x)
            np.testing.assert_array_equal(y1, y2)
            np.testing.assert_allclose(
                y1, numpy_fn(x, axis=axis, keepdims=keepdims) * 1.5, rtol=1e-13, atol=1e-15
            )
            c = _any(np.shape(y1)) if np.ndim(y1) else 0.7
            np.testing.assert_allclose(p1(c), p2(c), rtol=1e-15, atol=0)


def test_native_reshape_method_agrees_with_numpy() -> None:
    x = _any((3, 4))
    for args in [((4, 3),), (4, 3), ([2, -1],), (12,), ((12,),)]:
        y, pull = bp.backprop_with(lambda v, args=args: v.reshape(*args) * 2.0, x)
        np.testing.assert_array_equal(y, x.reshape(*args) * 2.0)
        c = _any(y.shape)
        np.testing.assert_array_equal(pull(c), (c * 2.0).reshape(3, 4))
    with pytest.raises(TypeError, match="order"):
        bp.grad_bp(lambda v: np.sum(v.reshape(4, 3, order="F")), x)


def test_floor_division_and_remainder_operators() -> None:
    x = np.array([1.0, 2.5, -0.7])
    y, g = bp.backprop(lambda v: np.sum(v // 0.3 + v % 0.3 + 2.0 % v), x)
    assert y == pytest.approx(np.sum(x // 0.3 + x % 0.3 + 2.0 % x))
    # d(x // c) = 0, d(x % c)/dx = 1, d(c % x)/dx = -floor(c / x)
    np.testing.assert_allclose(g, 1.0 - np.floor(2.0 / x))


def test_zero_dimensional_results_are_floats() -> None:
    seen: list[Any] = []

    def f(v: Any) -> Any:
        r = np.exp(v)
        seen.append(r.value)
        return r * 2.0

    y, g = bp.backprop(f, np.array(0.5))
    assert type(seen[0]) is float and y == pytest.approx(2 * np.exp(0.5))
    assert np.shape(g) == () and g == pytest.approx(2 * np.exp(0.5))


def test_more_ndarray_methods_and_attributes() -> None:
    x = np.array([[0.4, -1.6, 2.5], [0.0, 3.2, -0.7]])

    def f(v: Any) -> Any:
        assert v.itemsize == 8 and v.nbytes == x.nbytes
        assert v.any() and not v.all() and isinstance(v.any(axis=0), np.ndarray)
        np.testing.assert_array_equal(v.imag, np.zeros_like(x))
        np.testing.assert_array_equal(v.round().value, np.round(x))
        w = v.astype(np.float64).conj().conjugate().real.mT  # (3, 2)
        return np.sum(w * np.arange(6.0).reshape(3, 2)) + np.sum(v.round(1))

    g = bp.grad_bp(f, x)
    np.testing.assert_array_equal(g, np.arange(6.0).reshape(3, 2).T)  # rounding adds nothing
    with pytest.raises(TypeError, match=r"v\.value\.item"):
        bp.grad_bp(lambda v: v.item(), 1.0)
    with pytest.raises(TypeError, match="only float64"):
        bp.grad_bp(lambda v: v.astype(np.float32), x)
    assert not hasattr(bp.const_var(x), "tofile")


def test_a_non_integer_axis_is_a_type_error_not_rounded() -> None:
    x = _any((3, 4))
    idx = np.zeros((3, 1), dtype=np.intp)
    for bad in (
        lambda v: np.take_along_axis(v, idx, axis=1.5),
        lambda v: np.take(v, [0], axis=0.0),
    ):
        with pytest.raises(TypeError, match="axis"):
            bp.grad_bp(lambda v, bad=bad: np.sum(bad(v)), x)
