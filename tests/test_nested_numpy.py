"""Nested differentiation through every entry of the numpy registry (issue 13).

For each case (a function of BVar arrays built on one registry entry, and a generator of random
inputs in its domain) the function's arrays are packed into one vector `p`, the output is folded
into a scalar with random weights, `f(p) = sum(w·y + u·y²)` (the `u·y²` term makes the cotangent
reaching the entry depend on `p`, so its pullback must be differentiable in the cotangent as well
as in its arguments), and `bp.hvp(f, p, d)` is checked against the central difference of
`bp.grad_bp(f, ·)` along `d`, for a random direction `d` and, with several arguments, for `d`
restricted to each argument (each argument's second derivative; the full `d` adds the cross
terms); the linear fold `sum(w·y)` (a plain cotangent, BVar arguments) is checked too.
Non-smooth entries are evaluated away from their kinks; piecewise-constant ones (floor, sign,
...) are multiplied by a smooth factor, so their (zero) derivative shows up in a non-zero
Hessian. A few Hessians are checked for symmetry and against `hvp`; third derivatives (three
nested runs) against central differences of `hvp` on a selection of entries, and against
closed forms for elementwise functions.

Registry names not covered by the Hessian cases, and why:

* `numpy.linalg.*`: tested in `tests/test_nested_linalg.py`.
* the functions with plain results (`argmax`, `nonzero`, `shape`, `isclose`, `zeros_like`, ...)
  have no derivative: `test_plain_results_inside_a_nested_run` checks that they read nested BVars
  by their values.
* `scipy.special.logsumexp`/`softmax`/`log_softmax` are scipy's own functions (they refuse BVars);
  their bprop versions, `bprop.numpy.special.*`, are covered.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bprop as bp
import bprop.numpy as bnp
import numpy as np
import pytest
import scipy.special as sc
from bprop.numpy._registry import TABLE, UFUNCS

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

Inputs = Callable[[np.random.Generator], tuple[Any, ...]]


def _seed(*parts: Any) -> int:
    """A seed that is the same in every run (str hashes are salted per process)."""
    return zlib.crc32(repr(parts).encode())


# ---- domains -----------------------------------------------------------------------------------


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.normal(size=shape)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(0.5, 2.0, size=shape)


def _away(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """0.5 ≤ |x| ≤ 2: away from the kinks at 0."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(-0.8, 0.8, size=shape)


