"""An adversarial cross-check of numpy on BVars (issue 9: "nothing in the coverage list
returns a wrong value"), over (nearly) every entry of the registry (`FUNCTIONS`, `UFUNCS`,
`METHODS`, `TABLE`).

For every registered name a hypothesis strategy draws valid arguments (0-d..4-d shapes,
broadcasting pairs, negative and tuple axes, `keepdims`, non-contiguous views taken inside the
function, BVars mixed with plain float/int/bool arrays and Python floats) and checks that
(a) the value under `bp.eval_bp_n` equals numpy's on plain arrays (same structure and shape,
    float64, never an object array, 0-d results as floats; exact for shape moves),
(b) the gradient under `bp.backprop_with_n` with a random cotangent equals central finite
    differences (`check_vjp`), at points kept away from kinks,
and `test_invalid_*` check that bad arguments raise numpy's exception class (or a `TypeError`
naming the function), never a value. The edge cases (empty arrays, NaN/inf patterns, integer and
boolean operands, 0-d arrays against Python floats) and the regressions found by this check are
at the end.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bprop as bp
import bprop.numpy
import numpy as np
import pytest
import scipy.special as sc
from bprop.numpy._registry import FUNCTIONS, METHODS, TABLE, UFUNCS
from fd import check_vjp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

# ---- drawing arguments ------------------------------------------------------------------------


class Draw:
    """Random arguments for one example: a numpy generator seeded by hypothesis (drawing every
    element through hypothesis would be slow), plus hypothesis draws for the structural choices
    (shapes, axes, flags) so that they shrink."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))

    def pick(self, options: list[Any], label: str = "") -> Any:
        return self.data.draw(st.sampled_from(options), label=label or None)

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))

    def flag(self) -> bool:
        return self.data.draw(st.booleans())

    def shape(
        self, lo: int = 0, hi: int = 4, *, min_side: int = 1, max_side: int = 3
    ) -> tuple[int, ...]:
        nd = self.int(lo, hi)
        return tuple(self.int(min_side, max_side) for _ in range(nd))

    def values(self, shape: tuple[int, ...], lo: float = -2.0, hi: float = 2.0) -> Any:
        return self.rng.uniform(lo, hi, size=shape)

    def away(self, shape: tuple[int, ...], lo: float = 0.3, hi: float = 2.0) -> Any:
        """Values with lo ≤ |x| ≤ hi (away from the kink at 0)."""
        return self.rng.uniform(lo, hi, size=shape) * self.rng.choice([-1.0, 1.0], size=shape)

    def distinct(self, shape: tuple[int, ...]) -> Any:
        """Values at least 0.1 apart (no ties: max, min, sort are differentiable there)."""
        n = math.prod(shape)
        return (
            self.rng.permutation(n) * 0.1 + self.rng.uniform(0, 0.01, size=n) - 0.05 * n
        ).reshape(shape)

    def broadcast_pair(self, *, max_nd: int = 4) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Two shapes that broadcast against each other (different ranks, length-1 axes)."""
        out = self.shape(0, max_nd)
        a = [n if self.int(0, 3) else 1 for n in out]
        b = [n if self.int(0, 3) else 1 for n in out]
        a = a[self.int(0, len(a)) :]
        b = b[self.int(0, len(b)) :]
        return tuple(a), tuple(b)

    def axis(self, ndim: int, *, tuples: bool = True, none: bool = True) -> Any:
        """None, an int (maybe negative) or a tuple of distinct axes (maybe negative, any order,
        maybe empty)."""
        options: list[Any] = [None] if none else []
        if ndim:
            options += list(range(-ndim, ndim))
        if tuples:
            k = self.int(0, ndim)
            perm = [int(a) for a in self.rng.permutation(ndim)[:k]]
            options.append(tuple(a - ndim if self.flag() else a for a in perm))
        if not options:
            return None
        return self.pick(options, "axis")

    def view(self, x: Any) -> tuple[Any, Callable[[Any], Any]]:
        """Store `x` in a different layout and give the view that reads it back, applied inside
        the function (so the function sees a transposed, strided or reversed view)."""
        if np.ndim(x) == 0 or not isinstance(x, np.ndarray):
            return x, lambda v: v
        kind = self.pick(["plain", "T", "step", "reverse"], "layout")
        if kind == "T":
            return np.ascontiguousarray(x.T), lambda v: v.T
        if kind == "step":
            wide = np.repeat(x, 2, axis=-1)
            wide[..., 1::2] = 7.0  # never read
            return wide, lambda v: v[..., ::2]
        if kind == "reverse":
            return np.ascontiguousarray(x[::-1]), lambda v: v[::-1]
        return x, lambda v: v


@dataclass
class Case:
    """One example: `f` of the differentiable arguments `xs` (floats or float64 arrays; plain
    operands are closed over), checked as described in the module docstring."""

    f: Callable[..., Any]
    xs: list[Any]
    grad: bool = True  # check the gradient by finite differences
    exact: bool = False  # the value must equal numpy's exactly (shape moves, indexing)
    plain: Callable[..., Any] | None = None  # numpy's version, if not `f` on plain values
    rtol: float = 1e-5
    atol: float = 1e-7


CaseMaker = Callable[[Draw], Case]
CASES: dict[str, CaseMaker] = {}


def case(*names: str) -> Callable[[CaseMaker], CaseMaker]:
    def register(make: CaseMaker) -> CaseMaker:
        for n in names:
            assert n not in CASES, n
            CASES[n] = make
        return make

    return register


def _as_arg(d: Draw, x: Any) -> Any:
    """A 0-d argument as a Python float or a 0-d array, at random."""
    if isinstance(x, np.ndarray) and x.ndim == 0 and d.flag():
        return float(x)
    return x


# ---- checking ---------------------------------------------------------------------------------

RNG = np.random.default_rng(20261208)


def _compare(got: Any, expected: Any, *, exact: bool, where: str = "value") -> None:
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)), (
            f"{where}: expected a {type(expected).__name__}, got {type(got).__name__}"
        )
        assert len(got) == len(expected), f"{where}: {len(got)} parts, numpy gives {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare(g, e, exact=exact, where=f"{where}[{i}]")
        return
    assert not isinstance(got, bp.BVar), f"{where}: a BVar escaped"
    e = np.asarray(expected)
    if isinstance(got, np.ndarray):
        assert got.dtype != object, f"{where}: an object array"
        assert got.dtype == np.float64 or got.dtype == e.dtype, (
            f"{where}: dtype {got.dtype}, numpy gives {e.dtype}"
        )
        if got.ndim == 0:
            assert e.ndim == 0
    else:
        assert isinstance(got, (float, np.floating)) or e.dtype.kind in "biu", (
            f"{where}: {type(got).__name__}"
        )
        assert e.ndim == 0, f"{where}: a scalar, numpy gives shape {e.shape}"
    g = np.asarray(got)
    assert g.shape == e.shape, f"{where}: shape {g.shape}, numpy gives {e.shape}"
    if exact:
        np.testing.assert_array_equal(g, e, err_msg=where)
    else:
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-11, equal_nan=True, err_msg=where)


def _tuplify(f: Callable[..., Any]) -> Callable[..., Any]:
    """Lists of outputs (split) as tuples, as check_vjp's cotangents expect."""

    def g(*a: Any) -> Any:
        out = f(*a)
        if isinstance(out, list):
            return tuple(out)
        if isinstance(out, tuple) and type(out) is not tuple:  # named tuples (slogdet, eigh, ...)
            return tuple(out)
        return out

    return g


def run_case(c: Case) -> None:
    plain = c.plain or c.f
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = plain(*c.xs)
        got = bp.eval_bp_n(c.f, *c.xs)
    _compare(got, expected, exact=c.exact)
    f = _tuplify(c.f)
    y, _ = bp.backprop_with_n(f, *c.xs)
    _compare(y, _tuplify(plain)(*c.xs), exact=c.exact, where="value on a tape")
    if c.grad and all(np.size(x) for x in c.xs):
        check_vjp(f, list(c.xs), rng=RNG, plain=_tuplify(plain), rtol=c.rtol, atol=c.atol)


# ---- elementwise: ufuncs and scipy.special ----------------------------------------------------

# name -> (function, sampler(draw, shape)) with values inside the smooth part of the domain
Sampler = Callable[[Draw, tuple[int, ...]], Any]


def _u(lo: float, hi: float) -> Sampler:
    return lambda d, s: d.values(s, lo, hi)


def _away(lo: float = 0.3, hi: float = 2.0) -> Sampler:
    return lambda d, s: d.away(s, lo, hi)


def _off_grid(d: Draw, s: tuple[int, ...]) -> Any:
    """Values 0.2-0.3 away from integers and half-integers (floor, round, ... are flat there)."""
    return d.rng.integers(-3, 3, size=s) + d.pick([0.2, 0.7]) + d.rng.uniform(0, 0.05, size=s)


def _fn(name: str) -> Any:
    return getattr(np, name, None) or getattr(sc, name)


UNARY: dict[str, Sampler] = {
    **{
        n: _u(-2, 2)
        for n in [
            "negative",
            "positive",
            "square",
            "exp",
            "exp2",
            "expm1",
            "sin",
            "cos",
            "sinh",
            "cosh",
            "tanh",
            "arctan",
            "arcsinh",
            "deg2rad",
            "rad2deg",
            "degrees",
            "radians",
            "conjugate",
            "erf",
            "erfc",
            "expit",
            "log_expit",
            "ndtr",
            "log_ndtr",
            "sinc",
        ]
    },
    **{n: _away() for n in ["abs", "absolute", "fabs", "sign", "reciprocal", "cbrt"]},
    **{n: _off_grid for n in ["floor", "ceil", "rint", "trunc", "fix", "round", "around"]},
    "sqrt": _u(0.2, 3),
    "log": _u(0.2, 3),
    "log2": _u(0.2, 3),
    "log10": _u(0.2, 3),
    "log1p": _u(-0.7, 3),
    "arcsin": _u(-0.9, 0.9),
    "arccos": _u(-0.9, 0.9),
    "arctanh": _u(-0.9, 0.9),
    "arccosh": _u(1.2, 3),
    "tan": _u(-1.2, 1.2),
    "logit": _u(0.1, 0.9),
    "erfinv": _u(-0.9, 0.9),
    "erfcinv": _u(0.1, 1.9),
    "ndtri": _u(0.1, 0.9),
    "gammaln": _u(0.3, 4),
    "psi": _u(0.3, 4),
    "digamma": _u(0.3, 4),
}

