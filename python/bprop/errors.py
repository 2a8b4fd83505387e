"""Exception classes of bprop (SPEC §8). Messages name the op and the argument position."""

from __future__ import annotations

__all__ = [
    "ArityError",
    "BackpropError",
    "BackpropInstanceError",
    "NoGradientError",
    "ShapeError",
    "TapeScopeError",
]


class BackpropError(Exception):
    """Base class of every error bprop raises on its own account."""


class TapeScopeError(BackpropError):
    """A BVar was used after its run finished, or BVars of two runs were mixed in one op."""


class NoGradientError(BackpropError):
    """A gradient reached an op built with `no_grad`/`no_grad1`."""


class ArityError(BackpropError, TypeError):
    """An op was applied to the wrong number of arguments, or a pullback returned the wrong
    number of gradients."""


class ShapeError(BackpropError, ValueError):
    """Array shapes do not fit the op (names the op and both shapes)."""


class BackpropInstanceError(BackpropError, TypeError):
    """A value's type has no Backprop instance (zero/add/one)."""