def _above_one(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(1.2, 3.0, size=shape)


def _probability(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.uniform(0.1, 0.9, size=shape)


def _fractional(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """Values 0.2 away from integers and half-integers (the steps of floor, round, ...)."""
    whole = rng.integers(-3, 3, size=shape)
    return whole + rng.choice([0.2, 0.3, 0.7, 0.8], size=shape) + rng.uniform(-0.05, 0.05, shape)


def _tiny(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """Inside sinc's series branch (|πx| < 0.1)."""
    return rng.uniform(-0.02, 0.02, size=shape)


_DOMAINS: dict[str, Callable[[np.random.Generator, tuple[int, ...]], Any]] = {
    "normal": _normal,
    "positive": _positive,
    "away": _away,
    "unit": _unit,
    "above_one": _above_one,
    "probability": _probability,
    "fractional": _fractional,
    "tiny": _tiny,
}


def arrays(*specs: tuple[str, tuple[int, ...]]) -> Inputs:
    """A generator of one random array per `(domain, shape)`; shape `()` gives a float."""

    def make(rng: np.random.Generator) -> tuple[Any, ...]:
        out = []
        for domain, shape in specs:
            x = _DOMAINS[domain](rng, shape)
            out.append(float(x) if shape == () else np.asarray(x, dtype=np.float64))
        return tuple(out)

    return make


def one(domain: str = "normal", shape: tuple[int, ...] = (3, 4)) -> Inputs:
    return arrays((domain, shape))


# ---- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    names: tuple[str, ...]  # the TABLE entries this case goes through
    fn: Callable[..., Any]  # differentiable arguments -> array, float, or a list/tuple of them
    inputs: Inputs


CASES: dict[str, Case] = {}


def case(ident: str, names: str | tuple[str, ...], fn: Callable[..., Any], inputs: Inputs) -> None:
    assert ident not in CASES, ident
    CASES[ident] = Case((names,) if isinstance(names, str) else names, fn, inputs)


def _np(name: str) -> str:
    return f"numpy.{name}"


# Constants the cases close over (plain data: masks, conditions, indices).
_RNG = np.random.default_rng(1234)
_MASK = _RNG.random((3, 4)) < 0.4
_MASK[0, 0], _MASK[0, 1] = True, False
_COND2 = _RNG.random((3, 4)) < 0.4

# -- elementwise functions of one argument: (name, domain)
UNARY: list[tuple[str, str]] = [
    ("abs", "away"),
    ("absolute", "away"),
    ("fabs", "away"),
    ("negative", "normal"),
    ("positive", "normal"),
    ("reciprocal", "away"),
    ("exp", "normal"),
    ("log", "positive"),
    ("sqrt", "positive"),
    ("sin", "normal"),
    ("cos", "normal"),
    ("tan", "unit"),
    ("arcsin", "unit"),
    ("arccos", "unit"),
    ("arctan", "normal"),
    ("sinh", "normal"),
    ("cosh", "normal"),
    ("tanh", "normal"),
    ("arcsinh", "normal"),
    ("arccosh", "above_one"),
    ("arctanh", "unit"),
    ("square", "normal"),
    ("cbrt", "away"),
    ("exp2", "normal"),
    ("expm1", "normal"),
    ("log2", "positive"),
    ("log10", "positive"),
    ("log1p", "positive"),
    ("deg2rad", "normal"),
    ("radians", "normal"),
    ("rad2deg", "normal"),
    ("degrees", "normal"),
    ("conjugate", "normal"),
]
for _name, _domain in UNARY:
    _f = getattr(np, _name)
    # the plain call (`np.exp(v)`, native kernels reach it straight), and the registry's
    # implementation (the path of calls with keywords and of `bprop.numpy`)
    case(f"{_name}", _np(_name), lambda x, f=_f: f(x), one(_domain))
    case(f"{_name}[registry]", _np(_name), lambda x, f=UFUNCS[_name]: f(x), one(_domain))
case("exp[0-d]", "numpy.exp", lambda x: np.exp(x) * x, one("normal", ()))
case("sinc", "numpy.sinc", np.sinc, one("normal"))
case("sinc[near 0]", "numpy.sinc", np.sinc, one("tiny"))

# -- scipy.special's elementwise functions: (name, domain)
SCIPY_UNARY: list[tuple[str, str]] = [
    ("expit", "normal"),
    ("logit", "probability"),
    ("log_expit", "normal"),
    ("gammaln", "positive"),
    ("psi", "positive"),
    ("digamma", "positive"),
    ("erf", "normal"),
    ("erfc", "normal"),
    ("erfinv", "unit"),
    ("erfcinv", "positive"),
    ("ndtr", "normal"),
    ("log_ndtr", "normal"),
    ("ndtri", "probability"),
]
for _name, _domain in SCIPY_UNARY:
    case(
        f"special.{_name}",
        f"scipy.special.{_name}",
        getattr(sc, _name),
        one(_domain),
    )

# -- elementwise functions of two arguments: (name, domain of x, domain of y)
BINARY: list[tuple[str, str, str]] = [
    ("add", "normal", "normal"),
    ("subtract", "normal", "normal"),
    ("multiply", "normal", "normal"),
    ("divide", "normal", "away"),
    ("true_divide", "normal", "away"),
    ("power", "positive", "normal"),
    ("float_power", "positive", "normal"),
    ("maximum", "normal", "normal"),
    ("minimum", "normal", "normal"),
    ("fmax", "normal", "normal"),
    ("fmin", "normal", "normal"),
    ("logaddexp", "normal", "normal"),
    ("logaddexp2", "normal", "normal"),
    ("arctan2", "normal", "normal"),
    ("hypot", "normal", "normal"),
    ("copysign", "away", "away"),
    ("remainder", "normal", "positive"),
    ("mod", "normal", "positive"),
    ("fmod", "normal", "positive"),
]
for _name, _dx, _dy in BINARY:
    _f = getattr(np, _name)
    case(f"{_name}", _np(_name), lambda x, y, f=_f: f(x, y), arrays((_dx, (3, 4)), (_dy, (3, 4))))
    # broadcasting: y's gradient is summed back to its shape
    case(
        f"{_name}[broadcast]",
        _np(_name),
        lambda x, y, f=UFUNCS[_name]: f(x, y),
        arrays((_dx, (3, 4)), (_dy, (4,))),
    )
case(
    "multiply[by a float]", "numpy.multiply", np.multiply, arrays(("normal", (3,)), ("normal", ()))
)
case(
    "logaddexp[a float]", "numpy.logaddexp", np.logaddexp, arrays(("normal", (3,)), ("normal", ()))
)
case("power[float exponent]", "numpy.power", lambda x: x**2.5, one("positive"))
for _name, _dx, _dy in [("xlogy", "normal", "positive"), ("xlog1py", "normal", "positive")]:
    case(
        f"special.{_name}",
        f"scipy.special.{_name}",
        getattr(sc, _name),
        arrays((_dx, (3, 4)), (_dy, (4,))),
    )

# -- piecewise-constant functions: zero derivatives, times a smooth factor
for _name in ("sign", "floor", "ceil", "trunc", "rint"):
    _f = getattr(np, _name)
    case(f"{_name}", _np(_name), lambda x, f=_f: f(x) * x * x, one("fractional"))
case("round", ("numpy.round", "numpy.around"), lambda x: np.round(x, 1) * x * x, one("normal"))
case("around", "numpy.around", lambda x: np.around(x) * x * x, one("fractional"))
case("round[method]", "numpy.round", lambda x: x.round() * x * x, one("fractional"))
case("fix", "numpy.fix", lambda x: np.fix(x) * x * x, one("fractional"))
case(
    "floor_divide",
    "numpy.floor_divide",
    lambda x, y: np.floor_divide(x, y) * x * y,
    arrays(("fractional", (3, 4)), ("fractional", (4,))),
)
case(
    "heaviside",
    "numpy.heaviside",
    lambda x, y: np.heaviside(x, y) * x * y,
    arrays(("away", (3, 4)), ("normal", (4,))),
)

# -- reductions and scans
_R = ("normal", (2, 3, 4))
for _name, _domain in [("sum", "normal"), ("mean", "normal"), ("prod", "away")]:
    _f = getattr(np, _name)
    for _tag, _kw in [
        ("", {}),
        ("[axis=1]", {"axis": 1}),
        ("[axis=(0, 2)]", {"axis": (0, 2)}),
        ("[axis=-1, keepdims]", {"axis": -1, "keepdims": True}),
    ]:
        case(
            f"{_name}{_tag}",
            _np(_name),
            lambda x, f=_f, kw=_kw: f(x, **kw),
            arrays((_domain, _R[1])),
        )
    case(f"{_name}[method]", _np(_name), lambda x, n=_name: getattr(x, n)(axis=0), arrays(_R))
for _name in ("max", "amax", "min", "amin"):
    _f = getattr(np, _name)
    for _tag, _kw in [
        ("", {}),
        ("[axis=1]", {"axis": 1}),
        ("[axis=(0, 2)]", {"axis": (0, 2)}),
        ("[axis=1, keepdims]", {"axis": 1, "keepdims": True}),
    ]:
        case(f"{_name}{_tag}", _np(_name), lambda x, f=_f, kw=_kw: f(x, **kw), arrays(_R))
case("max[method]", "numpy.max", lambda x: x.max(axis=2) * x.min(axis=2), arrays(_R))
case("max[0-d]", "numpy.max", lambda x: np.max(x * x), one("normal", ()))
case("ptp", "numpy.ptp", lambda x: np.ptp(x, axis=1), arrays(_R))
case("ptp[all]", "numpy.ptp", np.ptp, arrays(_R))
for _name in ("var", "std"):
    _f = getattr(np, _name)
    for _tag, _kw in [
        ("", {}),
        ("[axis=1]", {"axis": 1}),
        ("[axis=(0, 2), ddof=1]", {"axis": (0, 2), "ddof": 1}),
        ("[axis=-1, keepdims]", {"axis": -1, "keepdims": True}),
    ]:
        case(f"{_name}{_tag}", _np(_name), lambda x, f=_f, kw=_kw: f(x, **kw), arrays(_R))
    case(f"{_name}[method]", _np(_name), lambda x, n=_name: getattr(x, n)(axis=1), arrays(_R))
case("average", "numpy.average", lambda a: np.average(a, axis=1), one())
case(
    "average[weights]",
    "numpy.average",
    lambda a, w: np.average(a, axis=0, weights=w),
    arrays(("normal", (3, 4)), ("positive", (3, 4))),
)
case(
    "average[1-D weights, returned]",
    "numpy.average",
    lambda a, w: list(np.average(a, axis=1, weights=w, returned=True)),
    arrays(("normal", (3, 4)), ("positive", (4,))),
)
case("nansum", "numpy.nansum", lambda x: np.nansum(np.where(_MASK, np.nan, x), axis=1), one())
case("nansum[all]", "numpy.nansum", lambda x: np.nansum(np.where(_MASK, np.nan, x)), one())
case("nanmean", "numpy.nanmean", lambda x: np.nanmean(np.where(_MASK, np.nan, x), axis=0), one())
case(
    "nanmean[keepdims]",
    "numpy.nanmean",
    lambda x: np.nanmean(np.where(_MASK, np.nan, x), axis=1, keepdims=True),
    one(),
)
for _name, _domain in [("cumsum", "normal"), ("cumprod", "away")]:
    _f = getattr(np, _name)
    case(f"{_name}", _np(_name), _f, one(_domain))
    case(f"{_name}[axis=0]", _np(_name), lambda x, f=_f: f(x, axis=0), one(_domain))
    case(
        f"{_name}[axis=-1]", _np(_name), lambda x, f=_f: f(x, axis=-1), arrays((_domain, (2, 3, 4)))
    )
    case(f"{_name}[method]", _np(_name), lambda x, n=_name: getattr(x, n)(axis=1), one(_domain))
case("cumsum[1-D]", "numpy.cumsum", np.cumsum, one("normal", (5,)))
case("cumprod[1-D]", "numpy.cumprod", np.cumprod, one("away", (5,)))
case("add.reduce", "numpy.sum", lambda x: np.add.reduce(x, axis=1), one())
case("multiply.reduce", "numpy.prod", lambda x: np.multiply.reduce(x), one("away"))
case("maximum.reduce", "numpy.max", lambda x: np.maximum.reduce(x, axis=1), one())
case("add.accumulate", "numpy.cumsum", lambda x: np.add.accumulate(x, axis=1), one())
case("multiply.accumulate", "numpy.cumprod", lambda x: np.multiply.accumulate(x), one("away"))

# -- shape functions
_S = ("normal", (2, 3, 4))
case("reshape", "numpy.reshape", lambda x: np.reshape(x, (4, 6)), arrays(_S))
case("reshape[method]", "numpy.reshape", lambda x: x.reshape(6, -1), arrays(_S))
case("ravel", "numpy.ravel", np.ravel, arrays(_S))
case("ravel[method]", "numpy.ravel", lambda x: x.ravel(), arrays(_S))
case("flatten[method]", "numpy.ravel", lambda x: x.flatten(), arrays(_S))
case("transpose", "numpy.transpose", np.transpose, arrays(_S))
case("transpose[axes]", "numpy.transpose", lambda x: np.transpose(x, (1, 0, 2)), arrays(_S))
case("transpose[method]", "numpy.transpose", lambda x: x.transpose(2, 0, 1), arrays(_S))
case(".T", "numpy.transpose", lambda x: x.T, one())
case("swapaxes", "numpy.swapaxes", lambda x: np.swapaxes(x, 0, 2), arrays(_S))
case("swapaxes[method]", "numpy.swapaxes", lambda x: x.swapaxes(1, 2), arrays(_S))
case("moveaxis", "numpy.moveaxis", lambda x: np.moveaxis(x, 0, -1), arrays(_S))
case("expand_dims", "numpy.expand_dims", lambda x: np.expand_dims(x, (0, 2)), one())
case("squeeze", "numpy.squeeze", np.squeeze, one("normal", (3, 1, 4)))
case("squeeze[method]", "numpy.squeeze", lambda x: x.squeeze(1), one("normal", (3, 1, 4)))
case("atleast_1d", "numpy.atleast_1d", lambda x: np.atleast_1d(x) * x, one("normal", ()))
case("atleast_2d", "numpy.atleast_2d", np.atleast_2d, one("normal", (4,)))
case("atleast_3d", "numpy.atleast_3d", np.atleast_3d, one())
case(
    "broadcast_to",
    "numpy.broadcast_to",
    lambda x: np.broadcast_to(x, (2, 3, 4)),
    one("normal", (3, 1)),
)
_TWO = arrays(("normal", (3, 4)), ("normal", (2, 4)))
_PAIR = arrays(("normal", (3, 4)), ("normal", (3, 4)))
_CONST = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
case("concatenate", "numpy.concatenate", lambda x, y: np.concatenate([x, y]), _TWO)
case(
    "concatenate[axis=None, a constant]",
    "numpy.concatenate",
    lambda x, y: np.concatenate([x, _CONST, y], axis=None),
    _TWO,
)
case("stack", "numpy.stack", lambda x, y: np.stack([x, y], axis=1), _PAIR)
case("vstack", "numpy.vstack", lambda x, y: np.vstack([x, y]), _TWO)
case("hstack", "numpy.hstack", lambda x, y: np.hstack([x, y]), _PAIR)
case(
    "hstack[1-D]",
    "numpy.hstack",
    lambda x, y: np.hstack([x, y]),
    arrays(("normal", (3,)), ("normal", (2,))),
)
case(
    "column_stack",
    "numpy.column_stack",
    lambda x, y: np.column_stack([x, y]),
    arrays(("normal", (3,)), ("normal", (3, 2))),
)
case("dstack", "numpy.dstack", lambda x, y: np.dstack([x, y]), _PAIR)
case("split", "numpy.split", lambda x: np.split(x, 2, axis=1), one())
case("split[indices]", "numpy.split", lambda x: np.split(x, [1, 3], axis=1), one())
case("split[overlapping]", "numpy.split", lambda x: np.split(x, [3, 1]), one("normal", (5,)))
case("split[one piece used]", "numpy.split", lambda x: np.split(x, 3)[1], one("normal", (6, 2)))
case("array_split", "numpy.array_split", lambda x: np.array_split(x, 3, axis=1), one())
case("repeat", "numpy.repeat", lambda x: np.repeat(x, 2, axis=0), one())
case("repeat[counts]", "numpy.repeat", lambda x: np.repeat(x, [1, 0, 3, 2], axis=1), one())
case("repeat[flat]", "numpy.repeat", lambda x: np.repeat(x, 2), one())
case("repeat[method]", "numpy.repeat", lambda x: x.repeat([2, 1, 1], axis=0), one())
case("tile", "numpy.tile", lambda x: np.tile(x, (2, 1, 2)), one())
case("flip", "numpy.flip", np.flip, arrays(_S))
case("flip[axis]", "numpy.flip", lambda x: np.flip(x, (0, 2)), arrays(_S))
case("fliplr", "numpy.fliplr", np.fliplr, one())
case("flipud", "numpy.flipud", np.flipud, one())
case("roll", "numpy.roll", lambda x: np.roll(x, 2), one())
case("roll[axes]", "numpy.roll", lambda x: np.roll(x, (1, -1), axis=(0, 1)), one())
case("rot90", "numpy.rot90", lambda x: np.rot90(x, 3), one())
case("tril", "numpy.tril", lambda x: np.tril(x, -1), one())
case("triu", "numpy.triu", lambda x: np.triu(x, 1), arrays(_S))
case("diag[of a vector]", "numpy.diag", lambda x: np.diag(x, 1), one("normal", (3,)))
case("diag[of a matrix]", "numpy.diag", lambda x: np.diag(x, -1), one())
case("diagonal", "numpy.diagonal", lambda x: np.diagonal(x, 1, 0, 2), arrays(_S))
case("diagonal[method]", "numpy.diagonal", lambda x: x.diagonal(), one())
case("trace", "numpy.trace", np.trace, one())
case("trace[3-D]", "numpy.trace", lambda x: np.trace(x, 1, 1, 2), arrays(_S))
case("trace[method]", "numpy.trace", lambda x: x.trace(-1), one())
case("pad", "numpy.pad", lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=0.5), one())

# -- indexing and updates
case("getitem[slice]", (), lambda x: x[1:, ::2], one())
case("getitem[row]", (), lambda x: x[1], one())
case("getitem[element]", (), lambda x: x[1, 2] * x, one())
case("getitem[repeated indices]", (), lambda x: x[[0, 2, 0]], one())
case("getitem[advanced]", (), lambda x: x[[0, 2, 2], [1, 1, 3]], one())
case("getitem[mask]", (), lambda x: x[_MASK], one())
case("at.get", (), lambda x: x.at[[1, 1]].get(), one())
_V_X = arrays(("normal", (3, 4)), ("normal", (4,)))
case("at.set", (), lambda v, x: v.at[1].set(x), _V_X)
case("at.add", (), lambda v, x: v.at[2].add(x), _V_X)
case(
    "at.set[repeated indices]",
    (),
    lambda v, x: v.at[[0, 2, 0], 1:3].set(x),
    arrays(("normal", (3, 4)), ("normal", (3, 2))),
)
case(
    "at.add[repeated indices]",
    (),
    lambda v, x: v.at[[0, 2, 0]].add(x),
    arrays(("normal", (3, 4)), ("normal", (4,))),
)
case(
    "at.set[mask, a float]",
    (),
    lambda v, x: v.at[_MASK].set(x),
    arrays(("normal", (3, 4)), ("normal", ())),
)
case(
    "at.add[1-D, repeated]",
    (),
    lambda v, x: v.at[np.array([[0, 2], [2, 1]])].add(x),
    arrays(("normal", (4,)), ("normal", (2,))),
)
case(
    "where",
    "numpy.where",
    lambda x, y: np.where(_COND2, x, y),
    arrays(("normal", (3, 4)), ("normal", (4,))),
)
case("where[a constant]", "numpy.where", lambda x: np.where(_COND2, x, 2.0) * x, one())
case("clip", "numpy.clip", lambda a: np.clip(a, -0.5, 0.7), one())
case(
    "clip[bounds]",
    "numpy.clip",
    lambda a, lo, hi: np.clip(a, lo, hi),
    arrays(("normal", (3, 4)), ("normal", (4,)), ("normal", (3, 1))),
)
case("clip[one bound, method]", "numpy.clip", lambda a: a.clip(max=0.3), one())
case("take", "numpy.take", lambda x: np.take(x, [5, 0, 5, 11]), one())
case("take[axis]", "numpy.take", lambda x: np.take(x, [[2, 0], [2, 2]], axis=1), one())
case("take[method]", "numpy.take", lambda x: x.take([0, 0, 2], axis=0), one())
_ORDER = np.array([[1, 0, 3, 3], [2, 2, 0, 1], [0, 3, 1, 2]])
case(
    "take_along_axis",
    "numpy.take_along_axis",
    lambda x: np.take_along_axis(x, _ORDER, axis=1),
    one(),
)
case(
    "take_along_axis[axis=None]",
    "numpy.take_along_axis",
    lambda x: np.take_along_axis(x, np.array([3, 3, 7]), axis=None),
    one(),
)
case("sort", "numpy.sort", np.sort, one())
case("sort[axis=0]", "numpy.sort", lambda x: np.sort(x, axis=0), one())
case("sort[axis=None]", "numpy.sort", lambda x: np.sort(x, axis=None), one())
case("compress", "numpy.compress", lambda x: np.compress([True, False, True], x, axis=0), one())
case("compress[flat]", "numpy.compress", lambda x: np.compress([0, 1, 1, 0, 1], x), one())
case("extract", "numpy.extract", lambda x: np.extract(_MASK, x), one())
case(
    "choose",
    "numpy.choose",
    lambda x, y, z: np.choose(np.array([[0, 1, 2, 1]] * 3), [x, y, z]),
    arrays(("normal", (3, 4)), ("normal", (4,)), ("normal", (3, 4))),
)
case(
    "select",
    "numpy.select",
    lambda x, y, d: np.select([_MASK, _COND2], [x, y], d),
    arrays(("normal", (3, 4)), ("normal", (4,)), ("normal", (3, 4))),
)
case("copy", "numpy.copy", np.copy, one())
case("copy[method]", "numpy.copy", lambda x: x.copy() * x, one())
# (`np.full_like(plain, v)` does not dispatch on a BVar fill value: numpy only looks at `a`)
case("full_like", "numpy.full_like", lambda c: bnp.full_like(_CONST, c) * c, one("normal", ()))

# -- products
_AB = arrays(("normal", (3, 4)), ("normal", (4, 2)))
case("matmul", "numpy.matmul", lambda a, b: a @ b, _AB)
case(
    "matmul[vector]",
    "numpy.matmul",
    lambda a, b: np.matmul(a, b),
    arrays(("normal", (4,)), ("normal", (4, 2))),
)
case(
    "matmul[batched]",
    "numpy.matmul",
    lambda a, b: a @ b,
    arrays(("normal", (2, 3, 4)), ("normal", (2, 4, 2))),
)
case(
    "matmul[batched, broadcast]",
    "numpy.matmul",
    lambda a, b: np.matmul(a, b),
    arrays(("normal", (2, 3, 4)), ("normal", (4, 2))),
)
case(
    "matmul[vector, batched]",
    "numpy.matmul",
    lambda a, b: a @ b,
    arrays(("normal", (4,)), ("normal", (2, 4, 3))),
)
case(
    "matmul[batched, vector]",
    "numpy.matmul",
    lambda a, b: a @ b,
    arrays(("normal", (2, 3, 4)), ("normal", (4,))),
)
case("dot", "numpy.dot", np.dot, _AB)
case("dot[method]", "numpy.dot", lambda a, b: a.dot(b), _AB)
case("dot[scalar]", "numpy.dot", np.dot, arrays(("normal", ()), ("normal", (3,))))
case("dot[vectors]", "numpy.dot", np.dot, arrays(("normal", (4,)), ("normal", (4,))))
case("dot[N-D]", "numpy.dot", np.dot, arrays(("normal", (2, 3, 4)), ("normal", (4, 2))))
case("dot[N-D, vector]", "numpy.dot", np.dot, arrays(("normal", (2, 3, 4)), ("normal", (4,))))
case("vdot", "numpy.vdot", np.vdot, arrays(("normal", (3, 4)), ("normal", (2, 6))))
case("inner", "numpy.inner", np.inner, arrays(("normal", (3, 4)), ("normal", (2, 4))))
case("inner[N-D]", "numpy.inner", np.inner, arrays(("normal", (2, 3, 4)), ("normal", (2, 4))))
case("outer", "numpy.outer", np.outer, arrays(("normal", (3,)), ("normal", (2, 2))))
case(
    "tensordot",
    "numpy.tensordot",
    lambda a, b: np.tensordot(a, b, axes=1),
    arrays(("normal", (2, 3)), ("normal", (3, 4))),
)
case(
    "tensordot[pairs]",
    "numpy.tensordot",
    lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])),
    arrays(("normal", (2, 3, 4)), ("normal", (4, 2, 3))),
)
case(
    "tensordot[axes=0]",
    "numpy.tensordot",
    lambda a, b: np.tensordot(a, b, axes=0),
    arrays(("normal", (2,)), ("normal", (3,))),
)
case(
    "tensordot[full]",
    "numpy.tensordot",
    lambda a, b: np.tensordot(a, b, axes=2),
    arrays(("normal", (2, 3)), ("normal", (2, 3))),
)
_EINSUMS: list[tuple[str, str, tuple[tuple[str, tuple[int, ...]], ...]]] = [
    ("matrix product", "ij,jk->ik", (("normal", (3, 4)), ("normal", (4, 2)))),
    ("implicit", "ij,jk", (("normal", (3, 4)), ("normal", (4, 2)))),
    (
        "three operands",
        "ij,jk,kl->il",
        (("normal", (2, 3)), ("normal", (3, 4)), ("normal", (4, 2))),
    ),
    ("diagonal", "ii->i", (("normal", (3, 3)),)),
    ("trace", "ii", (("normal", (3, 3)),)),
    ("diagonal times", "ii,i->i", (("normal", (3, 3)), ("normal", (3,)))),
    ("sum", "ij->", (("normal", (3, 4)),)),
    ("summed letter", "ij,k->i", (("normal", (3, 4)), ("normal", (2,)))),
    ("ellipsis", "...ij,...jk->...ik", (("normal", (2, 3, 4)), ("normal", (2, 4, 2)))),
    ("broadcast", "bij,bjk->bik", (("normal", (1, 3, 4)), ("normal", (2, 4, 2)))),
    ("same operand twice", "i,i->", (("normal", (4,)), ("normal", (4,)))),
]
for _tag, _spec, _shapes in _EINSUMS:
    case(
        f"einsum[{_tag}]", "numpy.einsum", lambda *xs, s=_spec: np.einsum(s, *xs), arrays(*_shapes)
    )
