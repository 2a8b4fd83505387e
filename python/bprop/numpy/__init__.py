"""numpy's API on BVars: `import bprop.numpy as bnp`.

numpy's own functions already work on BVars (`np.sum(v)`, `np.stack([v, w])`, `v.reshape(...)`)
through numpy's dispatch protocols; this namespace holds the same implementations under numpy's
names, typed for BVars (numpy's stubs reject them), and is what `v.__array_namespace__()`
returns. Every function is an entry of one registry (`bprop.numpy._registry`) where its forward
and pullback are declared side by side.
"""

from . import _ufuncs
from ._ufuncs import *  # noqa: F403

__all__ = [*_ufuncs.__all__]
