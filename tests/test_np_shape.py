"""Shape functions on BVars (bprop.numpy._shape): values equal numpy's, gradients match central
differences for random cotangents, over 0-d..4-d inputs, negative axes and non-contiguous
inputs; joins of BVars mixed with plain arrays; splits; the refused arguments and bad axes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.numpy._shape
import numpy as np
import pytest
from bprop._core import Tape
from fd import check_vjp
from hypothesis import given, settings
from hypothesis import strategies as st

RNG = np.random.default_rng(20261208)


def _check(f: Callable[..., Any], *xs: Any, grad: bool = True) -> None:
    """`f` on BVars gives numpy's value (same shape, exactly), and its vjp matches central
    differences."""
    expected = f(*xs)
    y, _ = bp.backprop_with_n(f, *xs)
    assert np.shape(y) == np.shape(expected)
    np.testing.assert_array_equal(y, expected)
    if grad:
        check_vjp(f, list(xs), rng=RNG, plain=f)


def _x(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


# (id, function, input shapes): each runs on BVars and on plain arrays.
CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    # reshapes
    ("reshape", lambda v: np.reshape(v, (4, 3)), [(3, 4)]),
    ("reshape-1", lambda v: np.reshape(v, (2, -1, 2)), [(3, 4)]),
    ("reshape-int", lambda v: np.reshape(v, 12), [(3, 4)]),
    ("reshape-0d", lambda v: np.reshape(v, (1, 1)), [()]),
    ("reshape-to-0d", lambda v: np.reshape(v, ()), [(1,)]),
    ("reshape-4d", lambda v: np.reshape(v, (6, 4)), [(2, 3, 2, 2)]),
    ("reshape-T", lambda v: np.reshape(v.T, (2, 6)), [(3, 4)]),
    ("reshape-strided", lambda v: np.reshape(v[::2], -1), [(4, 3)]),
    ("m-reshape-args", lambda v: v.reshape(2, 6), [(3, 4)]),
    ("m-reshape-tuple", lambda v: v.reshape((6, -1)), [(3, 4)]),
    ("ravel", lambda v: np.ravel(v), [(2, 3, 4)]),
    ("ravel-0d", lambda v: np.ravel(v), [()]),
    ("ravel-T", lambda v: np.ravel(v.T), [(3, 4)]),
    ("m-ravel", lambda v: v.ravel(), [(3, 4)]),
    ("m-flatten", lambda v: v[:, ::-1].flatten(), [(3, 4)]),
    ("expand_dims", lambda v: np.expand_dims(v, 1), [(3, 4)]),
    ("expand_dims-neg", lambda v: np.expand_dims(v, -1), [(3,)]),
    ("expand_dims-tuple", lambda v: np.expand_dims(v, (0, 3)), [(3, 4)]),
    ("expand_dims-0d", lambda v: np.expand_dims(v, 0), [()]),
    ("squeeze", lambda v: np.squeeze(v), [(1, 3, 1, 2)]),
    ("squeeze-axis", lambda v: np.squeeze(v, axis=-2), [(1, 3, 1, 2)]),
    ("squeeze-tuple", lambda v: np.squeeze(v, axis=(0, 2)), [(1, 3, 1, 2)]),
    ("m-squeeze", lambda v: v.squeeze(0), [(1, 3)]),
    ("atleast_1d", lambda v: np.atleast_1d(v), [()]),
    ("atleast_2d", lambda v: np.atleast_2d(v), [(3,)]),
    ("atleast_3d-1d", lambda v: np.atleast_3d(v), [(3,)]),
    ("atleast_3d-2d", lambda v: np.atleast_3d(v), [(2, 3)]),
    ("atleast_3d-4d", lambda v: np.atleast_3d(v), [(1, 2, 1, 2)]),
    (
        "atleast_2d-many",
        lambda v, w: np.concatenate([np.ravel(a) for a in np.atleast_2d(v, w)]),
        [(), (2,)],
    ),
    # permutations of axes
    ("transpose", lambda v: np.transpose(v), [(2, 3, 4)]),
    ("transpose-axes", lambda v: np.transpose(v, (1, 2, 0)), [(2, 3, 4)]),
    ("transpose-neg", lambda v: np.transpose(v, (-1, 0, 1)), [(2, 3, 4)]),
    ("transpose-4d", lambda v: np.transpose(v, (2, 0, 3, 1)), [(2, 3, 1, 2)]),
    ("transpose-1d", lambda v: np.transpose(v), [(3,)]),
    ("transpose-0d", lambda v: np.transpose(v), [()]),
    ("transpose-strided", lambda v: np.transpose(v[::2], (1, 0, 2)), [(4, 2, 3)]),
    ("m-transpose", lambda v: v.transpose(), [(3, 4)]),
    ("m-transpose-args", lambda v: v.transpose(2, 0, 1), [(2, 3, 4)]),
    ("m-transpose-tuple", lambda v: v.transpose((0, 2, 1)), [(2, 3, 4)]),
    (".T", lambda v: v.T, [(2, 3)]),
    ("swapaxes", lambda v: np.swapaxes(v, 0, 2), [(2, 3, 4)]),
    ("swapaxes-neg", lambda v: np.swapaxes(v, -1, 1), [(2, 3, 4, 1)]),
    ("m-swapaxes", lambda v: v.swapaxes(0, 1), [(2, 3)]),
    ("moveaxis", lambda v: np.moveaxis(v, 0, -1), [(2, 3, 4)]),
    ("moveaxis-tuple", lambda v: np.moveaxis(v, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("moveaxis-4d", lambda v: np.moveaxis(v, -1, 1), [(2, 3, 4, 2)]),
    # broadcast_to
    ("broadcast_to", lambda v: np.broadcast_to(v, (4, 3)), [(3,)]),
    ("broadcast_to-1", lambda v: np.broadcast_to(v, (2, 3, 4)), [(3, 1)]),
    ("broadcast_to-0d", lambda v: np.broadcast_to(v, (2, 2)), [()]),
    ("broadcast_to-same", lambda v: np.broadcast_to(v, (2, 2)), [(2, 2)]),
    # joins
    ("concatenate", lambda a, b: np.concatenate([a, b]), [(2, 3), (1, 3)]),
    (
        "concatenate-axis",
        lambda a, b, c: np.concatenate((a, b, c), axis=-1),
        [(2, 3), (2, 1), (2, 2)],
    ),
    ("concatenate-None", lambda a, b: np.concatenate([a, b], axis=None), [(2, 3), (4,)]),
    ("concatenate-3d", lambda a, b: np.concatenate([a, b], axis=1), [(2, 1, 3), (2, 2, 3)]),
    ("concatenate-one", lambda a: np.concatenate([a]), [(3,)]),
    ("concatenate-strided", lambda a, b: np.concatenate([a[::2], b.T]), [(4, 3), (3, 2)]),
    ("concatenate-self", lambda a: np.concatenate([a, a * 2.0, a], axis=1), [(2, 2)]),
    ("stack", lambda a, b: np.stack([a, b]), [(3,), (3,)]),
    ("stack-axis", lambda a, b: np.stack([a, b], axis=-1), [(2, 3), (2, 3)]),
    ("stack-mid", lambda a, b, c: np.stack((a, b, c), axis=1), [(2, 3), (2, 3), (2, 3)]),
    ("stack-0d", lambda a, b: np.stack([a, b]), [(), ()]),
    ("vstack", lambda a, b: np.vstack([a, b]), [(3,), (2, 3)]),
    ("vstack-0d", lambda a, b: np.vstack([a, b]), [(), ()]),
    ("hstack", lambda a, b: np.hstack([a, b]), [(3,), (2,)]),
    ("hstack-2d", lambda a, b: np.hstack([a, b]), [(2, 3), (2, 1)]),
    ("hstack-0d", lambda a, b: np.hstack([a, b]), [(), (2,)]),
    ("column_stack", lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    ("column_stack-1d", lambda a, b: np.column_stack((a, b)), [(3,), (3,)]),
    ("dstack", lambda a, b: np.dstack([a, b]), [(2, 3), (2, 3)]),
    ("dstack-1d", lambda a, b: np.dstack([a, b]), [(3,), (3,)]),
    # splits (numpy returns lists; joined again in another order)
    ("split", lambda v: np.concatenate(np.split(v, 3)[::-1]), [(6, 2)]),
    ("split-axis", lambda v: np.concatenate(np.split(v, [1, 3], axis=-1)[::-1], axis=-1), [(2, 5)]),
    ("split-one-used", lambda v: np.split(v, 2, axis=1)[1] * 3.0, [(2, 4)]),
    ("array_split", lambda v: np.concatenate(np.array_split(v, 3)[::-1]), [(7,)]),
    (
        "array_split-empty",
        lambda v: np.concatenate(np.array_split(v, 5, axis=1)[::-1], axis=1),
        [(2, 3)],
    ),
    # repeat and tile
    ("repeat", lambda v: np.repeat(v, 2), [(2, 3)]),
    ("repeat-axis", lambda v: np.repeat(v, 3, axis=1), [(2, 3)]),
    ("repeat-neg", lambda v: np.repeat(v, 2, axis=-1), [(2, 2, 2)]),
    ("repeat-array", lambda v: np.repeat(v, [2, 0, 1], axis=0), [(3, 2)]),
    ("repeat-array-None", lambda v: np.repeat(v, [1, 3, 0, 2]), [(2, 2)]),
    ("repeat-0d", lambda v: np.repeat(v, 3), [()]),
    ("m-repeat", lambda v: v.repeat(2, axis=0), [(2, 3)]),
    ("tile", lambda v: np.tile(v, 2), [(3,)]),
    ("tile-2d", lambda v: np.tile(v, (2, 3)), [(2, 2)]),
    ("tile-promote", lambda v: np.tile(v, (2, 1, 2)), [(2, 3)]),
    ("tile-short", lambda v: np.tile(v, 2), [(2, 3)]),
    ("tile-0d", lambda v: np.tile(v, (2, 2)), [()]),
    # flips, rolls, rotations
    ("flip", lambda v: np.flip(v), [(2, 3, 4)]),
    ("flip-axis", lambda v: np.flip(v, -1), [(2, 3, 4)]),
    ("flip-tuple", lambda v: np.flip(v, (0, 2)), [(2, 3, 4)]),
    ("fliplr", lambda v: np.fliplr(v), [(2, 3)]),
    ("flipud", lambda v: np.flipud(v), [(3,)]),
    ("roll", lambda v: np.roll(v, 2), [(2, 3)]),
    ("roll-axis", lambda v: np.roll(v, -1, axis=1), [(2, 3)]),
    ("roll-tuple", lambda v: np.roll(v, (1, 2), axis=(0, -1)), [(2, 3, 4)]),
    ("roll-big", lambda v: np.roll(v, 7, axis=0), [(3, 2)]),
    ("rot90", lambda v: np.rot90(v), [(2, 3)]),
    ("rot90-k", lambda v: np.rot90(v, 3), [(2, 3)]),
    ("rot90-axes", lambda v: np.rot90(v, 2, axes=(1, 2)), [(2, 3, 4)]),
    ("rot90-neg", lambda v: np.rot90(v, -1, axes=(-1, 0)), [(2, 3, 4)]),
    # triangles and diagonals
    ("tril", lambda v: np.tril(v), [(3, 3)]),
    ("tril-k", lambda v: np.tril(v, -1), [(3, 4)]),
    ("tril-3d", lambda v: np.tril(v, 1), [(2, 3, 3)]),
    ("tril-1d", lambda v: np.tril(v), [(3,)]),
    ("triu", lambda v: np.triu(v), [(4, 3)]),
    ("triu-k", lambda v: np.triu(v, 2), [(3, 4)]),
    ("triu-T", lambda v: np.triu(v.T), [(3, 3)]),
    ("diag-1d", lambda v: np.diag(v), [(3,)]),
    ("diag-1d-k", lambda v: np.diag(v, -2), [(3,)]),
    ("diag-2d", lambda v: np.diag(v), [(3, 3)]),
    ("diag-2d-k", lambda v: np.diag(v, 1), [(3, 4)]),
    ("diag-2d-negk", lambda v: np.diag(v, -2), [(4, 3)]),
    ("diagonal", lambda v: np.diagonal(v), [(3, 4)]),
    ("diagonal-3d", lambda v: np.diagonal(v, 1, 0, 2), [(3, 2, 4)]),
    ("diagonal-swapped", lambda v: np.diagonal(v, -1, 2, 0), [(3, 2, 4)]),
    ("diagonal-4d", lambda v: np.diagonal(v, axis1=-1, axis2=1), [(2, 3, 2, 3)]),
    ("m-diagonal", lambda v: v.diagonal(), [(3, 3)]),
    ("trace", lambda v: np.trace(v), [(3, 3)]),
    ("trace-offset", lambda v: np.trace(v, -1), [(3, 4)]),
    ("trace-3d", lambda v: np.trace(v, 0, 1, 2), [(2, 3, 3)]),
    ("trace-4d", lambda v: np.trace(v, 1, -1, 0), [(3, 2, 2, 4)]),
    ("m-trace", lambda v: v.trace(), [(3, 3)]),
    # pad
    ("pad", lambda v: np.pad(v, 1), [(2, 3)]),
    ("pad-pairs", lambda v: np.pad(v, ((1, 0), (0, 2))), [(2, 3)]),
    ("pad-value", lambda v: np.pad(v, (2, 1), constant_values=3.5), [(3,)]),
    (
        "pad-values",
        lambda v: np.pad(v, 1, mode="constant", constant_values=((1, 2), (3, 4))),
        [(2, 2)],
    ),
    ("pad-3d", lambda v: np.pad(v, [(0, 1), (2, 0), (1, 1)]), [(2, 1, 2)]),
]


@pytest.mark.parametrize("name, f, shapes", CASES, ids=[c[0] for c in CASES])
def test_value_and_vjp(name: str, f: Callable[..., Any], shapes: list[tuple[int, ...]]) -> None:
    _check(f, *[_x(*s) for s in shapes])


def test_joins_mix_bvars_and_plain_arrays() -> None:
    c = _x(2, 3)
    _check(lambda a: np.concatenate([c, a, c]), _x(1, 3))
    _check(lambda a: np.stack([a, c[0], [1.0, 2.0, 3.0]], axis=1), _x(3))
    _check(lambda a: np.vstack([a, c]), _x(3))
    _check(lambda a: np.hstack((c, a)), _x(2, 2))
    _check(lambda a: np.column_stack([c[0], a]), _x(3))
    _check(lambda a, b: np.concatenate([a, c, b], axis=1), _x(2, 1), _x(2, 2))
    g = bp.grad_bp(
        lambda a: np.sum(np.concatenate([c, a]) * np.arange(9.0).reshape(3, 3)), np.zeros((1, 3))
    )
    np.testing.assert_array_equal(g, [[6.0, 7.0, 8.0]])


def test_join_of_constant_bvar() -> None:
    kx, x = _x(2), _x(2)
    k = bp.const_var(kx)
    y, pull = bp.backprop_with(lambda a: np.stack([k, a]), x)
    np.testing.assert_array_equal(y, np.stack([kx, x]))
    np.testing.assert_array_equal(pull(np.arange(4.0).reshape(2, 2)), [2.0, 3.0])


def test_split_returns_a_list_sharing_one_node() -> None:
    x = _x(6, 2)
    tape = Tape()
    v = tape.input(x)
    before = len(tape)
    parts = np.split(v, 3)
    assert isinstance(parts, list) and len(parts) == 3
    for p, e in zip(parts, np.split(x, 3)):
        np.testing.assert_array_equal(p.value, e)
    assert len(tape) - before <= 4  # one node for the split, one small read per piece
    tape.close()
    g = bp.grad_bp(lambda v: np.sum(np.split(v, 3)[1] * 2.0), x)
    np.testing.assert_array_equal(g, np.r_[np.zeros((2, 2)), 2 * np.ones((2, 2)), np.zeros((2, 2))])


def test_concatenate_rows_of_one_array() -> None:
    # numpy iterates an array argument: concatenate(v) joins v's rows
    _check(lambda v: np.concatenate(v), _x(3, 2, 2))
    _check(lambda v: np.stack(v, axis=1), _x(3, 2))


def test_full_reversal_is_native() -> None:
    tape = Tape()
    v = tape.input(_x(2, 3, 4))
    before = len(tape)
    np.transpose(v)
    np.reshape(v, (6, 4))
    v.ravel()
    np.expand_dims(v, 0)
    assert len(tape) - before == 4
    tape.close()


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple), data=st.data())
def test_random_permutations(shape: tuple[int, ...], data: st.DataObject) -> None:
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    src = data.draw(st.integers(-nd, nd - 1))
    dst = data.draw(st.integers(-nd, nd - 1))
    flip_axes = tuple(data.draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd)))
    shift = data.draw(st.integers(-5, 5))
    x = _x(*shape)
    _check(lambda v: np.transpose(v, perm), x)
    _check(lambda v: np.moveaxis(v, src, dst), x)
    _check(lambda v: np.flip(v, flip_axes), x)
    _check(lambda v: np.roll(v, shift, axis=src), x)
    _check(lambda v: np.concatenate([v, v[..., :1]], axis=-1), x)


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda v: np.reshape(v, (4, 2)), ValueError),
        (lambda v: np.reshape(v, (2.0, 3)), TypeError),
        (lambda v: np.transpose(v, (0, 0)), ValueError),
        (lambda v: np.transpose(v, (0, 1, 2)), ValueError),
        (lambda v: np.transpose(v, (0, 2)), np.exceptions.AxisError),
        (lambda v: np.swapaxes(v, 0, 2), np.exceptions.AxisError),
        (lambda v: np.moveaxis(v, 0, 5), np.exceptions.AxisError),
        (lambda v: np.moveaxis(v, (0, 1), 0), ValueError),
        (lambda v: np.expand_dims(v, 4), np.exceptions.AxisError),
        (lambda v: np.squeeze(v, 0), ValueError),
        (lambda v: np.broadcast_to(v, (3, 3)), ValueError),
        (lambda v: np.concatenate([v, v[:, :1].T]), ValueError),
        (lambda v: np.concatenate([v, v], axis=2), np.exceptions.AxisError),
        (lambda v: np.stack([v, v[:1]]), ValueError),
        (lambda v: np.stack([v, v], axis=3), np.exceptions.AxisError),
        (lambda v: np.split(v, 4, axis=1), ValueError),
        (lambda v: np.repeat(v, 2, axis=2), np.exceptions.AxisError),
        (lambda v: np.repeat(v, [1, 2, 3], axis=0), ValueError),
        (lambda v: np.flip(v, 2), np.exceptions.AxisError),
        (lambda v: np.fliplr(v[0]), ValueError),
        (lambda v: np.rot90(v, axes=(0, 0)), ValueError),
        (lambda v: np.diag(v[None]), ValueError),
        (lambda v: np.diagonal(v, axis1=0, axis2=0), ValueError),
        (lambda v: np.trace(v, axis1=0, axis2=3), np.exceptions.AxisError),
        (lambda v: np.pad(v, -1), ValueError),
    ],
)
def test_errors(call: Callable[[Any], Any], error: type[Exception]) -> None:
    x = _x(2, 3)
    with pytest.raises(error):
        call(x)  # numpy agrees on plain arrays ...
    with pytest.raises(error):
        bp.grad_bp(lambda v: np.sum(call(v)), x)  # ... and on BVars


@pytest.mark.parametrize(
    "call",
    [
        lambda v: np.reshape(v, (3, 2), order="F"),
        lambda v: v.reshape(3, 2, order="A"),
        lambda v: np.ravel(v, order="F"),
        lambda v: v.flatten("F"),
        lambda v: np.concatenate([v, v], out=np.zeros((4, 3))),
        lambda v: np.concatenate([v, v], dtype=np.float32),
        lambda v: np.stack([v, v], out=np.zeros((2, 2, 3))),
        lambda v: np.vstack([v, v], dtype=np.int64),
        lambda v: np.trace(v, out=np.zeros(())),
        lambda v: np.pad(v, 1, mode="edge"),
        lambda v: np.pad(v, 1, mode="reflect"),
        lambda v: np.pad(v, 1, stat_length=2),
        lambda v: np.pad(v, 1, constant_values=v[0, 0]),
        lambda v: np.repeat(v, v),
    ],
)
def test_refused_arguments(call: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match="numpy\\.|not supported|BVar"):
        bp.grad_bp(lambda v: np.sum(call(v)), _x(2, 3))


def test_plain_arguments_are_numpy() -> None:
    from bprop.numpy import _shape as S

    x = np.arange(6).reshape(2, 3)
    assert S.reshape(x, (3, 2)).dtype == x.dtype
    np.testing.assert_array_equal(S.concatenate([x, x], axis=1), np.concatenate([x, x], axis=1))
    assert isinstance(S.split(x, 3, axis=1), list)
    np.testing.assert_array_equal(S.pad(x, 1, mode="edge"), np.pad(x, 1, mode="edge"))
