"""Fuzzing the public API with bad input (hypothesis).

Every call either succeeds with the right result or raises a documented exception: one of
bprop.errors, or TypeError / ValueError / IndexError / numpy.linalg.LinAlgError where numpy's own
behaviour is mirrored. Never a `PanicException` (a Rust panic, a BaseException), and the next
ordinary call still gives the right result (checked after every example).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from typing import Any

import bprop as bp
import bprop.linalg as la
import bprop.numpy as bnp
import numpy as np
import pytest
from bprop import explicit, num
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

#: exception types a bad call may raise (IndexError: numpy's indexing errors, mirrored)
DOCUMENTED = (bp.BackpropError, TypeError, ValueError, IndexError, np.linalg.LinAlgError)

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def healthy() -> None:
    """An ordinary run with native and custom ops, scalars and arrays: the state is intact."""
    sq = bp.op1(lambda x: (x * x, lambda d: 2.0 * x * d))
    val, g = bp.backprop(lambda x: sq(x) * bp.sin(x) + x, 1.5)
    assert val == pytest.approx(2.25 * math.sin(1.5) + 1.5, rel=1e-12)
    assert g == pytest.approx(3.0 * math.sin(1.5) + 2.25 * math.cos(1.5) + 1.0, rel=1e-12)
    m = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(
        bp.grad_bp(lambda a: np.sum(a @ a) + la.det(a), m),
        np.ones((2, 2)) @ m.T + m.T @ np.ones((2, 2)) + np.linalg.det(m) * np.linalg.inv(m).T,
        rtol=1e-12,
    )


def attempt(thunk: Callable[[], Any], *names: str) -> tuple[bool, Any]:
    """Run `thunk`; `(True, result)` or `(False, exception)`. An exception must be an `Exception`
    of a documented type, not a Rust panic; if `names` are given its message (or a note added to
    it) must contain one of them (the op or function the caller used). Then check that ordinary runs still work."""
    try:
        with np.errstate(all="ignore"):  # nan/inf inputs: numpy's warnings are expected
            result = thunk()
    except BaseException as e:  # noqa: BLE001 - the point is to see everything
        assert type(e).__name__ != "PanicException", f"Rust panic reached Python: {e}"
        assert isinstance(e, Exception), f"{type(e).__name__} is not an Exception: {e}"
        assert isinstance(e, DOCUMENTED), f"undocumented {type(e).__name__}: {e}"
        if names:
            text = " ".join([str(e), *getattr(e, "__notes__", [])])
            assert any(n in text for n in names), f"{names} not named in: {text}"
        healthy()
        return False, e
    healthy()
    return True, result


# ---- strategies ---------------------------------------------------------------------------------


class Opaque:
    """An object with no arithmetic and no Backprop instance."""


JUNK: list[Any] = [
    None,
    "abc",
    b"xy",
    Opaque(),
    [1, "a", None],
    [1.0, [2.0]],
    {"a": 1.0},
    {1.0, 2.0},
    (1.0, "b"),
    print,
    np.array([1.0, "a"], dtype=object),
    np.array([Opaque()], dtype=object),
    np.array(["a", "b"]),
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    slice(None),
    Ellipsis,
]
junk = st.sampled_from(JUNK)
nonfinite = st.sampled_from([math.nan, math.inf, -math.inf])
reals = st.floats(-3.0, 3.0, allow_nan=False)


def float_arrays(max_dims: int = 2, max_side: int = 3) -> st.SearchStrategy[np.ndarray]:
    return st.lists(st.integers(0, max_side), min_size=0, max_size=max_dims).flatmap(
        lambda shape: st.lists(reals, min_size=math.prod(shape), max_size=math.prod(shape)).map(
            lambda xs: np.array(xs, dtype=float).reshape(shape)
        )
    )


def leaked_scalar() -> bp.BVar[float]:
    kept: list[bp.BVar[float]] = []
    bp.grad_bp(lambda x: (kept.append(x * 2.0), x)[1], 1.0)
    return kept[0]


def leaked_array() -> bp.BVar[Any]:
    kept: list[bp.BVar[Any]] = []
    bp.grad_bp(lambda x: (kept.append(x * 2.0), x.sum())[1], np.ones((2, 2)))
    return kept[0]


# ---- runners ------------------------------------------------------------------------------------

#: (name, function of one BVar, numpy reference of its value)
FUNCTIONS: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
    ("sin", bp.sin, np.sin),
    ("square", lambda x: x * x, lambda x: x * x),
    ("np.sum", np.sum, np.sum),
    ("exp+1", lambda x: np.exp(x) + 1.0, lambda x: np.exp(x) + 1.0),
    ("la.sum_elements", la.sum_elements, np.sum),
]

RUNNERS: list[tuple[str, Callable[[Callable[[Any], Any], Any], Any]]] = [
    ("eval_bp", bp.eval_bp),
    ("backprop", lambda f, x: bp.backprop(f, x)[0]),
    ("grad_bp", lambda f, x: (bp.grad_bp(f, x), bp.eval_bp(f, x))[1]),
    ("backprop_n", lambda f, x: bp.backprop_n(f, x)[0]),
    ("eval_bp_n", lambda f, x: bp.eval_bp_n(f, x)),
    ("backprop_with", lambda f, x: bp.backprop_with(f, x)[0]),
    ("num.backprop", lambda f, x: num.backprop(f, x)[0]),
    (
        "explicit.backprop",
        lambda f, x: explicit.backprop(f, x, zero=np.zeros_like, one=np.ones_like)[0],
    ),
]


@FUZZ
@given(
    value=st.one_of(junk, nonfinite, float_arrays(), st.integers(-(10**30), 10**30)),
    fn=st.sampled_from(FUNCTIONS),
    runner=st.sampled_from(RUNNERS),
)
def test_runners_with_bad_inputs(value: Any, fn: Any, runner: Any) -> None:
    _, f, ref = fn
    _, run = runner
    ok, out = attempt(lambda: run(f, value))
    if ok:  # only numbers and numeric arrays get this far: the value is numpy's
        with np.errstate(all="ignore"):
            expected = ref(np.asarray(value, dtype=float))
        np.testing.assert_allclose(np.asarray(out, dtype=float), expected, rtol=1e-12)


@FUZZ
@given(f=junk)
def test_runners_with_a_non_callable(f: Any) -> None:
    for run in (bp.grad_bp, bp.eval_bp, bp.backprop, bp.backprop_with):
        ok, e = attempt(lambda run=run: run(f, 1.0))
        assert not ok and isinstance(e, TypeError)


@FUZZ
@given(result=junk)
def test_function_returning_junk(result: Any) -> None:
    ok, e = attempt(lambda: bp.grad_bp(lambda x: result, 1.0))
    assert not ok and isinstance(e, TypeError)


@FUZZ
@given(arity=st.integers(1, 4), given_n=st.integers(0, 5))
def test_runner_arity(arity: int, given_n: int) -> None:
    """`grad_bp_n` with more or fewer inputs than the function takes: Python's TypeError."""
    f = {
        1: lambda a: a,
        2: lambda a, b: a * b,
        3: lambda a, b, c: a * b * c,
        4: lambda a, b, c, d: a * b * c * d,
    }[arity]
    xs = [float(i + 2) for i in range(given_n)]
    ok, out = attempt(lambda: bp.grad_bp_n(f, *xs))
    if arity == given_n:
        assert ok
        prod = math.prod(xs)
        assert out == pytest.approx(tuple(prod / x for x in xs))
    else:
        assert not ok and isinstance(out, TypeError)


