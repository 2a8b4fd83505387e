"""A container gradient that cannot become its array fails the sweep with a typed error naming the
node's op and the offending row (was: a NaN stand-in reported as "not a real array").

Such a gradient cannot come from the public API: the package reads the rows it hands to
`_core.project` from the array itself, so every row gradient has the row's shape. These tests give
`_core.project` rows that do not fit, the only way to reach the path.
"""

from __future__ import annotations

from typing import Any

import bprop as bp
import numpy as np
import pytest
from bprop import _core
from bprop.errors import ShapeError


def _row_of_product(row_value: Any) -> Any:
    """`f(x)` reading row 0 of the array node `x * 2.0` through a row whose value is `row_value`,
    then using that row in a native op."""

    def f(x: Any) -> Any:
        y = x * 2.0  # a native array node: its gradient must become one array
        (row,) = _core.project(y, 3, [0], [row_value])
        return _core.sum(row * 3.0)

    return f


def test_a_row_gradient_of_the_wrong_shape_is_a_shape_error_naming_op_and_row() -> None:
    f = _row_of_product(np.zeros(5))
    with pytest.raises(ShapeError) as info:
        bp.grad_bp(f, np.ones((3, 2)))
    msg = str(info.value)
    assert msg.startswith("mul (node 1): the gradient of its result could not be built: ")
    assert "the gradient of row 0 has shape [5], but the row has shape [2]" in msg
    # the row's own error is kept as the cause
    assert isinstance(info.value.__cause__, ShapeError)


def test_a_float_gradient_for_an_array_row_is_a_type_error_naming_op_and_row() -> None:
    f = _row_of_product(1.0)
    with pytest.raises(TypeError) as info:
        bp.grad_bp(f, np.ones((3, 2)))
    assert str(info.value) == (
        "mul (node 1): the gradient of its result could not be built: the gradient of row 0 "
        "of an array of shape [3, 2] is not a real number or array"
    )
    assert not isinstance(info.value, ShapeError)


def test_rows_that_fit_give_the_gradient_and_the_next_run_works() -> None:
    # The same graph with a row of the right shape: d/dx sum(3 * (2x)[0]) is 6 on row 0.
    for bad in (np.zeros(5), 1.0):
        with pytest.raises((ShapeError, TypeError)):
            bp.grad_bp(_row_of_product(bad), np.ones((3, 2)))
    g = bp.grad_bp(_row_of_product(np.full(2, 2.0)), np.ones((3, 2)))
    np.testing.assert_array_equal(g, [[6.0, 6.0], [0.0, 0.0], [0.0, 0.0]])
