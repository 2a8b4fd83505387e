"""Small pieces shared by the `bprop.linalg` modules (`named` lives in `bprop.op`)."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .._core import BVar
from ..op import named

__all__ = ["Array", "ArrayC", "as_f64", "named", "value_shape"]  # `named`: re-exported

Array: TypeAlias = npt.NDArray[np.float64]
ArrayC: TypeAlias = npt.NDArray[np.floating[Any] | np.integer[Any] | np.bool_]
"""A plain array given where a BVar may be (a constant; converted to float64)."""


def as_f64(x: Any) -> Array:
    """`x` as a float64 array (no copy when it already is one)."""
    return np.asarray(x, dtype=np.float64)


def value_shape(x: Any) -> tuple[int, ...]:
    """Shape of a BVar's value or of a plain value (taken as a constant by the op)."""
    return tuple(np.shape(x.value if isinstance(x, BVar) else x))