# ---- junk as an operand of BVar operations ------------------------------------------------------

OPERATIONS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("+", lambda x, j: x + j),
    ("r-", lambda x, j: j - x),
    ("*", lambda x, j: x * j),
    ("/", lambda x, j: x / j),
    ("**", lambda x, j: x**j),
    ("@", lambda x, j: x @ j),
    ("np.maximum", lambda x, j: np.maximum(x, j)),
    ("np.stack", lambda x, j: np.stack([x, j])),
    ("np.concatenate", lambda x, j: np.concatenate([x, j])),
    ("np.reshape", lambda x, j: np.reshape(x, j)),
    ("np.sum axis", lambda x, j: np.sum(x, axis=j)),
    ("np.max axis", lambda x, j: np.max(x, axis=j)),
    ("x[j]", lambda x, j: x[j]),
    ("bnp.dot", lambda x, j: bnp.dot(x, j)),
    ("la.dot", lambda x, j: la.dot(x, j)),
    ("la.matmul", lambda x, j: la.matmul(x, j)),
    ("la.matvec", lambda x, j: la.matvec(j, x)),
    ("la.konst", lambda x, j: la.konst(x[0], j)),
    ("la.split", lambda x, j: la.split(x, j)),
    ("la.softmax_ce", lambda x, j: la.softmax_cross_entropy(x, j)),
    ("la.vmap", lambda x, j: la.vmap(j, x)),
    ("at.set", lambda x, j: x.at[0].set(j)),
]


@FUZZ
@given(op=st.sampled_from(OPERATIONS), j=st.one_of(junk, nonfinite))
def test_bvar_operations_with_junk(op: Any, j: Any) -> None:
    _, apply = op

    def run() -> Any:
        return bp.grad_bp(lambda x: np.sum(apply(x, j)), np.array([0.5, 1.5]))

    ok, out = attempt(run)
    if ok:  # nan/inf, `None` indices and the like are legitimate: the gradient has x's shape
        assert np.shape(out) == (2,)