case(
    "einsum[interleaved]",
    "numpy.einsum",
    lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
    arrays(("normal", (3, 4)), ("normal", (4, 2))),
)
case(
    "einsum[square]", "numpy.einsum", lambda a: np.einsum("ij,jk->ik", a, a), one("normal", (3, 3))
)
case("kron", "numpy.kron", np.kron, arrays(("normal", (2, 3)), ("normal", (3, 2))))
case("kron[vectors]", "numpy.kron", np.kron, arrays(("normal", (2,)), ("normal", (3,))))
case("cross", "numpy.cross", np.cross, arrays(("normal", (4, 3)), ("normal", (3,))))
case(
    "cross[axes]",
    "numpy.cross",
    lambda a, b: np.cross(a, b, axisa=0, axisb=0, axisc=0),
    arrays(("normal", (3, 2)), ("normal", (3, 2))),
)

# -- bprop.numpy.special: logsumexp, softmax, log_softmax
for _name in ("logsumexp", "softmax", "log_softmax"):
    _f = getattr(bnp.special, _name)
    case(f"special.{_name}", f"scipy.special.{_name}", _f, one())
    case(f"special.{_name}[axis=1]", f"scipy.special.{_name}", lambda x, f=_f: f(x, axis=1), one())
case(
    "special.logsumexp[keepdims]",
    "scipy.special.logsumexp",
    lambda x: bnp.special.logsumexp(x, axis=(0, 2), keepdims=True),
    arrays(_S),
)


