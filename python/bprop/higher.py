"""Higher-order derivatives: Hessians, Hessian-vector products, Jacobians.

They are built on nested runs: a runner called inside another runner's function records its
computation *and its reverse sweep* on the enclosing run's tape, so a gradient is itself
differentiable (`bp.grad_bp(lambda x: bp.grad_bp(f, x), x0)` is `f''(x0)`), to any depth.

Inputs and outputs may be floats, numpy arrays, or containers of them (tuples, lists, dicts,
dataclasses), as for the runners. A Jacobian follows JAX's `jacrev` layout: for every leaf of the
output, the input's structure with that leaf's shape in front of each input leaf's shape.

>>> bp.hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
array([[4., 2.],
       [2., 0.]])
>>> bp.hvp(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), np.array([1.0, 0.0]))
array([4., 2.])
>>> bp.jacobian(lambda x: np.sin(x) * x[0], np.array([0.0, 1.0]))
array([[0.        , 0.        ],
       [0.84147098, 0.        ]])
>>> bp.elementwise_grad(np.tanh, np.array([0.0, 1.0]))
array([1.        , 0.41997434])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

import numpy as np

from ._containers import container_of
from ._core import BVar
from ._typevars import A, B
from .run import _is_container, backprop_n_untyped, backprop_with_n_untyped

__all__ = ["elementwise_grad", "hessian", "hvp", "jacobian"]


def _grad(f: Callable[..., Any], x: Any) -> Any:
    """`bp.grad_bp` untyped: nested, the argument is a BVar whose function sees a BVar of it."""
    return backprop_n_untyped(f, (x,))[1][0]


def _leaves(x: Any) -> list[Any]:
    """The floats, arrays and BVars of a (possibly nested) container, in order."""
    if isinstance(x, BVar) or not _is_container(x):
        return [x]
    return [leaf for c in container_of(x, "a jacobian").components(x) for leaf in _leaves(c)]


def _rebuild(x: Any, leaves: list[Any]) -> Any:
    """`x`'s structure holding `leaves` (consumed from the front)."""
    if isinstance(x, BVar) or not _is_container(x):
        return leaves.pop(0)
    cont = container_of(x, "a jacobian")
    return cont.rebuild(x, [_rebuild(c, leaves) for c in cont.components(x)])


def _one_hot(leaves: list[Any], which: int, i: int) -> list[Any]:
    """Zero cotangents for every leaf, with a one at flat position `i` of leaf `which`."""
    out: list[Any] = []
    for k, leaf in enumerate(leaves):
        shape = np.shape(leaf)
        if not shape:
            out.append(1.0 if k == which else 0.0)
            continue
        z = np.zeros(shape)
        if k == which:
            z.flat[i] = 1.0
        out.append(z)
    return out


def _stacked(rows: list[Any], shape: tuple[int, ...]) -> Any:
    """Gradients of one input leaf, one per output element, as one array of shape
    `out_shape + leaf_shape` (a float for a float output and input)."""
    if len(rows) == 1 and not shape:
        return rows[0]
    first = np.shape(rows[0])
    return np.reshape(np.stack(rows), shape + first)


def jacobian(f: Callable[[BVar[A]], Any], x: A) -> Any:
    """The Jacobian of `f` at `x` by reverse mode: `f` is recorded once, then swept once per
    output element (the output's size) with a one-hot seed.

    For a float or array output and input, an array of shape `out.shape + x.shape` (a float if
    both are floats). Containers give JAX's `jacrev` layout (see the module).

    >>> bp.jacobian(lambda v: v * v, np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> bp.jacobian(lambda p: p["a"] * p["b"], {"a": 2.0, "b": 3.0})
    {'a': 3.0, 'b': 2.0}
    """
    y, pullback = backprop_with_n_untyped(f, (x,))
    out_leaves = _leaves(y)
    per_out = []
    for k, leaf in enumerate(out_leaves):
        shape = np.shape(leaf)
        grads = [
            _leaves(pullback(_rebuild(y, _one_hot(out_leaves, k, i)))[0])
            for i in range(int(np.prod(shape)))
        ]
        in_leaves = [_stacked([g[j] for g in grads], shape) for j in range(len(_leaves(x)))]
        per_out.append(_rebuild(x, in_leaves))
    return _rebuild(y, per_out)


def hessian(f: Callable[[BVar[A]], BVar[float]], x: A) -> Any:
    """The Hessian of a scalar function `f` at `x`: the Jacobian of its gradient (reverse over
    reverse), shape `x.shape + x.shape` for an array `x`.

    >>> bp.hessian(lambda x: x ** 3, 2.0)
    12.0
    """
    return jacobian(lambda v: _grad(f, v), x)


def _vdot(a: Any, b: Any) -> Any:
    """The inner product of two values of one structure (sum over every leaf)."""
    total: Any = 0.0
    for u, w in zip(_leaves(a), _leaves(b), strict=True):
        total = total + np.sum(u * w)
    return total


@overload
def hvp(f: Callable[[BVar[A]], BVar[float]], x: BVar[A], v: A | BVar[A]) -> BVar[A]: ...
@overload
def hvp(f: Callable[[BVar[A]], BVar[float]], x: A, v: A) -> A: ...
def hvp(f: Callable[[BVar[Any]], BVar[float]], x: Any, v: Any) -> Any:
    """The Hessian of a scalar `f` at `x` times `v` (same structure as `x`), without forming the
    Hessian: the gradient of `x -> <grad f(x), v>`, a few times the cost of one gradient.

    >>> bp.hvp(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    return _grad(lambda u: _vdot(_grad(f, u), v), x)


@overload
def elementwise_grad(f: Callable[[BVar[A]], BVar[B]], x: BVar[A]) -> BVar[A]: ...
@overload
def elementwise_grad(f: Callable[[BVar[A]], BVar[B]], x: A) -> A: ...
def elementwise_grad(f: Callable[[BVar[Any]], BVar[Any]], x: Any) -> Any:
    """The gradient of `sum(f(x))` (HIPS autograd's `elementwise_grad`): the output seeded with
    ones. When `f` acts elementwise (each output element depends only on the same input element),
    this is the diagonal of the Jacobian, i.e. the derivative at every point at once. It is
    what `bp.grad_bp` gives for an array output too (its seed is `one(result)`); the name says
    which is meant.

    >>> bp.elementwise_grad(lambda x: x ** 2, np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    """
    return _grad(f, x)