# ---- Ops with bad forwards, bad pullbacks, wrong arities ----------------------------------------


@FUZZ
@given(bad=junk, where=st.sampled_from(["forward", "pullback", "array pullback"]))
def test_op_returning_junk(bad: Any, where: str) -> None:
    if bad is None and where != "forward":
        return  # a pullback may return None for a zero gradient (documented)
    if where == "forward":
        op = bp.op1(lambda x: bad)
        x0: Any = 1.0
    elif where == "pullback":
        op = bp.op1(lambda x: (x * 1.0, lambda d: bad))
        x0 = 1.0
    else:
        op = bp.op1(lambda x: (np.sum(x), lambda d: bad))
        x0 = np.ones(3)
    ok, e = attempt(lambda: bp.grad_bp(lambda x: op(x) * 2.0, x0), "op1(")
    assert not ok and isinstance(e, TypeError | bp.ShapeError)


OP_MAKERS: dict[str, tuple[Callable[[Callable[..., Any]], Any], int | None]] = {
    "op1": (bp.op1, 1),
    "op2": (bp.op2, 2),
    "op3": (bp.op3, 3),
    "op_n": (bp.op_n, None),  # any number of arguments
}


@FUZZ
@given(
    kind=st.sampled_from(sorted(OP_MAKERS)),
    applied=st.integers(0, 5),
    returned=st.integers(0, 5),
)
def test_op_arities(kind: str, applied: int, returned: int) -> None:
    """An Op applied to the wrong number of BVars, or whose pullback returns the wrong number of
    gradients: ArityError naming the op and both counts. Otherwise the gradients are right."""
    make, arity = OP_MAKERS[kind]
    n = applied if arity is None else arity

    def fwd(*xs: Any) -> Any:
        def pullback(d: Any) -> Any:
            gs = tuple(d * (i + 1.0) for i in range(returned))
            return gs[0] if kind == "op1" and returned == 1 else gs

        return sum(xs, 0.0), pullback

    op = make(fwd)
    xs = [float(i) for i in range(applied)]
    ok, out = attempt(lambda: bp.grad_bp_n(lambda *vs: op(*vs) * 1.0, *xs), f"{kind}(")
    if applied != n:
        assert not ok and isinstance(out, bp.ArityError)
        assert f"takes {arity} argument" in str(out) and f"got {applied}" in str(out)
    elif returned != n and applied > 0:
        assert not ok and isinstance(out, bp.ArityError | TypeError)
        if isinstance(out, bp.ArityError):
            assert f"{returned} gradients for {n} arguments" in str(out)
    else:
        assert ok and out == tuple(float(i + 1) for i in range(applied))


@FUZZ
@given(bad=junk)
def test_op_constructors_and_lifters_with_junk(bad: Any) -> None:
    for name, thunk in [
        ("op_iso", lambda: bp.grad_bp(lambda x: bp.op_iso(lambda a: bad, lambda d: d)(x), 1.0)),
        (
            "op_iso back",
            lambda: bp.grad_bp(lambda x: bp.op_iso(lambda a: a, lambda d: bad)(x), 1.0),
        ),
        (
            "op_iso2 back",
            lambda: bp.grad_bp(lambda x: bp.op_iso2(lambda a, b: a, lambda d: bad)(x, x), 1.0),
        ),
        ("bp_op", lambda: bp.grad_bp(lambda x: bp.bp_op(lambda a: bad)(x), 1.0)),
        ("lift_op1", lambda: bp.grad_bp(lambda x: bp.lift_op1(bp.sin_op, bad), 1.0)),
        ("lift_op2", lambda: bp.grad_bp(lambda x: bp.lift_op2(bp.mul_op, x, bad), 1.0)),
        ("run_op", lambda: bp.run_op(bp.mul_op, (1.0, bad))),
        ("eval_op", lambda: bp.eval_op(bp.sin_op, (bad,))),
        ("compose_op", lambda: bp.compose_op([bp.sin_op, bp.cos_op], bad)),
        ("split_var", lambda: bp.grad_bp(lambda x: bp.split_var(bad), 1.0)),
        ("sequence_var", lambda: bp.grad_bp(lambda x: bp.sequence_var(bad), 1.0)),
        ("join_var", lambda: bp.grad_bp(lambda x: bp.join_var(bad) * 0.0 + x, 1.0)),
        ("view_var", lambda: bp.grad_bp(lambda x: bp.view_var(bp.attr("a"), bad), 1.0)),
    ]:
        if bad is None and name.startswith("op_iso"):
            continue  # None is the unit type, and a pullback's None a zero gradient (documented)
        ok, out = attempt(thunk)
        if name == "join_var" and ok:  # plain values in a container are constants: x's gradient
            assert out == 1.0
            continue
        assert not ok, f"{name} accepted {bad!r}: {out!r}"