# ---- checking a case ---------------------------------------------------------------------------


def _leaves(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


class Packed:
    """A case's arguments as one flat vector `p`, and its function of `p` folded to a scalar with
    random weights."""

    def __init__(self, c: Case, rng: np.random.Generator) -> None:
        args = c.inputs(rng)
        self.fn = c.fn
        self.shapes = [np.shape(a) for a in args]
        sizes = [int(np.prod(s)) for s in self.shapes]
        self.bounds = list(zip(np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes)))
        self.p0 = np.concatenate([np.ravel(a) for a in args])
        # the output's structure, for the weights
        plain = bp.eval_bp(lambda p: list(_leaves(self.fn(*self.unpack(p)))), self.p0)
        self.weights = [(rng.normal(size=np.shape(y)), rng.normal(size=np.shape(y))) for y in plain]

    def unpack(self, p: Any) -> list[Any]:
        out = []
        for s, (a, b) in zip(self.shapes, self.bounds):
            out.append(p[int(a)] if s == () else np.reshape(p[int(a) : int(b)], s))
        return out

    def fold(self, p: Any, degree: int) -> Any:
        """The output at `p` folded to a scalar, sum(w·y + u·y^degree); `degree` 1 is the linear
        sum(w·y), whose cotangent reaching the entry is a plain array (the same at every p)."""
        total: Any = 0.0
        for y, (w, u) in zip(_leaves(self.fn(*self.unpack(p))), self.weights):
            term = w * y
            if degree > 1:
                power = y
                for _ in range(degree - 1):
                    power = power * y
                term = term + u * power
            total = total + np.sum(term)
        return total

    def f(self, p: Any) -> Any:
        return self.fold(p, 2)

    def linear_f(self, p: Any) -> Any:
        return self.fold(p, 1)

    def cubic_f(self, p: Any) -> Any:
        """Third derivatives through linear entries too."""
        return self.fold(p, 3)

    def directions(self, rng: np.random.Generator) -> list[np.ndarray]:
        """A random direction, and with several arguments the same restricted to each one."""
        d = rng.normal(size=self.p0.shape)
        if len(self.bounds) == 1:
            return [d]
        out = [d]
        for a, b in self.bounds:
            only = np.zeros_like(d)
            only[a:b] = d[a:b]
            out.append(only)
        return out


