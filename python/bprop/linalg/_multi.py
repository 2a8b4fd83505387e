"""Multi-output ops (hmatrix-backprop's `split`, `mean_cov`, `head_tail`, ...).

An op whose value is a tuple is recorded once; its components are read out with
`_core.project`, as the registry's `multi_output` does: one small node per component read, whose
gradients are added slot by slot in the tuple's gradient, so the op's pullback runs once with
every component's gradient (`zero` for components that were never used). A nested tuple (e.g.
`(inverse, (log|det|, sign))`) is projected in turn.
"""

from __future__ import annotations

from typing import Any

from .. import _core
from .._core import BVar
from ..op import Op

__all__ = ["lift_multi"]


def _components(whole: BVar[Any], value: tuple[Any, ...]) -> tuple[Any, ...]:
    n = len(value)
    parts = _core.project(whole, n, list(range(n)), list(value))
    return tuple(_components(p, v) if isinstance(v, tuple) else p for p, v in zip(parts, value))


def lift_multi(op: Op[Any, Any], *args: Any) -> tuple[Any, ...]:
    """Apply an op whose value is a (possibly nested) tuple and return its components as BVars
    that share the op's one node."""
    whole = op(*args)
    value = whole.value
    if not isinstance(value, tuple):
        raise TypeError(
            f"op {op.name}: a multi-output op must return a tuple, got {type(value).__qualname__}"
        )
    return _components(whole, value)
