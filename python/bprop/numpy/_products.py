"""Products on BVars: `dot`, `vdot`, `inner`, `outer`, `matmul` (batched), `tensordot`, `einsum`,
`kron`, `cross`.

Products of 1-D and 2-D operands run on the native kernel (`_core.matmul`, whose pullback is a
pair of GEMMs in Rust); `outer` and `kron` are native reshapes and one broadcast multiply. The
batched `matmul`, `tensordot` and `einsum` are primitives with numpy forwards and their
pullbacks written beside them: the gradient of a product with respect to one operand is the
product of the cotangent with the other operands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .._core import BVar
from ..errors import ShapeError
from ._registry import (
    check_float_dtype,
    defvjp,
    defvjp_n,
    float_array,
    implements,
    method,
    plain_value,
    refuse,
    ufunc,
    unbroadcast,
)

__all__ = ["cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "tensordot", "vdot"]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(plain_value(x)))


def _reshape(x: Any, shape: Sequence[int]) -> Any:
    """`x` reshaped: one native node for a BVar, plain numpy otherwise."""
    if isinstance(x, BVar):
        return _core.reshape(x, list(shape))
    return np.reshape(np.asarray(x, dtype=np.float64), tuple(shape))


def _operand(x: Any) -> Any:
    """A plain operand given as a list or tuple (numpy accepts any array-like) as an array, so
    that the native kernel takes it; BVars, arrays and numbers pass unchanged (a list holding
    BVars raises TypeError in `np.asarray`, never an object array)."""
    return np.asarray(x, dtype=np.float64) if isinstance(x, (list, tuple)) else x


def _mT(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


# ---- matmul -------------------------------------------------------------------------------------


def _matmul_cotangent(g: Any, a: Any, b: Any) -> Any:
    """`g` with the axes that 1-D operands dropped put back: (..., n, m)."""
    g = float_array(g)
    if np.ndim(b) == 1:
        g = g[..., None]
    if np.ndim(a) == 1:
        g = g[..., None, :]
    return g


def _as_matrices(a: Any, b: Any) -> tuple[Any, Any]:
    """1-D operands as the matrices matmul promotes them to (a row, a column)."""
    a2 = a[None, :] if np.ndim(a) == 1 else a
    b2 = b[:, None] if np.ndim(b) == 1 else b
    return a2, b2


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    a2, b2 = _as_matrices(a, b)
    ga = _matmul_cotangent(g, a, b) @ _mT(b2)  # d(a b) = da b
    return np.reshape(unbroadcast(ga, np.shape(plain_value(a2))), np.shape(plain_value(a)))


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    a2, b2 = _as_matrices(a, b)
    gb = _mT(a2) @ _matmul_cotangent(g, a, b)  # d(a b) = a db
    return np.reshape(unbroadcast(gb, np.shape(plain_value(b2))), np.shape(plain_value(b)))


_MATMUL = defvjp("matmul", np.matmul, _matmul_vjp_a, _matmul_vjp_b)


def _check_matmul(fn: str, sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    if len(sa) == 0 or len(sb) == 0:
        raise ShapeError(
            f"numpy.{fn}: operands must have at least one axis, got shapes {sa} and {sb} (use * for scalars)"
        )
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != k_b:
        raise ShapeError(f"numpy.{fn}: inner dimensions differ: shapes {sa} and {sb}")


@ufunc(
    "matmul",
    rule="(g @ bᵀ, aᵀ @ g), batch axes unbroadcast; native GEMMs for 1-D/2-D operands",
    native=True,
)
def matmul(
    x1: Any,
    x2: Any,
    /,
    out: Any = None,
    *,
    casting: Any = None,
    order: Any = None,
    dtype: Any = None,
    subok: Any = True,
    signature: Any = None,
    axes: Any = None,
    axis: Any = None,
) -> Any:
    """numpy.matmul (`@`) on BVars, batched with numpy's broadcasting and 1-D promotion rules."""
    refuse("matmul", out=out, signature=signature, axes=axes, axis=axis)
    check_float_dtype("matmul", dtype)
    x1, x2 = _operand(x1), _operand(x2)
    sa, sb = _shape(x1), _shape(x2)
    _check_matmul("matmul", sa, sb)
    if len(sa) <= 2 and len(sb) <= 2:
        return _core.matmul(x1, x2)
    return _MATMUL(x1, x2)


# ---- dot, vdot, inner, outer ----------------------------------------------------------------------