def _fd_hvp(f: Callable[[Any], Any], p: np.ndarray, d: np.ndarray, h: float = 1e-5) -> Any:
    """The central difference of bprop's gradient along `d`."""
    return (bp.grad_bp(f, p + h * d) - bp.grad_bp(f, p - h * d)) / (2.0 * h)


def _assert_hvp(f: Callable[[Any], Any], p: np.ndarray, d: np.ndarray) -> None:
    got = bp.hvp(f, p, d)
    expected = _fd_hvp(f, p, d)
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("ident", sorted(CASES))
def test_hvp_matches_finite_differences_of_the_gradient(ident: str) -> None:
    rng = np.random.default_rng(_seed(ident))
    packed = Packed(CASES[ident], rng)
    directions = packed.directions(rng)
    # (along one argument alone the curvature may be zero: copysign's sign argument)
    assert np.any(_fd_hvp(packed.f, packed.p0, directions[0]) != 0.0), "no curvature: no test"
    for d in directions:
        _assert_hvp(packed.f, packed.p0, d)
    # folded linearly (zero for an entry that is linear, or linear by pieces)
    _assert_hvp(packed.linear_f, packed.p0, directions[0])


SYMMETRIC = [
    "logaddexp[broadcast]",
    "hypot",
    "arctan2[broadcast]",
    "prod[axis=1]",
    "std[axis=1]",
    "cumprod",
    "einsum[three operands]",
    "tensordot[pairs]",
    "matmul[batched, broadcast]",
    "at.set[repeated indices]",
    "clip[bounds]",
    "special.log_softmax[axis=1]",
    "special.xlogy",
]


