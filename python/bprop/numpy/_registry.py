"""The registry of differentiable array primitives: every numpy function, ufunc and ndarray
method bprop supports on BVars is listed here once, with its forward and its pullback side by
side (as JAX's `defvjp` and autograd's `defvjp` do).

* A `Primitive` is a numpy forward on plain values plus one vector-Jacobian product per
  differentiable argument, `vjp(g, ans, *args, **params) -> gradient of that argument`, or one
  `vjp_all(g, ans, live, *args, **params)` giving every argument's gradient at once (functions
  of a list of arrays). Positional arguments are the differentiable ones; keyword `params`
  (`axis`, `keepdims`, ...) are static. Applied to BVars it records one node through the
  extension's `lift_custom`; applied to plain values it is the plain numpy call.
* In a nested run (a runner called inside another run's function) a vjp is called with BVars of
  the enclosing run (the cotangent, `ans`, the arguments), and what it computes is recorded
  there, so that the gradient is differentiable in turn: it must compute with operations that
  take BVars (arithmetic, the numpy functions registered here, `float_array`, `unbroadcast`),
  never convert one to a plain array, and decide masks and positions on `plain_value`s.
* Native kernels (elementwise arithmetic and math, `@` of 1-D/2-D operands, `sum`/`mean` over
  one axis, `reshape`, `.T`) are Rust; their entries here say so and name the rule.
* `FUNCTIONS` (numpy function -> implementation with numpy's signature) serves
  `__array_function__`, `UFUNCS` (ufunc name -> implementation) serves `__array_ufunc__`,
  `METHODS` serves ndarray methods on BVars; `TABLE` describes every entry for the docs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .. import _core
from .._core import BVar

__all__ = [
    "FUNCTIONS",
    "METHODS",
    "TABLE",
    "UFUNCS",
    "Entry",
    "Primitive",
    "any_bvar",
    "as_forward1",
    "check_float_dtype",
    "defvjp",
    "defvjp_n",
    "float_array",
    "implements",
    "is_live",
    "method",
    "multi_output",
    "normalize_axis",
    "plain",
    "plain_value",
    "refuse",
    "ufunc",
    "unbroadcast",
    "value_of",
]

Vjp = Callable[..., Any]
F = TypeVar("F", bound=Callable[..., Any])


def value_of(x: Any) -> Any:
    """The plain value of a BVar, or `x` itself."""
    return x.value if isinstance(x, BVar) else x


def plain_value(x: Any) -> Any:
    """The plain value under any number of BVar layers: in a nested run a BVar's value is a BVar
    of the enclosing run. What a value *is* (an array, a float, a container) is decided here;
    masks and shifts that carry no gradient are computed on it."""
    while isinstance(x, BVar):
        x = x.value
    return x


def is_live(x: Any) -> bool:
    """Whether `x` is a BVar on a tape (a constant BVar receives no gradient)."""
    return isinstance(x, BVar) and not x.is_constant


def any_bvar(xs: Sequence[Any]) -> bool:
    return any(isinstance(x, BVar) for x in xs)


def _result(ans: Any) -> Any:
    """A primitive's value as BVars hold it: float64 arrays, and floats for 0-d results (as
    numpy's full reductions give scalars)."""
    if isinstance(ans, np.ndarray):
        if ans.ndim == 0:
            return np.float64(ans) if ans.dtype.kind in "iubf" else ans[()]
        if ans.dtype != np.float64 and ans.dtype.kind in "iubf":
            return ans.astype(np.float64)
        return ans
    if isinstance(ans, (np.integer, np.bool_, int)) and not isinstance(ans, bool):
        return np.float64(ans)
    if type(ans) is tuple:  # several outputs (see `multi_output`)
        return tuple(_result(a) for a in ans)
    return ans


