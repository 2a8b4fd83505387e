"""Indexing and selection on BVars (`bprop.numpy._indexing`): `v[key]` with numpy's rules and a
scatter-add gradient, `v.at[key].set/add`, `where`, `clip`, `take`, `take_along_axis`,
`choose`, `select`, `extract`, `compress`, `copy`, and the functions with plain results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import bprop as bp
import numpy as np
import pytest
from bprop.numpy._indexing import Key, index_update, plain_key, scatter_add, take_index
from fd import check_vjp
from hypothesis import given, settings
from hypothesis import strategies as st

RNG = np.random.default_rng(20261207)


def _x(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.normal(size=shape)


M4 = np.array([True, False, True, True])
M23 = np.array([[True, False, True], [False, False, True]])
M34 = RNG.normal(size=(3, 4)) > 0
M2323 = RNG.normal(size=(2, 3, 2, 3)) > 0

# (shape, key): at least one of every kind, over 0-d..4-d arrays.
KEYS: list[tuple[tuple[int, ...], Any]] = [
    # 0-d
    ((), ()),
    ((), None),
    ((), Ellipsis),
    # 1-d
    ((7,), slice(1, 5)),
    ((7,), slice(None, None, -1)),
    ((7,), slice(5, 1, -2)),
    ((7,), slice(-2, None, -3)),
    ((7,), slice(None, None, 3)),
    ((7,), (3,)),
    ((7,), (-1,)),
    ((7,), [0, 0, 1]),
    ((7,), np.array([-1, 2, 2, 6])),
    ((7,), np.array([[0, 1], [1, 6]])),
    ((7,), np.array([True, False, True, True, False, False, True])),
    ((7,), (None, slice(2, None))),
    ((7,), slice(3, 3)),
    ((7,), np.array([], dtype=int)),
    ((7,), []),
    ((7,), np.zeros(7, dtype=bool)),
    # 2-d
    ((4, 5), (1, 2)),
    ((4, 5), (-1, -5)),
    ((4, 5), (slice(None), 1)),
    ((4, 5), slice(1, 3)),
    ((4, 5), (Ellipsis, 0)),
    ((4, 5), (-1, slice(None, None, -2))),
    ((4, 5), (slice(None, None, -1), slice(None, None, -1))),
    ((4, 5), ([0, 2, 2], [1, 1, 4])),
    ((4, 5), ([0, 3], slice(1, 4))),
    ((4, 5), (slice(None), [4, 0, 4])),
    ((4, 5), (np.array([[0], [3]]), np.array([0, 2, 4]))),
    ((4, 5), RNG.normal(size=(4, 5)) > 0),
    ((4, 5), (M4, 2)),
    ((4, 5), (M4, slice(None, None, -2))),
    ((4, 5), (None, Ellipsis, None)),
    ((4, 5), (1, None)),
    ((4, 5), (slice(2, 2), [0, 1])),
    # 3-d
    (
        (2, 3, 4),
        ([1, 0], slice(None), [3, 3]),
    ),  # advanced indices separated by a slice: moved to the front
    ((2, 3, 4), (0, slice(None), [1, 2])),  # an integer counts as advanced here
    ((2, 3, 4), (Ellipsis, [0, 0, 2])),
    ((2, 3, 4), (M23, slice(1, 3))),  # a mask of partial rank
    ((2, 3, 4), (slice(None), M34)),
    ((2, 3, 4), (1, Ellipsis, None, slice(None, None, -3))),
    ((2, 3, 4), (slice(None), [[0, 2], [1, 1]], slice(None, None, 2))),
    ((2, 3, 4), ([-1], [0, 2], None)),
    # 4-d
    ((2, 3, 2, 3), (slice(None), [0, 2], slice(None), [1, 1])),
    ((2, 3, 2, 3), (Ellipsis, 1, [0, 2])),
    ((2, 3, 2, 3), (1, slice(None, None, -1), None, Ellipsis, 0)),
    ((2, 3, 2, 3), M2323),
    ((2, 3, 2, 3), ([[1]], slice(None), [[0, 1]], slice(1, 3))),
    ((2, 3, 2, 3), (np.array([True, False]), Ellipsis, np.array([2, 0]))),
]


def _ids(case: tuple[tuple[int, ...], Any]) -> str:
    return f"{case[0]}-{case[1]!r}"[:60]


@pytest.mark.parametrize("shape,key", KEYS, ids=[_ids(c) for c in KEYS])
@pytest.mark.parametrize("via", ["subscript", "take_index"])
def test_index_value_and_gradient(shape: tuple[int, ...], key: Any, via: str) -> None:
    x = _x(shape)
    read: Callable[[Any], Any] = (
        (lambda v: v[key]) if via == "subscript" else (lambda v: take_index(v, key))
    )
    expected = x[key]
    got = bp.eval_bp(read, x)
    np.testing.assert_array_equal(np.asarray(got), expected)
    assert np.shape(got) == np.shape(expected)
    if np.ndim(expected) == 0:
        assert isinstance(got, float)
    check_vjp(read, [x], rng=RNG, plain=lambda a: a[key])


def test_key_count() -> None:
    assert len({repr(k) for _, k in KEYS}) >= 25
    assert {len(s) for s, _ in KEYS} >= {0, 1, 2, 3, 4}


@pytest.mark.parametrize("key", [[0, 0, 1], np.array([0, 0, 1]), (np.array([0, 1, 0]),)])
def test_repeated_indices_accumulate(key: Any) -> None:
    g = bp.grad_bp(lambda v: v[key].sum(), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0, 0.0])


def test_repeated_rows_and_pairs_accumulate() -> None:
    x = _x((3, 4))
    _, pull = bp.backprop_with(lambda v: v[[2, 2, 0], 1:3], x)
    expected = np.zeros((3, 4))
    expected[2, 1:3] = 2.0
    expected[0, 1:3] = 1.0
    np.testing.assert_array_equal(pull(np.ones((3, 2))), expected)
    _, pull = bp.backprop_with(lambda v: v[[1, 1, 1], [3, 3, 0]], x)
    expected = np.zeros((3, 4))
    expected[1, 3], expected[1, 0] = 2.0, 1.0
    np.testing.assert_array_equal(pull(np.ones(3)), expected)


@pytest.mark.parametrize(
    "shape,key",
    [
        ((50,), np.array([3, 3, -1, 7, 3])),  # 1-d, one index array: np.add.at on the key
        ((4, 5), (np.array([0, 0, 3, 0]), np.array([1, 1, 2, 1]))),  # small array: flat positions
        (
            (30, 30),
            (np.array([0, 0, 3]), np.array([1, 1, -2])),
        ),  # small selection: np.add.at on the key
        ((6, 3), (np.array([5, 5, 0, 5]), slice(None))),  # rows
        ((6, 3), Ellipsis),  # no repeats: assignment
    ],
)
def test_scatter_add_paths_agree_with_add_at(shape: tuple[int, ...], key: Any) -> None:
    k = plain_key(key)
    g = _x(np.zeros(shape)[key].shape)
    expected = np.zeros(shape)
    np.add.at(expected, key, g)
    np.testing.assert_allclose(scatter_add(shape, k, g), expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(
        scatter_add(shape, Key(k.key, False, True), g), expected, rtol=0, atol=1e-14
    )


def test_all_entry_points_reach_numpy_indexing() -> None:
    x = _x((4, 5))
    i, j = 2, 3
    idx = np.array([3, 0, 3])
    for f in [
        lambda v: v[i, j],
        lambda v: v[:, i],
        lambda v: v[1:3],
        lambda v: v[..., 0],
        lambda v: v[idx],
        lambda v: v[x > 0],
        lambda v: v[v.value > 0],
        lambda v: v[np.int64(1), :],
        lambda v: v.at[idx].get(),
    ]:
        got = bp.eval_bp(f, x)
        np.testing.assert_array_equal(np.asarray(got), f(_PlainAt(x)))
        check_vjp(f, [x], rng=RNG, plain=lambda a, f=f: f(_PlainAt(a)))


class _PlainAt(np.ndarray):
    """A plain ndarray with `.value` and `.at[...].get()`, so one lambda runs on both."""

    def __new__(cls, a: np.ndarray) -> Self:
        return np.asarray(a).view(cls)

    @property
    def value(self) -> np.ndarray:
        return np.asarray(self)

    @property
    def at(self) -> Any:
        arr = np.asarray(self)

        class _G:
            def __getitem__(self, k: Any) -> Any:
                class _R:
                    def get(self) -> Any:
                        return arr[k]

                return _R()

        return _G()


def test_non_contiguous_operand() -> None:
    x = _x((4, 6))
    f = lambda v: (v.T)[::-2, [1, 1, 3]]
    check_vjp(f, [x], rng=RNG, plain=lambda a: a.T[::-2, [1, 1, 3]])
    check_vjp(lambda v: v[::2][:, [0, 5]], [x], rng=RNG, plain=lambda a: a[::2][:, [0, 5]])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_slices(data: st.DataObject) -> None:
    shape = tuple(data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=3), label="shape"))
    key = tuple(
        slice(
            data.draw(st.one_of(st.none(), st.integers(-7, 7))),
            data.draw(st.one_of(st.none(), st.integers(-7, 7))),
            data.draw(st.one_of(st.none(), st.integers(-3, 3).filter(bool))),
        )
        for _ in shape
    )
    x = _x(shape)
    g = _x(x[key].shape)
    for read in (lambda v: v[key], lambda v: take_index(v, key)):
        y, pull = bp.backprop_with(read, x)
        np.testing.assert_array_equal(y, x[key])
        expected = np.zeros(shape)
        expected[key] = g
        np.testing.assert_array_equal(pull(g), expected)


# ---- errors --------------------------------------------------------------------------------


def test_assignment_raises_pointing_to_at() -> None:
    v = bp.const_var(np.zeros(3))
    with pytest.raises(TypeError, match=r"\.at\["):
        v[0] = 1.0
    with pytest.raises(TypeError, match=r"\.at\["):
        v[0:2] = np.ones(2)


def test_bvar_in_index_raises() -> None:
    x = np.arange(4.0)

    def run(f: Callable[[Any], Any]) -> None:
        bp.backprop_with(f, x)

    with pytest.raises(TypeError, match="plain"):
        run(lambda v: v[v])
    with pytest.raises(TypeError, match="plain"):
        run(lambda v: v[[bp.const_var(1.0), 0]])
    with pytest.raises(TypeError, match="plain"):
        run(lambda v: v[bp.const_var(np.array([True, False, True, True]))])
    with pytest.raises(TypeError):
        run(lambda v: v[1 : bp.const_var(2.0)])
    with pytest.raises(TypeError, match="plain"):
        run(lambda v: v.at[[bp.const_var(1.0)]].set(0.0))
    with pytest.raises(TypeError, match="plain"):
        run(lambda v: np.take(v, bp.const_var(np.array([0.0]))))


@pytest.mark.parametrize(
    "key",
    [(5, 0), (0, -6), [0, 9], (slice(None), [5]), np.zeros(4, dtype=bool), (Ellipsis, Ellipsis)],
)
def test_bad_index_raises_index_error(key: Any) -> None:
    with pytest.raises(IndexError):
        bp.backprop_with(lambda v: v[key], np.zeros((3, 4)))


def test_out_of_range_single_integer() -> None:
    with pytest.raises(IndexError):
        bp.backprop_with(lambda v: v[10], np.zeros((3, 4)))
    with pytest.raises(IndexError):
        bp.backprop_with(lambda v: v.at[3].set(1.0), np.zeros(3))


def test_float_index_raises() -> None:
    with pytest.raises(IndexError):
        bp.backprop_with(lambda v: v[1.5], np.zeros(3))
    with pytest.raises(IndexError):
        bp.backprop_with(lambda v: v[np.array([0.0, 1.0])], np.zeros(3))


def test_index_arrays_are_copied_when_recorded() -> None:
    idx = np.array([0, 0, 2])
    _, pull = bp.backprop_with(lambda v: v[idx], np.arange(3.0))
    idx[:] = 1
    np.testing.assert_array_equal(pull(np.ones(3)), [2.0, 0.0, 1.0])


# ---- v.at[key].set(x) / .add(x) ------------------------------------------------------------

UPDATES: list[tuple[tuple[int, ...], Any, tuple[int, ...]]] = [
    ((5,), 2, ()),
    ((5,), slice(1, 4), (3,)),
    ((5,), slice(None, None, -2), (1,)),
    ((5,), [0, 3], (2,)),
    ((5,), np.array([True, False, False, True, True]), ()),
    ((3, 4), (1, slice(None)), (4,)),
    ((3, 4), (slice(None), [0, 2]), (3, 1)),
    ((3, 4), ([0, 2], [1, 3]), (2,)),
    ((3, 4), np.arange(12).reshape(3, 4) % 3 == 0, ()),
    ((2, 3, 4), ([1, 0], slice(None), [3, 3]), (2, 3)),
    ((2, 3, 4), (Ellipsis, 1), (1, 1, 3)),  # leading axes of length 1 beyond the target's rank
]


def _np_set(v: np.ndarray, key: Any, x: Any) -> np.ndarray:
    out = v.copy()
    out[key] = x
    return out


def _np_add(v: np.ndarray, key: Any, x: Any) -> np.ndarray:
    out = v.copy()
    np.add.at(out, key, np.asarray(x).reshape(np.shape(x)[max(np.ndim(x) - out[key].ndim, 0) :]))
    return out


@pytest.mark.parametrize("shape,key,xshape", UPDATES, ids=[_ids((s, k)) for s, k, _ in UPDATES])
@pytest.mark.parametrize("add", [False, True])
def test_at_update(shape: tuple[int, ...], key: Any, xshape: tuple[int, ...], add: bool) -> None:
    v0 = _x(shape)
    x0: Any = _x(xshape) if xshape else float(RNG.normal())
    ref = _np_add if add else _np_set
    got = bp.eval_bp_n(lambda v, x: index_update(v, key, x, add=add), v0, x0)
    np.testing.assert_allclose(got, ref(v0, key, x0), rtol=0, atol=1e-15)
    update = (lambda v, x: v.at[key].add(x)) if add else (lambda v, x: v.at[key].set(x))
    check_vjp(update, [v0, x0], rng=RNG, plain=lambda v, x: ref(v, key, x))


def test_at_repeated_indices_add_each_occurrence() -> None:
    v0, x0 = np.zeros(4), np.array([1.0, 2.0, 3.0])
    key = [1, 1, 3]
    y, pull = bp.backprop_with_n(lambda v, x: v.at[key].add(x), v0, x0)
    np.testing.assert_array_equal(y, [0.0, 3.0, 0.0, 3.0])
    gv, gx = pull(np.array([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(gv, [10.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(gx, [20.0, 20.0, 40.0])
    check_vjp(
        lambda v, x: v.at[key].add(x),
        [_x((4,)), x0],
        rng=RNG,
        plain=lambda v, x: _np_add(v, key, x),
    )
    check_vjp(
        lambda v, x: v.at[key].add(x),
        [_x((4,)), 0.5],
        rng=RNG,
        plain=lambda v, x: _np_add(v, key, x),
    )


def test_at_repeated_indices_set_last_write_wins() -> None:
    v0, x0 = np.zeros(4), np.array([1.0, 2.0, 3.0, 4.0])
    key = [1, 3, 1, 0]
    y, pull = bp.backprop_with_n(lambda v, x: v.at[key].set(x), v0, x0)
    np.testing.assert_array_equal(y, _np_set(v0, key, x0))  # numpy: the last write wins
    np.testing.assert_array_equal(y, [4.0, 3.0, 0.0, 2.0])
    gv, gx = pull(np.array([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(gv, [0.0, 0.0, 30.0, 0.0])
    np.testing.assert_array_equal(gx, [0.0, 40.0, 20.0, 10.0])  # only the element written last
    check_vjp(
        lambda v, x: v.at[key].set(x),
        [_x((4,)), _x((4,))],
        rng=RNG,
        plain=lambda v, x: _np_set(v, key, x),
    )
    # in C order of the selection, also for several index arrays and a broadcast update
    key2 = (np.array([[0, 1], [0, 1]]), np.array([[2, 2], [2, 0]]))
    check_vjp(
        lambda v, x: v.at[key2].set(x),
        [_x((2, 3)), _x((2,))],
        rng=RNG,
        plain=lambda v, x: _np_set(v, key2, x),
    )


def test_at_on_constant_and_plain_update() -> None:
    c = np.arange(5.0)
    g = bp.grad_bp(lambda x: bp.const_var(c).at[1:3].set(x).sum(), 2.0)
    assert g == 2.0
    g = bp.grad_bp(lambda v: v.at[[0, 0]].add(np.array([1.0, 2.0])).sum(), c)
    np.testing.assert_array_equal(g, np.ones(5))
    y = bp.eval_bp(lambda v: v.at[1].set(7), c)
    np.testing.assert_array_equal(y, [0.0, 7.0, 2.0, 3.0, 4.0])


def test_at_bad_update_shape() -> None:
    with pytest.raises(ValueError, match="broadcast"):
        bp.backprop_with(lambda v: v.at[0:2].set(np.ones(3)), np.zeros(4))


# ---- where, clip ---------------------------------------------------------------------------


def test_where() -> None:
    x, y = _x((3, 4)), _x((4,))
    cond = x > 0
    got = bp.eval_bp_n(lambda a, b: np.where(cond, a, b), x, y)
    np.testing.assert_array_equal(got, np.where(cond, x, y))
    check_vjp(
        lambda a, b: np.where(cond, a, b), [x, y], rng=RNG, plain=lambda a, b: np.where(cond, a, b)
    )
    check_vjp(
        lambda a: np.where(cond, a, 0.0), [x], rng=RNG, plain=lambda a: np.where(cond, a, 0.0)
    )
    check_vjp(
        lambda s: np.where(cond, 1.0, s), [0.3], rng=RNG, plain=lambda s: np.where(cond, 1.0, s)
    )
    c1 = np.array([True, False, True, False])
    check_vjp(
        lambda a, b: np.where(c1[:, None, None], a, b),
        [_x((3, 1)), _x((1, 1, 2))],
        rng=RNG,
        plain=lambda a, b: np.where(c1[:, None, None], a, b),
    )
    # a BVar condition is read by its value
    check_vjp(
        lambda a: np.where(a, a, 2.0 * a), [x], rng=RNG, plain=lambda a: np.where(a, a, 2.0 * a)
    )


def test_where_one_argument_is_plain() -> None:
    x = np.array([[0.0, 1.5], [-2.0, 0.0]])
    out = _on_bvar(lambda v: np.where(v), x)
    assert isinstance(out, tuple)
    for a, b in zip(out, np.where(x)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="both or neither"):
        bp.eval_bp(lambda v: np.where(v.value > 0, v), x)


CLIPS: list[tuple[str, Callable[..., Any], list[Any]]] = [
    ("scalars", lambda a: np.clip(a, -0.5, 0.5), [_x((3, 4))]),
    ("method", lambda a: a.clip(-0.5, 0.5), [_x((6,))]),
    ("method kw", lambda a: a.clip(min=0.0), [_x((6,))]),
    ("kw min", lambda a: np.clip(a, min=-0.2), [_x((2, 3))]),
    ("kw max", lambda a: np.clip(a, max=0.1), [_x((2, 3))]),
    ("upper None", lambda a: np.clip(a, 0.0, None), [_x((5,))]),
    (
        "array bounds",
        lambda a, lo, hi: np.clip(a, lo, hi),
        [_x((3, 4)), _x((4,)) - 0.5, _x((3, 1)) + 0.5],
    ),
    ("bound broadcasts a", lambda a, lo: np.clip(a, lo, 1.0), [_x((3,)), _x((2, 3))]),
    ("float bounds", lambda a, lo, hi: np.clip(a, lo, hi), [_x((4,)), -0.3, 0.4]),
    ("crossed bounds", lambda a, lo, hi: np.clip(a, lo, hi), [_x((4,)), 0.5, -0.5]),
    ("0-d", lambda a: np.clip(a, -0.5, 0.5), [1.2]),
]


@pytest.mark.parametrize("name,f,xs", CLIPS, ids=[c[0] for c in CLIPS])
def test_clip(name: str, f: Callable[..., Any], xs: list[Any]) -> None:
    got = bp.eval_bp_n(f, *xs)
    np.testing.assert_array_equal(got, f(*xs))
    check_vjp(f, xs, rng=RNG, plain=f)


def test_clip_boundaries_are_inside() -> None:
    g = bp.grad_bp(lambda a: np.clip(a, -1.0, 1.0).sum(), np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    glo, ghi = bp.grad_bp_n(
        lambda a, b: np.clip(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), a, b).sum(), -1.0, 1.0
    )
    assert (glo, ghi) == (1.0, 1.0)


def test_clip_errors() -> None:
    x = np.zeros(3)
    with pytest.raises(TypeError, match="out="):
        bp.eval_bp(lambda v: np.clip(v, 0, 1, out=np.zeros(3)), x)
    with pytest.raises(ValueError, match="forbidden"):
        bp.eval_bp(lambda v: np.clip(v, 0, 1, min=0), x)
    with pytest.raises(TypeError):
        bp.eval_bp(lambda v: np.clip(v, 0, 1, where=np.ones(3, bool)), x)


# ---- take, take_along_axis, choose, select, compress, extract -------------------------------

TAKES: list[tuple[str, Callable[..., Any], list[Any]]] = [
    ("flat", lambda a: np.take(a, [0, 5, 5, -1]), [_x((2, 3))]),
    ("flat scalar", lambda a: np.take(a, 4), [_x((2, 3))]),
    ("axis 1", lambda a: np.take(a, [[2, 0], [2, 2]], axis=1), [_x((3, 4, 2))]),
    ("axis -1", lambda a: np.take(a, np.array([1, 1]), axis=-1), [_x((3, 4, 2))]),
    ("axis scalar", lambda a: np.take(a, 1, axis=0), [_x((3, 4))]),
    ("wrap", lambda a: np.take(a, [7, -9, 2], axis=0, mode="wrap"), [_x((4, 2))]),
    ("clip", lambda a: np.take(a, [7, -9, 2], mode="clip"), [_x((4,))]),
    ("method", lambda a: a.take([1, 1, 0], axis=1), [_x((2, 3))]),
    ("empty", lambda a: np.take(a, [], axis=0), [_x((2, 3))]),
    ("float operand", lambda s: np.take(s, [0, 0, -1]), [0.4]),
    (
        "along -1",
        lambda a: np.take_along_axis(a, np.array([[0, 0, 2], [1, 2, 1]]), axis=-1),
        [_x((2, 3))],
    ),
    (
        "along 0",
        lambda a: np.take_along_axis(a, np.array([[[1], [0], [1]]]), axis=0),
        [_x((2, 3, 4))],
    ),
    ("along bcast", lambda a: np.take_along_axis(a, np.array([[2], [0]]), axis=1), [_x((2, 3))]),
    ("along None", lambda a: np.take_along_axis(a, np.array([5, 0, 5]), axis=None), [_x((2, 3))]),
    ("compress", lambda a: np.compress([True, False, True], a, axis=1), [_x((2, 3))]),
    ("compress flat", lambda a: np.compress([0, 1, 1, 0, 1], a), [_x((2, 3))]),
    ("compress short", lambda a: np.compress([False, True], a, axis=0), [_x((3, 2))]),
    ("extract", lambda a: np.extract(np.arange(6).reshape(2, 3) % 2 == 0, a), [_x((2, 3))]),
    (
        "choose",
        lambda a, b: np.choose(np.array([[0, 1, 1], [1, 0, 0]]), [a, b]),
        [_x((2, 3)), _x((3,))],
    ),
    (
        "choose wrap",
        lambda a, b: np.choose(np.array([2, -1, 0]), [a, b], mode="wrap"),
        [_x((3,)), 0.7],
    ),
    (
        "select",
        lambda a, b, d: np.select(
            [np.array([True, False, True]), np.array([True, True, False])], [a, b], d
        ),
        [_x((3,)), _x((2, 3)), 0.25],
    ),
    ("select default 0", lambda a: np.select([np.array([True, False])], [a]), [_x((2,))]),
]


@pytest.mark.parametrize("name,f,xs", TAKES, ids=[c[0] for c in TAKES])
def test_take_family(name: str, f: Callable[..., Any], xs: list[Any]) -> None:
    got = bp.eval_bp_n(f, *xs)
    expected = f(*xs)
    np.testing.assert_array_equal(np.asarray(got), expected)
    assert np.shape(got) == np.shape(expected)
    check_vjp(f, xs, rng=RNG, plain=f)


def test_take_along_axis_with_argsort_sorts() -> None:
    x = _x((3, 5))
    y, pull = bp.backprop_with(lambda v: np.take_along_axis(v, np.argsort(v, axis=1), axis=1), x)
    np.testing.assert_array_equal(y, np.sort(x, axis=1))
    np.testing.assert_array_equal(pull(np.ones((3, 5))), np.ones((3, 5)))


def test_take_errors() -> None:
    x = np.zeros((2, 3))
    with pytest.raises(IndexError):
        bp.eval_bp(lambda v: np.take(v, [6]), x)
    with pytest.raises(np.exceptions.AxisError):
        bp.eval_bp(lambda v: np.take(v, [0], axis=2), x)
    with pytest.raises(TypeError, match="out="):
        bp.eval_bp(lambda v: np.take(v, [0], out=np.zeros(1)), x)
    with pytest.raises(ValueError):
        bp.eval_bp(lambda v: np.take_along_axis(v, np.array([0]), axis=1), x)
    with pytest.raises(ValueError):
        bp.eval_bp(lambda v: np.choose(np.array([0, 2, 1]), [v[0], v[1]]), x)
    with pytest.raises(IndexError):
        bp.eval_bp(lambda v: np.compress([0, 0, 1], v, axis=0), x)


# ---- copy, *_like, plain results -----------------------------------------------------------


def test_copy() -> None:
    x = _x((2, 3))
    for f in (lambda a: np.copy(a), lambda a: a.copy(), lambda a: np.copy(a[:, ::-1]) * 2.0):
        np.testing.assert_array_equal(bp.eval_bp(f, x), f(x))
        check_vjp(f, [x], rng=RNG, plain=f)
    check_vjp(lambda a: np.copy(a), [0.5], rng=RNG, plain=lambda a: np.copy(a))


@pytest.mark.parametrize("fn", [np.zeros_like, np.ones_like, np.empty_like])
def test_like_constructors_are_plain(fn: Callable[..., Any]) -> None:
    x = _x((2, 3))
    got = _on_bvar(lambda v: fn(v, shape=(4,)), x)
    assert got.shape == (4,) and got.dtype == np.float64
    got = _on_bvar(lambda v: fn(v, dtype=int), x)
    assert got.dtype.kind == "i"
    if fn is not np.empty_like:
        np.testing.assert_array_equal(_on_bvar(fn, x), fn(x))


def test_full_like() -> None:
    x = _x((2, 3))
    got = _on_bvar(lambda v: np.full_like(v, 3.5), x)
    np.testing.assert_array_equal(got, np.full((2, 3), 3.5))
    # a BVar fill value carries its gradient
    gv, gs = bp.grad_bp_n(lambda v, s: (np.full_like(v, s) * v).sum(), x, 1.0)
    np.testing.assert_array_equal(gv, np.ones((2, 3)))
    assert gs == pytest.approx(x.sum())
    check_vjp(
        lambda v, s: np.full_like(v, s) * v,
        [x, 0.3],
        rng=RNG,
        plain=lambda v, s: np.full_like(v, s) * v,
    )
    # numpy dispatches full_like on its prototype only; with a plain one it writes the BVar
    # with np.copyto, which refuses (no silent constant)
    with pytest.raises(TypeError, match="copyto"):
        bp.grad_bp(lambda s: np.full_like(x, s).sum(), 1.0)


def assert_plain(value: Any) -> bool:
    assert not isinstance(value, bp.BVar), f"expected a plain result, got {value!r}"
    return True


def _on_bvar(f: Callable[[Any], Any], x: np.ndarray) -> Any:
    """`f` applied to a BVar inside a run; its plain result."""
    box: list[Any] = []

    def run(v: Any) -> Any:
        box.append(f(v))
        return v

    bp.eval_bp(run, x)
    assert_plain(box[0])
    return box[0]


PLAINS: list[tuple[str, Callable[..., Any]]] = [
    ("nonzero", lambda a: np.nonzero(a > 0)),
    ("argmax", lambda a: np.argmax(a)),
    ("argmax axis", lambda a: np.argmax(a, axis=1, keepdims=True)),
    ("argmin", lambda a: np.argmin(a, axis=0)),
    ("argsort", lambda a: np.argsort(a, axis=-1)),
    ("argwhere", lambda a: np.argwhere(a)),
    ("flatnonzero", lambda a: np.flatnonzero(a)),
    (
        "searchsorted",
        lambda a: np.searchsorted(a[0], np.array([-0.5, 0.0, 0.5]), sorter=np.argsort(a[0])),
    ),
    ("searchsorted v", lambda a: np.searchsorted(np.array([-1.0, 0.0, 1.0]), a)),
    ("count_nonzero", lambda a: np.count_nonzero(a > 0, axis=1)),
    ("shape", lambda a: np.shape(a)),
    ("ndim", lambda a: np.ndim(a)),
    ("size", lambda a: np.size(a)),
    ("size axis", lambda a: np.size(a, 1)),
    ("isclose", lambda a: np.isclose(a, a * (1 + 1e-12))),
    ("allclose", lambda a: np.allclose(a, a + 1e-3)),
    ("array_equal", lambda a: np.array_equal(a, a)),
    ("m.argmax", lambda a: a.argmax(axis=0)),
    ("m.argmin", lambda a: a.argmin()),
    ("m.argsort", lambda a: a.argsort(axis=0)),
    ("m.nonzero", lambda a: a.nonzero()),
]


@pytest.mark.parametrize("name,f", PLAINS, ids=[c[0] for c in PLAINS])
def test_plain_results(name: str, f: Callable[..., Any]) -> None:
    x = _x((3, 4))
    x[1, 2] = 0.0
    got = _on_bvar(f, x)
    expected = f(x)
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for a, b in zip(got, expected):
            assert_plain(a)
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(got, expected)
        assert type(got) is type(expected)


def test_namespace_names() -> None:
    from bprop.numpy import _indexing

    for name in _indexing.__all__:
        impl = getattr(_indexing, name)
        assert callable(impl) and impl.__doc__, name