def test_op_constructors_reject_non_ops() -> None:
    """Lifting or composing something that is not an Op: a TypeError naming the function."""
    for name, thunk in [
        ("lift_op1", lambda: bp.grad_bp(lambda x: bp.lift_op1(None, x), 1.0)),
        ("lift_op", lambda: bp.grad_bp(lambda x: bp.lift_op("sin", x), 1.0)),
        ("compose_op1", lambda: bp.compose_op1(None, bp.sin_op)),
        ("compose_op", lambda: bp.compose_op(None, bp.mul_op)),
        ("run_op", lambda: bp.run_op(bp.mul_op, 1.0)),
        ("grad_op", lambda: bp.grad_op(bp.mul_op, 1.0)),
    ]:
        ok, e = attempt(thunk, name)
        assert not ok and isinstance(e, TypeError), (name, e)


# ---- leaked BVars and BVars of two runs -------------------------------------------------------

LEAK_USES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("*", lambda v, x: v * x),
    ("+", lambda v, x: x + v),
    ("@", lambda v, x: v @ x),
    ("np.sum", lambda v, x: np.sum(v) * x),
    ("np.maximum", lambda v, x: np.maximum(x, v)),
    ("np.stack", lambda v, x: np.stack([x, v])),
    ("np.einsum", lambda v, x: np.einsum("ij,jk->ik", x, v)),
    ("np.linalg.solve", lambda v, x: np.linalg.solve(x + 3.0 * np.eye(2), v)),
    ("index", lambda v, x: v[0] * x),
    ("transpose", lambda v, x: v.T * x),
    ("reshape", lambda v, x: v.reshape(4) @ x.reshape(4)),
    ("la.det", lambda v, x: la.det(v) * x),
    ("la.softmax", lambda v, x: la.softmax(v) * x),
    ("la.eigenvalues", lambda v, x: la.eigenvalues(v).sum() * x),
    ("op1", lambda v, x: bp.op1(lambda a: (a, lambda d: d))(v) * x),
    ("op2", lambda v, x: bp.op2(lambda a, b: (a * b, lambda d: (d * b, d * a)))(v, x)),
    ("join_var", lambda v, x: bp.join_var([x, v])[0]),
    ("sequence_var", lambda v, x: bp.sequence_var(v)[0] * x),
    ("at.set", lambda v, x: x.at[0].set(v[0])),
]


@FUZZ
@given(use=st.sampled_from(LEAK_USES))
def test_bvars_of_a_finished_run(use: Any) -> None:
    _, apply = use
    v = leaked_array()
    ok, e = attempt(lambda: bp.grad_bp(lambda x: np.sum(apply(v, x)), np.ones((2, 2))))
    assert not ok and isinstance(e, bp.TapeScopeError), e
    assert "backprop run" in str(e)


@FUZZ
@given(use=st.sampled_from(LEAK_USES))
def test_bvars_of_the_enclosing_run(use: Any) -> None:
    # a run inside another run's function is nested in it: the outer BVar is a constant of the
    # inner run, and the inner gradient is a BVar of the outer run with the same value
    _, apply = use
    x0 = np.ones((2, 2))

    def outer(v: Any) -> Any:
        inner = bp.grad_bp(lambda x: np.sum(apply(v, x)), x0)
        # (also nested, so a BVar of the outer run too: a constant, v being a constant there)
        expected = bp.grad_bp(lambda x: np.sum(apply(bp.const_var(v.value), x)), x0)
        got = inner.value if isinstance(inner, bp.BVar) else inner
        want = expected.value if isinstance(expected, bp.BVar) else expected
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        return np.sum(v)

    np.testing.assert_array_equal(bp.grad_bp(outer, x0), np.ones((2, 2)))


@FUZZ
@given(use=st.sampled_from(["sin", "neg", "exp", "mul", "radd", "op1", "const_var"]))
def test_leaked_scalar_bvar(use: str) -> None:
    v = leaked_scalar()
    apply: dict[str, Callable[[Any], Any]] = {
        "sin": bp.sin,
        "neg": lambda v: -v,
        "exp": np.exp,
        "mul": lambda v: v * 2.0,
        "radd": lambda v: 1.0 + v,
        "op1": bp.op1(lambda a: (a, lambda d: d)),
        "const_var": lambda v: bp.const_var(1.0) * v,
    }
    ok, e = attempt(lambda: bp.grad_bp(lambda x: apply[use](v) * x, 1.0), "finished")
    assert not ok and isinstance(e, bp.TapeScopeError)