@pytest.mark.parametrize("ident", SYMMETRIC)
def test_hessian_is_symmetric_and_agrees_with_hvp(ident: str) -> None:
    rng = np.random.default_rng(_seed("hessian", ident))
    packed = Packed(CASES[ident], rng)
    h = bp.hessian(packed.f, packed.p0)
    n = packed.p0.size
    assert h.shape == (n, n)
    scale = max(1.0, float(np.max(np.abs(h))))
    np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-10 * scale)
    d = rng.normal(size=n)
    np.testing.assert_allclose(
        h @ d, bp.hvp(packed.f, packed.p0, d), rtol=1e-10, atol=1e-10 * scale
    )


_PLAIN_RULE = "no gradient (plain result)"


THIRD_ORDER = [
    "tanh",
    "special.psi",
    "special.erfinv",
    "logaddexp[broadcast]",
    "hypot",
    "prod[axis=(0, 2)]",
    "cumprod[axis=-1]",
    "std[axis=1]",
    "var[axis=-1, keepdims]",
    "average[weights]",
    "special.logsumexp[axis=1]",
    "special.log_softmax[axis=1]",
    "special.softmax",
    "einsum[diagonal times]",
    "einsum[square]",
    "tensordot[pairs]",
    "matmul[batched, broadcast]",
    "cross",
    "at.set[repeated indices]",
    "getitem[repeated indices]",
    "repeat[counts]",
    "trace[3-D]",
    "split[overlapping]",
    "sort",
    "clip[bounds]",
    "where",
    "concatenate[axis=None, a constant]",
    "broadcast_to",
    "pad",
]