@implements(
    np.dot,
    rule="scalars: product rule; ≤ 2-D: native matmul; N-D: as matmul/tensordot",
    native=True,
)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """numpy.dot on BVars: every case of numpy's (scalars, vectors, matrices, N-D)."""
    refuse("dot", out=out)
    a, b = _operand(a), _operand(b)
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 0 or len(sb) == 0:
        return _core.mul(a, b)
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != k_b:
        raise ShapeError(
            f"numpy.dot: shapes {sa} and {sb} not aligned: {sa[-1]} (dim {len(sa) - 1}) != {k_b}"
        )
    if len(sa) <= 2 and len(sb) <= 2:
        return _core.matmul(a, b)
    if len(sb) == 1:
        return _MATMUL(a, b)
    return tensordot(a, b, axes=([len(sa) - 1], [len(sb) - 2]))


@method("dot")
def _dot_method(self: Any, b: Any, out: Any = None) -> Any:
    return dot(self, b, out=out)


@implements(np.vdot, rule="(g·b, g·a) on the flattened operands (native)", native=True)
def vdot(a: Any, b: Any, /) -> Any:
    """numpy.vdot on BVars (real): the dot product of the flattened operands."""
    na, nb = int(np.prod(_shape(a))), int(np.prod(_shape(b)))
    if na != nb:
        raise ShapeError(
            f"numpy.vdot: operands have different sizes: shapes {_shape(a)} and {_shape(b)}"
        )
    return _core.matmul(_reshape(a, [-1]), _reshape(b, [-1]))


@implements(
    np.inner,
    rule="sum over the last axes: native matmul with bᵀ for ≤ 2-D, tensordot otherwise",
    native=True,
)
def inner(a: Any, b: Any, /) -> Any:
    """numpy.inner on BVars: sum over the last axes of both operands."""
    a, b = _operand(a), _operand(b)
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 0 or len(sb) == 0:
        return _core.mul(a, b)
    if sa[-1] != sb[-1]:
        raise ShapeError(f"numpy.inner: last dimensions differ: shapes {sa} and {sb}")
    if len(sa) <= 2 and len(sb) <= 2:
        return _core.matmul(a, _core.transpose(b) if isinstance(b, BVar) else np.transpose(b))
    return tensordot(a, b, axes=([len(sa) - 1], [len(sb) - 1]))


@implements(
    np.outer, rule="column times row: native reshapes and a broadcast multiply", native=True
)
def outer(a: Any, b: Any, out: Any = None) -> Any:
    """numpy.outer on BVars (operands are flattened)."""
    refuse("outer", out=out)
    return _core.mul(_reshape(a, [-1, 1]), _reshape(b, [1, -1]))


# ---- tensordot ------------------------------------------------------------------------------------