# ---- shapes: empty, huge, mismatched -----------------------------------------------------------

#: sizes whose element count (times 8 bytes) overflows 64 bits even in one dimension, so that
#: nothing can try to allocate them (2**31 points in `linspace` would be a real 16 GB array)
HUGE = st.sampled_from([2**62, 2**63 - 1, -(2**62), -(2**63)])


@FUZZ
@given(n=HUGE, which=st.integers(0, 12))
def test_huge_sizes(n: int, which: int) -> None:
    """Sizes whose element count overflows: a ShapeError/ValueError/IndexError as numpy raises,
    never a crash or an attempt to allocate."""
    x = np.arange(4.0)
    thunk = [
        lambda: bp.grad_bp(lambda v: np.sum(np.reshape(v, (n, n))), x),
        lambda: bp.grad_bp(lambda v: la.sum_elements(la.reshape(v, (n, n, -1))), x),
        lambda: bp.grad_bp(lambda v: la.sum_elements(la.konst(v[0], (n, n))), x),
        lambda: bp.grad_bp(lambda v: la.sum_elements(la.linspace(v[0], v[1], n)), x),
        lambda: bp.grad_bp(lambda v: np.sum(np.broadcast_to(v, (n, n, 4))), x),
        lambda: bp.grad_bp(lambda v: la.sum_elements(la.split(v, n)[0]), x),
        lambda: bp.grad_bp(lambda v: v[n], x),
        lambda: bp.grad_bp(lambda v: np.sum(v[np.array([n])]), x),
        lambda: bp.grad_bp(lambda v: np.sum(np.take(v, [n])), x),
        lambda: bp.grad_bp(lambda v: np.sum(v[:: n if n > 0 else -1]), x),
        lambda: bp.grad_bp(lambda v: np.sum(v, axis=n), x),
        lambda: bp.grad_bp(lambda v: np.max(v, axis=(0, n)), x),
        lambda: bp.grad_bp(lambda v: np.mean(v.reshape(2, 2), axis=n), x),
    ][which]
    ok, out = attempt(thunk)
    if ok:  # only a slice with a huge step is valid: it keeps the first (or last) element
        assert which == 9
        np.testing.assert_array_equal(out, [1.0, 0, 0, 0] if n > 0 else [1.0] * 4)


@pytest.mark.parametrize(
    "reshape",
    [
        lambda v, s: np.reshape(v, s),
        lambda v, s: v.reshape(s),
        lambda v, s: la.reshape(v, s),
    ],
    ids=["np.reshape", "BVar.reshape", "la.reshape"],
)
@pytest.mark.parametrize("shape", [(2**63 - 1, 2**63 - 1, 4), (2**63 - 1, 2**63 - 1, -1)])
def test_reshape_to_a_shape_whose_size_wraps_around(
    reshape: Callable[[Any, Any], Any], shape: tuple[int, ...]
) -> None:
    ok, e = attempt(lambda: bp.grad_bp(lambda v: np.sum(reshape(v, shape)), np.arange(4.0)))
    assert not ok and isinstance(e, bp.ShapeError) and "reshape" in str(e)


LINALG_UNARY = [
    "det", "inv", "logabsdet", "chol", "eigenvalues", "svd", "sym", "mtm", "cov", "tr",
    "take_diag", "diag", "norm_0", "norm_1", "norm_2", "norm_inf", "softmax", "log_softmax",
    "logsumexp", "mean_rows", "row", "col", "unrow", "uncol", "sum_elements", "mean",
]  # fmt: skip


def _as_output_sum(y: Any) -> Any:
    if isinstance(y, tuple):
        return sum(_as_output_sum(e) for e in y)
    return la.sum_elements(la.reshape(y, (-1,))) if np.ndim(y.value) else y


@FUZZ
@given(name=st.sampled_from(LINALG_UNARY), x=float_arrays(max_dims=3), special=st.booleans())
def test_linalg_on_arbitrary_shapes(name: str, x: np.ndarray, special: bool) -> None:
    """Any shape, empty ones included, and NaN/inf entries: a result or a documented error;
    a ShapeError names the function."""
    if special and x.size:
        x = x.copy()
        x.flat[0] = math.nan
        x.flat[-1] = math.inf
    fn = getattr(la, name)
    ok, out = attempt(lambda: bp.grad_bp(lambda v: _as_output_sum(fn(v)), x))
    if ok:
        assert np.shape(out) == x.shape
    elif isinstance(out, bp.ShapeError):
        assert name in str(out), out


