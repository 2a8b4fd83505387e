"""numpy.linalg on BVars (`bprop.numpy.linalg`): the same functions `np.linalg.*` dispatch to."""

from ._linalg import *
from ._linalg import __all__ as __all__  # noqa: PLC0414 (a re-export, for type checkers)
