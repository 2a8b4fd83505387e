"""Constructors and casts of BVars that are not arithmetic."""

from __future__ import annotations

from typing import Any, TypeVar

from ._core import BVar, const_var

__all__ = ["auto", "coerce_var", "const_var"]

A = TypeVar("A")


def auto(x: A) -> BVar[A]:
    """A constant BVar (Haskell's `auto`, same as `const_var`).

    >>> bp.grad_bp(lambda x: x * bp.auto(3.0), 2.0)
    3.0
    """
    return const_var(x)


def coerce_var(v: BVar[Any]) -> BVar[Any]:
    """The same node, retyped (a static cast only: no node is recorded): annotate the target,
    `n: BVar[int] = coerce_var(x)`.

    >>> bp.grad_bp(lambda x: bp.coerce_var(x) * 2.0, 1.0)
    2.0
    """
    return v