BINARY: dict[str, tuple[Sampler, Sampler]] = {
    **{
        n: (_u(-2, 2), _u(-2, 2))
        for n in ["add", "subtract", "multiply", "arctan2", "hypot", "logaddexp", "logaddexp2"]
    },
    **{n: (_u(-2, 2), _away(0.5, 2)) for n in ["divide", "true_divide"]},
    **{n: (_u(0.3, 2), _u(-2, 2)) for n in ["power", "float_power"]},
    **{n: (_u(0.1, 0.9), _u(1.1, 2)) for n in ["mod", "remainder", "fmod", "floor_divide"]},
    **{n: (_away(), _away()) for n in ["copysign", "heaviside"]},
    "xlogy": (_u(-2, 2), _u(0.2, 3)),
    "xlog1py": (_u(-2, 2), _u(-0.5, 3)),
    # kinked where the arguments tie: integers against half-integers never tie
    **{
        n: (
            (lambda d, s: d.rng.integers(-2, 3, size=s) + d.rng.uniform(0, 0.05, size=s)),
            (lambda d, s: d.rng.integers(-2, 3, size=s) + 0.5 + d.rng.uniform(0, 0.05, size=s)),
        )
        for n in ["maximum", "minimum", "fmax", "fmin"]
    },
}


def _unary_case(name: str) -> CaseMaker:
    fn = _fn(name)
    sample = UNARY[name]

    def make(d: Draw) -> Case:
        s = d.shape()
        x, view = d.view(sample(d, s))
        if x.ndim == 0:
            x = _as_arg(d, x)
        return Case(lambda v: fn(view(v)), [x])

    return make


for _n in UNARY:
    case(_n)(_unary_case(_n))


def _binary_case(name: str) -> CaseMaker:
    fn = _fn(name)
    sa, sb = BINARY[name]

    def make(d: Draw) -> Case:
        shape_a, shape_b = d.broadcast_pair()
        a, b = sa(d, shape_a), sb(d, shape_b)
        mode = d.pick(["both", "a", "b", "float-b", "int-b"], "operands")
        if mode == "both":
            va, viewa = d.view(a)
            return Case(lambda x, y: fn(viewa(x), y), [_as_arg(d, va), _as_arg(d, b)])
        if mode == "a":  # b plain, maybe non-contiguous
            pb = np.asarray(b)
            pb = pb.T.copy().T if pb.ndim >= 2 else pb
            return Case(lambda x: fn(x, pb), [_as_arg(d, a)])
        if mode == "b":
            pa = np.asarray(a)
            return Case(lambda y: fn(pa, y), [_as_arg(d, b)])
        if mode == "float-b":
            fb = float(np.asarray(b).ravel()[0]) if np.size(b) else 1.5
            return Case(lambda x: fn(x, fb), [a])
        # integer plain operand: integers are off the kinks of every function above except the
        # ones that need a fractional or positive operand
        ib = np.round(np.asarray(b)).astype(np.int64)
        if name in ("mod", "remainder", "fmod", "floor_divide", "divide", "true_divide"):
            ib = np.full(np.shape(b), 2, dtype=np.int64)
        if name in ("heaviside", "copysign"):
            ib = np.where(ib == 0, 1, ib)
        if name in (
            "maximum",
            "minimum",
            "fmax",
            "fmin",
        ):  # a is an integer + noise: never ties a half-integer
            return Case(lambda x: fn(x + 0.5, ib), [a])
        if name in ("xlogy",):
            ib = np.abs(ib) + 1
        if name == "xlog1py":
            ib = np.abs(ib)
        return Case(lambda x: fn(x, ib), [a])

    return make


for _n in BINARY:
    case(_n)(_binary_case(_n))


@case("matmul")
def _matmul(d: Draw) -> Case:
    n, k, m = d.int(1, 3), d.int(1, 3), d.int(1, 3)
    batch_a, batch_b = d.broadcast_pair(max_nd=2)
    kind = d.pick(["mm", "vm", "mv", "vv"])
    sa = (*batch_a, n, k) if kind in ("mm", "mv") else (k,)
    sb = (*batch_b, k, m) if kind in ("mm", "vm") else (k,)
    a, b = d.values(sa), d.values(sb)
    how = d.pick(["np", "op", "plain-a", "plain-b"])
    if how == "np":
        return Case(lambda x, y: np.matmul(x, y), [a, b])
    if how == "op":
        va, viewa = d.view(a)
        return Case(lambda x, y: viewa(x) @ y, [va, b])
    if how == "plain-a":
        return Case(lambda y: a @ y, [b])
    return Case(lambda x: x @ b, [a])


# ---- reductions and scans ---------------------------------------------------------------------


def _reduction(
    fn: Callable[..., Any], *, values: str = "any", ddof: bool = False, method: str | None = None
) -> CaseMaker:
    def make(d: Draw) -> Case:
        s = d.shape()
        x = d.distinct(s) if values == "distinct" else d.values(s)
        if values == "zeros" and x.size and d.flag():
            x.ravel()[d.int(0, x.size - 1)] = 0.0  # prod is exact with zeros
        axis = d.axis(len(s))
        kw: dict[str, Any] = {"axis": axis}
        if d.flag():
            kw["keepdims"] = d.flag()
        if ddof:
            kw["ddof"] = d.pick([0, 1])
        axes = range(len(s)) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
        n = math.prod(s[a] for a in axes)
        grad = n > kw.get("ddof", 0) and (x.size > 0)
        xv, view = d.view(x)
        tol = (
            {"rtol": 1e-4, "atol": 1e-6} if ddof else {}
        )  # the std of 2-3 close values is strongly curved
        if method is not None:
            return Case(
                lambda v: getattr(view(v), method)(**kw),
                [xv],
                grad=grad,
                plain=lambda v: getattr(view(v), method)(**kw),
                **tol,
            )
        return Case(lambda v: fn(view(v), **kw), [xv], grad=grad, **tol)

    return make


for _name, _fn_, _vals, _ddof in [
    ("sum", np.sum, "any", False),
    ("mean", np.mean, "any", False),
    ("prod", np.prod, "zeros", False),
    ("max", np.max, "distinct", False),
    ("min", np.min, "distinct", False),
    ("amax", np.amax, "distinct", False),
    ("amin", np.amin, "distinct", False),
    ("var", np.var, "any", True),
    ("std", np.std, "any", True),
    ("nansum", np.nansum, "any", False),
    ("nanmean", np.nanmean, "any", False),
    ("ptp", np.ptp, "distinct", False),
]:
    case(_name)(_reduction(_fn_, values=_vals, ddof=_ddof))
for _name, _vals, _ddof in [
    ("sum", "any", False),
    ("mean", "any", False),
    ("prod", "zeros", False),
    ("max", "distinct", False),
    ("min", "distinct", False),
    ("var", "any", True),
    ("std", "any", True),
]:
    case(f".{_name}")(_reduction(np.sum, values=_vals, ddof=_ddof, method=_name))


@case("average")
def _average(d: Draw) -> Case:
    s = d.shape(1, 3)
    x = d.values(s)
    axis = d.axis(len(s))
    if d.flag():
        keep = d.flag()
        return Case(lambda v: np.average(v, axis=axis, keepdims=keep), [x])
    # weights of a's shape, or of the shape of the averaged axes (in the order given)
    ax = None if axis is None else [axis] if isinstance(axis, int) else list(axis)
    w = d.values(s, 0.5, 2) if not ax or d.flag() else d.values(tuple(s[a] for a in ax), 0.5, 2)
    if d.flag():
        return Case(lambda v, u: np.average(v, axis=axis, weights=u), [x, w])
    return Case(lambda v: np.average(v, axis=axis, weights=w), [x])


def _scan(fn: Callable[..., Any], method: str | None = None) -> CaseMaker:
    def make(d: Draw) -> Case:
        s = d.shape()
        x = d.values(s)
        axis = d.axis(len(s), tuples=False)
        if len(s) == 0:
            axis = d.pick([None, 0, -1])
        xv, view = d.view(x)
        if method is not None:
            return Case(
                lambda v: getattr(view(v), method)(axis=axis),
                [xv],
                plain=lambda v: getattr(view(v), method)(axis=axis),
            )
        return Case(lambda v: fn(view(v), axis=axis), [xv])

    return make


case("cumsum")(_scan(np.cumsum))
case("cumprod")(_scan(np.cumprod))
case(".cumsum")(_scan(np.cumsum, "cumsum"))
case(".cumprod")(_scan(np.cumprod, "cumprod"))


@case("ufunc.reduce")
def _ufunc_reduce(d: Draw) -> Case:
    u = d.pick([np.add, np.multiply, np.maximum, np.minimum, np.fmax, np.fmin])
    s = d.shape(1, 4)
    x = d.distinct(s)
    axis = d.axis(len(s))
    kw: dict[str, Any] = {"axis": axis} if d.flag() else {}
    if d.flag():
        kw["keepdims"] = d.flag()
    return Case(lambda v: u.reduce(v, **kw), [x])


@case("ufunc.accumulate")
def _ufunc_accumulate(d: Draw) -> Case:
    u = d.pick([np.add, np.multiply])
    s = d.shape(1, 4)
    x = d.values(s)
    axis = d.pick(list(range(-len(s), len(s))))
    return Case(lambda v: u.accumulate(v, axis=axis), [x])


# ---- shape functions --------------------------------------------------------------------------


def _shape_case(make: Callable[[Draw, Any], tuple[Callable[..., Any], Any]]) -> CaseMaker:
    def wrapped(d: Draw) -> Case:
        f, x = make(d, None)
        xs = x if isinstance(x, list) else [x]
        return Case(f, xs, exact=True)

    return wrapped