@FUZZ
@given(a=float_arrays(), b=float_arrays())
def test_binary_ops_on_arbitrary_shapes(a: np.ndarray, b: np.ndarray) -> None:
    """Shapes that broadcast give numpy's values; others a ShapeError naming the op and shapes."""
    for name, op, ref in [
        ("add", lambda x, y: x + y, np.add),
        ("mul", lambda x, y: x * y, np.multiply),
        ("maximum", np.maximum, np.maximum),
        ("matmul", lambda x, y: x @ y, np.matmul),
    ]:
        ok, out = attempt(lambda op=op: bp.backprop2(lambda x, y: np.sum(op(x, y)), a, b))
        try:
            expected = np.sum(ref(a, b))
        except ValueError:
            assert not ok, f"{name}: bprop accepted shapes numpy refuses"
            assert isinstance(out, bp.ShapeError | ValueError) and name in str(out), out
            continue
        assert ok, f"{name}{a.shape, b.shape}: {out!r}"
        assert out[0] == pytest.approx(float(expected), rel=1e-12, abs=1e-12)
        assert np.shape(out[1][0]) == a.shape and np.shape(out[1][1]) == b.shape


# ---- dtypes -------------------------------------------------------------------------------------

INT_DTYPES = [np.int8, np.int32, np.int64, np.uint8, np.uint16, np.bool_]


@FUZZ
@given(
    dtype=st.sampled_from(INT_DTYPES),
    values=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    fn=st.sampled_from(FUNCTIONS),
)
def test_integer_and_bool_arrays_act_as_floats(dtype: Any, values: list[int], fn: Any) -> None:
    """Integer inputs give the float64 results and float64 gradients of the same values."""
    _, f, _ = fn
    x = np.array(values).astype(dtype)
    ok, out = attempt(lambda: bp.backprop(f, x))
    assert ok, out
    val, grad = out
    val_f, grad_f = bp.backprop(f, x.astype(float))
    np.testing.assert_allclose(val, val_f, rtol=1e-12)
    assert np.asarray(grad).dtype == np.float64
    np.testing.assert_allclose(grad, grad_f, rtol=1e-12)


@FUZZ
@given(
    arr=st.sampled_from(
        [
            np.array([1.0, 2.0], dtype=object),
            np.array([Opaque(), 1.0], dtype=object),
            np.array(["a"]),
            np.array(["2020-01-01"], dtype="datetime64[D]"),
        ]
    ),
    fn=st.sampled_from(FUNCTIONS),
)
def test_object_and_non_numeric_arrays_are_refused(arr: np.ndarray, fn: Any) -> None:
    _, f, _ = fn
    ok, e = attempt(lambda: bp.grad_bp(f, arr))
    assert not ok and isinstance(e, TypeError | ValueError), e


def test_a_bvar_never_becomes_an_object_array_element() -> None:
    for thunk in [
        lambda: bp.grad_bp(lambda x: np.sum(np.array([x, x])), 1.0),
        lambda: bp.grad_bp(lambda x: np.sum(np.asarray(x)), np.ones(2)),
        lambda: bp.grad_bp(lambda x: float(x), 1.0),
    ]:
        ok, e = attempt(thunk)
        assert not ok and isinstance(e, TypeError) and "BVar" in str(e)


@FUZZ
@given(x=st.one_of(nonfinite, reals))
def test_nonfinite_scalars_in_scalar_math(x: float) -> None:
    """bp.sin etc. on nan/inf: the math module's value (nan where it raises), never an error."""
    for fn, ref in [(bp.sin, math.sin), (bp.exp, math.exp), (bp.tanh, math.tanh)]:
        ok, out = attempt(lambda fn=fn: bp.eval_bp(fn, x))
        assert ok
        try:
            expected = ref(x)
        except (ValueError, OverflowError):
            expected = math.nan
        assert (math.isnan(out) and math.isnan(expected)) or out == expected


def test_bvar_of_a_run_in_another_thread() -> None:
    """Two runs at the same time in two threads: a BVar of one used in the other is refused with
    TapeScopeError, and both runs still give their own right gradients."""
    box: dict[str, Any] = {}
    recorded, used = threading.Event(), threading.Event()

    def first(x: bp.BVar[float]) -> bp.BVar[float]:
        box["x"] = x
        recorded.set()
        assert used.wait(10)
        return x * x

    def second() -> None:
        assert recorded.wait(10)
        box["second"] = attempt(lambda: bp.grad_bp(lambda y: y * box["x"], 3.0), "different")
        used.set()

    t = threading.Thread(target=second)
    t.start()
    try:
        assert bp.grad_bp(first, 2.0) == 4.0
    finally:
        used.set()
        t.join(10)
    ok, e = box["second"]
    assert not ok and isinstance(e, bp.TapeScopeError)


# ---- pullbacks given junk cotangents ------------------------------------------------------------

