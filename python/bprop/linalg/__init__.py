"""Arrays and linear algebra on numpy float64 (hmatrix-backprop's static interface, SPEC §7).

* `_native`: products, reductions, transposition and the fused softmax cross-entropy, backed
  by the Rust core's kernels.
* `_structure`: building and taking apart vectors and matrices, maps, and the softmax family.
* `_decomp`: determinants, inverses, norms, covariances and the symmetric decompositions.
* `_multi`: the one-node-many-outputs mechanism behind `split`, `eigensystem`, `mean_cov`, ...

hmatrix names are kept as aliases where they are valid Python (`tr`, `full`); its operators map
to `matmul` (`<>`, also `@`), `matvec` (`#>`), `concat` (`#`), `snoc` (`&`), `hstack` (`|||`),
`vstack` (`===`), `logabsdet` (`lndet`), `inv_logabsdet` (`invlndet`), `mean_rows` (`meanL`).
"""

from . import _decomp, _native, _structure
from ._decomp import *
from ._native import *
from ._structure import *

# (`+=` of the submodules' lists: a form type checkers read to find the exported names.)
__all__: list[str] = []
__all__ += _native.__all__
__all__ += _structure.__all__
__all__ += _decomp.__all__