def _reshape_target(d: Draw, s: tuple[int, ...]) -> Any:
    n = math.prod(s)
    divisors = [k for k in range(1, n + 1) if n % k == 0] or [1]
    k = d.pick(divisors)
    options: list[Any] = (
        [-1, (n,), (k, n // k), (-1, k), (1, n, 1), (n // k, -1)]
        if n
        else [(0,), (-1, 3), (3, 0, 2)]
    )
    return d.pick(options)


@case("reshape")
@_shape_case
def _reshape(d: Draw, _: Any) -> Any:
    s = d.shape()
    x, view = d.view(d.values(s))
    target = _reshape_target(d, s)
    return (lambda v: np.reshape(view(v), target)), x


@case(".reshape")
@_shape_case
def _reshape_m(d: Draw, _: Any) -> Any:
    s = d.shape()
    x, view = d.view(d.values(s))
    target = _reshape_target(d, s)
    if isinstance(target, tuple) and d.flag():
        return (lambda v: view(v).reshape(*target)), x
    return (lambda v: view(v).reshape(target)), x


@case("ravel", ".ravel", ".flatten")
@_shape_case
def _ravel(d: Draw, _: Any) -> Any:
    s = d.shape()
    x, view = d.view(d.values(s))
    how = d.pick(["np", "ravel", "flatten"])
    if how == "np":
        return (lambda v: np.ravel(view(v))), x
    return (lambda v: getattr(view(v), how)()), x


@case("transpose", ".transpose", ".T")
@_shape_case
def _transpose(d: Draw, _: Any) -> Any:
    s = d.shape()
    x, view = d.view(d.values(s))
    perm = tuple(int(a) for a in d.rng.permutation(len(s)))
    perm = tuple(a - len(s) if d.flag() else a for a in perm)
    how = d.pick(["np", "np-none", "method", "method-star", ".T"])
    if how == "np":
        return (lambda v: np.transpose(view(v), perm)), x
    if how == "np-none":
        return (lambda v: np.transpose(view(v))), x
    if how == "method":
        return (lambda v: view(v).transpose(perm)), x
    if how == "method-star" and perm:
        return (lambda v: view(v).transpose(*perm)), x
    return (lambda v: view(v).T), x


@case("swapaxes", ".swapaxes", "moveaxis")
@_shape_case
def _swap(d: Draw, _: Any) -> Any:
    s = d.shape(1, 4)
    x, view = d.view(d.values(s))
    i, j = d.int(-len(s), len(s) - 1), d.int(-len(s), len(s) - 1)
    how = d.pick(["np", "method", "move", "move-multi"])
    if how == "np":
        return (lambda v: np.swapaxes(view(v), i, j)), x
    if how == "method":
        return (lambda v: view(v).swapaxes(i, j)), x
    if how == "move":
        return (lambda v: np.moveaxis(view(v), i, j)), x
    k = d.int(0, len(s))
    src = [int(a) for a in d.rng.permutation(len(s))[:k]]
    dst = [int(a) for a in d.rng.permutation(len(s))[:k]]
    return (lambda v: np.moveaxis(view(v), src, dst)), x


@case("expand_dims", "squeeze", ".squeeze", "atleast_1d", "atleast_2d", "atleast_3d")
@_shape_case
def _dims(d: Draw, _: Any) -> Any:
    s = tuple(n if d.int(0, 2) else 1 for n in d.shape())
    x, view = d.view(d.values(s))
    how = d.pick(["expand", "expand-tuple", "squeeze", "squeeze-axis", "method", "a1", "a2", "a3"])
    if how == "expand":
        ax = d.int(-len(s) - 1, len(s))
        return (lambda v: np.expand_dims(view(v), ax)), x
    if how == "expand-tuple":
        k = d.int(1, 2)
        ax2 = tuple(
            int(a) - (len(s) + k) if d.flag() else int(a) for a in d.rng.permutation(len(s) + k)[:k]
        )
        return (lambda v: np.expand_dims(view(v), ax2)), x
    ones = tuple(i for i, n in enumerate(s) if n == 1)
    if how == "squeeze-axis" and ones:
        k = d.int(1, len(ones))
        axs = tuple(a - len(s) if d.flag() else a for a in ones[:k])
        return (lambda v: np.squeeze(view(v), axis=axs)), x
    if how in ("squeeze", "squeeze-axis"):
        return (lambda v: np.squeeze(view(v))), x
    if how == "method":
        return (lambda v: view(v).squeeze()), x
    fn = {"a1": np.atleast_1d, "a2": np.atleast_2d, "a3": np.atleast_3d}[how]
    return (lambda v: fn(view(v))), x


@case("broadcast_to")
@_shape_case
def _broadcast_to(d: Draw, _: Any) -> Any:
    small, big = d.broadcast_pair()
    out = np.broadcast_shapes(small, big)
    x = d.values(small)
    return (lambda v: np.broadcast_to(v, out)), _as_arg(d, x)


@case("concatenate", "stack", "vstack", "hstack", "column_stack", "dstack")
def _joins(d: Draw) -> Case:
    fn_name = d.pick(["concatenate", "stack", "vstack", "hstack", "column_stack", "dstack"])
    fn = getattr(np, fn_name)
    s = d.shape(1 if fn_name == "concatenate" else 0, 3)
    k = d.int(1, 3)
    ax = (
        d.int(-len(s), len(s) - 1)
        if fn_name == "concatenate" and s
        else d.int(-len(s) - 1, len(s))
        if fn_name == "stack"
        else 0
    )
    shapes = []
    for _ in range(k):
        t = list(s)
        if fn_name == "concatenate":
            t[ax] = d.int(0, 3)
        elif fn_name in ("vstack",) and len(s) >= 2:
            t[0] = d.int(1, 3)
        elif fn_name in ("hstack",) and len(s) >= 1:
            t[1 if len(s) >= 2 else 0] = d.int(1, 3)
        elif fn_name == "dstack" and len(s) >= 3:
            t[2] = d.int(1, 3)
        shapes.append(tuple(t))
    arrays = [d.values(t) for t in shapes]
    live = [d.flag() or i == 0 for i in range(k)]
    kw = {"axis": ax} if fn_name in ("concatenate", "stack") else {}
    if fn_name == "concatenate" and d.int(0, 4) == 0:
        kw = {"axis": None}

    as_tuple = d.flag()

    def f(*vs: Any) -> Any:
        it = iter(vs)
        parts = [next(it) if on else a for on, a in zip(live, arrays)]
        return fn(tuple(parts) if as_tuple else parts, **kw)

    return Case(f, [a for on, a in zip(live, arrays) if on], exact=True)


@case("split", "array_split")
def _splits(d: Draw) -> Case:
    s = d.shape(1, 3)
    ax = d.int(-len(s), len(s) - 1)
    n = s[ax]
    x = d.values(s)
    equal = d.flag()
    if equal:
        k = d.pick([m for m in range(1, n + 1) if n % m == 0])
        sections: Any = k if d.flag() else [d.int(-n - 1, n + 2) for _ in range(d.int(0, 3))]
        fn = np.split
    else:
        sections = (
            d.int(1, n + 2) if d.flag() else [d.int(-n - 1, n + 2) for _ in range(d.int(0, 3))]
        )
        fn = np.array_split
    return Case(lambda v: fn(v, sections, axis=ax), [x], exact=True)


@case("repeat", ".repeat", "tile")
def _repeat(d: Draw) -> Case:
    s = d.shape()
    x, view = d.view(d.values(s))
    how = d.pick(["flat", "axis", "counts", "method", "tile"])
    if how == "flat":
        r = d.int(0, 3)
        return Case(lambda v: np.repeat(view(v), r), [x], exact=True)
    if how in ("axis", "counts", "method") and s:
        ax = d.int(-len(s), len(s) - 1)
        reps: Any = (
            d.int(0, 3) if how != "counts" else [int(c) for c in d.rng.integers(0, 3, size=s[ax])]
        )
        if how == "method":
            return Case(lambda v: view(v).repeat(reps, axis=ax), [x], exact=True)
        return Case(lambda v: np.repeat(view(v), reps, axis=ax), [x], exact=True)
    t = tuple(d.int(1, 3) for _ in range(d.int(0, 4)))
    tt: Any = t[0] if len(t) == 1 and d.flag() else t
    return Case(lambda v: np.tile(view(v), tt), [x], exact=True)


@case("flip", "fliplr", "flipud", "roll", "rot90")
def _flips(d: Draw) -> Case:
    how = d.pick(["flip", "lr", "ud", "roll", "rot90"])
    s = d.shape(2 if how in ("lr", "rot90") else 1 if how == "ud" else 0)
    x, view = d.view(d.values(s))
    if how == "flip":
        ax = d.axis(len(s))
        return Case(lambda v: np.flip(view(v), axis=ax), [x], exact=True)
    if how == "lr":
        return Case(lambda v: np.fliplr(view(v)), [x], exact=True)
    if how == "ud":
        return Case(lambda v: np.flipud(view(v)), [x], exact=True)
    if how == "rot90":
        k = d.int(-5, 5)
        i = d.int(0, len(s) - 1)
        j = d.pick([a for a in range(len(s)) if a != i])
        return Case(lambda v: np.rot90(view(v), k, axes=(i, j)), [x], exact=True)
    shift: Any = d.int(-7, 7)
    rax: Any = None
    if s and d.flag():
        rax = d.axis(len(s), none=False)
        if isinstance(rax, tuple):
            shift = tuple(d.int(-7, 7) for _ in rax)
    return Case(lambda v: np.roll(view(v), shift, axis=rax), [x], exact=True)


@case("tril", "triu", "diag", "diagonal", ".diagonal", "trace", ".trace")
def _triangles(d: Draw) -> Case:
    how = d.pick(["tril", "triu", "diag1", "diag2", "diagonal", "mdiagonal", "trace", "mtrace"])
    k = d.int(-3, 3)
    if how == "diag1":
        x = d.values((d.int(0, 4),))
        return Case(lambda v: np.diag(v, k), [x], exact=True)
    s = d.shape(2 if how != "tril" and how != "triu" else 1, 4)
    x, view = d.view(d.values(s))
    if how in ("tril", "triu"):
        fn = np.tril if how == "tril" else np.triu
        return Case(lambda v: fn(view(v), k), [x], exact=True)
    if how == "diag2":
        x = d.values(s[:2])
        return Case(lambda v: np.diag(v, k), [x], exact=True)
    a1 = d.int(-len(s), len(s) - 1)
    a2 = d.pick([a for a in range(-len(s), len(s)) if a % len(s) != a1 % len(s)])
    if how in ("diagonal", "mdiagonal"):
        if how == "mdiagonal":
            return Case(lambda v: view(v).diagonal(k, a1, a2), [x], exact=True)
        return Case(lambda v: np.diagonal(view(v), k, a1, a2), [x], exact=True)
    if how == "mtrace":
        return Case(lambda v: view(v).trace(k, a1, a2), [x])
    return Case(lambda v: np.trace(view(v), offset=k, axis1=a1, axis2=a2), [x])


@case("pad")
def _pad(d: Draw) -> Case:
    s = d.shape(0, 3)
    x, view = d.view(d.values(s))
    how = d.pick(["int", "pair", "per-axis", "per-axis-pairs", "values"])
    if how == "int":
        w: Any = d.int(0, 2)
    elif how == "pair":
        w = (d.int(0, 2), d.int(0, 2))
    elif how == "per-axis" and s:
        w = tuple((d.int(0, 2),) for _ in s)
    else:
        w = tuple((d.int(0, 2), d.int(0, 2)) for _ in s) or 1
    kw: dict[str, Any] = (
        {"constant_values": d.pick([0.0, 1.5, (1.0, -2.0)])} if how == "values" else {}
    )
    return Case(lambda v: np.pad(view(v), w, **kw), [x], exact=True)


@case("copy", ".copy")
def _copy(d: Draw) -> Case:
    s = d.shape()
    x, view = d.view(d.values(s))
    if d.flag():
        return Case(lambda v: np.copy(view(v)), [x], exact=True)
    return Case(lambda v: view(v).copy(), [x], exact=True)


# ---- products ---------------------------------------------------------------------------------


@case("dot", ".dot")
def _dot(d: Draw) -> Case:
    k = d.int(1, 3)
    kind = d.pick(["00", "0n", "n0", "11", "21", "12", "22", "31", "13", "32", "23"])

    def shape(c: str, first: bool) -> tuple[int, ...]:
        if c == "0":
            return ()
        if c == "1":
            return (k,)
        if c == "2":
            return (d.int(1, 3), k) if first else (k, d.int(1, 3))
        return (d.int(1, 2), d.int(1, 3), k) if first else (d.int(1, 2), k, d.int(1, 3))

    if kind == "0n":
        sa, sb = (), d.shape(0, 3)
    elif kind == "n0":
        sa, sb = d.shape(0, 3), ()
    else:
        sa, sb = shape(kind[0], True), shape(kind[1], False)
    a, b = d.values(sa), d.values(sb)
    how = d.pick(["np", "method", "plain-b"])
    if how == "method" and sa:
        return Case(lambda x, y: x.dot(y), [a, b], plain=lambda x, y: np.dot(x, y))
    if how == "plain-b":
        return Case(lambda x: np.dot(x, b), [_as_arg(d, a)])
    return Case(lambda x, y: np.dot(x, y), [_as_arg(d, a), _as_arg(d, b)])


@case("vdot", "inner", "outer")
def _vdot(d: Draw) -> Case:
    how = d.pick(["vdot", "inner", "outer"])
    if how == "vdot":
        s = d.shape(1, 3)
        a, b = d.values(s), d.values(s)
        return Case(lambda x, y: np.vdot(x, y), [a, b])
    if how == "outer":
        a, b = d.values(d.shape(0, 2)), d.values(d.shape(0, 2))
        return Case(lambda x, y: np.outer(x, y), [a, b])
    k = d.int(1, 3)
    sa = (*d.shape(0, 2), k)
    sb = (*d.shape(0, 2), k)
    if d.int(0, 3) == 0:
        sa = ()
    return Case(lambda x, y: np.inner(x, y), [_as_arg(d, d.values(sa)), d.values(sb)])


@case("tensordot")
def _tensordot(d: Draw) -> Case:
    shared = d.shape(0, 2)
    fa, fb = d.shape(0, 2), d.shape(0, 2)
    how = d.pick(["int", "lists"])
    if how == "int":
        a, b = d.values((*fa, *shared)), d.values((*shared, *fb))
        n = len(shared)
        return Case(lambda x, y: np.tensordot(x, y, n), [a, b])
    # axis j of a holds dimension pa[j] of (*shared, *fa): shared dimension i is a's axis pa.index(i)
    pa = [int(i) for i in d.rng.permutation(len(fa) + len(shared))]
    pb = [int(i) for i in d.rng.permutation(len(fb) + len(shared))]
    dims_a, dims_b = (*shared, *fa), (*shared, *fb)
    a = d.values(tuple(dims_a[p] for p in pa))
    b = d.values(tuple(dims_b[p] for p in pb))
    axes_a = [pa.index(i) - len(pa) if d.flag() else pa.index(i) for i in range(len(shared))]
    axes_b = [pb.index(i) for i in range(len(shared))]
    return Case(lambda x, y: np.tensordot(x, y, axes=(axes_a, axes_b)), [a, b])


EINSUMS: list[tuple[str, list[tuple[int, ...]]]] = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 2)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ijk->", [(2, 3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("...i,...i->...", [(3, 1, 4), (2, 4)]),
    ("i...->...", [(3, 2, 2)]),
    ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]),
    ("ij,j", [(2, 3), (3,)]),
    ("iij->j", [(2, 2, 3)]),
    (",i->i", [(), (3,)]),
    ("ab,cd->abcd", [(2, 1), (1, 3)]),
    ("ijk,kji->", [(2, 3, 2), (2, 3, 2)]),
    ("i,i,i", [(3,), (3,), (3,)]),
]