@pytest.mark.parametrize("ident", THIRD_ORDER)
def test_third_order_matches_finite_differences_of_hvp(ident: str) -> None:
    """Three nested runs: the gradient of <H(p) d, e> is the third derivative T(d, e, ·), which
    (T being symmetric) is the central difference of `hvp(·, d)` along `e`."""
    rng = np.random.default_rng(_seed("third", ident))
    packed = Packed(CASES[ident], rng)
    d, e = rng.normal(size=packed.p0.shape), rng.normal(size=packed.p0.shape)
    f, p0 = packed.cubic_f, packed.p0
    got = bp.grad_bp(lambda p: np.sum(bp.hvp(f, p, d) * e), p0)
    h = 1e-5
    expected = (bp.hvp(f, p0 + h * e, d) - bp.hvp(f, p0 - h * e, d)) / (2 * h)
    assert np.any(expected != 0.0)
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * scale)


def test_every_registered_name_has_a_nested_case() -> None:
    covered = {n for c in CASES.values() for n in c.names}
    plain = {n for n, e in TABLE.items() if e.rule == _PLAIN_RULE}
    linalg = {n for n in TABLE if n.startswith("numpy.linalg.")}
    missing = sorted(set(TABLE) - covered - plain - linalg)
    assert missing == [], f"registry entries without a nested case: {missing}"


