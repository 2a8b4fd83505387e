"""Small pieces shared by the `bprop.linalg` modules."""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

from .._core import BVar

Array: TypeAlias = npt.NDArray[np.float64]

_Op = TypeVar("_Op")


def as_f64(x: Any) -> Array:
    """`x` as a float64 array (no copy when it already is one)."""
    return np.asarray(x, dtype=np.float64)


def value_shape(x: Any) -> tuple[int, ...]:
    """Shape of a BVar's value or of a plain value (taken as a constant by the op)."""
    return tuple(np.shape(x.value if isinstance(x, BVar) else x))


def named(op: _Op, name: str) -> _Op:
    """`op`, renamed after the public function (error messages name it)."""
    op.name = name  # type: ignore[attr-defined]
    return op