@case("einsum")
def _einsum(d: Draw) -> Case:
    spec, shapes = d.pick(EINSUMS)
    xs = [d.values(s) for s in shapes]
    live = [d.flag() or i == 0 for i in range(len(xs))]
    optimize = d.pick([False, True, "greedy"])

    def f(*vs: Any) -> Any:
        it = iter(vs)
        ops = [next(it) if on else x for on, x in zip(live, xs)]
        return np.einsum(spec, *ops, optimize=optimize)

    return Case(f, [_as_arg(d, x) for on, x in zip(live, xs) if on])


@case("kron")
def _kron(d: Draw) -> Case:
    a, b = d.values(d.shape(0, 3)), d.values(d.shape(0, 3))
    return Case(lambda x, y: np.kron(x, y), [_as_arg(d, a), _as_arg(d, b)])


@case("cross")
def _cross(d: Draw) -> Case:
    sa, sb = d.broadcast_pair(max_nd=2)
    a, b = d.values((*sa, 3)), d.values((*sb, 3))
    if d.flag():
        return Case(lambda x, y: np.cross(x, y), [a, b])
    at, bt = np.moveaxis(a, -1, 0).copy(), np.moveaxis(b, -1, 0).copy()
    return Case(lambda x, y: np.cross(x, y, axisa=0, axisb=0, axisc=0), [at, bt])


# ---- selection --------------------------------------------------------------------------------


@case("where")
def _where(d: Draw) -> Case:
    sc_, sa = d.broadcast_pair()
    sb = d.pick([sa, sc_, ()])
    cond = d.rng.uniform(size=sc_) > 0.5
    a, b = d.values(sa), d.values(sb)
    how = d.pick(["both", "a", "float", "intcond"])
    if how == "both":
        return Case(lambda x, y: np.where(cond, x, y), [_as_arg(d, a), _as_arg(d, b)])
    if how == "a":
        return Case(lambda x: np.where(cond, x, b), [a])
    if how == "float":
        return Case(lambda y: np.where(cond, 0.5, y), [b])
    icond = cond.astype(np.int64) * 3
    return Case(lambda x, y: np.where(icond, x, y), [a, b])


@case("clip", ".clip")
def _clip(d: Draw) -> Case:
    sx, sb = d.broadcast_pair()
    x = (
        d.rng.integers(-3, 3, size=sx) + 0.5 + d.rng.uniform(0, 0.05, size=sx)
    )  # bounds are integers
    lo = d.rng.integers(-3, 1, size=sb).astype(np.float64)
    hi = lo + d.rng.integers(1, 3, size=sb)  # lo == hi is a kink of both bounds
    how = d.pick(["np", "np-bvars", "None-lo", "None-hi", "method", "swapped", "float"])
    if how == "np":
        return Case(lambda v: np.clip(v, lo, hi), [x])
    if how == "np-bvars":
        return Case(lambda v, a, b: np.clip(v, a, b), [x, lo, hi])
    if how == "None-lo":
        return Case(lambda v, b: np.clip(v, None, b), [x, hi])
    if how == "None-hi":
        return Case(lambda v, a: np.clip(v, a, None), [x, lo])
    if how == "method":
        return Case(lambda v: v.clip(lo, hi), [x], plain=lambda v: v.clip(lo, hi))
    if how == "swapped":  # a_min > a_max: numpy gives a_max everywhere
        return Case(lambda v, a, b: np.clip(v, a, b), [x, hi + 1.0, lo])
    return Case(lambda v: np.clip(v, -1.0, 1.0), [_as_arg(d, x)])


@case("take", ".take", "take_along_axis")
def _take(d: Draw) -> Case:
    s = d.shape(1, 3)
    x, view = d.view(d.values(s))
    how = d.pick(["flat", "axis", "mode", "method", "along", "along-none"])
    if how in ("flat", "mode"):
        n = math.prod(s)
        mode = d.pick(["clip", "wrap"]) if how == "mode" else "raise"
        lo, hi = (-2 * n - 1, 2 * n + 2) if how == "mode" else (-n, n - 1)
        idx = d.rng.integers(lo, hi + 1, size=d.shape(0, 2))
        return Case(lambda v: np.take(view(v), idx, mode=mode), [x], exact=True)
    ax = d.int(-len(s), len(s) - 1)
    idx = d.rng.integers(-s[ax], s[ax], size=d.shape(0, 2))
    if how == "method":
        return Case(
            lambda v: view(v).take(idx, axis=ax),
            [x],
            exact=True,
            plain=lambda v: view(v).take(idx, axis=ax),
        )
    if how == "axis":
        return Case(lambda v: np.take(view(v), idx, axis=ax), [x], exact=True)
    if how == "along-none":
        flat = d.rng.integers(0, math.prod(s), size=(d.int(0, 4),))
        return Case(lambda v: np.take_along_axis(view(v), flat, axis=None), [x], exact=True)
    ishape = list(s)
    ishape[ax] = d.int(0, 4)
    ishape = [n if d.int(0, 2) else 1 for n in ishape]
    ishape[ax] = max(ishape[ax], 0)
    along = d.rng.integers(-s[ax], s[ax], size=tuple(ishape))
    return Case(lambda v: np.take_along_axis(view(v), along, axis=ax), [x], exact=True)


@case("choose", "select", "extract", "compress")
def _choose(d: Draw) -> Case:
    how = d.pick(["choose", "select", "extract", "compress", "compress-none"])
    s = d.shape(1, 3)
    if how == "choose":
        k = d.int(1, 3)
        mode = d.pick(["raise", "clip", "wrap"])
        idx = d.rng.integers(0, k, size=s) if mode == "raise" else d.rng.integers(-2, k + 2, size=s)
        chs = [d.values(s[d.int(0, len(s)) :]) for _ in range(k)]
        return Case(lambda *cs: np.choose(idx, list(cs), mode=mode), chs, exact=True)
    if how == "select":
        k = d.int(1, 3)
        conds = [d.rng.uniform(size=s) > 0.5 for _ in range(k)]
        chs = [d.values(s) for _ in range(k)]
        default = d.values(s[-1:])
        return Case(
            lambda dflt, *cs: np.select(conds, list(cs), default=dflt), [default, *chs], exact=True
        )
    x = d.values(s)
    if how == "extract":
        cond = d.rng.uniform(size=s) > 0.5
        return Case(lambda v: np.extract(cond, v), [x], exact=True)
    if how == "compress":
        ax = d.int(-len(s), len(s) - 1)
        cond = list(d.rng.uniform(size=d.int(0, s[ax])) > 0.5)
        return Case(lambda v: np.compress(cond, v, axis=ax), [x], exact=True)
    cond = list(d.rng.uniform(size=d.int(0, x.size)) > 0.5)
    return Case(lambda v: np.compress(cond, v), [x], exact=True)


@case("sort")
def _sort(d: Draw) -> Case:
    s = d.shape(0, 3)
    x, view = d.view(d.distinct(s))
    ax = d.pick([None, -1] + list(range(-len(s), len(s))))
    if not s and ax is not None:
        ax = None
    kind = d.pick([None, "stable"])
    return Case(lambda v: np.sort(view(v), axis=ax, kind=kind), [x], exact=True)


# ---- np.linalg --------------------------------------------------------------------------------

L = np.linalg


def _square(d: Draw, batch: bool = True) -> Any:
    """A well-conditioned square matrix (or stack): 2I plus off-diagonal entries whose row sums
    stay below 1, so every eigenvalue is between 1 and 3 (Gershgorin)."""
    n = d.int(1, 3)
    b = d.shape(0, 1, max_side=2) if batch else ()
    return d.values((*b, n, n), -1.0, 1.0) / n + 2.0 * np.eye(n)


def _sym(v: Any) -> Any:
    """numpy's cholesky/eigh read one triangle; bprop returns the symmetric gradient (the G with
    <G, E> = df for every symmetric perturbation E): differentiate through a symmetrisation so
    that both agree."""
    return (v + np.swapaxes(v, -1, -2)) / 2.0


