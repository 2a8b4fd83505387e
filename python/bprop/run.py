"""Running functions of BVars (Numeric.Backprop's `backprop`, `evalBP`, `gradBP`, ...).

Every runner is one of three untyped functions below; the public names only add types:

* `backprop_with_n_untyped`: record `f` on a fresh tape, close it, return the result and a
  reusable pullback that sweeps the tape for any output gradient.
* `backprop_n_untyped`: the same, pulled back once with `one(result)`.
* `eval_bp_n_untyped`: call `f` on constants; every op is constant-folded, nothing is recorded.

`f` may return a BVar, or a tuple, list, dict, dataclass or NamedTuple (nested to any depth) whose
components are BVars and plain constants, as `jax.vjp` takes pytrees: the runners join it into one
BVar with `join_var`, from the inside out. The result is then the container of plain values, the
seed of `backprop` is `one(result)` (the container of ones), and the pullback of `backprop_with`
takes a cotangent of the same structure (dicts with the same keys, in any order). A result that
holds no BVar at all, container or not, is a `TypeError`, as a plain number is: it usually means a
gradient was dropped (`.value`); wrap constants with `const_var` to get zero gradients, as a
constant output gives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

from . import _core
from ._containers import container_of
from ._core import BVar, Tape, const_var, set_add
from ._typevars import A, B, C, D, E, F, R
from .classes import build_dataclass
from .classes import one as _one
from .classes import zero as _zero
from .optics import join_var

__all__ = [
    "backprop",
    "backprop2",
    "backprop_n",
    "backprop_with",
    "backprop_with2",
    "backprop_with_n",
    "eval_bp",
    "eval_bp0",
    "eval_bp2",
    "eval_bp_n",
    "grad_bp",
    "grad_bp2",
    "grad_bp_n",
]


def _is_container(x: object) -> bool:
    """A container the runners join when `f` returns it (numpy arrays are values, not this)."""
    return isinstance(x, (tuple, list, dict)) or (
        dataclasses.is_dataclass(x) and not isinstance(x, type)
    )


def _join_output(out: Any) -> BVar[Any] | None:
    """`out` as one BVar: a BVar as it is; a container holding BVars joined with `join_var`, its
    inner containers first; `None` if `out` holds no BVar."""
    if isinstance(out, BVar):
        return out
    if not _is_container(out):
        return None
    cont = container_of(out, "the function's result")
    parts = [_join_output(c) if _is_container(c) else c for c in cont.components(out)]
    if not any(isinstance(p, BVar) for p in parts):
        return None
    comps = [p if p is not None else c for p, c in zip(parts, cont.components(out))]
    return join_var(cont.rebuild(out, comps))


def _check_output(out: object) -> BVar[Any]:
    joined = _join_output(out)
    if joined is None:
        what = type(out).__qualname__
        if _is_container(out):
            what += " holding no BVar"
        raise TypeError(
            f"the function must return a BVar, or a tuple, list, dict or dataclass holding BVars; "
            f"got {what}; wrap constants with bprop.const_var"
        )
    return joined


def _key_list(d: Mapping[Any, Any]) -> str:
    """The keys of `d` as `'a', 'b'` (sorted by their repr: keys of mixed types don't compare)."""
    return ", ".join(sorted(map(repr, d)))


def _conform(value: Any, dy: Any, path: str = "dy") -> Any:
    """The cotangent `dy` of a container result `value`, checked against its structure and with
    dicts put in `value`'s key order (the join's pullback takes components by position)."""
    if isinstance(value, dict):
        if not isinstance(dy, Mapping) or set(dy) != set(value):
            got = (
                f"keys {_key_list(dy)}" if isinstance(dy, Mapping) else f"a {type(dy).__qualname__}"
            )
            raise TypeError(
                f"the output gradient {path} must be a dict with the result's keys "
                f"{_key_list(value)}, got {got}"
            )
        return {k: _conform(v, dy[k], f"{path}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        if not isinstance(dy, (tuple, list)) or len(dy) != len(value):
            got = (
                f"length {len(dy)}"
                if isinstance(dy, (tuple, list))
                else f"a {type(dy).__qualname__}"
            )
            raise TypeError(
                f"the output gradient {path} must be a tuple or list of length {len(value)} "
                f"(the result's structure), got {got}"
            )
        comps = [_conform(v, d, f"{path}[{i}]") for i, (v, d) in enumerate(zip(value, dy))]
        return comps if isinstance(value, list) else tuple(comps)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(dy) is not type(value):
            raise TypeError(
                f"the output gradient {path} must be a {type(value).__qualname__} "
                f"(the result's type), got {type(dy).__qualname__}"
            )
        names = [f.name for f in dataclasses.fields(value)]
        return build_dataclass(
            type(value),
            ((n, _conform(getattr(value, n), getattr(dy, n), f"{path}.{n}")) for n in names),
        )
    return dy


def _like(x: Any, g: Any, zero: Callable[[Any], Any]) -> Any:
    """Input `x`'s gradient `g` (None: never reached) as a value of x's type. Float subclasses
    such as numpy.float64 are stored natively as floats, so their type is restored here."""
    if g is None:
        return zero(x)
    if type(g) is float and type(x) is not float and isinstance(x, float):
        return type(x)(g)
    return g


Funcs = Callable[..., Any] | Sequence[Callable[..., Any]]
"""One function for every input, or one per input (bprop.explicit)."""


def per_input(funcs: Funcs, n: int, what: str) -> Sequence[Callable[..., Any]]:
    """`funcs` as one function per input; a sequence must have one entry per input."""
    if callable(funcs):
        return [funcs] * n
    fs = list(funcs) if isinstance(funcs, Sequence) else None
    if fs is None or len(fs) != n or not all(callable(f) for f in fs):
        raise TypeError(
            f"{what}= must be a function or a sequence of {n} functions (one per input), "
            f"got {type(funcs).__name__}"
        )
    return fs


_recording = threading.local()
"""Per thread, the tapes of the runs whose function is running (innermost last)."""


def _recording_tapes() -> list[Tape]:
    tapes: list[Tape] | None = getattr(_recording, "tapes", None)
    if tapes is None:
        tapes = _recording.tapes = []
    return tapes


@contextlib.contextmanager
def unnested() -> Iterator[None]:
    """Runs started inside are not nested in the runs recording now: for an Op's forward (which
    works on plain values) that runs runs of its own, such as `bprop.linalg.vmap`'s per-element
    derivatives, so that they take the native first-order path. A BVar of the enclosing run
    used in them is then a `TapeScopeError`, as the op could not pass it a gradient."""
    tapes = _recording_tapes()
    saved = tapes[:]
    tapes.clear()
    try:
        yield
    finally:
        tapes[:] = saved


def _identity(x: Any) -> Any:
    return x


def _holds_bvar(x: Any) -> bool:
    if isinstance(x, BVar):
        return True
    if not _is_container(x):
        return False
    return any(_holds_bvar(c) for c in container_of(x, "a result").components(x))


def _enclosing_value(x: Any) -> Any:
    """A nested run's result as a value of the enclosing run: as it is if it holds BVars of
    that run, else a constant BVar."""
    return x if _holds_bvar(x) else const_var(x)


def _opened(x: Any) -> Any:
    """An input of a nested run: an enclosing run's BVar of a container is given as the
    container of its components' BVars (nested containers too), so that the nested run reads
    components of its input's value as of any container's."""
    if not isinstance(x, BVar) or x.is_constant or not _is_container(x.value):
        return x
    cont = container_of(x.value, "the input")
    comps = cont.components(x.value)
    parts = _core.project(x, len(comps), list(range(len(comps))), comps)
    return cont.rebuild(x.value, [_opened(p) for p in parts])


def backprop_with_n_untyped(
    f: Callable[..., Any],
    xs: Sequence[Any],
    *,
    zero: Funcs = _zero,
    add: Funcs | None = None,
) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """The one implementation behind every runner. `zero` gives the gradient of an input the
    sweep never reached; `add` (bprop.explicit) replaces the inputs' own `add`."""
    zeros = per_input(zero, len(xs), "zero")
    adds = None if add is None else per_input(add, len(xs), "add")
    # A run started while another is recording on this thread is nested in it: the enclosing
    # run's BVars are constants here, and this run's sweep is recorded on the enclosing tape,
    # so its gradients are differentiable there (bprop/_nested.py).
    recording = _recording_tapes()
    tape = Tape(recording[-1] if recording else None)
    recording.append(tape)
    try:
        vs = [tape.input(_opened(x)) for x in xs]
        if adds is not None:
            for v, a in zip(vs, adds):
                set_add(v, a)
        result = f(*vs)
        out = _check_output(result)
    finally:
        recording.pop()
        tape.close()  # BVars used after this point raise TapeScopeError
    joined = out is not result
    # In a nested run, results are values of the enclosing run: a BVar of it, or a constant
    # BVar where the result does not depend on it (so `grad_bp(lambda x: grad_bp(f, x), x0)`
    # of a linear `f` is 0, not a "function returned a constant" error).
    result_of = _enclosing_value if tape.nested else _identity

    def pullback(dy: Any) -> tuple[Any, ...]:
        if joined:
            dy = _conform(out.value, dy)
        grads = tape.backward(out, dy, vs)
        return tuple(result_of(_like(x, g, z)) for g, x, z in zip(grads, xs, zeros))

    return result_of(out.value), pullback


def backprop_n_untyped(
    f: Callable[..., Any],
    xs: Sequence[Any],
    *,
    zero: Funcs = _zero,
    add: Funcs | None = None,
    one: Callable[[Any], Any] = _one,
) -> tuple[Any, tuple[Any, ...]]:
    """`backprop_with_n_untyped` pulled back once, with the seed `one(result)`."""
    y, pullback = backprop_with_n_untyped(f, xs, zero=zero, add=add)
    return y, pullback(one(y))


def eval_bp_n_untyped(f: Callable[..., Any], xs: Sequence[Any]) -> Any:
    """The result of `f` on the constants `xs` (no tape: every op is constant-folded). Inside
    another run's function, BVars of that run (arguments, or captured by `f`) stay BVars, so the
    result is one of them and that run's gradient flows through it."""
    if _recording_tapes():
        out = _check_output(f(*(x if isinstance(x, BVar) else const_var(x) for x in xs)))
        return out.value if out.is_constant else out
    return _check_output(f(*(const_var(x) for x in xs))).value


# ---- one input ----------------------------------------------------------------------------


# Nested in another run (`x` a BVar of it), a runner gives BVars of that run: the overloads say so,
# so that `bp.grad_bp(lambda x: bp.grad_bp(f, x), x0)` type-checks with `f` typed on BVar[float].
@overload
def backprop(f: Callable[[BVar[A]], BVar[B]], x: BVar[A]) -> tuple[BVar[B], BVar[A]]: ...
@overload
def backprop(f: Callable[[BVar[A]], BVar[B]], x: A) -> tuple[B, A]: ...
def backprop(f: Callable[[BVar[Any]], BVar[Any]], x: Any) -> tuple[Any, Any]:
    """Result of `f(x)` and its gradient with respect to `x`, seeded with `one(result)`.

    >>> bp.backprop(lambda x: x * x, 3.0)
    (9.0, 6.0)
    """
    y, (g,) = backprop_n_untyped(f, (x,))
    return y, g


def eval_bp(f: Callable[[BVar[A]], BVar[B]], x: A) -> B:
    """Result of `f(x)`; records no tape.

    >>> bp.eval_bp(lambda x: bp.sqrt(x), 4.0)
    2.0
    """
    return eval_bp_n_untyped(f, (x,))  # type: ignore[no-any-return]


@overload
def grad_bp(f: Callable[[BVar[A]], BVar[B]], x: BVar[A]) -> BVar[A]: ...
@overload
def grad_bp(f: Callable[[BVar[A]], BVar[B]], x: A) -> A: ...
def grad_bp(f: Callable[[BVar[Any]], BVar[Any]], x: Any) -> Any:
    """Gradient of `f` at `x`, seeded with `one(result)`.

    >>> bp.grad_bp(bp.sin, 0.0)
    1.0
    >>> bp.grad_bp(lambda v: v @ v, np.array([1.0, 2.0]))
    array([2., 4.])
    """
    return backprop(f, x)[1]


def backprop_with(f: Callable[[BVar[A]], BVar[B]], x: A) -> tuple[B, Callable[[B], A]]:
    """Result of `f(x)` and a pullback from an output gradient to the input gradient; the
    pullback may be called any number of times.

    >>> y, pullback = bp.backprop_with(lambda x: x * x, 3.0)
    >>> y, pullback(1.0), pullback(0.5)
    (9.0, 6.0, 3.0)
    """
    y, pullback = backprop_with_n_untyped(f, (x,))
    return y, lambda dy: pullback(dy)[0]


# ---- two inputs ---------------------------------------------------------------------------


def backprop2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> tuple[C, tuple[A, B]]:
    """`backprop` for two inputs; gradients as a pair.

    >>> bp.backprop2(lambda x, y: x * y, 3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    return backprop_n_untyped(f, (x, y))


def eval_bp2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> C:
    """`eval_bp` for two inputs.

    >>> bp.eval_bp2(lambda x, y: x - y, 3.0, 4.0)
    -1.0
    """
    return eval_bp_n_untyped(f, (x, y))  # type: ignore[no-any-return]


def grad_bp2(f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B) -> tuple[A, B]:
    """`grad_bp` for two inputs.

    >>> bp.grad_bp2(lambda x, y: x * y + y, 3.0, 4.0)
    (4.0, 4.0)
    """
    return backprop2(f, x, y)[1]


def backprop_with2(
    f: Callable[[BVar[A], BVar[B]], BVar[C]], x: A, y: B
) -> tuple[C, Callable[[C], tuple[A, B]]]:
    """`backprop_with` for two inputs.

    >>> z, pullback = bp.backprop_with2(lambda x, y: x * y, 3.0, 4.0)
    >>> z, pullback(2.0)
    (12.0, (8.0, 6.0))
    """
    return backprop_with_n_untyped(f, (x, y))


# ---- any number of inputs (typed for 1-6) ---------------------------------------------------


@overload
def backprop_n(f: Callable[[BVar[A]], BVar[R]], x1: A, /) -> tuple[R, tuple[A]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B]], BVar[R]], x1: A, x2: B, /
) -> tuple[R, tuple[A, B]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]], x1: A, x2: B, x3: C, /
) -> tuple[R, tuple[A, B, C]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]], x1: A, x2: B, x3: C, x4: D, /
) -> tuple[R, tuple[A, B, C, D]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
) -> tuple[R, tuple[A, B, C, D, E]]: ...
@overload
def backprop_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
) -> tuple[R, tuple[A, B, C, D, E, F]]: ...
@overload
def backprop_n(
    f: Callable[..., BVar[R]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
) -> tuple[R, tuple[Any, ...]]: ...
def backprop_n(f: Callable[..., BVar[Any]], /, *xs: Any) -> tuple[Any, tuple[Any, ...]]:
    """Result and gradients of `f(*xs)`, seeded with `one(result)`.

    >>> bp.backprop_n(lambda x, y, z: x * y * z, 1.0, 2.0, 3.0)
    (6.0, (6.0, 3.0, 2.0))
    """
    return backprop_n_untyped(f, xs)


@overload
def eval_bp_n(f: Callable[[BVar[A]], BVar[R]], x1: A, /) -> R: ...
@overload
def eval_bp_n(f: Callable[[BVar[A], BVar[B]], BVar[R]], x1: A, x2: B, /) -> R: ...
@overload
def eval_bp_n(f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]], x1: A, x2: B, x3: C, /) -> R: ...
@overload
def eval_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]], x1: A, x2: B, x3: C, x4: D, /
) -> R: ...
@overload
def eval_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
) -> R: ...
@overload
def eval_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
) -> R: ...
@overload
def eval_bp_n(
    f: Callable[..., BVar[R]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
) -> R: ...
def eval_bp_n(f: Callable[..., BVar[Any]], /, *xs: Any) -> Any:
    """Result of `f(*xs)`; records no tape.

    >>> bp.eval_bp_n(lambda x, y, z: x + y + z, 1.0, 2.0, 3.0)
    6.0
    """
    return eval_bp_n_untyped(f, xs)


@overload
def grad_bp_n(f: Callable[[BVar[A]], BVar[R]], x1: A, /) -> tuple[A]: ...
@overload
def grad_bp_n(f: Callable[[BVar[A], BVar[B]], BVar[R]], x1: A, x2: B, /) -> tuple[A, B]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]], x1: A, x2: B, x3: C, /
) -> tuple[A, B, C]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]], x1: A, x2: B, x3: C, x4: D, /
) -> tuple[A, B, C, D]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
) -> tuple[A, B, C, D, E]: ...
@overload
def grad_bp_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
) -> tuple[A, B, C, D, E, F]: ...
@overload
def grad_bp_n(
    f: Callable[..., BVar[Any]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
) -> tuple[Any, ...]: ...
def grad_bp_n(f: Callable[..., BVar[Any]], /, *xs: Any) -> tuple[Any, ...]:
    """Gradients of `f` at `xs`, seeded with `one(result)`.

    >>> bp.grad_bp_n(lambda x, y, z: x * y * z, 1.0, 2.0, 3.0)
    (6.0, 3.0, 2.0)
    """
    return backprop_n_untyped(f, xs)[1]


@overload
def backprop_with_n(
    f: Callable[[BVar[A]], BVar[R]], x1: A, /
) -> tuple[R, Callable[[R], tuple[A]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B]], BVar[R]], x1: A, x2: B, /
) -> tuple[R, Callable[[R], tuple[A, B]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C]], BVar[R]], x1: A, x2: B, x3: C, /
) -> tuple[R, Callable[[R], tuple[A, B, C]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D]], BVar[R]], x1: A, x2: B, x3: C, x4: D, /
) -> tuple[R, Callable[[R], tuple[A, B, C, D]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    /,
) -> tuple[R, Callable[[R], tuple[A, B, C, D, E]]]: ...
@overload
def backprop_with_n(
    f: Callable[[BVar[A], BVar[B], BVar[C], BVar[D], BVar[E], BVar[F]], BVar[R]],
    x1: A,
    x2: B,
    x3: C,
    x4: D,
    x5: E,
    x6: F,
    /,
) -> tuple[R, Callable[[R], tuple[A, B, C, D, E, F]]]: ...
@overload
def backprop_with_n(
    f: Callable[..., BVar[R]],
    x1: Any,
    x2: Any,
    x3: Any,
    x4: Any,
    x5: Any,
    x6: Any,
    x7: Any,
    /,
    *xs: Any,
) -> tuple[R, Callable[[R], tuple[Any, ...]]]: ...
def backprop_with_n(
    f: Callable[..., BVar[Any]], /, *xs: Any
) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """Result of `f(*xs)` and a reusable pullback to the gradients of all inputs.

    >>> r, pullback = bp.backprop_with_n(lambda x, y, z: x * y + z, 1.0, 2.0, 3.0)
    >>> r, pullback(10.0)
    (5.0, (20.0, 10.0, 10.0))
    """
    return backprop_with_n_untyped(f, xs)


def eval_bp0(f: Callable[[], BVar[A]]) -> A:
    """Evaluate a BVar built only from constants.

    >>> bp.eval_bp0(lambda: bp.const_var(2.0) * 3)
    6.0
    """
    return eval_bp_n_untyped(f, ())  # type: ignore[no-any-return]
