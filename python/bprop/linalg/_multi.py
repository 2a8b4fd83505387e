"""Multi-output ops (hmatrix-backprop's `split`, `eigensystem`, `invlndet`, ...).

An op whose value is a tuple is recorded once; each component is then read out by a projection
op. The projections' gradients meet in the tuple's gradient slot (added with the tuple instance
of `add`), so the underlying op's pullback runs once with every component's gradient, zero for
components that were never used.
"""

from __future__ import annotations

from typing import Any

from .._core import BVar
from ..classes import zero
from ..op import Op, op1
from ._common import named

__all__ = ["lift_multi"]


def _projection(i: int, name: str) -> Op[tuple[Any, ...], Any]:
    def forward(whole: tuple[Any, ...]) -> tuple[Any, Any]:
        def pullback(d: Any) -> tuple[Any, ...]:
            return tuple(d if j == i else zero(part) for j, part in enumerate(whole))

        return whole[i], pullback

    return named(op1(forward), f"{name}[{i}]")


def _split(whole: BVar[Any], value: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    parts = []
    for i, part in enumerate(value):
        component = _projection(i, name)(whole)
        # a nested tuple (e.g. invlndet's `(log|det|, sign)`) is split in turn
        parts.append(_split(component, part, f"{name}[{i}]") if isinstance(part, tuple) else component)
    return tuple(parts)


def lift_multi(op: Op[Any, Any], *args: Any) -> tuple[Any, ...]:
    """Apply an op whose value is a (possibly nested) tuple and return its components as BVars
    that share the op's one node."""
    whole = op(*args)
    value = whole.value
    if not isinstance(value, tuple):
        raise TypeError(f"op {op.name}: a multi-output op must return a tuple, got {type(value).__qualname__}")
    return _split(whole, value, op.name)
