"""mypy-only checks for BVars (SPEC §4): arithmetic, math functions, constants, casts.

Never imported or run: tests/test_typing.py runs `mypy --strict` on this file (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).
"""

from __future__ import annotations

from typing import assert_type

import bprop as bp
import numpy as np
import numpy.typing as npt
from bprop import BVar

Vec = npt.NDArray[np.float64]


# ---- accepted ------------------------------------------------------------------------------------


def arithmetic(x: BVar[float], y: BVar[float]) -> None:
    assert_type(x + y, BVar[float])
    assert_type(x - y, BVar[float])
    assert_type(x * y, BVar[float])
    assert_type(x / y, BVar[float])
    assert_type(x**y, BVar[float])
    assert_type(-x, BVar[float])
    assert_type(+x, BVar[float])
    assert_type(abs(x), BVar[float])
    # With plain values (constants), on either side.
    assert_type(x + 1.0, BVar[float])
    assert_type(1.0 + x, BVar[float])
    assert_type(x - 1.0, BVar[float])
    assert_type(1.0 - x, BVar[float])
    assert_type(x * 2.0, BVar[float])
    assert_type(2.0 * x, BVar[float])
    assert_type(x / 2.0, BVar[float])
    assert_type(2.0 / x, BVar[float])
    assert_type(x**2.0, BVar[float])
    assert_type(2.0**x, BVar[float])
    # Ints where floats are expected (PEP 484's numeric promotion).
    assert_type(x + 1, BVar[float])
    assert_type(2 * x, BVar[float])
    assert_type(x**2, BVar[float])
    assert_type(1 / x, BVar[float])
    # Expressions compose.
    assert_type((x * y + 1.0) / (x - 2.0) ** 2, BVar[float])


def other_value_types(n: BVar[int], z: BVar[complex], v: BVar[Vec], w: Vec) -> None:
    assert_type(n + n, BVar[int])
    assert_type(n * 3, BVar[int])
    assert_type(z * 1j, BVar[complex])
    assert_type(v + v, BVar[Vec])
    assert_type(v * w, BVar[Vec])


def arrays_with_floats(x: BVar[float], v: BVar[Vec], w: Vec) -> None:
    # Floats broadcast against arrays (as at run time): an array BVar with a float or a float
    # BVar, and a float BVar with an array, give array BVars.
    assert_type(v * 0.5, BVar[Vec])
    assert_type(0.5 * v, BVar[Vec])
    assert_type(1.0 - v, BVar[Vec])
    assert_type(v / 2.0, BVar[Vec])
    assert_type(v + x, BVar[Vec])
    assert_type(x - v, BVar[Vec])
    assert_type(x * w, BVar[Vec])
    assert_type(w * x, BVar[Vec])
    assert_type(x / 2.0, BVar[float])


def values_and_comparisons(x: BVar[float], s: BVar[str]) -> None:
    assert_type(x.value, float)
    assert_type(s.value, str)
    assert_type(x.is_constant, bool)
    # Comparisons compare values and give plain results; branching on them is fine.
    if x < 1.0 or x >= s.value.count("a"):
        pass
    assert_type(hash(x), int)


def math_functions(x: BVar[float], v: BVar[Vec], w: Vec) -> None:
    assert_type(bp.sin(x), BVar[float])
    assert_type(bp.cos(x), BVar[float])
    assert_type(bp.exp(x), BVar[float])
    assert_type(bp.log(x), BVar[float])
    assert_type(bp.sqrt(x), BVar[float])
    assert_type(bp.tanh(x), BVar[float])
    assert_type(bp.atanh(x), BVar[float])
    assert_type(bp.signum(x), BVar[float])
    assert_type(bp.recip(x), BVar[float])
    assert_type(bp.log_base(x, 2.0), BVar[float])
    assert_type(bp.log_base(2.0, x), BVar[float])
    assert_type(bp.log_base(x, x), BVar[float])
    assert_type(bp.sin(v), BVar[Vec])
    # Plain values give plain values.
    assert_type(bp.sin(1.0), float)
    assert_type(bp.log_base(2.0, 8.0), float)
    assert_type(bp.exp(w), Vec)
    assert_type(bp.pi, float)
    assert_type(bp.sin(x * bp.pi), BVar[float])


def constants_and_casts(x: BVar[float], pair: tuple[float, int]) -> None:
    assert_type(bp.const_var(1.0), BVar[float])
    assert_type(bp.const_var("s"), BVar[str])
    assert_type(bp.auto(1.0), BVar[float])
    assert_type(bp.auto(pair), BVar[tuple[float, int]])
    # coerce_var retypes by annotation (a static cast).
    n: BVar[int] = bp.coerce_var(x)
    assert_type(n, BVar[int])


# ---- rejected ------------------------------------------------------------------------------------


def rejected(x: BVar[float], n: BVar[int], s: BVar[str], v: BVar[Vec]) -> None:
    # Converting a BVar to a plain number would silently drop its gradient: the stub omits
    # __float__/__int__/__complex__ so these are static errors (use x.value).
    float(x)  # type: ignore[arg-type]
    int(x)  # type: ignore[call-overload]
    complex(x)  # type: ignore[call-overload]
    # Arithmetic between values of unrelated types.
    x + "s"  # type: ignore[operator]
    x + s  # type: ignore[operator]
    x * n  # type: ignore[operator]
    "s" + x  # type: ignore[operator]
    v * "s"  # type: ignore[operator]
    # BVar is invariant in its value type.
    _i: BVar[int] = x  # type: ignore[assignment]
    _f: BVar[float] = n  # type: ignore[assignment]
    _o: BVar[object] = x  # type: ignore[assignment]
    # The value has the BVar's type.
    _t: str = x.value  # type: ignore[assignment]
    # Math functions take numbers, arrays or BVars.
    bp.sin("s")  # type: ignore[call-overload]
    bp.log_base("s", x)  # type: ignore[call-overload]
    # A BVar is not a plain float.
    _p: float = x  # type: ignore[assignment]