@case("linalg.det", "linalg.slogdet", "linalg.inv", "linalg.solve", "linalg.matrix_power")
def _linalg_basic(d: Draw) -> Case:
    how = d.pick(["det", "slogdet", "logabsdet", "inv", "solve", "solve-mat", "power"])
    a = _square(d)
    if how == "det":
        return Case(lambda m: L.det(m), [a])
    if how == "slogdet":
        return Case(lambda m: L.slogdet(m), [a], grad=False)
    if how == "logabsdet":
        return Case(lambda m: L.slogdet(-m)[1], [a])
    if how == "inv":
        return Case(lambda m: L.inv(m), [a])
    if how == "power":
        k = d.int(-2, 3)
        return Case(lambda m: L.matrix_power(m, k), [a])
    n = a.shape[-1]
    b = d.values(
        (*a.shape[:-2], n) if how == "solve" and a.ndim == 2 else (*a.shape[:-1], d.int(1, 2))
    )
    return Case(lambda m, r: L.solve(m, r), [a, b])


@case("linalg.cholesky", "linalg.eigh", "linalg.eigvalsh")
def _linalg_sym(d: Draw) -> Case:
    a = _square(d)
    a = a @ np.swapaxes(a, -1, -2)
    how = d.pick(["chol", "chol-upper", "eigh", "eigvalsh"])
    if how == "chol":
        return Case(lambda m: L.cholesky(_sym(m)), [a])
    if how == "chol-upper":
        return Case(lambda m: L.cholesky(_sym(m), upper=True), [a])
    if how == "eigvalsh":
        return Case(lambda m: L.eigvalsh(_sym(m)), [a])
    # eigenvectors up to sign: compare V**2 (eigenvalues of a + 3I... are distinct almost surely)
    return Case(lambda m: (L.eigh(_sym(m))[0], L.eigh(_sym(m))[1] ** 2), [a], rtol=1e-4, atol=1e-6)


@case("linalg.svd", "linalg.pinv", "linalg.qr")
def _linalg_rect(d: Draw) -> Case:
    m, n = d.int(1, 4), d.int(1, 4)
    b = d.shape(0, 1, max_side=2)
    # well separated singular values (1, 2, 3, 4 perturbed by at most 0.4): the singular vectors
    # and the pseudo-inverse are well-conditioned there
    scale = np.zeros((m, n))
    scale[np.arange(min(m, n)), np.arange(min(m, n))] = np.arange(1.0, min(m, n) + 1.0)
    a = d.values((*b, m, n), -0.1, 0.1) + scale
    how = d.pick(["svals", "svd", "pinv", "qr", "qr-r"])
    if how == "svals":
        return Case(lambda x: L.svd(x, compute_uv=False), [a])
    if how == "svd":

        def f(x: Any) -> Any:
            u, s, vt = L.svd(x, full_matrices=False)
            return s, u**2, vt**2

        return Case(f, [a], rtol=1e-4, atol=1e-6)
    if how == "pinv":
        return Case(lambda x: L.pinv(x), [a], rtol=1e-4, atol=1e-6)
    if how == "qr-r":
        return Case(lambda x: L.qr(x, mode="r"), [a])
    return Case(lambda x: tuple(L.qr(x)), [a], rtol=1e-4, atol=1e-6)


@case("linalg.multi_dot")
def _multi_dot(d: Draw) -> Case:
    k = d.int(2, 4)
    dims = [d.int(1, 3) for _ in range(k + 1)]
    shapes = [(dims[i], dims[i + 1]) for i in range(k)]
    if d.flag():
        shapes[0] = shapes[0][1:]
    if d.flag():
        shapes[-1] = shapes[-1][:1]
    xs = [d.values(s) for s in shapes]
    return Case(lambda *vs: L.multi_dot(list(vs)), xs)


