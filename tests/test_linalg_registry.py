"""`bprop.linalg` (hmatrix's names) is a thin layer over the registry's primitives: every
converted function gives the same value and the same gradient, for a random cotangent, as its
numpy spelling on BVars (`L.concat(u, v)` and `np.concatenate([u, v])`, `L.take_diag(m)` and
`np.diagonal(m)`, ...), so the two cannot drift apart. Multi-output functions read their
components with `_core.project`: one small node per component, nested tuples included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.numpy.special as bsp
import numpy as np
import pytest
from bprop._core import Tape
from bprop.linalg._multi import lift_multi

L = bp.linalg
Array = np.ndarray[Any, np.dtype[np.float64]]


def _leaves(y: Any) -> list[Any]:
    return [e for part in y for e in _leaves(part)] if isinstance(y, tuple) else [y]


def _cotangent(rng: np.random.Generator, y: Any) -> Any:
    if isinstance(y, tuple):
        return tuple(_cotangent(rng, p) for p in y)
    return float(rng.normal()) if np.ndim(y) == 0 else rng.normal(size=np.shape(y))


def _same(got: Any, want: Any, what: str, exact: bool) -> None:
    assert type(got) is type(want), f"{what}: {type(got).__qualname__} vs {type(want).__qualname__}"
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, err_msg=what)
    assert np.shape(got) == np.shape(want), what


def check_same(
    hm: Callable[..., Any],
    numpy: Callable[..., Any],
    xs: list[Any],
    seed: int = 0,
    exact: bool = True,
) -> None:
    """`hm` and `numpy` give equal values and equal gradients for one random cotangent."""
    y1, pull1 = bp.backprop_with_n(hm, *xs)
    y2, pull2 = bp.backprop_with_n(numpy, *xs)
    for a, b in zip(_leaves(y1), _leaves(y2), strict=True):
        _same(a, b, "value", exact)
    c = _cotangent(np.random.default_rng(seed), y1)
    for i, (g1, g2) in enumerate(zip(pull1(c), pull2(c), strict=True)):
        _same(g1, g2, f"gradient of argument {i}", exact)


def _tup(*vs: Any) -> Any:
    return tuple(vs)


def rand(seed: int, *shape: int) -> Array:
    return np.random.default_rng(seed).normal(size=shape)


SEEDS = range(3)

# name -> (hmatrix spelling, numpy spelling on BVars, inputs for a seed)
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[[int], list[Any]]]] = {
    "konst": (
        lambda a: L.konst(a, (2, 3)),
        lambda a: np.broadcast_to(a, (2, 3)),
        lambda s: [float(rand(s, 1)[0])],
    ),
    "full": (lambda a: L.full(a, 4), lambda a: np.broadcast_to(a, (4,)), lambda s: [1.5 + s]),
    "vec2": (L.vec2, lambda a, b: np.stack([a, b]), lambda s: [1.0 + s, -2.0]),
    "vec3": (L.vec3, lambda a, b, c: np.stack([a, b, c]), lambda s: [1.0, 2.0 + s, 3.0]),
    "vec4": (L.vec4, lambda a, b, c, d: np.stack([a, b, c, d]), lambda s: [1.0, 2.0, 3.0 + s, 4.0]),
    "concat": (
        L.concat,
        lambda u, v: np.concatenate([u, v]),
        lambda s: [rand(s, 3 + s), rand(s + 9, 2)],
    ),
    "snoc": (L.snoc, lambda v, x: np.hstack([v, x]), lambda s: [rand(s, 4), 0.5 + s]),
    "split": (
        lambda v: _tup(*L.split(v, 2)),
        lambda v: _tup(*np.split(v, [2])),
        lambda s: [rand(s, 2 + 2 * s)],
    ),
    "head_tail": (
        lambda v: _tup(*L.head_tail(v)),
        lambda v: (v[0], v[1:]),
        lambda s: [rand(s, 1 + 2 * s)],
    ),
    "row": (L.row, lambda v: np.reshape(v, (1, -1)), lambda s: [rand(s, 3 + s)]),
    "col": (L.col, lambda v: np.reshape(v, (-1, 1)), lambda s: [rand(s, 3 + s)]),
    "unrow": (L.unrow, lambda m: np.reshape(m, (-1,)), lambda s: [rand(s, 1, 3 + s)]),
    "uncol": (L.uncol, lambda m: np.ravel(m), lambda s: [rand(s, 3 + s, 1)]),
    "hstack": (
        L.hstack,
        lambda a, b: np.hstack([a, b]),
        lambda s: [rand(s, 3, 2), rand(s + 9, 3, 1 + s)],
    ),
    "vstack": (
        L.vstack,
        lambda a, b: np.vstack([a, b]),
        lambda s: [rand(s, 2, 3), rand(s + 9, 1 + s, 3)],
    ),
    "split_rows": (
        lambda m: _tup(*L.split_rows(m, 1)),
        lambda m: _tup(*np.split(m, [1], axis=0)),
        lambda s: [rand(s, 3 + s, 2)],
    ),
    "split_cols": (
        lambda m: _tup(*L.split_cols(m, 2)),
        lambda m: _tup(*np.split(m, [2], axis=1)),
        lambda s: [rand(s, 3, 4 + s)],
    ),
    "diag": (L.diag, np.diag, lambda s: [rand(s, 2 + s)]),
    "take_diag": (L.take_diag, np.diagonal, lambda s: [rand(s, 3, 2 + s)]),
    "mean_rows": (L.mean_rows, lambda m: np.mean(m, axis=0), lambda s: [rand(s, 4, 2 + s)]),
    "logsumexp": (L.logsumexp, bsp.logsumexp, lambda s: [rand(s, 3, 4)]),
    "logsumexp axis": (
        lambda v: L.logsumexp(v, 1),
        lambda v: bsp.logsumexp(v, axis=1),
        lambda s: [rand(s, 3, 4)],
    ),
    "logsumexp axes": (
        lambda v: L.logsumexp(v, (0, 2)),
        lambda v: bsp.logsumexp(v, axis=(0, 2)),
        lambda s: [rand(s, 2, 3, 4)],
    ),
    "softmax": (L.softmax, lambda v: bsp.softmax(v, axis=-1), lambda s: [rand(s, 3, 4)]),
    "softmax axis 0": (
        lambda v: L.softmax(v, 0),
        lambda v: bsp.softmax(v, axis=0),
        lambda s: [rand(s, 3, 4)],
    ),
    "softmax all": (lambda v: L.softmax(v, None), bsp.softmax, lambda s: [rand(s, 3, 4)]),
    "log_softmax": (
        L.log_softmax,
        lambda v: bsp.log_softmax(v, axis=-1),
        lambda s: [rand(s, 3, 4)],
    ),
    "log_softmax axis 0": (
        lambda v: L.log_softmax(v, 0),
        lambda v: bsp.log_softmax(v, axis=0),
        lambda s: [rand(s, 3, 4)],
    ),
    "vmap ufunc": (lambda v: L.vmap(np.tanh, v), np.tanh, lambda s: [rand(s, 2, 3)]),
    "vmap native": (lambda v: L.vmap(bp.sin, v), np.sin, lambda s: [rand(s, 5)]),
    "vmap native op": (lambda v: L.vmap(bp.exp_op, v), np.exp, lambda s: [rand(s, 5)]),
    "zip_with_vector ufunc": (
        lambda u, v: L.zip_with_vector(np.hypot, u, v),
        np.hypot,
        lambda s: [rand(s, 2, 3), rand(s + 9, 2, 3)],
    ),
    "zip_with_vector native op": (
        lambda u, v: L.zip_with_vector(bp.mul_op, u, v),
        np.multiply,
        lambda s: [rand(s, 4), rand(s + 9, 4)],
    ),
    # bprop.linalg._decomp: already calls the numpy.linalg primitives
    "det": (L.det, np.linalg.det, lambda s: [rand(s, 3, 3)]),
    "inv": (L.inv, np.linalg.inv, lambda s: [rand(s, 3, 3) + 3 * np.eye(3)]),
    "logabsdet": (
        L.logabsdet,
        lambda m: np.linalg.slogdet(m)[1],
        lambda s: [rand(s, 3, 3) + 3 * np.eye(3)],
    ),
    "svd": (L.svd, lambda m: np.linalg.svd(m, compute_uv=False), lambda s: [rand(s, 4, 3)]),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_value_and_gradient_as_the_numpy_spelling(name: str, seed: int) -> None:
    hm, numpy, inputs = CASES[name]
    check_same(hm, numpy, inputs(seed), seed=seed)


def test_linspace_matches_numpy_spelling() -> None:
    # no registry primitive: linspace is its own op; it agrees with the numpy spelling
    t = np.linspace(0.0, 1.0, 5)
    check_same(
        lambda a, b: L.linspace(a, b, 5), lambda a, b: a + (b - a) * t, [-1.0, 2.5], exact=False
    )


def test_symmetric_decompositions_match_numpy_on_symmetric_input() -> None:
    a = rand(0, 4, 4)
    s = a @ a.T + 4 * np.eye(4)
    spd = (s + s.T) / 2  # exactly symmetric: hmatrix's symmetrisation changes nothing
    check_same(L.chol, np.linalg.cholesky, [spd])
    # hmatrix mode takes the eigenvalues from the full eigensystem (LAPACK's eigh, not eigvalsh)
    check_same(L.eigenvalues, np.linalg.eigvalsh, [spd], exact=False)


# ---- lift_multi: projections, not per-component ops with whole zero tuples -------------------


def _nodes(f: Callable[[Any], Any], x: Any) -> int:
    tape = Tape()
    try:
        v = tape.input(x)
        before = len(tape)
        f(v)
        return len(tape) - before
    finally:
        tape.close()


@pytest.mark.parametrize(
    "f,shape",
    [
        (lambda v: L.split(v, 2), (4,)),
        (L.head_tail, (4,)),
        (lambda m: L.split_rows(m, 1), (4, 3)),
        (lambda m: L.split_cols(m, 1), (4, 3)),
        (L.mean_cov, (4, 3)),
        (L.eigensystem, (3, 3)),
    ],
    ids=["split", "head_tail", "split_rows", "split_cols", "mean_cov", "eigensystem"],
)
def test_multi_output_is_one_node_plus_one_per_component(
    f: Callable[[Any], Any], shape: tuple[int, ...]
) -> None:
    assert _nodes(f, rand(0, *shape)) == 1 + 2


def _inv_logabsdet_op() -> bp.Op[Array, Any]:
    def forward(m: Array) -> tuple[Any, Callable[[Any], Array]]:
        inv = np.linalg.inv(m)
        sign, logabs = np.linalg.slogdet(m)

        def pullback(d: Any) -> Array:
            d_inv, (d_logabs, d_sign) = d
            assert d_sign == 0.0  # never used: zero
            out: Array = -inv.T @ np.asarray(d_inv) @ inv.T + d_logabs * inv.T
            return out

        return (inv, (float(logabs), float(sign))), pullback

    return bp.op1(forward)


def test_lift_multi_nested_tuples() -> None:
    m = rand(1, 3, 3) + 3 * np.eye(3)
    op = _inv_logabsdet_op()

    def via_lift(w: Any) -> Any:
        y, (logabs, sign) = lift_multi(op, w)
        assert isinstance(sign, bp.BVar) and sign.value in (1.0, -1.0)
        return L.sum_elements(y) + logabs * 2.0

    def via_hm(w: Any) -> Any:
        y, (logabs, _) = L.inv_logabsdet(w)
        return L.sum_elements(y) + logabs * 2.0

    np.testing.assert_allclose(bp.grad_bp(via_lift, m), bp.grad_bp(via_hm, m), rtol=1e-12)
    assert _nodes(lambda w: lift_multi(op, w), m) == 1 + 2 + 2  # the op, its 2 parts, the pair's 2
    # only the nested part used: the rest of the gradient is zero
    g = bp.grad_bp(lambda w: lift_multi(op, w)[1][0], m)
    np.testing.assert_allclose(g, np.linalg.inv(m).T, rtol=1e-12)


def test_lift_multi_of_constants_gives_constants() -> None:
    op = _inv_logabsdet_op()
    y, (logabs, sign) = lift_multi(op, np.eye(2))
    assert all(isinstance(p, bp.BVar) and p.is_constant for p in (y, logabs, sign))
    np.testing.assert_array_equal(y.value, np.eye(2))
