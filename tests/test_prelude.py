"""bprop.prelude (Haskell's Prelude.Backprop) on lists, tuples and numpy arrays.

Gradients are checked coordinate by coordinate against central finite differences for a random
cotangent, on random containers of random length (0 and 1 included). Where the function has
kinks (minimum/maximum at ties, round) the exact chosen convention is asserted instead: the even
split among ties and the straight-through gradient. The functions taking user functions are also
compared with the same computation written by hand on scalar BVars.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import bprop as bp
import numpy as np
import pytest
from bprop import prelude as P
from bprop._core import Tape
from fd import central_diff
from hypothesis import given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=30, deadline=None)
RTOL = 1e-6
ATOL = 1e-8
KINDS = ["list", "tuple", "array"]


# ---- helpers ------------------------------------------------------------------------------


def as_kind(kind: str, xs: list[float]) -> Any:
    """`xs` as a container of `kind`."""
    return {"list": list, "tuple": tuple, "array": lambda v: np.array(v, dtype=np.float64)}[kind](
        xs
    )


def flat(v: Any) -> np.ndarray:
    """All scalars of a (nested) container value, in order."""
    if isinstance(v, (list, tuple)):
        return np.concatenate([flat(e) for e in v]) if v else np.zeros(0)
    return np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel()


def unflat(like: Any, vec: np.ndarray) -> tuple[Any, np.ndarray]:
    """A value shaped like `like` from the front of `vec`, and the rest of `vec`."""
    if isinstance(like, (list, tuple)):
        items = []
        for e in like:
            item, vec = unflat(e, vec)
            items.append(item)
        make = getattr(type(like), "_make", type(like))
        return make(items), vec
    if isinstance(like, np.ndarray):
        return vec[: like.size].reshape(like.shape).copy(), vec[like.size :]
    return float(vec[0]), vec[1:]


def random_like(rng: np.random.Generator, v: Any) -> Any:
    return unflat(v, rng.normal(size=flat(v).size))[0]


def assert_same_kind(g: Any, x: Any) -> None:
    """A gradient has the container kind, length and (for arrays) shape of its input."""
    assert type(g) is type(x), (g, x)
    if isinstance(x, np.ndarray):
        assert g.shape == x.shape, (g.shape, x.shape)
    elif isinstance(x, (list, tuple)):
        assert len(g) == len(x), (g, x)


def check_grad(
    f: Callable[[Any], Any], x: Any, rng: np.random.Generator, *, cotangent: Any = None
) -> Any:
    """The gradient of `<c, f(x)>` (c random) against central differences over every scalar of x;
    returns the gradient."""
    y, pullback = bp.backprop_with(f, x)
    c = random_like(rng, y) if cotangent is None else cotangent
    g = pullback(c)
    assert_same_kind(g, x)
    c_flat = flat(c)

    def objective(*t: float) -> float:
        return float(np.dot(c_flat, flat(bp.eval_bp(f, unflat(x, np.array(t))[0]))))

    expected = central_diff(objective, list(flat(x)))
    np.testing.assert_allclose(flat(g), np.array(expected), rtol=RTOL, atol=ATOL)
    return g


def nodes_recorded(f: Callable[[Any], Any], x: Any) -> int:
    """How many tape nodes `f` records on an input BVar holding `x`."""
    tape = Tape()
    try:
        v = tape.input(x)
        before = len(tape)
        f(v)
        return len(tape) - before
    finally:
        tape.close()


def floats(lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def float_lists(max_size: int = 6) -> st.SearchStrategy[list[float]]:
    return st.lists(floats(), min_size=0, max_size=max_size)


def matrices(rng: np.random.Generator, max_rows: int = 5) -> list[np.ndarray]:
    """(n, k) arrays with n from 0, as containers of n rows."""
    return [rng.normal(size=(n, k)) for n in range(max_rows) for k in (1, 3)]


def spread(rng: np.random.Generator, n: int) -> list[float]:
    """n floats at least 0.4 apart (away from min/max ties) in random order."""
    return list(rng.permutation(n) * 0.5 + rng.uniform(0.0, 0.1, size=n))


# ---- sum and product ----------------------------------------------------------------------


@FAST
@given(xs=float_lists(), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
def test_sum_matches_fd(xs: list[float], kind: str, seed: int) -> None:
    x = as_kind(kind, xs)
    assert bp.eval_bp(P.sum, x) == pytest.approx(math.fsum(xs))
    check_grad(P.sum, x, np.random.default_rng(seed))


@FAST
@given(xs=float_lists(), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
def test_product_matches_fd(xs: list[float], kind: str, seed: int) -> None:
    x = as_kind(kind, xs)
    assert bp.eval_bp(P.product, x) == pytest.approx(math.prod(xs), rel=1e-12, abs=1e-12)
    check_grad(P.product, x, np.random.default_rng(seed))


@pytest.mark.parametrize("kind", KINDS)
def test_empty_sum_is_zero_and_product_is_one(kind: str) -> None:
    x = as_kind(kind, [])
    for f, unit in ((P.sum, 0.0), (P.product, 1.0)):
        y, g = bp.backprop(f, x)
        assert y == unit and type(y) is float
        assert_same_kind(g, x)


@FAST
@given(
    xs=st.lists(floats(0.5, 2.0), min_size=1, max_size=6),
    zero_at=st.data(),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_product_one_zero_gradient_only_at_the_zero(
    xs: list[float], zero_at: st.DataObject, kind: str, seed: int
) -> None:
    i = zero_at.draw(st.integers(0, len(xs) - 1))
    xs[i] = 0.0
    x = as_kind(kind, xs)
    y, g = bp.backprop(P.product, x)
    assert y == 0.0
    others = math.prod(xs[:i] + xs[i + 1 :])
    expected = [others if j == i else 0.0 for j in range(len(xs))]
    assert list(flat(g)) == pytest.approx(expected, rel=1e-12)
    assert not any(math.isnan(e) for e in flat(g))
    check_grad(P.product, x, np.random.default_rng(seed))  # a polynomial: FD is valid at zeros


@FAST
@given(
    xs=st.lists(floats(0.5, 2.0), min_size=2, max_size=6),
    data=st.data(),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_product_two_zeros_all_gradients_zero(
    xs: list[float], data: st.DataObject, kind: str, seed: int
) -> None:
    i, j = data.draw(st.lists(st.integers(0, len(xs) - 1), min_size=2, max_size=2, unique=True))
    xs[i] = xs[j] = 0.0
    x = as_kind(kind, xs)
    _, g = bp.backprop(P.product, x)
    assert list(flat(g)) == [0.0] * len(xs)
    check_grad(P.product, x, np.random.default_rng(seed))


@pytest.mark.parametrize("seed", range(3))
def test_sum_and_product_of_matrix_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for m in matrices(rng):
        np.testing.assert_allclose(bp.eval_bp(P.sum, m), m.sum(axis=0))
        np.testing.assert_allclose(bp.eval_bp(P.product, m), m.prod(axis=0))
        check_grad(P.sum, m, rng)
        check_grad(P.product, m, rng)
    z = rng.normal(size=(4, 3))
    z[1, 0] = 0.0  # column 0: one zero; column 2: two zeros
    z[0, 2] = z[3, 2] = 0.0
    g = check_grad(P.product, z, rng, cotangent=np.ones(3))
    assert list(np.flatnonzero(g[:, 0])) == [1]
    assert not g[:, 2].any()


def test_sum_and_product_of_a_list_of_arrays() -> None:
    rng = np.random.default_rng(5)
    xs = [rng.normal(size=3) for _ in range(4)]
    np.testing.assert_allclose(bp.eval_bp(P.product, xs), np.prod(xs, axis=0))
    check_grad(P.sum, xs, rng)
    check_grad(P.product, xs, rng)


def test_sum_gradients_are_separate_arrays() -> None:
    g = bp.backprop_with(P.sum, [np.zeros(2), np.zeros(2)])[1](np.ones(2))
    g[0][0] = 5.0
    assert g[1][0] == 1.0


def test_product_of_a_named_tuple_keeps_its_type() -> None:
    class Pt(NamedTuple):
        x: float
        y: float

    g = check_grad(P.product, Pt(2.0, 3.0), np.random.default_rng(0), cotangent=1.0)
    assert g == Pt(3.0, 2.0)


# ---- minimum and maximum ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
def test_min_max_distinct_match_fd(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in range(1, 7):
        xs = spread(rng, n)
        x = as_kind(kind, xs)
        assert bp.eval_bp(P.minimum, x) == min(xs)
        assert bp.eval_bp(P.maximum, x) == max(xs)
        for f, pick in ((P.minimum, np.argmin), (P.maximum, np.argmax)):
            g = check_grad(f, x, rng, cotangent=2.5)
            assert list(flat(g)) == [2.5 if i == pick(xs) else 0.0 for i in range(n)]


@FAST
@given(
    base=st.lists(floats(), min_size=0, max_size=4),
    k=st.integers(1, 4),
    kind=st.sampled_from(KINDS),
    g=floats(-3.0, 3.0),
    order=st.randoms(use_true_random=False),
)
def test_min_max_ties_split_evenly(
    base: list[float], k: int, kind: str, g: float, order: Any
) -> None:
    for f, extreme in ((P.minimum, -5.0), (P.maximum, 5.0)):
        xs = base + [extreme] * k
        order.shuffle(xs)
        y, pullback = bp.backprop_with(f, as_kind(kind, xs))
        assert y == extreme
        grads = flat(pullback(g))
        assert [gi for gi, xi in zip(grads, xs) if xi != extreme] == [0.0] * len(base)
        assert [gi for gi, xi in zip(grads, xs) if xi == extreme] == [g / k] * k


def test_min_max_of_matrix_rows_are_entrywise_with_per_entry_ties() -> None:
    m = np.array([[1.0, 5.0, 0.0], [1.0, 2.0, 0.0], [3.0, 5.0, 0.0]])
    y, pullback = bp.backprop_with(P.minimum, m)
    np.testing.assert_array_equal(y, [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(
        pullback(np.array([1.0, 2.0, 3.0])), [[0.5, 0, 1], [0.5, 2, 1], [0, 0, 1]]
    )
    y, pullback = bp.backprop_with(P.maximum, m)
    np.testing.assert_array_equal(y, [3.0, 5.0, 0.0])
    np.testing.assert_array_equal(
        pullback(np.array([1.0, 2.0, 3.0])), [[0, 1, 1], [0, 0, 1], [1, 1, 1]]
    )
    rng = np.random.default_rng(1)
    for n in range(1, 5):
        distinct = np.stack([spread(rng, n) for _ in range(3)], axis=1)
        check_grad(P.minimum, distinct, rng)
        check_grad(P.maximum, distinct, rng)


def test_min_max_keep_the_element_type_and_the_first_tie() -> None:
    assert bp.eval_bp(P.minimum, (3, 1, 2)) == 1 and type(bp.eval_bp(P.minimum, (3, 1, 2))) is int
    assert bp.eval_bp(P.maximum, [np.array([1.0, 4.0]), np.array([2.0, 3.0])]).tolist() == [
        2.0,
        4.0,
    ]


def test_min_max_nan_takes_the_gradient() -> None:
    y, g = bp.backprop(P.maximum, [1.0, math.nan, 2.0, math.nan])
    assert math.isnan(y)
    assert g == [0.0, 0.5, 0.0, 0.5]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("f", [P.minimum, P.maximum], ids=["minimum", "maximum"])
def test_min_max_of_empty_raise_naming_the_function(kind: str, f: Callable[[Any], Any]) -> None:
    with pytest.raises(ValueError, match=rf"^{f.__name__}: empty container"):
        bp.backprop(f, as_kind(kind, []))


# ---- length, to_list, pure, broadcast -----------------------------------------------------


@pytest.mark.parametrize(
    "x", [[], [1.0, 2.0], (1.0,), np.zeros(3), np.zeros((4, 2)), np.zeros((0, 2))]
)
def test_length_is_a_constant_float(x: Any) -> None:
    out: list[Any] = []
    y, g = bp.backprop(lambda v: out.append(P.length(v)) or out[0], x)
    assert y == float(len(x)) and type(y) is float
    assert out[0].is_constant
    assert np.array_equal(g, bp.zero(x)) if isinstance(x, np.ndarray) else g == bp.zero(x)
    # the length scales another computation without adding a gradient of its own
    assert bp.grad_bp(lambda v: P.length(v) * P.sum(v), [1.0, 2.0, 3.0]) == [3.0, 3.0, 3.0]


@FAST
@given(xs=float_lists(), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
def test_to_list(xs: list[float], kind: str, seed: int) -> None:
    x = as_kind(kind, xs)
    y = bp.eval_bp(P.to_list, x)
    assert type(y) is list and y == xs and all(type(e) is float for e in y)
    check_grad(P.to_list, x, np.random.default_rng(seed))


def test_to_list_of_matrix_rows() -> None:
    rng = np.random.default_rng(2)
    for m in matrices(rng):
        y = bp.eval_bp(P.to_list, m)
        assert len(y) == len(m) and all(np.array_equal(r, mr) for r, mr in zip(y, m))
        check_grad(P.to_list, m, rng)


@pytest.mark.parametrize(
    ("kind", "x", "value"),
    [
        (list, 2.0, [2.0]),
        (tuple, 2.0, (2.0,)),
        (np.ndarray, 2.0, np.array([2.0])),
        (np.ndarray, np.array([1.0, 2.0]), np.array([[1.0, 2.0]])),
    ],
)
def test_pure(kind: type, x: Any, value: Any) -> None:
    y = bp.eval_bp(lambda v: P.pure(v, kind), x)
    assert type(y) is type(value) and np.array_equal(y, value)
    check_grad(lambda v: P.pure(v, kind), x, np.random.default_rng(0))
    assert bp.eval_bp(P.pure, 3.0) == [3.0]
    with pytest.raises(TypeError, match="pure: kind must be"):
        bp.eval_bp(lambda v: P.pure(v, dict), 1.0)


@pytest.mark.parametrize(
    "like", [[], [7, 8, 9], (1.0, 2.0), np.zeros(4), np.zeros((3, 5)), np.zeros(0)], ids=repr
)
@pytest.mark.parametrize("x", [1.5, np.array([1.0, -2.0])], ids=["float", "array"])
def test_broadcast(like: Any, x: Any) -> None:
    y, pullback = bp.backprop_with2(P.broadcast, x, like)
    rng = np.random.default_rng(3)
    c = random_like(rng, y)
    gx, glike = pullback(c)
    assert len(y) == len(like)
    if isinstance(like, np.ndarray):
        assert isinstance(y, np.ndarray) and y.shape == (len(like), *np.shape(x))
    else:
        assert type(y) is type(like)
    assert all(np.array_equal(e, x) for e in y)
    # x's gradient is the sum of the element gradients; `like` only gives the shape
    expected = sum((np.asarray(ci) for ci in c), np.zeros(np.shape(x)))
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-15)
    assert flat(glike).tolist() == [0.0] * flat(like).size
    check_grad(lambda v: P.broadcast(v, like), x, rng)


# ---- conversions --------------------------------------------------------------------------


@FAST
@given(n=st.integers(-1000, 1000), c=floats(-3.0, 3.0))
def test_from_integral(n: int, c: float) -> None:
    y, pullback = bp.backprop_with(P.from_integral, n)
    assert y == float(n) and type(y) is float
    assert pullback(c) == c  # not rounded to an integer
    assert bp.grad_bp(lambda v: P.from_integral(v) * 0.5, n) == 0.5
    y, g = bp.backprop(P.from_integral, np.arange(4))
    assert y.dtype == np.float64 and y.tolist() == [0.0, 1.0, 2.0, 3.0] and g.tolist() == [1.0] * 4


@pytest.mark.parametrize("bad", [2.5, True, "3", np.array([0.5])], ids=repr)
def test_from_integral_rejects_non_integers(bad: Any) -> None:
    with pytest.raises(TypeError, match="from_integral: expected an integer"):
        bp.eval_bp(P.from_integral, bad)


@pytest.mark.parametrize("x", [np.float32(1.25), np.float16(-2.5), 1.75, np.float64(3.0)], ids=repr)
def test_real_to_frac(x: Any) -> None:
    y, pullback = bp.backprop_with(lambda v: P.real_to_frac(v) * 3.0, x)
    assert type(y) is float and y == pytest.approx(float(x) * 3.0)
    g = pullback(1.0)
    assert type(g) is type(x) and g == 3.0
    y, g = bp.backprop(P.real_to_frac, np.array([1.0, 2.0], dtype=np.float32))
    assert y.dtype == np.float64 and g.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("bad", [3, np.int64(2), 1j, True], ids=repr)
def test_real_to_frac_rejects_integers_and_complex(bad: Any) -> None:
    with pytest.raises(TypeError, match="real_to_frac: expected a real, non-integral number"):
        bp.eval_bp(P.real_to_frac, bad)


@pytest.mark.parametrize(
    ("x", "r"),
    [(0.5, 0.0), (1.5, 2.0), (2.5, 2.0), (-2.5, -2.0), (-0.4, -0.0), (2.6, 3.0), (7.0, 7.0)],
)
def test_round_half_even_straight_through(x: float, r: float) -> None:
    y, pullback = bp.backprop_with(P.round, x)
    assert y == r and type(y) is float
    assert pullback(-1.75) == -1.75  # straight through, not the a.e. zero derivative
    assert bp.grad_bp(lambda v: P.round(v * 3.0) * 2.0, x) == 6.0


def test_round_arrays_and_numpy_scalars() -> None:
    x = np.array([[0.5, 1.5], [-2.5, 2.4]])
    y, pullback = bp.backprop_with(P.round, x)
    np.testing.assert_array_equal(y, [[0.0, 2.0], [-2.0, 2.0]])
    c = np.random.default_rng(0).normal(size=x.shape)
    np.testing.assert_array_equal(pullback(c), c)
    assert bp.eval_bp(P.round, np.float32(3.5)) == np.float32(4.0)
    assert type(bp.eval_bp(P.round, np.float32(3.5))) is np.float32


# ---- one node each, errors -----------------------------------------------------------------

ONE_NODE: dict[str, Callable[[Any], Any]] = {
    "sum": P.sum,
    "product": P.product,
    "minimum": P.minimum,
    "maximum": P.maximum,
    "to_list": P.to_list,
}


@pytest.mark.parametrize("name", ONE_NODE)
@pytest.mark.parametrize(
    "x", [[1.0, 2.0, 3.0, 4.0], (1.0, 2.0), np.arange(1.0, 9.0), np.ones((6, 3))], ids=repr
)
def test_container_ops_record_one_node(name: str, x: Any) -> None:
    assert nodes_recorded(ONE_NODE[name], x) == 1


def test_scalar_ops_record_one_node_and_length_none() -> None:
    assert nodes_recorded(P.length, [1.0, 2.0]) == 0
    assert nodes_recorded(P.pure, 1.0) == 1
    assert nodes_recorded(lambda v: P.broadcast(v, [0] * 50), 1.0) == 1
    assert nodes_recorded(P.from_integral, 3) == 1
    assert nodes_recorded(P.real_to_frac, np.float32(3)) == 1
    assert nodes_recorded(P.round, 3.3) == 1


@pytest.mark.parametrize(
    "f", [P.sum, P.product, P.minimum, P.maximum, P.to_list, P.length], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("bad", [3.0, np.array(2.0), {"a": 1.0}], ids=repr)
def test_non_containers_rejected_naming_the_function(f: Callable[[Any], Any], bad: Any) -> None:
    with pytest.raises(
        TypeError, match=rf"^{f.__name__}: (expected a list, tuple or numpy array|a 0-d array)"
    ):
        bp.backprop(f, bad)


# ---- plain sequences of BVars (joined with collect_var) -------------------------------------


@pytest.mark.parametrize("wrap", [list, tuple], ids=["list", "tuple"])
def test_reductions_accept_sequences_of_bvars(wrap: type) -> None:
    rng = np.random.default_rng(4)
    xs = spread(rng, 4)
    for f, plain in ((P.sum, sum), (P.product, math.prod), (P.minimum, min), (P.maximum, max)):
        y, grads = bp.backprop_n(lambda *vs, f=f: f(wrap(vs)), *xs)
        assert y == pytest.approx(plain(xs))
        expected = central_diff(lambda *t, plain=plain: plain(t), xs)
        np.testing.assert_allclose(grads, expected, rtol=RTOL, atol=ATOL)
    assert bp.eval_bp_n(lambda *vs: P.length(wrap(vs)), *xs) == 4.0
    assert bp.eval_bp_n(lambda *vs: P.to_list(wrap(vs)), *xs) == xs
    assert bp.grad_bp_n(lambda a, b: P.sum(wrap([a, b * 2.0, 1.0])), 1.0, 2.0) == (1.0, 2.0)


# ---- map, folds, map_accum, zip_with ---------------------------------------------------------


def wobble(v: Any) -> Any:
    return bp.sin(v) * v + 0.5 * v * v


@FAST
@given(xs=float_lists(), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
def test_map_matches_fd_and_scalars(xs: list[float], kind: str, seed: int) -> None:
    x = as_kind(kind, xs)
    y, pullback = bp.backprop_with(lambda v: P.map(wobble, v), x)
    assert_same_kind(y, x)
    by_hand = [bp.eval_bp(wobble, e) for e in xs]
    np.testing.assert_allclose(flat(y), by_hand, rtol=1e-12)
    rng = np.random.default_rng(seed)
    c = as_kind(kind, list(rng.normal(size=len(xs))))
    g = pullback(c)
    assert_same_kind(g, x)
    scalar = [bp.grad_bp(lambda v, ci=ci: wobble(v) * ci, e) for e, ci in zip(xs, flat(c))]
    np.testing.assert_allclose(flat(g), scalar, rtol=1e-12, atol=1e-15)
    check_grad(lambda v: P.map(wobble, v), x, rng)


def test_map_over_matrix_rows_and_sequences_of_bvars() -> None:
    rng = np.random.default_rng(6)
    for m in matrices(rng):
        y = bp.eval_bp(lambda v: P.map(lambda r: bp.linalg.sum(r * r), v), m)
        assert isinstance(y, np.ndarray)
        np.testing.assert_allclose(y, (m * m).sum(axis=1) if len(m) else np.zeros(0))
        check_grad(lambda v: P.map(lambda r: r * bp.sin(r), v), m, rng)
    y, grads = bp.backprop_n(lambda a, b: P.sum(P.map(wobble, (a, b))), 0.3, -1.2)
    assert grads == pytest.approx(
        central_diff(lambda a, b: sum(bp.eval_bp(wobble, t) for t in (a, b)), [0.3, -1.2])
    )


def fold_step(x: Any, acc: Any) -> Any:
    """Neither commutative nor associative, so the order of a fold is tested."""
    return x * acc + bp.sin(x) - acc * acc * 0.1


@FAST
@given(xs=float_lists(5), z=floats(-1.0, 1.0), kind=st.sampled_from(KINDS))
def test_foldr_and_foldl_match_hand_written_loops(xs: list[float], z: float, kind: str) -> None:
    def by_hand_r(zv: Any, *vs: Any) -> Any:
        acc = zv
        for v in reversed(vs):
            acc = fold_step(v, acc)
        return acc

    def by_hand_l(zv: Any, *vs: Any) -> Any:
        acc = zv
        for v in vs:
            acc = fold_step(v, acc)  # foldl's f takes (acc, x): here f(acc, x) = fold_step(x, acc)
        return acc

    x = as_kind(kind, xs)
    folds = {
        "foldr": (lambda zv, v: P.foldr(fold_step, zv, v), by_hand_r),
        "foldl": (lambda zv, v: P.foldl(lambda acc, e: fold_step(e, acc), zv, v), by_hand_l),
    }
    for name, (fold, by_hand) in folds.items():
        y, (gz, gx) = bp.backprop2(fold, z, x)
        want_y, want_g = bp.backprop_n(by_hand, z, *xs)
        assert y == pytest.approx(want_y, rel=1e-12, abs=1e-12), name
        assert gz == pytest.approx(want_g[0], rel=1e-12, abs=1e-12), name
        assert_same_kind(gx, x)
        np.testing.assert_allclose(flat(gx), want_g[1:], rtol=1e-12, atol=1e-12, err_msg=name)
        check_grad(lambda v, fold=fold: fold(z, v), x, np.random.default_rng(len(xs)))


def test_fold_order_and_argument_order() -> None:
    # foldr (-) 10 [1, 2, 3] = 1 - (2 - (3 - 10)) = -8; foldl (-) 10 [1, 2, 3] = ((10 - 1) - 2) - 3 = 4
    for kind in KINDS:
        x = as_kind(kind, [1.0, 2.0, 3.0])
        y, (gz, gx) = bp.backprop2(lambda z, v: P.foldr(lambda e, acc: e - acc, z, v), 10.0, x)
        assert (y, gz, flat(gx).tolist()) == (-8.0, -1.0, [1.0, -1.0, 1.0])
        y, (gz, gx) = bp.backprop2(lambda z, v: P.foldl(lambda acc, e: acc - e, z, v), 10.0, x)
        assert (y, gz, flat(gx).tolist()) == (4.0, 1.0, [-1.0, -1.0, -1.0])
    assert bp.eval_bp(lambda z: P.foldr(lambda e, acc: e * acc, z, []), 2.5) == 2.5  # empty: z


def accum_step(acc: Any, x: Any) -> tuple[Any, Any]:
    return acc * bp.cos(x) + x, acc * x - x * x


@FAST
@given(
    xs=float_lists(5),
    s=floats(-1.0, 1.0),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_map_accum_matches_hand_written_loops(
    xs: list[float], s: float, kind: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    cs = rng.normal(size=len(xs) + 1)  # cotangent: accumulator, then each output
    x = as_kind(kind, xs)
    for name, run, order in (
        ("map_accum_l", P.map_accum_l, range(len(xs))),
        ("map_accum_r", P.map_accum_r, range(len(xs) - 1, -1, -1)),
    ):

        def via_prelude(sv: Any, v: Any, run: Any = run) -> Any:
            return bp.op_tup(*run(accum_step, sv, v))

        def by_hand(sv: Any, *vs: Any, order: Any = order) -> Any:
            acc, outs = sv, [None] * len(vs)
            for i in order:
                acc, outs[i] = accum_step(acc, vs[i])
            return acc * cs[0] + sum((o * c for o, c in zip(outs, cs[1:])), 0.0 * sv)

        (acc, ys), pullback = bp.backprop_with2(via_prelude, s, x)
        gs, gx = pullback((float(cs[0]), as_kind(kind, list(cs[1:]))))
        want_y, want_g = bp.backprop_n(by_hand, s, *xs)
        assert_same_kind(ys, x)
        assert acc * cs[0] + float(np.dot(flat(ys), cs[1:])) == pytest.approx(
            want_y, rel=1e-12, abs=1e-12
        ), name
        assert gs == pytest.approx(want_g[0], rel=1e-12, abs=1e-12), name
        assert_same_kind(gx, x)
        np.testing.assert_allclose(flat(gx), want_g[1:], rtol=1e-12, atol=1e-12, err_msg=name)
        check_grad(lambda v: via_prelude(s, v), x, rng)


def test_map_accum_outputs_keep_positions() -> None:
    steps = lambda acc, x: (acc + 1.0, acc * 10.0 + x)
    acc, ys = bp.eval_bp(
        lambda v: bp.op_tup(*P.map_accum_l(steps, bp.const_var(0.0), v)), [1.0, 2.0, 3.0]
    )
    assert acc == 3.0 and ys == [1.0, 12.0, 23.0]
    acc, ys = bp.eval_bp(
        lambda v: bp.op_tup(*P.map_accum_r(steps, bp.const_var(0.0), v)), [1.0, 2.0, 3.0]
    )
    assert acc == 3.0 and ys == [21.0, 12.0, 3.0]


@FAST
@given(
    xs=float_lists(),
    ys=float_lists(),
    kx=st.sampled_from(KINDS),
    ky=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_zip_with_truncates_and_matches_scalars(
    xs: list[float], ys: list[float], kx: str, ky: str, seed: int
) -> None:
    f = lambda a, b: a * bp.sin(b) + b * b
    x, y = as_kind(kx, xs), as_kind(ky, ys)
    n = min(len(xs), len(ys))
    out, pullback = bp.backprop_with2(lambda a, b: P.zip_with(f, a, b), x, y)
    assert type(out) is type(x) and len(out) == n
    np.testing.assert_allclose(
        flat(out), [bp.eval_bp2(f, a, b) for a, b in zip(xs, ys)], rtol=1e-12
    )
    c = list(np.random.default_rng(seed).normal(size=n))
    gx, gy = pullback(as_kind(kx, c))
    assert_same_kind(gx, x)
    assert_same_kind(gy, y)
    for i in range(n):
        ga, gb = bp.grad_bp2(lambda a, b, i=i: f(a, b) * c[i], xs[i], ys[i])
        assert flat(gx)[i] == pytest.approx(ga, rel=1e-12, abs=1e-15)
        assert flat(gy)[i] == pytest.approx(gb, rel=1e-12, abs=1e-15)
    assert flat(gx)[n:].tolist() == [0.0] * (len(xs) - n)  # truncated elements get no gradient
    assert flat(gy)[n:].tolist() == [0.0] * (len(ys) - n)
    check_grad(lambda a: P.zip_with(f, a, y), x, np.random.default_rng(seed))
    check_grad(lambda b: P.zip_with(f, x, b), y, np.random.default_rng(seed))
