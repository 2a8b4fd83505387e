"""numpy's API on BVars: `import bprop.numpy as bnp`.

numpy's own functions already work on BVars (`np.sum(v)`, `np.stack([v, w])`, `v.reshape(...)`)
through numpy's dispatch protocols; this namespace holds the same implementations under numpy's
names, typed for BVars (numpy's stubs reject them), and is what `v.__array_namespace__()`
returns. `bprop.numpy.linalg` mirrors `numpy.linalg`, `bprop.numpy.special` the elementwise
functions of `scipy.special`. Every function is an entry of one registry
(`bprop.numpy._registry`) where its forward and pullback are declared side by side.
"""

import sys

from . import _examples, _indexing, _products, _reductions, _shape, _ufuncs, linalg, special
from ._indexing import *
from ._products import *
from ._reductions import *
from ._shape import *
from ._ufuncs import *

# (`+=` of the submodules' lists: a form type checkers read to find the exported names.)
__all__: list[str] = []
__all__ += _ufuncs.__all__
__all__ += _reductions.__all__
__all__ += _shape.__all__
__all__ += _indexing.__all__
__all__ += _products.__all__
__all__ += ["linalg", "special"]

# one example per function, from one table (`_examples.EXAMPLES`), appended to the docstrings
_examples.attach(sys.modules[__name__])