PULLBACK_SETUPS: list[tuple[str, Callable[[Any], Any], Any]] = [
    ("array output", lambda x: x * x, np.ones(3)),
    ("float output", lambda x: x * x, 2.0),
    ("tuple output", lambda x: (x * 2.0, np.sum(x)), np.ones(3)),
    ("user Op", lambda x: bp.op1(lambda a: (a * 2.0, lambda d: d * 2.0))(x), np.ones(3)),
    ("la.det", la.det, np.eye(2)),
]


@FUZZ
@given(setup=st.sampled_from(PULLBACK_SETUPS), dy=st.one_of(junk, float_arrays(), nonfinite))
def test_pullback_with_a_junk_output_gradient(setup: Any, dy: Any) -> None:
    """`backprop_with`'s pullback given a cotangent of the wrong type or shape: a TypeError or
    ShapeError naming the output gradient; the pullback still works afterwards."""
    _, f, x = setup
    y, pull = bp.backprop_with(f, x)
    ok, out = attempt(lambda: pull(dy))
    if not ok:
        assert isinstance(out, TypeError | bp.ShapeError), out
        assert "gradient" in str(out), out
    good = bp.backprop(f, x)[1] if not isinstance(y, tuple) else None
    if good is not None:  # the same pullback, reused after the failure
        np.testing.assert_allclose(pull(np.ones_like(y) if np.ndim(y) else 1.0), good)


# ---- explicit and num runners -------------------------------------------------------------------


@FUZZ
@given(bad=st.one_of(junk, nonfinite), slot=st.sampled_from(["zero=", "add=", "one="]))
def test_explicit_runner_with_junk_functions(bad: Any, slot: str) -> None:
    """Junk in place of the zero/add/one functions: a TypeError naming the keyword."""
    assume(not callable(bad))
    fns: dict[str, Any] = {"zero": lambda x: 0.0, "add": lambda a, b: a + b, "one": lambda x: 1.0}
    fns[slot[:-1]] = bad
    ok, e = attempt(lambda: explicit.backprop(lambda x: x * x + x, 2.0, **fns))
    if slot == "add=" and bad is None:  # add=None: the inputs' own add (documented default)
        assert ok and e == (6.0, 5.0)
        return
    assert not ok and isinstance(e, TypeError), e
    if slot != "one=":
        assert slot in str(e), e


@FUZZ
@given(bad=st.one_of(junk, nonfinite), slot=st.sampled_from(["add", "one"]))
def test_explicit_functions_returning_junk(bad: Any, slot: str) -> None:
    """zero/add/one functions whose results are junk: a TypeError or the (nan) value computed."""
    if slot == "add" and bad is None:
        return  # another message: test_explicit_add_returning_none_is_an_error
    fns: dict[str, Any] = {"zero": lambda x: 0.0, "add": lambda a, b: a + b, "one": lambda x: 1.0}
    fns[slot] = lambda *args: bad
    ok, out = attempt(lambda: explicit.backprop(lambda x: x * x + x, 2.0, **fns))
    if ok:  # nan or inf: the arithmetic goes on, as it would in numpy
        assert isinstance(bad, float) and not math.isfinite(bad) and not math.isfinite(out[1])
    else:
        assert isinstance(out, TypeError) and "expected a real number" in str(out), out


def test_explicit_add_returning_none_is_an_error() -> None:
    with pytest.raises(TypeError, match="add"):
        explicit.backprop(
            lambda x: x * x + x,
            2.0,
            zero=lambda x: 0.0,
            one=lambda x: 1.0,
            add=lambda a, b: None,
        )


@FUZZ
@given(value=st.one_of(junk, st.just((1.0, 2.0))).filter(lambda v: not isinstance(v, np.ndarray)))
def test_num_runners_refuse_non_numbers(value: Any) -> None:
    for run in (num.grad_bp, lambda f, x: num.backprop(f, x)[1]):
        ok, e = attempt(lambda run=run: run(lambda x: x, value))
        assert not ok and isinstance(e, TypeError | ValueError), e


# ---- optics -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Pair:
    a: float
    b: Any


LOOKUPS: list[tuple[str, Callable[[Any], Any], Any, type[Exception]]] = [
    ("attr('zz')", lambda p: bp.view_var(bp.attr("zz"), p), Pair(1.0, 2.0), AttributeError),
    ("item(5)", lambda p: bp.view_var(bp.item(5), p), (1.0, 2.0), IndexError),
    ("item('a')", lambda p: bp.view_var(bp.item("a"), p), (1.0, 2.0), TypeError),
    ("key('zz')", lambda p: bp.view_var(bp.key("zz"), p), {"a": 1.0}, KeyError),
    ("attr('a')", lambda p: bp.view_var(bp.attr("a"), p), 1.0, TypeError),
    ("split_var", lambda p: bp.split_var(p)[0], 1.0, TypeError),
    ("sequence_var", lambda p: bp.sequence_var(p)[0], 1.0, TypeError),
    ("each", lambda p: bp.to_list_of_var(bp.each, p)[0], 1.0, TypeError),
    ("item(0)", lambda p: bp.view_var(bp.item(0), p), np.array(1.0), TypeError),
]