def _tensordot_axes(
    sa: tuple[int, ...], sb: tuple[int, ...], axes: Any
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """numpy's `axes` as two equally long tuples of non-negative axes, checked."""
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > len(sa) or n > len(sb):
            raise ShapeError(f"numpy.tensordot: axes={n} for shapes {sa} and {sb}")
        xa, xb = list(range(len(sa) - n, len(sa))), list(range(n))
    else:
        try:
            ax_a, ax_b = axes
        except (TypeError, ValueError):
            raise TypeError(
                "numpy.tensordot: axes must be an int or a pair of sequences of axes"
            ) from None
        xa = [int(ax_a)] if isinstance(ax_a, (int, np.integer)) else [int(i) for i in ax_a]
        xb = [int(ax_b)] if isinstance(ax_b, (int, np.integer)) else [int(i) for i in ax_b]
    if len(xa) != len(xb):
        raise ShapeError(
            f"numpy.tensordot: shape-mismatch for sum: axes {xa} and {xb} differ in length"
        )
    for x, s in ((xa, sa), (xb, sb)):
        for i in x:
            if not -len(s) <= i < len(s):
                raise np.exceptions.AxisError(i, len(s), msg_prefix="numpy.tensordot")
    xa = [i % len(sa) for i in xa]
    xb = [i % len(sb) for i in xb]
    if len(set(xa)) != len(xa) or len(set(xb)) != len(xb):
        raise ValueError(f"numpy.tensordot: repeated axes in {axes!r}")
    for i, j in zip(xa, xb):
        if sa[i] != sb[j]:
            raise ShapeError(
                f"numpy.tensordot: shape-mismatch for sum: shapes {sa} and {sb}, axes {xa} and {xb}"
            )
    return tuple(xa), tuple(xb)


def _tensordot_forward(a: Any, b: Any, *, axes: tuple[tuple[int, ...], tuple[int, ...]]) -> Any:
    return np.tensordot(a, b, axes=axes)


def _scalar_or_array(r: Any) -> Any:
    """A gradient as BVars hold values: a float for a 0-d result (a float operand)."""
    return float(r) if np.ndim(r) == 0 and not isinstance(r, BVar) else r


def _tensordot_vjp_a(
    g: Any, ans: Any, a: Any, b: Any, *, axes: tuple[tuple[int, ...], tuple[int, ...]]
) -> Any:
    xa, xb = axes
    a, b = float_array(a), float_array(b)  # floats and lists too
    free_a = [i for i in range(np.ndim(a)) if i not in xa]
    free_b = [i for i in range(np.ndim(b)) if i not in xb]
    # contract g's b-part with b's free axes: axes of the result are a's free ones, then b's
    # summed ones in b's order, which pair with a's axes xa[argsort(xb)]
    r = np.tensordot(
        float_array(g), b, axes=(list(range(len(free_a), len(free_a) + len(free_b))), free_b)
    )
    src = free_a + [xa[k] for k in np.argsort(xb)]
    return _scalar_or_array(np.transpose(r, np.argsort(src)))


def _tensordot_vjp_b(
    g: Any, ans: Any, a: Any, b: Any, *, axes: tuple[tuple[int, ...], tuple[int, ...]]
) -> Any:
    xa, xb = axes
    a, b = float_array(a), float_array(b)
    free_a = [i for i in range(np.ndim(a)) if i not in xa]
    r = np.tensordot(a, float_array(g), axes=(free_a, list(range(len(free_a)))))
    src = [xb[k] for k in np.argsort(xa)] + [i for i in range(np.ndim(b)) if i not in xb]
    return _scalar_or_array(np.transpose(r, np.argsort(src)))


_TENSORDOT = defvjp("tensordot", _tensordot_forward, _tensordot_vjp_a, _tensordot_vjp_b)


@implements(
    np.tensordot,
    rule="tensordot of g with the other operand over the free axes, axes permuted back",
)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """numpy.tensordot on BVars (`axes` an int or a pair of sequences)."""
    sa, sb = _shape(a), _shape(b)
    return _TENSORDOT(a, b, axes=_tensordot_axes(sa, sb, axes))


# ---- einsum ---------------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _EinsumPlan:
    """An einsum call with explicit letters only: each operand's term (broadcast size-1 axes
    dropped), the axes dropped, the output term and every letter's size."""

    __slots__ = ("out", "sizes", "squeeze", "terms")

    def __init__(
        self, terms: list[str], squeeze: list[tuple[int, ...]], out: str, sizes: dict[str, int]
    ) -> None:
        self.terms, self.squeeze, self.out, self.sizes = terms, squeeze, out, sizes


def _sublist_term(sub: Any) -> str:
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, (int, np.integer)) and 0 <= int(s) < len(_LETTERS):
            out.append(_LETTERS[int(s)])
        else:
            raise TypeError(
                f"numpy.einsum: subscript {s!r} in a sublist is not supported (integers 0-51 or Ellipsis)"
            )
    return "".join(out)


