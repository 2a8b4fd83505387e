"""numpy.linalg on BVars (`bprop.numpy.linalg`): the same functions `np.linalg.*` dispatch to."""

from ._linalg import *
from ._linalg import __all__ as __all__
