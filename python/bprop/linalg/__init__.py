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

from ._decomp import *
from ._decomp import __all__ as _decomp_all
from ._native import *
from ._native import __all__ as _native_all
from ._structure import *
from ._structure import __all__ as _structure_all

__all__ = [*_native_all, *_structure_all, *_decomp_all]