# ---- functions with plain results --------------------------------------------------------------

_PLAIN_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("nonzero", lambda x: np.nonzero(x > 0)),
    ("argmax", lambda x: np.argmax(x, axis=1)),
    ("argmin", lambda x: np.argmin(x)),
    ("argsort", lambda x: np.argsort(x, axis=0)),
    ("argwhere", lambda x: np.argwhere(x > 0)),
    ("flatnonzero", lambda x: np.flatnonzero(x > 0)),
    ("searchsorted", lambda x: np.searchsorted(np.sort(x[0]), 0.1)),
    ("count_nonzero", lambda x: np.count_nonzero(x > 0)),
    ("shape", np.shape),
    ("ndim", np.ndim),
    ("size", np.size),
    ("isclose", lambda x: np.isclose(x, 0.5)),
    ("allclose", lambda x: np.allclose(x, x)),
    ("array_equal", lambda x: np.array_equal(x, x)),
    ("any", lambda x: np.any(x > 1.0)),
    ("all", lambda x: np.all(x > -5.0)),
    ("zeros_like", np.zeros_like),
    ("ones_like", np.ones_like),
    ("empty_like", lambda x: np.empty_like(x).shape),
    ("argmax[method]", lambda x: x.argmax()),
    ("argmin[method]", lambda x: x.argmin(axis=0)),
    ("argsort[method]", lambda x: x.argsort()),
    ("any[method]", lambda x: (x > 0).any()),
    ("all[method]", lambda x: x.all()),
    ("nonzero[method]", lambda x: (x > 0).nonzero()),
]


def test_plain_results_inside_a_nested_run() -> None:
    """The functions without gradients read a nested run's BVars (whose values are BVars of the
    enclosing run) by their plain values, at every level."""
    x0 = np.random.default_rng(_seed("plain")).normal(size=(3, 4))
    names = {n.removeprefix("numpy.") for n, e in TABLE.items() if e.rule == _PLAIN_RULE}
    assert names <= {n.split("[")[0] for n, _ in _PLAIN_CALLS}, names
    seen: list[int] = []

    def f(x: Any) -> Any:
        for _, call in _PLAIN_CALLS:
            got, want = call(x), call(x0)
            for g, w in zip(_leaves(got), _leaves(want)):
                assert not isinstance(g, bp.BVar)
                np.testing.assert_array_equal(g, w)
        seen.append(1)
        return np.sum(x * x * x)

    d = np.random.default_rng(_seed("plain", "d")).normal(size=x0.shape)
    np.testing.assert_allclose(bp.hvp(f, x0, d), 6.0 * x0 * d, rtol=1e-12)
    assert seen == [1]


# ---- third derivatives -------------------------------------------------------------------------


def _third(f: Callable[[Any], Any], x: Any) -> Any:
    """f''' at x by three nested runs (elementwise for arrays: the seed of each run is ones)."""
    return bp.grad_bp(lambda u: bp.grad_bp(lambda v: bp.grad_bp(f, v), u), x)


_T = np.array([-1.3, -0.4, 0.2, 0.9, 1.7])

THIRD: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], Any]] = [
    ("tanh", np.tanh, lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2), 0.7),
    ("exp", np.exp, np.exp, -0.3),
    ("sin", np.sin, lambda x: -np.cos(x), 1.1),
    ("x**3.5", lambda x: x**3.5, lambda x: 3.5 * 2.5 * 1.5 * x**0.5, 1.3),
    ("tanh[array]", np.tanh, lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2), _T),
    ("exp2[array]", np.exp2, lambda x: np.log(2) ** 3 * 2**x, _T),
    ("power[array]", lambda x: np.power(x, 3.5), lambda x: 3.5 * 2.5 * 1.5 * x**0.5, _T + 2.0),
    ("sin[array]", np.sin, lambda x: -np.cos(x), _T),
    ("log1p[array]", np.log1p, lambda x: 2.0 / (1 + x) ** 3, _T + 2.0),
    (
        "expit[array]",
        sc.expit,
        lambda x: sc.expit(x) * (1 - sc.expit(x)) * (1 - 6 * sc.expit(x) * (1 - sc.expit(x))),
        _T,
    ),
    ("erf[array]", sc.erf, lambda x: (8 * x * x - 4) / np.sqrt(np.pi) * np.exp(-x * x), _T),
    ("logaddexp[array]", lambda x: np.logaddexp(x, 0.0), lambda x: _softplus3(x), _T),
    ("sinc[array]", np.sinc, lambda x: _sinc3(x), _T),
]


def _softplus3(x: Any) -> Any:
    s = sc.expit(x)
    return s * (1 - s) * (1 - 2 * s)


def _sinc3(x: Any) -> Any:
    """d³/dx³ sin(πx)/(πx), by the product rule on sin(t)·t⁻¹ with t = πx."""
    t = np.pi * x
    d3 = -np.cos(t) / t + 3 * np.sin(t) / t**2 + 6 * np.cos(t) / t**3 - 6 * np.sin(t) / t**4
    return np.pi**3 * d3


@pytest.mark.parametrize("ident", [t[0] for t in THIRD])
def test_third_derivatives_match_closed_forms(ident: str) -> None:
    _, f, f3, x = next(t for t in THIRD if t[0] == ident)
    got = _third(f, x)
    np.testing.assert_allclose(got, f3(x), rtol=1e-9, atol=1e-12)