class Primitive:
    """A differentiable numpy-level function. See the module docstring."""

    __slots__ = ("bvar_forward", "forward", "name", "vjp_all", "vjps")

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: Sequence[Vjp | None] = (),
        vjp_all: Vjp | None = None,
        *,
        bvar_forward: bool = False,
    ):
        self.name = f"numpy.{name}"  # `lift_custom` names the op in errors by this attribute
        self.forward = forward
        self.vjps = tuple(vjps)
        self.vjp_all = vjp_all
        # The forward computes on BVars itself (the extension's kernels, `bprop/_nested.py`):
        # in a nested run it records its own node, a native one, on the enclosing tape.
        self.bvar_forward = bvar_forward

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Any:
        if not any_bvar(args):
            return self.forward(*args, **params)
        if self.vjp_all is None and len(args) > len(self.vjps):
            raise TypeError(
                f"{self.name}: {len(args)} arguments for {len(self.vjps)} differentiable ones"
            )
        live = tuple(is_live(a) for a in args)
        return _core.lift_custom(self, self.rule(live, params), False, args)

    def rule(
        self, live: Sequence[bool] | None, params: dict[str, Any], *, multi: bool = False
    ) -> Callable[..., tuple[Any, Callable[[Any], tuple[Any, ...]]]]:
        """The primitive as a custom op's forward: `forward(*values) -> (value, pullback)`, the
        pullback giving one gradient per argument (`None` where `live[i]` is false; `live=None`:
        every argument). `multi`: the forward returns a tuple (see `multi_output`)."""
        forward, vjps, vjp_all = self.forward, self.vjps, self.vjp_all

        def lifted(*values: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
            if self.bvar_forward:
                ans = forward(*values, **params)
            elif any_bvar(values):
                # A nested run: the values are BVars of the enclosing run, where the primitive
                # is applied as such (so the numpy forward only ever sees plain values); the
                # vjps then compute on those BVars, recording on the enclosing tape. A tuple
                # value is the tuple of its components there (not one BVar holding a tuple),
                # so that the nested node's components are read as those of any tuple.
                ans = multi_output(self, *values, **params) if multi else self(*values, **params)
            else:
                ans = _result(forward(*values, **params))
            on = (True,) * len(values) if live is None else live

            def pullback(g: Any) -> tuple[Any, ...]:
                if vjp_all is not None:
                    return tuple(vjp_all(g, ans, on, *values, **params))
                return tuple(
                    vjp(g, ans, *values, **params) if (o and vjp is not None) else None
                    for o, vjp in zip(on, vjps)
                )

            return ans, pullback

        return lifted


def multi_output(prim: Primitive, *args: Any, **params: Any) -> tuple[Any, ...]:
    """Apply a primitive whose forward returns a tuple, and give its components as BVars that
    share its one node (`_core.project`: each component read is one small node, and the
    primitive's pullback runs once, with `zero` for the components that were not used)."""
    if not any_bvar(args):
        return tuple(prim.forward(*args, **params))
    live = tuple(is_live(a) for a in args)
    whole = _core.lift_custom(prim, prim.rule(live, params, multi=True), False, args)
    value = whole.value
    n = len(value)
    return tuple(_core.project(whole, n, list(range(n)), list(value)))


def as_forward1(
    prim: Primitive, **params: Any
) -> Callable[[Any], tuple[Any, Callable[[Any], Any]]]:
    """A one-argument primitive (with its static `params`) as an `op1` forward, `forward(x) ->
    (value, pullback)` with the pullback giving `x`'s gradient: the primitive's own forward and
    vjp, for code that records the rule as an `Op` of its own (`bprop.linalg`'s multi-output
    functions) instead of applying the primitive."""
    lifted = prim.rule(None, params)

    def forward(x: Any) -> tuple[Any, Callable[[Any], Any]]:
        ans, pullback = lifted(x)
        return ans, lambda g: pullback(g)[0]

    return forward


def defvjp(name: str, forward: Callable[..., Any], *vjps: Vjp | None) -> Primitive:
    """A primitive with one vjp per differentiable argument (`None`: not differentiable)."""
    return Primitive(name, forward, vjps)


def defvjp_n(name: str, forward: Callable[..., Any], vjp_all: Vjp) -> Primitive:
    """A primitive of any number of arguments whose vjp gives all gradients at once:
    `vjp_all(g, ans, live, *args, **params)`, `live[i]` saying whether argument i needs one."""
    return Primitive(name, forward, vjp_all=vjp_all)


# ---- gradient helpers ----------------------------------------------------------------------


def float_array(x: Any) -> Any:
    """`x` as a float64 array for a pullback's arithmetic; a BVar (in a nested run, a value whose
    gradient must be kept) is left as it is."""
    return x if isinstance(x, BVar) else np.asarray(x, dtype=np.float64)


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum `g` down to `shape` (undo numpy broadcasting). A 0-d target gives a float. A BVar `g`
    (a nested run's cotangent) is summed by the registry's `sum`, so the result is
    differentiable."""
    if isinstance(g, BVar):
        return _unbroadcast_bvar(g, tuple(shape))
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g if g.ndim else float(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g if g.ndim else float(g)


def _unbroadcast_bvar(g: Any, shape: tuple[int, ...]) -> Any:
    gshape = np.shape(plain_value(g))
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    out = np.sum(g, axis=axes)
    return out if np.shape(plain_value(out)) == shape else np.reshape(out, shape)


def normalize_axis(fn: str, axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """`axis` as a sorted tuple of non-negative axes (`None`: all). Out-of-range axes raise
    numpy's `AxisError` naming the function."""
    if axis is None:
        return tuple(range(ndim))
    # Any: the items are checked here (a list given as an axis is an error below)
    axes: tuple[Any, ...] = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        # an axis is an integer: a float, bool or array is numpy's TypeError, never rounded
        if isinstance(a, (bool, np.bool_)):
            raise TypeError(f"{fn}: axis must be an integer, got {a!r}")
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(
                f"{fn}: axis must be an integer or a tuple of integers, got {a!r}"
            ) from None
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise np.exceptions.AxisError(a, ndim, msg_prefix=fn)
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{fn}: repeated axis in {axis!r}")
    return tuple(sorted(out))


# ---- the dispatch tables -------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One supported name for the docs table: how its gradient is computed and where."""

    name: str
    rule: str
    native: bool


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""numpy (and scipy) functions -> bprop implementations with the same signature."""
UFUNCS: dict[str, Callable[..., Any]] = {}
"""ufunc `__name__` -> implementation of a plain call (`np.exp(v)`), with numpy's keywords."""
METHODS: dict[str, Callable[..., Any]] = {}
"""ndarray method names -> implementations taking the BVar first."""
TABLE: dict[str, Entry] = {}


def _record(names: Sequence[str], rule: str, native: bool) -> None:
    for n in names:
        TABLE[n] = Entry(n, rule, native)


def _qualname(f: Any) -> str:
    mod = getattr(f, "__module__", None) or "numpy"
    mod = "numpy" if mod.startswith("numpy") and not mod.startswith("numpy.linalg") else mod
    return f"{mod}.{getattr(f, '__name__', repr(f))}"


def implements(*funcs: Any, rule: str, native: bool = False) -> Callable[[F], F]:
    """Register an implementation for numpy functions (`__array_function__`)."""

    def register(impl: F) -> F:
        for f in funcs:
            FUNCTIONS[f] = impl
        _record([_qualname(f) for f in funcs], rule, native)
        return impl

    return register


def ufunc(*names: str, rule: str, native: bool = False) -> Callable[[F], F]:
    """Register an implementation for plain calls of the ufuncs `names`."""

    def register(impl: F) -> F:
        for n in names:
            UFUNCS[n] = impl
        _record([f"numpy.{n}" for n in names], rule, native)
        return impl

    return register


def method(*names: str) -> Callable[[F], F]:
    """Register an ndarray method (documented with the function of the same name)."""

    def register(impl: F) -> F:
        for n in names:
            METHODS[n] = impl
        return impl

    return register


def plain(*funcs: Any) -> None:
    """Functions with no gradient (integer or boolean results, shape queries): computed on the
    values, returning plain results."""

    def on_values(f: Callable[..., Any]) -> Callable[..., Any]:
        def impl(*args: Any, **kwargs: Any) -> Any:
            return f(*_values_deep(args), **{k: _values_deep(v) for k, v in kwargs.items()})

        return impl

    for f in funcs:
        FUNCTIONS[f] = on_values(f)
    _record([_qualname(f) for f in funcs], "no gradient (plain result)", False)


def _values_deep(x: Any) -> Any:
    if isinstance(x, BVar):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_values_deep(e) for e in x) if type(x) in (list, tuple) else x
    return x


# ---- argument checks -----------------------------------------------------------------------

_NOVALUE: Any = getattr(np, "_NoValue", None)


def refuse(fn: str, **kwargs: Any) -> None:
    """`TypeError` for numpy keyword arguments bprop does not support on BVars (`out=`,
    `where=`, ...), when given a value other than their default."""
    for k, v in kwargs.items():
        if v is not None and v is not _NOVALUE and v is not True:
            why = (
                "is not supported: BVars are immutable"
                if k == "out"
                else "is not supported on BVars"
            )
            raise TypeError(f"numpy.{fn}: the argument {k}= {why}")


def check_float_dtype(fn: str, dtype: Any) -> None:
    """Only float64 results are differentiable."""
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise TypeError(
            f"numpy.{fn}: dtype={np.dtype(dtype)} is not supported on BVars (only float64 is differentiable)"
        )