@case("linalg.norm")
def _norm(d: Draw) -> Case:
    how = d.pick(["vector", "matrix", "default"])
    keep = d.flag()
    if how == "default":
        s = d.shape(0, 4)
        x = d.values(s)
        if d.flag() or len(s) > 2:
            ax = d.axis(len(s), tuples=False, none=False) if s else None
            return Case(lambda v: L.norm(v, axis=ax, keepdims=keep), [x])
        return Case(lambda v: L.norm(v, keepdims=keep), [x])
    if how == "vector":
        s = d.shape(1, 3)
        ax = d.int(-len(s), len(s) - 1)
        ord_ = d.pick([None, 1, 2, 3, 0.5, np.inf, -np.inf])
        x = d.distinct(s) + 0.03 if ord_ in (np.inf, -np.inf) else d.away(s)
        if ord_ in (np.inf, -np.inf):  # distinct |x|
            x = np.abs(x) + 0.5
        return Case(lambda v: L.norm(v, ord=ord_, axis=ax, keepdims=keep), [x])
    s = (*d.shape(0, 1, max_side=2), d.int(1, 3), d.int(1, 3))
    ax2 = d.pick([(-2, -1), (-1, -2), (len(s) - 1, len(s) - 2)])
    ord_ = d.pick([None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
    x = d.away(s, 0.3, 2.0) if ord_ in (1, -1, np.inf, -np.inf) else d.values(s)
    if ord_ in (1, -1, np.inf, -np.inf):
        # the row and column sums of |x| must be distinct (max/min of them): spread the entries
        x = np.abs(x) * (1 + np.arange(math.prod(s)).reshape(s))
    if ord_ in (2, -2, "nuc"):  # distinct singular values, away from 0
        k = min(s[-2:])
        diag = np.zeros(s[-2:])
        diag[np.arange(k), np.arange(k)] = np.arange(1.0, k + 1.0)
        x = d.values(s, -0.1, 0.1) + diag
    return Case(lambda v: L.norm(v, ord=ord_, axis=ax2, keepdims=keep), [x], rtol=1e-4, atol=1e-6)


# ---- scipy.special functions of whole arrays (bprop.numpy.special) ---------------------------


@case("special.logsumexp", "special.softmax", "special.log_softmax")
def _special_arrays(d: Draw) -> Case:
    from bprop.numpy import special as bsp

    s = d.shape(0, 3)
    x = d.values(s)
    ax = d.axis(len(s))
    how = d.pick(["logsumexp", "softmax", "log_softmax"])
    if how == "logsumexp":
        keep = d.flag()
        if not s:  # scipy 1.17's logsumexp of a 0-d array gives shape (1,) with keepdims or axis=()
            ax, keep = None, False
        return Case(
            lambda v: bsp.logsumexp(v, axis=ax, keepdims=keep),
            [x],
            plain=lambda v: sc.logsumexp(v, axis=ax, keepdims=keep),
        )
    fn, ref = getattr(bsp, how), getattr(sc, how)
    return Case(lambda v: fn(v, axis=ax), [x], plain=lambda v: ref(v, axis=ax))


# ---- functions with plain results (no gradient) -----------------------------------------------

PLAIN: dict[str, Callable[[Any], Any]] = {
    "argmax": lambda v: np.argmax(v, axis=-1),
    "argmin": lambda v: np.argmin(v),
    "argsort": lambda v: np.argsort(v, axis=0),
    "argwhere": lambda v: np.argwhere(v > 0),
    "nonzero": lambda v: np.nonzero(v > 0),
    "flatnonzero": lambda v: np.flatnonzero(v > 0),
    "count_nonzero": lambda v: np.count_nonzero(v > 0, axis=0),
    "searchsorted": lambda v: np.searchsorted(np.arange(3.0), v),
    "shape": np.shape,
    "size": np.size,
    "ndim": np.ndim,
    "isclose": lambda v: np.isclose(v, 0.5, atol=0.3),
    "allclose": lambda v: np.allclose(v, v),
    "array_equal": lambda v: np.array_equal(v, v),
    "zeros_like": np.zeros_like,
    "ones_like": np.ones_like,
    "full_like": lambda v: np.full_like(v, 2.5),
    "empty_like": lambda v: np.empty_like(v).shape,
    ".argmax": lambda v: v.argmax(),
    ".argmin": lambda v: v.argmin(axis=0),
    ".argsort": lambda v: v.argsort(),
    ".nonzero": lambda v: v.nonzero(),
    "any": lambda v: np.any(v > 0, axis=0),
    "all": lambda v: np.all(v > -1.0),
    ".any": lambda v: v.any(),
    ".all": lambda v: v.all(axis=-1),
}


@pytest.mark.parametrize("name", sorted(PLAIN))
@FAST
@given(data=st.data())
def test_plain_result(name: str, data: st.DataObject) -> None:
    """Functions of values only: numpy's result (plain, never a BVar), no gradient."""
    d = Draw(data)
    s = d.shape(1, 3)
    x = d.distinct(s) if "arg" in name else d.values(s)
    fn = PLAIN[name]
    expected = fn(x)
    seen: list[Any] = []
    bp.eval_bp_n(lambda v: (seen.append(fn(v)), v)[1], x)
    got = seen[0]
    assert not isinstance(got, bp.BVar)
    for g, e in zip(
        got if isinstance(got, tuple) else (got,),
        expected if isinstance(expected, tuple) else (expected,),
    ):
        assert not isinstance(g, bp.BVar)
        np.testing.assert_array_equal(g, e)
        assert np.asarray(g).dtype == np.asarray(e).dtype or np.asarray(e).dtype == np.float64


# ---- indexing and functional updates ----------------------------------------------------------


def _key(d: Draw, s: tuple[int, ...]) -> Any:
    """A random valid numpy index for shape `s`: integers, slices with steps, Ellipsis, None,
    integer arrays (repeats), boolean masks and their combinations."""
    parts: list[Any] = []
    used = 0
    ell = False
    advanced = False  # one advanced group (int arrays or a mask) per key: they must broadcast
    while used < len(s) and d.int(0, 3):
        kind = d.pick(["int", "slice", "none", "intarr", "ell", "bool", "intpair"])
        if kind in ("intarr", "bool", "intpair"):
            if advanced:
                kind = "slice"
            advanced = True
        if kind == "intpair" and used + 2 > len(s):
            kind = "intarr"
        n = s[used]
        if kind == "int":
            parts.append(d.int(-n, n - 1))
            used += 1
        elif kind == "slice":
            start = d.pick([None, d.int(-n - 2, n + 2)])
            stop = d.pick([None, d.int(-n - 2, n + 2)])
            step = d.pick([None, 1, 2, -1, -2, 3])
            parts.append(slice(start, stop, step))
            used += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "intarr":
            parts.append(
                d.rng.integers(-n, n, size=d.shape(0, 2))
                if d.flag()
                else [int(i) for i in d.rng.integers(-n, n, size=d.int(0, 3))]
            )
            used += 1
        elif kind == "ell" and not ell:
            parts.append(Ellipsis)
            ell = True
            used = len(s) - d.int(0, len(s) - used)
        elif kind == "bool":
            k = d.int(1, len(s) - used)
            parts.append(d.rng.uniform(size=s[used : used + k]) > 0.5)
            used += k
        elif kind == "intpair":  # two index arrays that broadcast: (k, 1) and (m,), or equal shapes
            sh = d.shape(1, 2)
            other = d.pick([sh, sh[-1:], (1,) * len(sh)])
            parts.append(d.rng.integers(-n, n, size=sh))
            parts.append(d.rng.integers(-s[used + 1], s[used + 1], size=other))
            used += 2
    if ell:  # the components after `...` index the last axes: fill the ones not drawn
        parts += [slice(None)] * (len(s) - used)
    if len(parts) == 1 and d.flag():
        return parts[0]
    return tuple(parts)


@case("getitem")
def _getitem(d: Draw) -> Case:
    s = d.shape(1, 4)
    x, view = d.view(d.values(s))
    key = _key(d, s)
    return Case(lambda v: view(v)[key], [x], exact=True)


@case("at.set", "at.add", "at.get")
def _at(d: Draw) -> Case:
    s = d.shape(1, 3)
    x = d.values(s)
    key = _key(d, s)
    try:
        target = np.shape(x[key])
    except IndexError:
        target = ()
    how = d.pick(["set", "add", "get", "scalar-set", "scalar-add"])
    y = d.values(target[d.int(0, len(target)) :])

    def np_set(v: Any, u: Any) -> Any:
        out = np.array(v, dtype=np.float64)
        out[key] = u
        return out

    def np_add(v: Any, u: Any) -> Any:
        out = np.array(v, dtype=np.float64)
        # broadcast first: numpy 2.4's add.at mis-broadcasts on 1-D arrays (see the regressions)
        np.add.at(out, key, np.broadcast_to(u, np.shape(out[key])))
        return out

    if how == "get":
        return Case(lambda v: v.at[key].get(), [x], plain=lambda v: v[key], exact=True)
    if how.startswith("scalar"):
        c = 1.5
        if how == "scalar-set":
            return Case(lambda v: v.at[key].set(c), [x], plain=lambda v: np_set(v, c), exact=True)
        return Case(lambda v: v.at[key].add(c), [x], plain=lambda v: np_add(v, c))
    # set with repeated indices: the last write wins in numpy, and the gradient of a value that
    # is overwritten is zero; with repeated integer arrays the result depends on the order:
    # only compare `set` where the key has no repeats
    if how == "set":
        flat = np.arange(x.size).reshape(s)[key]
        if np.unique(flat).size != np.size(flat):
            how = "add"
    if how == "set":
        return Case(lambda v, u: v.at[key].set(u), [x, y], plain=np_set, exact=True)
    return Case(lambda v, u: v.at[key].add(u), [x, y], plain=np_add)


# ---- the property test ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
@FAST
@given(data=st.data())
def test_value_and_gradient(name: str, data: st.DataObject) -> None:
    run_case(CASES[name](Draw(data)))


def _case_names() -> set[str]:
    out: set[str] = set()
    for n in list(CASES) + list(PLAIN):
        n = n.lstrip(".")
        if n.startswith("special."):
            out.add(f"scipy.{n}")
            continue
        if n.startswith("linalg."):
            out.add(f"numpy.{n}")
            continue
        out.add(f"numpy.{n}")
        out.add(f"scipy.special.{n}")
    return out


def test_every_registered_name_is_cross_checked() -> None:
    """The property test draws cases for (nearly) every entry of the registry."""
    missing = sorted(n for n in TABLE if n not in _case_names())
    assert missing == [], f"registry entries without a cross-check case: {missing}"
    methods = sorted(m for m in METHODS if f".{m}" not in CASES and f".{m}" not in PLAIN)
    assert methods == [], f"ndarray methods without a cross-check case: {methods}"
    assert set(UFUNCS) <= set(UNARY) | set(BINARY) | {"matmul"}, sorted(
        set(UFUNCS) - set(UNARY) - set(BINARY)
    )
    assert len(FUNCTIONS) > 90


# ---- invalid arguments: numpy's exception, never a value --------------------------------------


def _raises_like_numpy(f: Callable[..., Any], *xs: Any, name: str = "") -> None:
    """`f` raises on plain arrays; on BVars it raises the same class (a `ShapeError` for
    numpy's `ValueError`s and `LinAlgError`s about shapes; `ShapeError` is a `ValueError`), or a
    `TypeError` naming the function; never a value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            f(*xs)
        except Exception as e:  # noqa: BLE001
            expected: BaseException = e
        else:
            raise AssertionError("numpy accepts this: not an invalid-argument case")
        try:
            got = bp.eval_bp_n(f, *xs)
        except Exception as e:  # noqa: BLE001
            ok = isinstance(e, type(expected))
            ok = ok or (isinstance(expected, ValueError) and isinstance(e, bp.ShapeError))
            ok = ok or (
                isinstance(e, TypeError)
                and ("not supported on BVars" in str(e) or bool(name) and name in str(e))
            )
            assert ok, f"numpy raises {expected!r}, bprop {e!r}"
        else:
            raise AssertionError(f"numpy raises {expected!r}, bprop returns {got!r}")


X2 = np.arange(12.0).reshape(3, 4) / 7.0
X3 = np.arange(24.0).reshape(2, 3, 4) / 11.0
V5 = np.linspace(-1.0, 2.0, 5)

INVALID: list[tuple[str, Callable[..., Any], list[Any]]] = [
    # axes
    ("sum axis out of range", lambda v: np.sum(v, axis=2), [X2]),
    ("sum axis negative out of range", lambda v: np.sum(v, axis=-3), [X2]),
    ("sum repeated axis", lambda v: np.sum(v, axis=(0, -2)), [X2]),
    ("sum axis=True", lambda v: np.sum(v, axis=True), [X2]),
    ("mean axis list", lambda v: np.mean(v, axis=[0, 1]), [X2]),
    ("max axis array", lambda v: np.max(v, axis=np.array([0, 1])), [X2]),
    ("var axis float", lambda v: np.var(v, axis=1.0), [X2]),
    ("cumsum axis=True", lambda v: np.cumsum(v, axis=True), [X2]),
    ("cumsum axis tuple", lambda v: np.cumsum(v, axis=(0,)), [X2]),
    ("cumprod axis out of range", lambda v: np.cumprod(v, axis=2), [X2]),
    ("prod 0-d axis 1", lambda v: np.prod(v, axis=1), [np.array(2.0)]),
    ("mean 0-d axis 0", lambda v: np.mean(v, axis=0), [np.array(2.0)]),
    ("squeeze non-1 axis", lambda v: np.squeeze(v, axis=0), [X2]),
    ("expand_dims out of range", lambda v: np.expand_dims(v, 4), [X2]),
    ("transpose repeated", lambda v: np.transpose(v, (0, 0)), [X2]),
    ("transpose short", lambda v: np.transpose(v, (0,)), [X2]),
    ("swapaxes out of range", lambda v: np.swapaxes(v, 0, 5), [X2]),
    ("moveaxis repeated", lambda v: np.moveaxis(v, [0, 0], [1, 0]), [X2]),
    ("flip axis out of range", lambda v: np.flip(v, axis=3), [X2]),
    ("roll axis out of range", lambda v: np.roll(v, 1, axis=2), [X2]),
    ("rot90 same axes", lambda v: np.rot90(v, axes=(0, 0)), [X2]),
    ("rot90 1-d", lambda v: np.rot90(v), [V5]),
    ("diagonal same axes", lambda v: np.diagonal(v, 0, 1, 1), [X3]),
    ("diagonal 1-d", lambda v: np.diagonal(v), [V5]),
    ("trace 1-d", lambda v: np.trace(v), [V5]),
    ("diag 3-d", lambda v: np.diag(v), [X3]),
    ("norm axis repeated", lambda v: np.linalg.norm(v, axis=(1, 1)), [X3]),
    ("norm three axes", lambda v: np.linalg.norm(v, axis=(0, 1, 2)), [X3]),
    ("norm bad vector ord", lambda v: np.linalg.norm(v, ord="fro"), [V5]),
    ("norm bad matrix ord", lambda v: np.linalg.norm(v, ord=3), [X2]),
    ("norm ord for 3-d", lambda v: np.linalg.norm(v, ord=2), [X3]),
    # shapes
    ("add shapes", lambda a, b: a + b, [X2, V5]),
    ("maximum shapes", lambda a, b: np.maximum(a, b), [X2, X3[:, :2]]),
    ("arctan2 shapes", lambda a: np.arctan2(a, V5), [X2]),
    ("where shapes", lambda a, b: np.where(X2 > 0.5, a, b), [X2, V5]),
    ("clip shapes", lambda a: np.clip(a, V5, 3.0), [X2]),
    ("reshape size", lambda v: np.reshape(v, (5, 2)), [X2]),
    ("reshape two -1", lambda v: np.reshape(v, (-1, -1)), [X2]),
    ("broadcast_to smaller", lambda v: np.broadcast_to(v, (4,)), [X2]),
    ("concatenate shapes", lambda a, b: np.concatenate([a, b]), [X2, X3]),
    ("concatenate 0-d", lambda a: np.concatenate([a, a]), [np.array(1.0)]),
    ("concatenate axis", lambda a: np.concatenate([a, a], axis=2), [X2]),
    ("concatenate nothing", lambda a: np.concatenate([]) + a, [X2]),
    ("stack shapes", lambda a, b: np.stack([a, b]), [X2, X2.T]),
    ("stack nothing", lambda a: np.stack([]) + a, [X2]),
    ("vstack shapes", lambda a: np.vstack([a, V5]), [X2]),
    ("split unequal", lambda v: np.split(v, 3), [V5]),
    ("split 0 sections", lambda v: np.array_split(v, 0), [V5]),
    ("repeat counts length", lambda v: np.repeat(v, [1, 2], axis=0), [X2]),
    ("repeat negative", lambda v: np.repeat(v, -1), [X2]),
    ("tile negative", lambda v: np.tile(v, -1), [X2]),
    ("pad negative", lambda v: np.pad(v, -1), [X2]),
    ("pad too many", lambda v: np.pad(v, ((1, 1), (1, 1), (1, 1))), [X2]),
    ("dot shapes", lambda a, b: np.dot(a, b), [X2, X2]),
    ("matmul shapes", lambda a, b: a @ b, [X2, X2]),
    ("matmul batch shapes", lambda a, b: a @ b, [X3, np.ones((3, 4, 2))]),
    ("matmul 0-d", lambda a, b: np.matmul(a, b), [np.array(2.0), X2]),
    ("inner shapes", lambda a, b: np.inner(a, b), [X2, V5]),
    ("vdot sizes", lambda a, b: np.vdot(a, b), [X2, V5]),
    ("tensordot shapes", lambda a, b: np.tensordot(a, b, 1), [X2, X2]),
    ("tensordot axes", lambda a, b: np.tensordot(a, b, axes=([0], [1])), [X2, X2]),
    ("einsum shapes", lambda a, b: np.einsum("ij,jk->ik", a, b), [X2, X2]),
    ("einsum operand count", lambda a: np.einsum("ij,jk->ik", a), [X2]),
    ("einsum bad output", lambda a: np.einsum("ij->k", a), [X2]),
    ("cross shapes", lambda a, b: np.cross(a, b), [np.ones((2, 3)), np.ones((3, 3))]),
    ("take out of bounds", lambda v: np.take(v, [12]), [X2]),
    ("take axis out of bounds", lambda v: np.take(v, [3], axis=0), [X2]),
    ("take_along_axis ndim", lambda v: np.take_along_axis(v, np.array([0]), axis=0), [X2]),
    (
        "take_along_axis out of bounds",
        lambda v: np.take_along_axis(v, np.array([[5]]), axis=1),
        [X2],
    ),
    ("choose out of range", lambda a, b: np.choose(np.array([0, 2]), [a, b]), [V5[:2], V5[:2]]),
    ("compress out of range", lambda v: np.compress([True] * 4, v, axis=0), [X2]),
    ("select lengths", lambda a: np.select([X2 > 0.5], [a, a]), [X2]),
    # linalg
    ("det non-square", lambda a: np.linalg.det(a), [X2]),
    ("inv 1-d", lambda a: np.linalg.inv(a), [V5]),
    ("inv singular", lambda a: np.linalg.inv(a), [np.ones((2, 2))]),
    ("solve shapes", lambda a, b: np.linalg.solve(a, b), [np.eye(3), V5]),
    ("solve singular", lambda a, b: np.linalg.solve(a, b), [np.ones((2, 2)), V5[:2]]),
    ("cholesky not positive definite", lambda a: np.linalg.cholesky(a), [-np.eye(2)]),
    ("cholesky non-square", lambda a: np.linalg.cholesky(a), [X2]),
    ("eigh non-square", lambda a: np.linalg.eigh(a), [X2]),
    ("eigh bad UPLO", lambda a: np.linalg.eigvalsh(a, UPLO="X"), [np.eye(2)]),
    ("svd 1-d", lambda a: np.linalg.svd(a), [V5]),
    ("qr bad mode", lambda a: np.linalg.qr(a, mode="bogus"), [X2]),
    ("matrix_power non-square", lambda a: np.linalg.matrix_power(a, 2), [X2]),
    ("matrix_power float exponent", lambda a: np.linalg.matrix_power(a, 1.5), [np.eye(2)]),
    ("multi_dot one array", lambda a: np.linalg.multi_dot([a]), [X2]),
    ("multi_dot shapes", lambda a, b: np.linalg.multi_dot([a, b]), [X2, X2]),
    # reductions of nothing
    ("max of empty", lambda v: np.max(v), [np.zeros(0)]),
    ("min of empty axis", lambda v: np.min(v, axis=0), [np.zeros((0, 3))]),
    ("amax of empty", lambda v: np.amax(v), [np.zeros((2, 0))]),
    ("ptp of empty", lambda v: np.ptp(v), [np.zeros(0)]),
    ("maximum.reduce of empty", lambda v: np.maximum.reduce(v), [np.zeros((0, 2))]),
    ("fmax.reduce of empty", lambda v: np.fmax.reduce(v), [np.zeros((0, 2))]),
    ("add.accumulate of 0-d", lambda v: np.add.accumulate(v), [np.array(2.0)]),
    ("multiply.accumulate axis=None", lambda v: np.multiply.accumulate(v, axis=None), [X2]),
    # indexing
    ("index out of bounds", lambda v: v[3], [X2]),
    ("index too many", lambda v: v[0, 0, 0], [X2]),
    ("index float", lambda v: v[1.0], [X2]),
    ("index two ellipses", lambda v: v[..., ...], [X2]),
    ("index array out of bounds", lambda v: v[[0, 3]], [X2]),
    ("index mask shape", lambda v: v[np.array([True, False])], [X2]),
    ("index arrays shapes", lambda v: v[[0, 1], [0, 1, 2]], [X2]),
    ("index string", lambda v: v["a"], [X2]),
    ("at set shape", lambda v: v.at[0].set(np.ones(3)), [X2]),
]


@pytest.mark.parametrize("label", [c[0] for c in INVALID])
def test_invalid_arguments_raise(label: str) -> None:
    _, f, xs = next(c for c in INVALID if c[0] == label)
    if label.startswith("at "):  # numpy has no .at: compare with the in-place assignment
        with pytest.raises(ValueError):
            y = X2.copy()
            y[0] = np.ones(3)
        with pytest.raises(ValueError):
            bp.eval_bp_n(f, *xs)
        return
    _raises_like_numpy(f, *xs)


@FAST
@given(data=st.data())
def test_invalid_axis_property(data: st.DataObject) -> None:
    """A random reduction with an axis out of range or repeated raises numpy's exception."""
    d = Draw(data)
    s = d.shape(0, 3)
    x = d.values(s)
    fn = d.pick(
        [
            np.sum,
            np.mean,
            np.prod,
            np.max,
            np.min,
            np.var,
            np.std,
            np.nansum,
            np.nanmean,
            np.ptp,
            np.cumsum,
            np.cumprod,
            np.flip,
            np.expand_dims,
            np.average,
        ]
    )
    bad = d.pick(["big", "small", "repeat"])
    nd = len(s)
    if bad == "big":
        axis: Any = (
            nd + d.int(1 if fn is np.expand_dims else 0, 2) + (1 if fn is np.expand_dims else 0)
        )
    elif bad == "small":
        axis = -nd - d.int(1, 2) - (1 if fn is np.expand_dims else 0)
    else:
        if nd == 0 or fn in (np.cumsum, np.cumprod):
            axis = nd + 3
        else:
            a = d.int(0, nd - 1)
            axis = (a, a - nd) if d.flag() and fn is not np.expand_dims else (a, a)
    if nd == 0 and axis in (0, -1):
        axis = 5
    _raises_like_numpy(lambda v: fn(v, axis=axis), x)


@FAST
@given(data=st.data())
def test_invalid_broadcast_property(data: st.DataObject) -> None:
    """Binary ufuncs, where and clip on shapes that do not broadcast raise numpy's ValueError."""
    d = Draw(data)
    s = d.shape(1, 3, min_side=2)
    t = list(s)
    i = d.int(0, len(t) - 1)
    t[i] = t[i] + 1
    name = d.pick(sorted(BINARY))
    fn = _fn(name)
    a, b = d.values(s, 0.5, 1.5), d.values(tuple(t), 1.6, 2.5)
    if d.flag():
        _raises_like_numpy(lambda x, y: fn(x, y), a, b)
    else:
        _raises_like_numpy(lambda x: fn(b, x), a)


# ---- edge cases -------------------------------------------------------------------------------

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 1e-300, 1e300, 3.7])