def _einsum_args(args: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """numpy's two call forms as (subscripts, operands); the interleaved form
    `einsum(x, [0, 1], y, [1, 2], [0, 2])` is converted to letters."""
    if not args:
        raise TypeError("numpy.einsum: no operands")
    if isinstance(args[0], str):
        return args[0], list(args[1:])
    ops = list(args[0::2][: len(args) // 2])
    subs = [_sublist_term(s) for s in args[1::2][: len(args) // 2]]
    if len(args) % 2:
        return ",".join(subs) + "->" + _sublist_term(args[-1]), ops
    # implicit output of the interleaved form: indices appearing once, in increasing order
    counts: dict[str, int] = {}
    for t in subs:
        for c in t.replace("...", ""):
            counts[c] = counts.get(c, 0) + 1
    once = sorted((c for c, k in counts.items() if k == 1), key=_LETTERS.index)
    ell = "..." if any("..." in t for t in subs) else ""
    return ",".join(subs) + "->" + ell + "".join(once), ops


def _einsum_plan(subscripts: str, shapes: list[tuple[int, ...]]) -> _EinsumPlan:
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"numpy.einsum: {len(terms)} operand terms in {subscripts!r} for {len(shapes)} operands"
        )
    used = set(spec) - set(",.->")
    for c in used:
        if c not in _LETTERS:
            raise ValueError(f"numpy.einsum: invalid subscript {c!r} in {subscripts!r}")
    n_ell = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            if k < 0 or "." in t.replace("...", "", 1):
                raise ValueError(f"numpy.einsum: term {t!r} does not fit an operand of shape {s}")
            n_ell.append(k)
        else:
            if "." in t or len(t) != len(s):
                raise ValueError(f"numpy.einsum: term {t!r} does not fit an operand of shape {s}")
            n_ell.append(-1)
    width = max([k for k in n_ell if k >= 0], default=0)
    fresh = [c for c in _LETTERS if c not in used][:width]
    if len(fresh) < width:
        raise TypeError(f"numpy.einsum: too many axes for {subscripts!r}")
    expanded = [
        t.replace("...", "".join(fresh[width - k :])) if k >= 0 else t for t, k in zip(terms, n_ell)
    ]
    if arrow:
        if "..." in rhs:
            out = rhs.replace("...", "".join(fresh))
        else:
            out = rhs
    else:
        counts: dict[str, int] = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = "".join(fresh) + "".join(sorted(c for c, k in counts.items() if k == 1))
    sizes: dict[str, int] = {}
    for t, s in zip(expanded, shapes):
        for c, n in zip(t, s):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
    squeeze: list[tuple[int, ...]] = []
    final: list[str] = []
    for t, s in zip(expanded, shapes):
        drop = tuple(i for i, (c, n) in enumerate(zip(t, s)) if n == 1 and sizes[c] != 1)
        squeeze.append(drop)
        final.append("".join(c for i, c in enumerate(t) if i not in drop))
    return _EinsumPlan(final, squeeze, out, sizes)


def _einsum_forward(*operands: Any, subscripts: str, optimize: Any, plan: _EinsumPlan) -> Any:
    return np.einsum(subscripts, *operands, optimize=optimize)


def _einsum_operand_grad(
    g: Any, k: int, operands: Sequence[Any], plan: _EinsumPlan, optimize: Any
) -> Any:
    """The gradient of operand k: the einsum of g with the other operands onto operand k's
    distinct letters, broadcast over the letters only operand k sums, and written onto the
    diagonal where operand k repeats a letter. With BVars (a nested run) every step is an
    operation of the enclosing run, so the gradient is differentiable."""
    x_shape = np.shape(plain_value(operands[k]))
    term = plan.terms[k]
    distinct = "".join(dict.fromkeys(term))
    others = [
        (plan.terms[j], np.squeeze(float_array(operands[j]), axis=plan.squeeze[j]))
        for j in range(len(operands))
        if j != k
    ]
    reachable = set(plan.out).union(*(set(t) for t, _ in others))
    present = "".join(c for c in distinct if c in reachable)
    spec = ",".join([plan.out, *(t for t, _ in others)]) + "->" + present
    n_ops = 1 + len(others)
    opt = optimize if optimize is not False or n_ops < 3 else "greedy"
    r = np.einsum(spec, float_array(g), *(o for _, o in others), optimize=opt)
    full = [plan.sizes[c] for c in distinct]
    r = np.broadcast_to(
        np.reshape(r, [plan.sizes[c] if c in present else 1 for c in distinct]), full
    )
    squeezed_shape = tuple(plan.sizes[c] for c in term)
    if isinstance(r, BVar):
        grad = r if len(distinct) == len(term) else _on_diagonal(r, term, distinct, plan)
    elif len(distinct) == len(term):
        grad = np.array(r, dtype=np.float64)  # a fresh, writable array in the term's order
    else:
        grad = np.zeros(squeezed_shape)
        strides = [sum(grad.strides[i] for i, c in enumerate(term) if c == d) for d in distinct]
        diagonal = np.lib.stride_tricks.as_strided(
            grad, shape=full, strides=strides, writeable=True
        )
        diagonal[...] = r
    return np.reshape(grad, x_shape)


def _on_diagonal(r: Any, term: str, distinct: str, plan: _EinsumPlan) -> Any:
    """`r` (indexed by `distinct`) written onto the diagonal of an array indexed by `term`, which
    repeats letters, as an einsum with identity matrices (differentiable, unlike a strided
    write): each repeat of a letter gets a fresh letter tied to the first by an identity."""
    used = set(plan.out).union(*plan.terms)
    fresh = [c for c in _LETTERS if c not in used]
    subscripts, operands, out = [distinct], [r], []
    for c in term:
        if c in out:
            f = fresh.pop(0)
            subscripts.append(c + f)
            operands.append(np.eye(plan.sizes[c]))
            out.append(f)
        else:
            out.append(c)
    return np.einsum(",".join(subscripts) + "->" + "".join(out), *operands)


def _einsum_vjp_all(
    g: Any,
    ans: Any,
    live: tuple[bool, ...],
    *operands: Any,
    subscripts: str,
    optimize: Any,
    plan: _EinsumPlan,
) -> list[Any]:
    return [
        _einsum_operand_grad(g, k, operands, plan, optimize) if on else None
        for k, on in enumerate(live)
    ]


_EINSUM = defvjp_n("einsum", _einsum_forward, _einsum_vjp_all)


@implements(
    np.einsum, rule="each operand: einsum of g with the other operands (diagonals scattered back)"
)
def einsum(
    *operands: Any,
    out: Any = None,
    optimize: Any = False,
    dtype: Any = None,
    order: Any = None,
    casting: Any = None,
) -> Any:
    """numpy.einsum on BVars: any subscripts (implicit output, `...`, repeated letters), both
    call forms; `optimize` is passed to numpy."""
    refuse("einsum", out=out)
    check_float_dtype("einsum", dtype)
    subscripts, ops = _einsum_args(operands)
    plan = _einsum_plan(subscripts, [_shape(o) for o in ops])
    return _EINSUM(*ops, subscripts=subscripts, optimize=optimize, plan=plan)


# ---- kron, cross ----------------------------------------------------------------------------------


@implements(np.kron, rule="native reshapes and one broadcast multiply (product rule)", native=True)
def kron(a: Any, b: Any) -> Any:
    """numpy.kron on BVars."""
    sa, sb = _shape(a), _shape(b)
    nd = max(len(sa), len(sb))
    if nd == 0:
        return _core.mul(a, b)
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    a2 = _reshape(a, [n for m in sa for n in (m, 1)])  # (a0, 1, a1, 1, ...)
    b2 = _reshape(b, [n for m in sb for n in (1, m)])  # (1, b0, 1, b1, ...)
    return _reshape(_core.mul(a2, b2), [m * n for m, n in zip(sa, sb)])


def _cross_forward(a: Any, b: Any, *, axisa: int = -1, axisb: int = -1, axisc: int = -1) -> Any:
    return np.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc)


def _cross_parts(
    g: Any, a: Any, b: Any, axisa: int, axisb: int, axisc: int
) -> tuple[Any, Any, Any]:
    """g, a and b with their vector axes moved last."""
    return (
        np.moveaxis(float_array(g), axisc, -1),
        np.moveaxis(a, axisa, -1),
        np.moveaxis(b, axisb, -1),
    )


def _cross_vjp_a(
    g: Any, ans: Any, a: Any, b: Any, *, axisa: int = -1, axisb: int = -1, axisc: int = -1
) -> Any:
    # <g, da × b> = <b × g, da> (cyclic triple product), then unbroadcast
    g3, a3, b3 = _cross_parts(g, a, b, axisa, axisb, axisc)
    return np.moveaxis(unbroadcast(np.cross(b3, g3), np.shape(plain_value(a3))), -1, axisa)


def _cross_vjp_b(
    g: Any, ans: Any, a: Any, b: Any, *, axisa: int = -1, axisb: int = -1, axisc: int = -1
) -> Any:
    # <g, a × db> = <g × a, db>
    g3, a3, b3 = _cross_parts(g, a, b, axisa, axisb, axisc)
    return np.moveaxis(unbroadcast(np.cross(g3, a3), np.shape(plain_value(b3))), -1, axisb)


_CROSS = defvjp("cross", _cross_forward, _cross_vjp_a, _cross_vjp_b)


@implements(np.cross, rule="(b × g, g × a), unbroadcast (3-vectors)")
def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> Any:
    """numpy.cross on BVars, for 3-component vectors (broadcasting over the other axes)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise ShapeError(
            f"numpy.cross: operands must have at least one axis, got shapes {sa} and {sb}"
        )
    for ax, s in ((axisa, sa), (axisb, sb)):
        if not -len(s) <= ax < len(s):
            raise np.exceptions.AxisError(ax, len(s), msg_prefix="numpy.cross")
    if sa[axisa] != 3 or sb[axisb] != 3:
        raise TypeError(
            f"numpy.cross: only 3-component vectors are supported on BVars, got shapes {sa} and {sb} "
            f"(2-component cross products are deprecated in numpy)"
        )
    return _CROSS(a, b, axisa=int(axisa), axisb=int(axisb), axisc=int(axisc))
