"""Products on BVars called as a numpy user calls them: `np.dot`, `np.vdot`, `np.inner`,
`np.outer`, `np.matmul` / `@` (batched, broadcasting, 1-D promotion), `np.tensordot`,
`np.einsum`, `np.kron`, `np.cross`, `v.dot(w)`.

Every case checks the value against numpy's (relative 1e-12) and the vector-Jacobian product
coordinate by coordinate against central differences with a random cotangent (`fd.check_vjp`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.numpy._products
import numpy as np
import pytest
from bprop.errors import ShapeError
from fd import check_vjp


def check(f: Callable[..., Any], *xs: Any, seed: int = 0) -> None:
    """`f` (numpy code) on BVars: value equal to `f` on arrays, gradient equal to differences."""
    rng = np.random.default_rng(seed)
    xs_f = [np.asarray(x, dtype=np.float64) if not isinstance(x, float) else x for x in xs]
    want = f(*xs_f)
    got = bp.eval_bp_n(f, *xs_f)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    assert np.shape(got) == np.shape(want)
    check_vjp(f, xs_f, rng=rng, plain=f)


def rand(*shape: int, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed + 1000 * len(shape) + sum(shape))
    return rng.normal(size=shape) if shape else float(rng.normal())


# ---- matmul ---------------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3, 4), (4, 2)),
    ((4,), (4, 2)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 2)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (3, 4, 2)),
    ((2, 3, 4), (4,)),
    ((1, 3, 4), (2, 4, 5)),
    ((2, 2, 3, 4), (2, 1, 4, 1)),
]


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_operator_and_function(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    a, b = rand(*sa, seed=1), rand(*sb, seed=2)
    check(lambda x, y: x @ y, a, b)
    check(lambda x, y: np.matmul(x, y), a, b, seed=3)


def test_matmul_with_plain_operand_and_views() -> None:
    a, c = rand(2, 4, 3, seed=4), rand(5, 2, 3, 4, seed=5)
    check(lambda x: np.matmul(c, x), a)  # plain batched operand on the left
    check(lambda x: np.matmul(x.T, x), rand(3, 4, seed=6))  # transposed view
    check(lambda x: x[::2] @ x[1::2].T, rand(4, 3, seed=7))  # strided views


def test_matmul_reversed_broadcast_and_empty_views() -> None:
    # Negative strides, a zero stride and empty inner or outer dimensions reach the product
    # kernel as views of the operand, forward and in both backward products.
    check(lambda x: x[::-1] @ x[:, ::-1].T, rand(4, 3, seed=8))
    check(lambda x: np.broadcast_to(x[0], (5, 3)) @ x.T, rand(4, 3, seed=9))
    check(lambda x: x[:, :0] @ np.ones((0, 2)) + x[:, :2], rand(4, 3, seed=10))
    check(lambda x: x[:0] @ x.T, rand(4, 3, seed=11))
    check(lambda x: np.zeros((2, 0)) @ x[:0] + x[:2], rand(4, 3, seed=12))


def test_matmul_batched_value_matches_numpy_exactly_in_shape() -> None:
    a, b = rand(2, 1, 3, 4), rand(5, 4, 2)
    got = bp.eval_bp2(lambda x, y: x @ y, a, b)
    assert got.shape == (2, 5, 3, 2)
    np.testing.assert_allclose(got, a @ b, rtol=1e-12)


def test_matmul_errors() -> None:
    with pytest.raises(ValueError, match="matmul"):
        bp.eval_bp2(lambda x, y: x @ y, rand(2, 3, 4), rand(3, 2))
    with pytest.raises(ValueError, match="matmul"):
        bp.eval_bp2(lambda x, y: x @ y, rand(3, 4), rand(3, 2))
    with pytest.raises(ValueError, match="matmul"):
        bp.eval_bp2(lambda x, y: np.matmul(x, y), 2.0, rand(3))
    with pytest.raises(TypeError, match="out="):
        bp.eval_bp(lambda x: np.matmul(x, x, out=np.zeros((2, 2))), rand(2, 2))


# ---- dot, vdot, inner, outer -------------------------------------------------------------------------

DOT_SHAPES = [
    ((), (3,)),
    ((2, 3), ()),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3, 4)),
    ((2, 4, 3), (3,)),
    ((2, 4, 3), (3, 2)),
    ((2, 3), (4, 3, 2)),
    ((2, 1, 3), (2, 3, 2)),
]


@pytest.mark.parametrize(("sa", "sb"), DOT_SHAPES, ids=[f"{a}.{b}" for a, b in DOT_SHAPES])
def test_dot_all_cases(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    check(lambda x, y: np.dot(x, y), rand(*sa, seed=1), rand(*sb, seed=2))


def test_dot_method_and_scalars() -> None:
    check(lambda x, y: x.dot(y), rand(2, 3), rand(3, 2))
    check(lambda x, y: x.dot(y), rand(2, 4, 3), rand(3, 2))
    check(lambda x: np.dot(x, 2.5), rand(3))
    check(lambda x: np.dot(rand(2, 3), x), rand(3, 4))  # plain left operand


def test_dot_shape_error_names_function() -> None:
    with pytest.raises(ShapeError, match=r"numpy\.dot: shapes \(2, 3\) and \(2,\)"):
        bp.eval_bp2(np.dot, rand(2, 3), rand(2))
    with pytest.raises(ShapeError, match=r"numpy\.dot"):
        bp.eval_bp2(np.dot, rand(2, 2, 3), rand(2, 2, 2))
    with pytest.raises(TypeError, match="out="):
        bp.eval_bp2(lambda x, y: np.dot(x, y, out=np.zeros(())), rand(3), rand(3))


def test_vdot_inner_outer() -> None:
    check(lambda x, y: np.vdot(x, y), rand(2, 3), rand(3, 2))
    check(lambda x, y: np.vdot(x, y), rand(4), rand(4))
    for sa, sb in [
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((2, 3), (4, 3)),
        ((2, 2, 3), (4, 3)),
        ((3,), (2, 1, 3)),
        ((), (2, 3)),
    ]:
        check(lambda x, y: np.inner(x, y), rand(*sa, seed=1), rand(*sb, seed=2))
    for sa, sb in [((3,), (2,)), ((2, 3), (2,)), ((2, 2), (3, 1, 2)), ((), (3,))]:
        check(lambda x, y: np.outer(x, y), rand(*sa, seed=3), rand(*sb, seed=4))
    with pytest.raises(ShapeError, match="numpy.vdot"):
        bp.eval_bp2(np.vdot, rand(3), rand(4))
    with pytest.raises(ShapeError, match="numpy.inner"):
        bp.eval_bp2(np.inner, rand(2, 3), rand(2))


# ---- tensordot -------------------------------------------------------------------------------------

TENSORDOT_CASES: list[tuple[tuple[int, ...], tuple[int, ...], Any]] = [
    ((2, 3), (3, 2), 1),
    ((2, 3, 4), (3, 4, 2), 2),
    ((2, 3), (4,), 0),
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),
    ((3, 2, 4), (4, 5, 1, 3), ([2, 0], [0, 3])),
    ((2, 3, 4), (2, 4), ([-1, 0], [-1, -2])),
    ((3, 4), (3, 4), ([0, 1], [0, 1])),
    ((2, 3), (3, 2), (1, 0)),
]


@pytest.mark.parametrize(
    ("sa", "sb", "axes"), TENSORDOT_CASES, ids=[str(c[2]) for c in TENSORDOT_CASES]
)
def test_tensordot(sa: tuple[int, ...], sb: tuple[int, ...], axes: Any) -> None:
    check(lambda x, y: np.tensordot(x, y, axes=axes), rand(*sa, seed=5), rand(*sb, seed=6))


def test_tensordot_errors() -> None:
    with pytest.raises(ValueError, match="tensordot"):
        bp.eval_bp2(lambda x, y: np.tensordot(x, y, axes=([0], [0])), rand(2, 3), rand(3, 2))
    with pytest.raises(ValueError, match="tensordot"):
        bp.eval_bp2(lambda x, y: np.tensordot(x, y, axes=([0, 1], [0])), rand(2, 3), rand(2, 3))
    with pytest.raises(np.exceptions.AxisError):
        bp.eval_bp2(lambda x, y: np.tensordot(x, y, axes=([2], [0])), rand(2, 3), rand(3, 2))


# ---- einsum ----------------------------------------------------------------------------------------

EINSUM_CASES: list[tuple[str, list[tuple[int, ...]]]] = [
    ("ij->ji", [(2, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i", [(3,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...->...", [(2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,ij,j", [(2,), (2, 3), (3,)]),
    ("iij->j", [(3, 3, 2)]),
    ("iji->ij", [(2, 3, 2)]),
    ("ij,ij->", [(2, 3), (1, 3)]),
    ("ijk,jil->kl", [(2, 3, 2), (3, 2, 2)]),
    ("bA,Ab", [(2, 3), (3, 2)]),
    ("Ba,c", [(2, 3), (2,)]),
    ("ii,i->", [(3, 3), (3,)]),
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum(spec: str, shapes: list[tuple[int, ...]]) -> None:
    xs = [rand(*s, seed=k) for k, s in enumerate(shapes)]
    check(lambda *v: np.einsum(spec, *v), *xs)


def test_einsum_optimize_and_sublist_form_and_constants() -> None:
    a, b, c = rand(2, 3), rand(3, 4, seed=1), rand(4, 2, seed=2)
    check(lambda x, y, z: np.einsum("ij,jk,kl->il", x, y, z, optimize=True), a, b, c)
    check(lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b)
    check(lambda x, y: np.einsum(x, [0, 1], y, [1, 2]), a, b)
    check(lambda x, y: np.einsum(x, [Ellipsis, 1], y, [1, 2], [Ellipsis, 2]), rand(2, 2, 3), b)
    check(lambda x: np.einsum("ij,jk->ik", x, b), a)  # one plain operand
    check(lambda x: np.einsum("ii->i", x.T), rand(3, 3, seed=3))  # a transposed view


def test_einsum_repeated_index_gradient_is_on_the_diagonal() -> None:
    x = rand(3, 3)
    g = bp.grad_bp(lambda v: np.einsum("ii", v), x)
    np.testing.assert_array_equal(g, np.eye(3))
    _, pull = bp.backprop_with(lambda v: np.einsum("ii->i", v), x)
    np.testing.assert_array_equal(pull(np.array([1.0, 2.0, 3.0])), np.diag([1.0, 2.0, 3.0]))


def test_einsum_errors() -> None:
    with pytest.raises(ValueError, match="einsum"):
        bp.eval_bp(lambda v: np.einsum("ij,jk", v), rand(2, 3))
    with pytest.raises(ValueError, match="einsum"):
        bp.eval_bp(lambda v: np.einsum("ijk", v), rand(2, 3))
    with pytest.raises(ValueError):
        bp.eval_bp2(lambda v, w: np.einsum("ij,jk", v, w), rand(2, 3), rand(4, 2))
    with pytest.raises(TypeError, match="out="):
        bp.eval_bp(lambda v: np.einsum("ij", v, out=np.zeros((2, 3))), rand(2, 3))
    with pytest.raises(TypeError, match="dtype"):
        bp.eval_bp(lambda v: np.einsum("ij", v, dtype=np.float32), rand(2, 3))


# ---- kron, cross -----------------------------------------------------------------------------------


def test_kron() -> None:
    for sa, sb in [
        ((2, 3), (3, 2)),
        ((2,), (3,)),
        ((2, 3), (3,)),
        ((2,), (3, 1)),
        ((2, 1, 2), (1, 2, 2)),
    ]:
        check(lambda x, y: np.kron(x, y), rand(*sa, seed=1), rand(*sb, seed=2))
    check(lambda x: np.kron(x, np.eye(2)), rand(2, 3))


def test_cross() -> None:
    check(lambda x, y: np.cross(x, y), rand(3, seed=1), rand(3, seed=2))
    check(lambda x, y: np.cross(x, y), rand(2, 3, seed=1), rand(3, seed=2))
    check(lambda x, y: np.cross(x, y), rand(4, 1, 3, seed=1), rand(2, 3, seed=2))
    check(lambda x, y: np.cross(x, y, axisa=0, axisc=0), rand(3, 2, seed=1), rand(3, seed=2))
    check(lambda x, y: np.cross(x, y, axis=1), rand(2, 3, 2, seed=3), rand(1, 3, 2, seed=4))
    check(lambda x, y: np.cross(x, y, axisb=0, axisc=-2), rand(2, 3, seed=5), rand(3, 1, seed=6))
    with pytest.raises(TypeError, match="numpy.cross"):
        bp.eval_bp2(np.cross, rand(2), rand(2))


def test_misaligned_float64_views_are_copied_not_read_in_place() -> None:
    """A float64 view at an odd byte offset of a BVar's (frozen, shareable) value is not aligned:
    the kernels must get an aligned copy (reading f64s at a misaligned address is undefined
    behaviour in Rust), with the values and gradients of an aligned array."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=12)
    frozen = bp.const_var(np.concatenate([base, [0.0]])).value  # read-only, frozen memory
    odd = frozen.view(np.uint8)[1:-7].view(np.float64)
    assert not odd.flags.aligned and not odd.flags.writeable
    np.testing.assert_array_equal(odd, np.frombuffer(frozen.tobytes()[1:-7], dtype=np.float64))
    held = bp.const_var(odd).value
    assert held.flags.aligned and not np.shares_memory(held, odd)
    np.testing.assert_array_equal(held, odd)
    w = rng.normal(size=12)

    def f(v: Any) -> Any:
        return bp.numpy.sum(bp.numpy.tanh(v * w) * odd)

    want = np.sum(np.tanh(base * w) * odd)
    assert bp.eval_bp(f, base) == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(
        bp.grad_bp(f, base), (1 - np.tanh(base * w) ** 2) * w * odd, rtol=1e-12
    )
    # a misaligned gradient handed back as the seed of a pullback
    _, pull = bp.backprop_with(lambda m: m * 2.0, np.ones(12))
    np.testing.assert_allclose(pull(odd), 2.0 * odd, rtol=1e-12)
