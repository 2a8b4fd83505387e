"""Type checks of realistic user code on values: an MLP on a dataclass of arrays (bprop.linalg
and `@`), a library author's `Vec2` record, complex numbers, containers split and joined; and
the misuses a new user makes with them, each rejected statically.

Never imported or run: tests/test_typing.py runs `mypy --strict` on this file (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways); every rejected line is rejected by pyright as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, assert_type

import bprop as bp
import numpy as np
import numpy.typing as npt
from bprop import BVar
from bprop import linalg as la

Vec = npt.NDArray[np.float64]


@dataclass
class Layer:
    w: Vec
    b: Vec


@dataclass
class Net:
    hidden: Layer
    out: Layer


@dataclass
class Vec2:
    x: float
    y: float


class Pair(NamedTuple):
    mu: float
    sigma: float


# ---- accepted: an MLP on a dataclass of arrays ---------------------------------------------------


def dense(layer: BVar[Layer], x: BVar[Vec] | Vec) -> BVar[Vec]:
    w = bp.view_var(bp.attr(Layer, lambda l: l.w), layer)
    b = bp.view_var(bp.attr(Layer, lambda l: l.b), layer)
    assert_type(w, BVar[Vec])
    return x @ w + b


def mlp_loss(net: BVar[Net], x: Vec, onehot: Vec) -> BVar[float]:
    hidden = bp.view_var(bp.attr(Net, lambda n: n.hidden), net)
    assert_type(hidden, BVar[Layer])
    h = bp.tanh(dense(hidden, x))
    logits = dense(bp.view_var(bp.attr(Net, lambda n: n.out), net), h)
    loss = la.softmax_cross_entropy(logits, onehot)
    # L2 penalty on every weight: `**` broadcasts like `*`.
    w1 = bp.view_var(bp.attr(Net, lambda n: n.hidden.w), net)
    w2 = bp.view_var(bp.attr(Net, lambda n: n.out.w), net)
    penalty = la.sum(w1**2) + la.sum(w2 * w2)
    assert_type(penalty, BVar[float])
    return loss + 1e-4 * penalty


def array_arithmetic(w: BVar[Vec], v: BVar[Vec], x: BVar[float], m: Vec) -> None:
    assert_type(w**2, BVar[Vec])
    assert_type(w**2.0, BVar[Vec])
    assert_type(w**x, BVar[Vec])
    assert_type(2.0**w, BVar[Vec])
    assert_type(w**v, BVar[Vec])
    assert_type(w**m, BVar[Vec])
    assert_type(x**w, BVar[Vec])
    assert_type(w @ v, BVar[Vec])
    assert_type(w @ m, BVar[Vec])
    assert_type(m @ w, BVar[Vec])


def numpy_scalars(f: BVar[np.float64], x: BVar[float]) -> None:
    # A numpy float scalar (what a reduction of an array gives) mixes with Python floats.
    assert_type(f + 1.0, BVar[np.float64])
    assert_type(1.0 + f, BVar[np.float64])
    assert_type(f * 2, BVar[np.float64])
    assert_type(f**2, BVar[np.float64])
    assert_type(f / x, BVar[np.float64])
    assert_type(bp.exp(f), BVar[np.float64])


def linalg_results(w: BVar[Vec], m: Vec, u: Vec) -> None:
    assert_type(la.matmul(w, w), BVar[Vec])
    assert_type(la.matmul(m, w), BVar[Vec])
    assert_type(la.matmul(m, u), Vec)
    # Plain arrays are constants, on either side.
    assert_type(la.matvec(w, u), BVar[Vec])
    assert_type(la.matvec(m, w), BVar[Vec])
    assert_type(la.matvec(m, u), Vec)
    assert_type(la.dot(w, u), BVar[float])
    assert_type(la.dot(u, w), BVar[float])
    assert_type(la.outer(u, w), BVar[Vec])
    # Reductions: the whole array gives a float, along an axis an array.
    assert_type(la.sum(w), BVar[float])
    assert_type(la.sum(w, axis=0), BVar[Vec])
    assert_type(la.mean(w), BVar[float])
    assert_type(la.mean(w, 1), BVar[Vec])
    assert_type(la.logsumexp(w), BVar[float])
    assert_type(la.logsumexp(w, axis=-1), BVar[Vec])
    assert_type(la.logsumexp(w, axis=(0, 1)), BVar[Vec])
    assert_type(la.softmax_cross_entropy(w, m), BVar[float])


# ---- accepted: records, complex numbers, containers -----------------------------------------------


def vec2_norm(v: BVar[Vec2]) -> BVar[float]:
    x = bp.view_var(bp.attr(Vec2, lambda p: p.x), v)
    y = bp.view_var(bp.attr(Vec2, lambda p: p.y), v)
    assert_type(x, BVar[float])
    return bp.sqrt(x * x + y * y)


def records(v: BVar[Vec2], p: BVar[Pair], net: BVar[Net]) -> None:
    assert_type(bp.attr(Vec2, lambda q: q.x), bp.Lens[Vec2, float])
    assert_type(bp.attr(Pair, lambda q: q.sigma), bp.Lens[Pair, float])
    assert_type(bp.view_var(bp.attr(Pair, lambda q: q.mu), p), BVar[float])
    assert_type(bp.set_var(bp.attr(Vec2, lambda q: q.y), 0.0, v), BVar[Vec2])
    assert_type(bp.view_var(bp.attr(Net, lambda n: n.out.b), net), BVar[Vec])
    # split_var of a record (dataclass or NamedTuple) is untyped (Any), not an error.
    _mu, _sigma = bp.split_var(p)
    assert_type(bp.split_var(v), Any)
    assert_type(bp.join_var(Vec2(1.0, 2.0)), BVar[Vec2])


def complex_numbers(z: BVar[complex], x: BVar[float]) -> None:
    assert_type(z * z + 1j, BVar[complex])
    assert_type(bp.exp(z), BVar[complex])
    assert_type(bp.sqrt(z), BVar[complex])
    assert_type(z**2, BVar[complex])


def containers(
    x: BVar[float], w: BVar[Vec], d: dict[str, Any], lv: BVar[list[float]], anyv: BVar[Any]
) -> None:
    # A dict of BVars of different types joins to a dict of Any, and splits back to a dict
    # (not to the first tuple overload's 1-tuple).
    joined = bp.join_var({"x": x, "w": w})
    assert_type(joined, BVar[dict[str, Any]])
    assert_type(bp.split_var(joined), dict[str, BVar[Any]])
    assert_type(bp.split_var(bp.join_var(d)), dict[str, BVar[Any]])
    assert_type(bp.split_var(anyv), Any)
    assert_type(bp.split_var(bp.join_var([x, w])), list[BVar[Any]])
    assert_type(bp.split_var(w), list[BVar[Any]])
    # Indexing: list and dict items have one type; tuple items are BVar[Any].
    assert_type(lv[0], BVar[float])
    assert_type(bp.join_var({"a": x})["a"], BVar[float])
    assert_type(anyv[0], BVar[Any])


# ---- rejected ----------------------------------------------------------------------------------------


def rejected_matmul(x: BVar[float], w: BVar[Vec], u: BVar[Vec2], z: BVar[complex], m: Vec) -> None:
    # `@` is for arrays: float, complex and record BVars have none.
    x @ x  # type: ignore[misc, operator]
    x @ w  # type: ignore[operator]
    w @ x  # type: ignore[operator]
    w @ 2.0  # type: ignore[operator]
    z @ z  # type: ignore[misc, operator]
    u @ u  # type: ignore[misc, operator]
    x @ m  # type: ignore[operator]
    la.matmul(x, w)  # type: ignore[arg-type]
    la.matvec(w, x)  # type: ignore[arg-type]
    la.dot(x, x)  # type: ignore[arg-type]


def rejected_indexing(x: BVar[float], u: BVar[Vec2], z: BVar[complex], s: BVar[str]) -> None:
    # Floats, complex numbers, strings and records have no items (records: use attr).
    x[0]  # type: ignore[misc]
    u[0]  # type: ignore[misc]
    u["x"]  # type: ignore[misc, call-overload]
    z[0]  # type: ignore[misc]
    s[0]  # type: ignore[misc]


def rejected_indexing_keys(lv: BVar[list[float]], dv: BVar[dict[str, float]]) -> None:
    # A list is indexed by one integer, a dict by its key type.
    lv["a"]  # type: ignore[index]
    dv[0]  # type: ignore[index]


def rejected_math(u: BVar[Vec2], s: BVar[str], net: BVar[Net], lv: BVar[list[float]]) -> None:
    # The math functions take numbers and numeric arrays, not records, strings or lists.
    bp.sin(u)  # type: ignore[type-var]
    bp.exp(u)  # type: ignore[type-var]
    bp.sqrt(net)  # type: ignore[type-var]
    bp.sin(s)  # type: ignore[type-var]
    bp.tanh(lv)  # type: ignore[type-var]
    bp.log_base(u, 2.0)  # type: ignore[misc]
    # Arithmetic of a record with a number.
    u * 2.0  # type: ignore[operator]
    2.0 * u  # type: ignore[operator]


def rejected_split_join(x: BVar[float], s: BVar[str], z: BVar[complex], w: BVar[Vec]) -> None:
    # split_var and join_var are for containers (tuples, lists, dicts, records, arrays).
    bp.split_var(x)  # type: ignore[arg-type]
    bp.split_var(s)  # type: ignore[arg-type]
    bp.split_var(z)  # type: ignore[arg-type]
    bp.join_var(3.0)  # type: ignore[call-overload]
    bp.join_var(x)  # type: ignore[call-overload]
    bp.join_var("ab")  # type: ignore[call-overload]
    # The pieces of a split have the components' types.
    a, _b = bp.split_var(bp.join_var((x, w)))
    _c: BVar[Vec] = a  # type: ignore[assignment]


def rejected_typed_attr(v: BVar[Vec2], net: BVar[Net], p: BVar[Pair]) -> None:
    # attr(cls, get): the field must exist (a misspelt name is a static error) ...
    bp.attr(Vec2, lambda q: q.z)  # type: ignore[attr-defined]
    bp.attr(Net, lambda n: n.hiden)  # type: ignore[attr-defined]
    bp.attr(Net, lambda n: n.hidden.weights)  # type: ignore[attr-defined]
    bp.attr(Pair, lambda q: q.mean)  # type: ignore[attr-defined]
    # ... the lens's source is the class, so it is used on BVars of that class only ...
    bp.view_var(bp.attr(Vec2, lambda q: q.x), net)  # type: ignore[misc]
    bp.view_var(bp.attr(Pair, lambda q: q.mu), v)  # type: ignore[misc]
    # ... and the target has the field's type.
    wx = bp.view_var(bp.attr(Net, lambda n: n.out.w), net)
    _f: BVar[float] = wx  # type: ignore[assignment]
    bp.set_var(bp.attr(Vec2, lambda q: q.x), "s", v)  # type: ignore[misc]


def rejected_linalg(w: BVar[Vec], x: BVar[float], u: BVar[Vec2]) -> None:
    # Reductions of arrays give floats, along an axis arrays: used as the other is an error.
    total = la.sum(w)
    _a: BVar[Vec] = total  # type: ignore[assignment]
    rows = la.mean(w, axis=0)
    _b: BVar[float] = rows  # type: ignore[assignment]
    lse = la.logsumexp(w)
    _c: BVar[Vec] = lse  # type: ignore[assignment]
    la.sum(x)  # type: ignore[arg-type]
    la.logsumexp(u)  # type: ignore[arg-type]
    la.sum(w, axis="rows")  # type: ignore[call-overload]
    la.softmax_cross_entropy(w, x)  # type: ignore[arg-type]


def rejected_pow(w: BVar[Vec], x: BVar[float], s: BVar[str], u: BVar[Vec2]) -> None:
    w ** "2"  # type: ignore[operator]
    x**s  # type: ignore[operator]
    u**2  # type: ignore[operator]
    p = w**2
    _q: BVar[float] = p  # type: ignore[assignment]


def rejected_iteration(x: BVar[float], u: BVar[Vec2], z: BVar[complex]) -> None:
    # Floats, complex numbers and records have no items to iterate over or unpack.
    for _ in x:  # type: ignore[misc]
        pass
    for _ in u:  # type: ignore[misc]
        pass
    _a, _b = z  # type: ignore[misc, var-annotated]
    _items = [e for e in u]  # type: ignore[var-annotated, misc]