def _check_value(f: Callable[..., Any], *xs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = f(*xs)
        got = bp.eval_bp_n(f, *xs)
    _compare(got, expected, exact=False)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_nan_inf_pattern(name: str) -> None:
    """NaN, ±inf, ±0 and huge/tiny inputs give numpy's values (NaN where numpy has NaN)."""
    fn = _fn(name)
    _check_value(lambda v: fn(v), SPECIAL)


@pytest.mark.parametrize("name", sorted(BINARY) + ["matmul-free"])
def test_binary_nan_inf_pattern(name: str) -> None:
    if name == "matmul-free":
        _check_value(lambda a, b: a @ b, SPECIAL[:4].reshape(2, 2), SPECIAL[4:8].reshape(2, 2))
        return
    fn = _fn(name)
    a, b = np.repeat(SPECIAL, SPECIAL.size), np.tile(SPECIAL, SPECIAL.size)
    _check_value(lambda x, y: fn(x, y), a, b)
    _check_value(lambda x: fn(x, b), a)
    _check_value(lambda y: fn(a, y), b)


REDUCERS: list[Callable[..., Any]] = [
    np.sum,
    np.mean,
    np.prod,
    np.max,
    np.min,
    np.var,
    np.std,
    np.nansum,
    np.nanmean,
    np.ptp,
    np.cumsum,
    np.cumprod,
    np.linalg.norm,
    np.fmax.reduce,
    np.fmin.reduce,
    np.maximum.reduce,
    np.add.reduce,
    np.sort,
]


@pytest.mark.parametrize("fn", REDUCERS, ids=lambda f: getattr(f, "__name__", repr(f)))
def test_reductions_nan_inf_pattern(fn: Callable[..., Any]) -> None:
    x = SPECIAL[[0, 1, 3, 5, 6, 8, 2, 7, 4, 11, 9, 10]].reshape(3, 4)
    for axis in (0, 1, -1):
        _check_value(lambda v, axis=axis: fn(v, axis=axis), x)
    y = np.array([[1.0, np.inf], [2.0, 3.0], [np.nan, np.nan]])
    _check_value(lambda v: fn(v, axis=-1), y)


@pytest.mark.parametrize(
    "f",
    [
        lambda v: np.sum(v, axis=0),
        lambda v: np.sum(v),
        lambda v: np.mean(v, axis=1),
        lambda v: np.prod(v, axis=0),
        lambda v: np.max(v, axis=1),
        lambda v: np.var(v, axis=1),
        lambda v: np.cumsum(v, axis=0),
        lambda v: np.cumprod(v),
        lambda v: v.T @ v,
        lambda v: v @ v.T,
        lambda v: np.reshape(v, (3, 0)),
        lambda v: np.ravel(v),
        lambda v: np.concatenate([v, v]),
        lambda v: np.stack([v, v], axis=-1),
        lambda v: np.exp(v) * 2.0,
        lambda v: v[v > 0],
        lambda v: v[:, [0, 0]],
        lambda v: np.einsum("ij->j", v),
        lambda v: np.linalg.norm(v, axis=0),
        lambda v: np.pad(v, 1),
        lambda v: np.tile(v, 2),
        lambda v: np.repeat(v, 2, axis=1),
        lambda v: np.flip(v),
        lambda v: np.where(v > 0, v, 0.0),
        lambda v: np.sort(v, axis=0),
        lambda v: np.transpose(v),
        lambda v: np.maximum(v, 0.5),
        lambda v: np.dot(v, np.ones((3, 2))),
        lambda v: np.tensordot(v, v, ([0], [0])),
        lambda v: np.kron(v, np.ones((2, 1))),
        lambda v: np.take(v, [], axis=0),
        lambda v: np.split(v, [0]),
    ],
)
def test_empty_arrays(f: Callable[..., Any]) -> None:
    """Size-0 arrays: values, shapes and (empty) gradients like numpy's."""
    x = np.zeros((0, 3))
    _check_value(f, x)
    y, pullback = bp.backprop_with_n(_tuplify(f), x)
    (g,) = pullback(_zeros_like_out(y))
    assert np.shape(g) == (0, 3)


def _zeros_like_out(y: Any) -> Any:
    if isinstance(y, tuple):
        return tuple(_zeros_like_out(e) for e in y)
    return np.zeros(np.shape(y)) if isinstance(y, np.ndarray) else 0.0


def test_empty_reductions_like_numpy() -> None:
    """Reductions over an empty axis: numpy's identities and NaNs (with a warning)."""
    e = np.zeros((0, 3))
    for f in [
        lambda v: np.sum(v, axis=0),
        lambda v: np.prod(v, axis=0),
        lambda v: np.mean(v, axis=0),
        lambda v: np.var(v, axis=0),
        lambda v: np.std(v),
        lambda v: np.max(v, axis=1),
        lambda v: np.nanmean(v, axis=0),
        lambda v: np.mean(v, axis=()),
        lambda v: np.sum(v, axis=()),
    ]:
        _check_value(f, e)


def test_length_one_axes() -> None:
    x = np.array([[[1.5]], [[-0.5]]])
    for f in [
        lambda v: np.squeeze(v),
        lambda v: np.sum(v, axis=(1, 2)),
        lambda v: np.max(v, axis=-1, keepdims=True),
        lambda v: v @ v.transpose(0, 2, 1),
        lambda v: np.broadcast_to(v, (2, 3, 4)) * 1.0,
        lambda v: np.var(v, axis=1),
        lambda v: np.linalg.norm(v, axis=(1, 2)),
        lambda v: v[:, 0, 0],
        lambda v: np.cumsum(v, axis=2),
        lambda v: np.linalg.det(v),
        lambda v: np.linalg.inv(v),
    ]:
        run_case(Case(f, [x]))


@pytest.mark.parametrize(
    "other",
    [
        np.arange(6).reshape(2, 3),
        np.arange(6).reshape(2, 3) % 2 == 0,
        np.int32(3),
        True,
        2,
        np.arange(3, dtype=np.uint8),
    ],
    ids=str,
)
def test_integer_and_boolean_operands(other: Any) -> None:
    """Integer and boolean plain operands mixed with float BVars: numpy's float64 values."""
    x = np.linspace(0.55, 2.05, 6).reshape(2, 3)  # no integer: maximum and clip are smooth there
    for f in [
        lambda v: v + other,
        lambda v: other - v,
        lambda v: v * other,
        lambda v: other / v,
        lambda v: np.maximum(v, other),
        lambda v: np.where(other, v, -v) if np.ndim(other) else v,
        lambda v: np.power(v, other),
        lambda v: np.arctan2(other, v),
        lambda v: np.hypot(v, other),
        lambda v: np.clip(v, other, 10) if np.ndim(other) == 0 else v,
        lambda v: v @ np.ones((3, 2), dtype=np.int64),
        lambda v: np.concatenate([v, np.broadcast_to(other, v.shape)]),
        lambda v: np.stack([v, np.broadcast_to(other, v.shape)]),
    ]:
        run_case(Case(f, [x]))


def test_zero_d_arrays_and_python_floats() -> None:
    """A 0-d array and a Python float are the same argument; scalar results are floats."""
    for x in (2.5, np.array(2.5), np.float64(2.5)):
        for f in [
            lambda v: np.exp(v),
            lambda v: np.sum(v),
            lambda v: np.mean(v),
            lambda v: v * np.array(3.0),
            lambda v: np.maximum(v, 1.0),
            lambda v: np.dot(v, np.array(2.0)),
            lambda v: np.reshape(v, ()),
            lambda v: np.squeeze(v),
            lambda v: np.linalg.norm(v),
            lambda v: np.where(True, v, 0.0),
            lambda v: np.clip(v, 0.0, 1.0),
            lambda v: np.cumsum(v),
            lambda v: np.atleast_1d(v),
            lambda v: np.expand_dims(v, 0),
            lambda v: np.broadcast_to(v, (2,)),
            lambda v: v**2,
        ]:
            xs = [x if isinstance(x, float) else np.asarray(x)]
            got = bp.eval_bp_n(f, *xs)
            expected = f(*xs)
            _compare(got, expected, exact=False)
            if np.ndim(expected) == 0:
                # a float; native kernels keep a 0-d array operand 0-d (numpy: np.float64)
                assert isinstance(got, float) or (
                    isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float64
                )
            run_case(Case(f, [float(x)]))


def test_results_are_never_object_arrays() -> None:
    """Every way of building an array from BVars either stacks them or raises TypeError."""
    x = np.array([1.0, 2.0])

    def f(v: Any) -> Any:
        for build in (
            lambda: np.array([v[0], v[1]]),
            lambda: np.asarray(v),
            lambda: np.array(v, dtype=object),
            lambda: np.asanyarray([v, v]),
        ):
            with pytest.raises(TypeError):
                build()
        return v

    bp.eval_bp_n(f, x)


# ---- regressions found by this cross-check ----------------------------------------------------


def test_regression_split_with_indices_out_of_order() -> None:
    """np.split(v, [3, 1]) gives overlapping pieces (v[:3], v[3:1], v[1:]): the gradient adds
    each piece back at its slice (it concatenated them, which raised a reshape error)."""
    x = np.linspace(-1.0, 1.0, 5)
    for sections in ([3, 1], [4, 2, 2], [-2, 1, 4], [2, 10]):
        run_case(Case(lambda v, sections=sections: np.split(v, sections), [x], exact=True))
        run_case(Case(lambda v, sections=sections: np.array_split(v, sections), [x], exact=True))
    _, pullback = bp.backprop_with_n(lambda v: tuple(np.split(v, [3, 1])), x)
    (g,) = pullback((np.ones(3), np.zeros(0), 10.0 * np.ones(4)))
    np.testing.assert_array_equal(g, [1.0, 11.0, 11.0, 10.0, 10.0])


def test_regression_fmax_fmin_reduce_skip_nans() -> None:
    """np.fmax.reduce / np.fmin.reduce ignore NaNs (NaN only where all are NaN); they ran as
    np.max / np.min, which propagate NaN: a wrong value for any input holding a NaN."""
    x = np.array([[np.nan, 1.0, 2.0], [np.nan, np.nan, -1.0], [0.5, np.nan, 3.0]])
    for u in (np.fmax, np.fmin):
        for kw in (
            {},
            {"axis": None},
            {"axis": 1},
            {"axis": -1, "keepdims": True},
            {"axis": (0, 1)},
        ):
            _check_value(lambda v, u=u, kw=kw: u.reduce(v, **kw), x)
    y, pullback = bp.backprop_with_n(lambda v: np.fmax.reduce(v, axis=1), x)
    np.testing.assert_array_equal(y, [2.0, -1.0, 3.0])
    (g,) = pullback(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(g, [[0.0, 0.0, 1.0], [0.0, 0.0, 10.0], [0.0, 0.0, 100.0]])


def test_regression_accumulate_of_0d_raises() -> None:
    """np.add.accumulate of a 0-d array is numpy's TypeError (it returned a 1-element array)."""
    _raises_like_numpy(lambda v: np.add.accumulate(v), np.array(2.0))
    _raises_like_numpy(lambda v: np.multiply.accumulate(v), np.array(2.0))


@pytest.mark.parametrize(
    "axis", [True, [0, 1], np.array([0, 1]), (0, True), np.bool_(False)], ids=repr
)
def test_regression_axis_must_be_int_or_tuple(axis: Any) -> None:
    """numpy's reductions take an int or a tuple of ints; bprop read `axis=True` as axis 1 and
    accepted lists and arrays (normalize_axis_tuple is lenient)."""
    for fn in (np.sum, np.mean, np.max, np.prod, np.var, np.std, np.ptp, np.nansum, np.nanmean):
        _raises_like_numpy(lambda v, fn=fn: fn(v, axis=axis), X2)
    if np.ndim(axis) == 0 and not isinstance(axis, tuple):
        for fn in (np.cumsum, np.cumprod):
            _raises_like_numpy(lambda v, fn=fn: fn(v, axis=axis), X2)
    run_case(Case(lambda v: np.average(v, axis=[0, 1]), [X2]))  # np.average does take a list


def test_regression_at_add_broadcast_update_with_multidimensional_index() -> None:
    """v.at[idx].add(u) on a 1-D v with a 2-D index array and an update that broadcasts: numpy
    2.4's np.add.at mis-broadcasts the update there, and bprop used it as is (a wrong value;
    its gradient was right for the right value)."""
    x = np.array([1.0, 2.0, 3.0])
    idx = np.array([[0, 2], [2, 1]])
    u = np.array([10.0, 20.0])
    for key in (idx, (idx,), (Ellipsis, idx)):
        np.testing.assert_array_equal(
            bp.eval_bp_n(lambda v, w, key=key: v.at[key].add(w), x, u), [11.0, 22.0, 33.0]
        )
        run_case(
            Case(
                lambda v, w, key=key: v.at[key].add(w),
                [x, u],
                plain=lambda v, w: (
                    v + np.bincount(idx.ravel(), np.broadcast_to(w, idx.shape).ravel(), minlength=3)
                ),
            )
        )


def test_regression_products_take_lists() -> None:
    """np.dot, np.matmul, `@`, np.inner and multi_dot accept plain lists as numpy does (they
    raised a TypeError naming matmul)."""
    x = np.array([0.5, -1.0, 2.0])
    for f in (
        lambda v: np.dot([1.0, 2.0, 3.0], v),
        lambda v: np.dot(v, (1, 2, 3)),
        lambda v: np.matmul([1.0, 2.0, 3.0], v),
        lambda v: [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]] @ v,
        lambda v: v @ [[1.0], [2.0], [3.0]],
        lambda v: np.inner([1.0, 2.0, 3.0], v),
        lambda v: np.linalg.multi_dot([[1.0, 2.0, 3.0], np.eye(3), v]),
    ):
        run_case(Case(f, [x]))
    with pytest.raises(TypeError):  # a list holding BVars is never an object array
        bp.eval_bp_n(lambda v: np.dot([v[0], v[1], v[2]], v), x)


def test_regression_softmax_of_inf_is_nan_like_scipy() -> None:
    """bprop.numpy.special.softmax of a slice holding +inf: scipy gives NaN for the whole slice;
    bprop gave NaN for the inf entry and 0 for the others."""
    from bprop.numpy import special as bsp

    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [0.5, -0.5]])
    for axis in (None, 0, 1, -1, (0, 1)):
        _check_value(lambda v, axis=axis: bsp.softmax(v, axis=axis), x)
        _check_value(lambda v, axis=axis: bsp.log_softmax(v, axis=axis), x)
        _check_value(lambda v, axis=axis: bsp.logsumexp(v, axis=axis), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(
            bp.eval_bp_n(lambda v: bsp.softmax(v, axis=1), x)[2], sc.softmax(x, axis=1)[2]
        )


def test_regression_tensordot_of_floats_and_lists() -> None:
    """np.tensordot with a float BVar or a list operand: the pullback read `.ndim` of the
    operand (AttributeError: 'float' object has no attribute 'ndim')."""
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    run_case(Case(lambda a, b: np.tensordot(a, b, 0), [1.5, x]))
    run_case(Case(lambda a, b: np.tensordot(a, b, 0), [x, 1.5]))
    run_case(Case(lambda a, b: np.tensordot(a, b, 0), [1.5, -0.5]))
    run_case(Case(lambda a: np.tensordot(a, [1.0, 2.0, 3.0, 4.0], 1), [x]))
    run_case(Case(lambda b: np.tensordot([1.0, 2.0, 3.0], b, 1), [x]))


def test_regression_sort_of_0d_raises_axis_error() -> None:
    """np.sort of a 0-d BVar along an axis is numpy's AxisError (np.argsort accepted it and the
    gather then raised an unrelated ValueError)."""
    for x in (1.5, np.array(1.5)):
        for axis in (-1, 0):
            _raises_like_numpy(lambda v, axis=axis: np.sort(v, axis=axis), x)
        run_case(Case(lambda v: np.sort(v, axis=None), [x], exact=True))


@case(".round")
def _round_method(d: Draw) -> Case:
    """`v.round(decimals)`: numpy's value, a zero gradient (checked by differences: flat)."""
    x = _off_grid(d, d.shape(1, 3))
    return Case(lambda v: v.round(), [x])