@pytest.mark.parametrize("name, use, value, exc", LOOKUPS, ids=[lookup[0] for lookup in LOOKUPS])
def test_optics_on_the_wrong_structure(
    name: str, use: Callable[[Any], Any], value: Any, exc: type[Exception]
) -> None:
    """A lens that does not fit the value: Python's own lookup error (AttributeError, IndexError,
    KeyError) or a TypeError, with the lens named in the message."""
    try:
        bp.grad_bp(use, value)
    except exc as e:
        assert name.split("(")[0] in str(e), e
    else:
        raise AssertionError(f"{name} on {value!r} did not raise {exc.__name__}")
    healthy()


@FUZZ
@given(bad=junk)
def test_lens_functions_returning_junk(bad: Any) -> None:
    p = Pair(1.0, 2.0)
    for thunk, zero in [
        (
            lambda: bp.grad_bp(lambda v: bp.view_var(bp.lens(lambda s: bad, lambda s, a: s), v), p),
            Pair(0.0, 0.0),
        ),
        (lambda: bp.grad_bp(lambda v: bp.iso_var(lambda a: bad, lambda b: b, v), 1.0), 0.0),
        (
            lambda: bp.grad_bp(
                lambda v: bp.view_var(bp.attr("a"), bp.set_var(bp.attr("a"), bad, v)), p
            ),
            Pair(0.0, 0.0),
        ),
    ]:
        ok, out = attempt(thunk)
        # a result that does not depend on the input (None, a list of numbers...) is accepted
        # when it has a Backprop instance: then the input's gradient is zero
        assert not ok or out == zero, out


def test_set_var_gives_the_replaced_part_a_zero_of_its_own_shape() -> None:
    """`set_var` with a value of another shape (numpy arrays are dynamically sized): the replaced
    field's gradient is a zero of the old field's shape, not of the new value's."""
    p = Pair(1.0, np.ones(2))
    g = bp.grad_bp(lambda v: bp.set_var(bp.attr("b"), np.ones(3), v), p)
    assert g.a == 1.0
    np.testing.assert_array_equal(g.b, np.zeros(2))
    g = bp.grad_bp(lambda v: bp.set_var(bp.attr("a"), None, v), p)
    assert g.a == 0.0 and type(g.a) is float
    np.testing.assert_array_equal(g.b, np.ones(2))


# ---- indexing: any key numpy takes, and the ones it refuses -------------------------------------

index_elems = st.one_of(
    st.integers(-6, 5),
    st.builds(
        slice,
        st.sampled_from([None, -7, -2, 0, 1, 3, 9]),
        st.sampled_from([None, -7, -1, 0, 2, 9]),
        st.sampled_from([None, 1, 2, -1, -3, 2**62]),
    ),
    st.none(),
    st.just(Ellipsis),
    st.lists(st.integers(-4, 3), max_size=3).map(lambda v: np.array(v, dtype=int)),
    st.lists(st.booleans(), max_size=3).map(lambda v: np.array(v, dtype=bool)),
    st.lists(st.integers(-3, 2), min_size=1, max_size=2),
    st.sampled_from([0.5, "a", (1, 2)]),
)
index_keys = st.one_of(index_elems, st.lists(index_elems, max_size=3).map(tuple))


@settings(max_examples=300, deadline=None, database=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3), key=index_keys)
def test_indexing_matches_numpy(shape: list[int], key: Any) -> None:
    """`v[key]` on a BVar: numpy's value and the scatter-add gradient (`np.add.at`) where numpy
    accepts the key, an IndexError/TypeError/ValueError where it refuses it."""
    x = np.array(np.arange(float(math.prod(shape))).reshape(shape) + 1.0)
    try:
        expected = x[key]
    except (IndexError, TypeError, ValueError):
        ok, e = attempt(lambda: bp.backprop(lambda v: v[key], x))
        assert not ok and isinstance(e, IndexError | TypeError | ValueError), e
        return
    ok, out = attempt(lambda: bp.backprop(lambda v: v[key], x))
    assert ok, out
    val, grad = out
    np.testing.assert_array_equal(np.asarray(val), expected)
    scatter = np.zeros_like(x)
    np.add.at(scatter, key, 1.0)
    np.testing.assert_array_equal(np.asarray(grad), scatter)
