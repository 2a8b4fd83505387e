"""Type checks for the higher-order helpers (issue 13): hessian, hvp, jacobian,
elementwise_grad, and runners nested in runners.

Never imported or run: tests/test_typing.py runs mypy --strict and pyright on it (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).
"""

from __future__ import annotations

from typing import Any, assert_type

import bprop as bp
import numpy as np
import numpy.typing as npt
from bprop import BVar

Arr = npt.NDArray[np.float64]


def cube(x: BVar[float]) -> BVar[float]:
    return x * x * x


def loss(w: BVar[Arr]) -> BVar[float]:
    return bp.linalg.sum_elements(w * w)


def show(x: BVar[float]) -> BVar[str]:
    return bp.const_var(str(x.value))


def two(x: BVar[float], y: BVar[float]) -> BVar[float]:
    return x * y


W: Arr = np.array([1.0, 2.0])

# ---- accepted ---------------------------------------------------------------------------------


def accepted() -> None:
    assert_type(bp.hvp(cube, 2.0, 1.0), float)
    assert_type(bp.hvp(loss, W, W), Arr)
    assert_type(bp.elementwise_grad(cube, 2.0), float)
    assert_type(bp.elementwise_grad(loss, W), Arr)
    # the layout of a Jacobian or Hessian depends on the shapes: Any
    assert_type(bp.hessian(loss, W), Any)
    assert_type(bp.jacobian(cube, 2.0), Any)
    # lambdas are inferred from the input
    assert_type(bp.hvp(lambda v: v * v, 2.0, 1.0), float)
    # nested: a runner given a BVar of the enclosing run gives BVars of it
    assert_type(bp.grad_bp(lambda x: bp.grad_bp(cube, x), 2.0), float)
    assert_type(bp.grad_bp(cube, bp.const_var(2.0)), BVar[float])
    assert_type(bp.backprop(cube, bp.const_var(2.0)), tuple[BVar[float], BVar[float]])
    assert_type(bp.grad_bp(lambda w: bp.hvp(loss, w, W) @ W, W), Arr)
    assert_type(bp.grad_bp(lambda x: bp.elementwise_grad(cube, x), 2.0), float)


# ---- rejected -----------------------------------------------------------------------------------


def rejected() -> None:
    bp.hessian(show, 2.0)  # type: ignore[arg-type]
    bp.hvp(show, 2.0, 1.0)  # type: ignore[arg-type]
    bp.hvp(loss, W, 1.0)  # type: ignore[arg-type]
    bp.hvp(cube, 2.0)  # type: ignore[call-overload]
    bp.jacobian(two, 2.0)  # type: ignore[arg-type]
    bp.elementwise_grad(two, 2.0)  # type: ignore[arg-type]
    bp.hessian(cube, "x")  # type: ignore[arg-type]
