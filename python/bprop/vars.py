"""Constructors and casts of BVars that are not arithmetic."""

from __future__ import annotations

from typing import TypeVar, cast

from ._core import BVar, const_var

__all__ = ["auto", "coerce_var", "const_var"]

A = TypeVar("A")
B = TypeVar("B")


def auto(x: A) -> BVar[A]:
    """A constant BVar (Haskell's `auto`, same as `const_var`)."""
    return const_var(x)


def coerce_var(v: BVar[A]) -> BVar[B]:
    """The same node, retyped (a static cast only: no node is recorded)."""
    return cast("BVar[B]", v)
