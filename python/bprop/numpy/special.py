"""scipy.special's elementwise functions on BVars (`bprop.numpy.special`): the same entries
scipy's ufuncs dispatch to (scipy itself is only needed to call them)."""

from ._special import *
from ._special import __all__ as __all__  # noqa: PLC0414 (a re-export, for type checkers)
