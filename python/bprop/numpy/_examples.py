"""The examples of `bprop.numpy`'s docstrings, in one table.

Every function of `bprop.numpy`, `bprop.numpy.linalg` and `bprop.numpy.special` is a registry
entry whose docstring names numpy's (or scipy's) function; when `bprop.numpy` is imported,
`attach` completes each docstring with the gradient rule of its registry entry (`TABLE`), if
the docstring does not state it, and with its example from the table below. The examples run
as doctests (tests/test_docstrings.py) with `bp` (bprop), `bnp` (bprop.numpy) and `np` (numpy)
imported; values are rounded where they are not exact.
Aliases (`amax` of `max`, `around` of `round`) share their function, and so its example.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from ._registry import TABLE

EXAMPLES: dict[str, str] = {
    "negative": """
>>> y, g = bp.backprop(bnp.negative, 2.0)
>>> round(y, 4), round(g, 4)
(-2.0, -1.0)
""",
    "absolute": """
>>> y, g = bp.backprop(bnp.absolute, -2.0)
>>> round(y, 4), round(g, 4)
(2.0, -1.0)
""",
    "sign": """
>>> y, g = bp.backprop(bnp.sign, -2.0)
>>> round(y, 4), round(g, 4)
(-1.0, 0.0)
""",
    "reciprocal": """
>>> y, g = bp.backprop(bnp.reciprocal, 2.0)
>>> round(y, 4), round(g, 4)
(0.5, -0.25)
""",
    "exp": """
>>> y, g = bp.backprop(bnp.exp, 0.5)
>>> round(y, 4), round(g, 4)
(1.6487, 1.6487)
""",
    "log": """
>>> y, g = bp.backprop(bnp.log, 2.0)
>>> round(y, 4), round(g, 4)
(0.6931, 0.5)
""",
    "sqrt": """
>>> y, g = bp.backprop(bnp.sqrt, 4.0)
>>> round(y, 4), round(g, 4)
(2.0, 0.25)
""",
    "sin": """
>>> y, g = bp.backprop(bnp.sin, 0.5)
>>> round(y, 4), round(g, 4)
(0.4794, 0.8776)
""",
    "cos": """
>>> y, g = bp.backprop(bnp.cos, 0.5)
>>> round(y, 4), round(g, 4)
(0.8776, -0.4794)
""",
    "tan": """
>>> y, g = bp.backprop(bnp.tan, 0.5)
>>> round(y, 4), round(g, 4)
(0.5463, 1.2984)
""",
    "arcsin": """
>>> y, g = bp.backprop(bnp.arcsin, 0.5)
>>> round(y, 4), round(g, 4)
(0.5236, 1.1547)
""",
    "arccos": """
>>> y, g = bp.backprop(bnp.arccos, 0.5)
>>> round(y, 4), round(g, 4)
(1.0472, -1.1547)
""",
    "arctan": """
>>> y, g = bp.backprop(bnp.arctan, 0.5)
>>> round(y, 4), round(g, 4)
(0.4636, 0.8)
""",
    "sinh": """
>>> y, g = bp.backprop(bnp.sinh, 0.5)
>>> round(y, 4), round(g, 4)
(0.5211, 1.1276)
""",
    "cosh": """
>>> y, g = bp.backprop(bnp.cosh, 0.5)
>>> round(y, 4), round(g, 4)
(1.1276, 0.5211)
""",
    "tanh": """
>>> y, g = bp.backprop(bnp.tanh, 0.5)
>>> round(y, 4), round(g, 4)
(0.4621, 0.7864)
""",
    "arcsinh": """
>>> y, g = bp.backprop(bnp.arcsinh, 0.5)
>>> round(y, 4), round(g, 4)
(0.4812, 0.8944)
""",
    "arccosh": """
>>> y, g = bp.backprop(bnp.arccosh, 2.0)
>>> round(y, 4), round(g, 4)
(1.317, 0.5774)
""",
    "arctanh": """
>>> y, g = bp.backprop(bnp.arctanh, 0.5)
>>> round(y, 4), round(g, 4)
(0.5493, 1.3333)
""",
    "positive": """
>>> y, g = bp.backprop(bnp.positive, 2.0)
>>> round(y, 4), round(g, 4)
(2.0, 1.0)
""",
    "square": """
>>> y, g = bp.backprop(bnp.square, 3.0)
>>> round(y, 4), round(g, 4)
(9.0, 6.0)
""",
    "cbrt": """
>>> y, g = bp.backprop(bnp.cbrt, 8.0)
>>> round(y, 4), round(g, 4)
(2.0, 0.0833)
""",
    "exp2": """
>>> y, g = bp.backprop(bnp.exp2, 3.0)
>>> round(y, 4), round(g, 4)
(8.0, 5.5452)
""",
    "expm1": """
>>> y, g = bp.backprop(bnp.expm1, 0.5)
>>> round(y, 4), round(g, 4)
(0.6487, 1.6487)
""",
    "log2": """
>>> y, g = bp.backprop(bnp.log2, 8.0)
>>> round(y, 4), round(g, 4)
(3.0, 0.1803)
""",
    "log10": """
>>> y, g = bp.backprop(bnp.log10, 100.0)
>>> round(y, 4), round(g, 4)
(2.0, 0.0043)
""",
    "log1p": """
>>> y, g = bp.backprop(bnp.log1p, 1.0)
>>> round(y, 4), round(g, 4)
(0.6931, 0.5)
""",
    "deg2rad": """
>>> y, g = bp.backprop(bnp.deg2rad, 180.0)
>>> round(y, 4), round(g, 4)
(3.1416, 0.0175)
""",
    "rad2deg": """
>>> y, g = bp.backprop(bnp.rad2deg, 1.0)
>>> round(y, 4), round(g, 4)
(57.2958, 57.2958)
""",
    "conjugate": """
>>> y, g = bp.backprop(bnp.conjugate, 2.0)
>>> round(y, 4), round(g, 4)
(2.0, 1.0)
""",
    "sinc": """
>>> y, g = bp.backprop(bnp.sinc, 0.5)
>>> round(y, 4), round(g, 4)
(0.6366, -1.2732)
""",
    "floor": """
>>> y, g = bp.backprop(bnp.floor, 2.7)
>>> round(y, 4), round(g, 4)
(2.0, 0.0)
""",
    "ceil": """
>>> y, g = bp.backprop(bnp.ceil, 2.2)
>>> round(y, 4), round(g, 4)
(3.0, 0.0)
""",
    "trunc": """
>>> y, g = bp.backprop(bnp.trunc, -2.7)
>>> round(y, 4), round(g, 4)
(-2.0, 0.0)
""",
    "rint": """
>>> y, g = bp.backprop(bnp.rint, 2.5)
>>> round(y, 4), round(g, 4)
(2.0, 0.0)
""",
    "round": """
>>> bp.backprop(lambda v: bnp.round(v, 1), 2.567)
(2.6, 0.0)
""",
    "fix": """
>>> y, g = bp.backprop(bnp.fix, -2.7)
>>> round(y, 4), round(g, 4)
(-2.0, 0.0)
""",
    "fabs": """
>>> y, g = bp.backprop(bnp.fabs, -2.0)
>>> round(y, 4), round(g, 4)
(2.0, -1.0)
""",
    "abs": """
>>> y, g = bp.backprop(bnp.abs, -2.0)
>>> round(y, 4), round(g, 4)
(2.0, -1.0)
""",
    "radians": """
>>> y, g = bp.backprop(bnp.radians, 180.0)
>>> round(y, 4), round(g, 4)
(3.1416, 0.0175)
""",
    "degrees": """
>>> y, g = bp.backprop(bnp.degrees, 1.0)
>>> round(y, 4), round(g, 4)
(57.2958, 57.2958)
""",
    "add": """
>>> bp.backprop2(bnp.add, np.array([1.0, 2.0]), 10.0)
(array([11., 12.]), (array([1., 1.]), 2.0))
""",
    "subtract": """
>>> z, (gx, gy) = bp.backprop2(bnp.subtract, 1.0, 2.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(-1.0, 1.0, -1.0)
""",
    "multiply": """
>>> z, (gx, gy) = bp.backprop2(bnp.multiply, 3.0, 4.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(12.0, 4.0, 3.0)
""",
    "divide": """
>>> z, (gx, gy) = bp.backprop2(bnp.divide, 1.0, 4.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(0.25, 0.25, -0.0625)
""",
    "true_divide": """
>>> z, (gx, gy) = bp.backprop2(bnp.true_divide, 1.0, 4.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(0.25, 0.25, -0.0625)
""",
    "power": """
>>> z, (gx, gy) = bp.backprop2(bnp.power, 2.0, 3.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(8.0, 12.0, 5.5452)
""",
    "float_power": """
>>> z, (gx, gy) = bp.backprop2(bnp.float_power, 2.0, 3.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(8.0, 12.0, 5.5452)
""",
    "maximum": """
>>> bp.backprop2(bnp.maximum, np.array([1.0, 5.0, 2.0]), 2.0)
(array([2., 5., 2.]), (array([0. , 1. , 0.5]), 1.5))
""",
    "minimum": """
>>> bp.backprop2(bnp.minimum, np.array([1.0, 5.0, 2.0]), 2.0)
(array([1., 2., 2.]), (array([1. , 0. , 0.5]), 1.5))
""",
    "logaddexp": """
>>> z, (gx, gy) = bp.backprop2(bnp.logaddexp, 0.0, 0.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(0.6931, 0.5, 0.5)
""",
    "logaddexp2": """
>>> z, (gx, gy) = bp.backprop2(bnp.logaddexp2, 1.0, 1.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(2.0, 0.5, 0.5)
""",
    "arctan2": """
>>> z, (gx, gy) = bp.backprop2(bnp.arctan2, 1.0, 2.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(0.4636, 0.4, -0.2)
""",
    "hypot": """
>>> z, (gx, gy) = bp.backprop2(bnp.hypot, 3.0, 4.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(5.0, 0.6, 0.8)
""",
    "fmax": """
>>> bp.backprop2(bnp.fmax, np.array([1.0, np.nan]), np.array([2.0, 3.0]))
(array([2., 3.]), (array([0., 0.]), array([1., 1.])))
""",
    "fmin": """
>>> bp.backprop2(bnp.fmin, np.array([1.0, np.nan]), np.array([2.0, 3.0]))
(array([1., 3.]), (array([1., 0.]), array([0., 1.])))
""",
    "copysign": """
>>> z, (gx, gy) = bp.backprop2(bnp.copysign, 2.0, -1.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(-2.0, -1.0, 0.0)
""",
    "remainder": """
>>> z, (gx, gy) = bp.backprop2(bnp.remainder, 7.0, 3.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(1.0, 1.0, -2.0)
""",
    "mod": """
>>> z, (gx, gy) = bp.backprop2(bnp.mod, 7.0, 3.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(1.0, 1.0, -2.0)
""",
    "fmod": """
>>> z, (gx, gy) = bp.backprop2(bnp.fmod, -7.0, 3.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(-1.0, 1.0, 2.0)
""",
    "heaviside": """
>>> z, (gx, gy) = bp.backprop2(bnp.heaviside, 0.5, 0.5)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(1.0, 0.0, 0.0)
""",
    "floor_divide": """
>>> z, (gx, gy) = bp.backprop2(bnp.floor_divide, 7.0, 2.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(3.0, 0.0, 0.0)
""",
    "max": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.max(m, axis=1), m)
(array([2., 4.]), array([[0., 1.],
       [0., 1.]]))
""",
    "min": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.min(m, axis=0), m)
(array([1., 2.]), array([[1., 1.],
       [0., 0.]]))
""",
    "average": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop2(lambda v, w: bnp.average(v, weights=w), v, np.array([1.0, 1.0, 2.0]))
(2.25, (array([0.25, 0.25, 0.5 ]), array([-0.3125, -0.0625,  0.1875])))
""",
    "cumprod": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.cumprod(v)[-1], v)
(6.0, array([6., 3., 2.]))
""",
    "cumsum": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.cumsum(v)[1], v)
(3.0, array([1., 1., 0.]))
""",
    "mean": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.mean(m, axis=0), m)
(array([2., 3.]), array([[0.5, 0.5],
       [0.5, 0.5]]))
""",
    "nanmean": """
>>> bp.backprop(bnp.nanmean, np.array([1.0, np.nan, 3.0]))
(2.0, array([0.5, 0. , 0.5]))
""",
    "nansum": """
>>> bp.backprop(bnp.nansum, np.array([1.0, np.nan, 3.0]))
(4.0, array([1., 0., 1.]))
""",
    "prod": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(bnp.prod, v)
(6.0, array([6., 3., 2.]))
""",
    "ptp": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(bnp.ptp, v)
(2.0, array([-1.,  0.,  1.]))
""",
    "std": """
>>> y, g = bp.backprop(bnp.std, np.array([1.0, 3.0]))
>>> y, g
(1.0, array([-0.5,  0.5]))
""",
    "sum": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(bnp.sum, m)
(10.0, array([[1., 1.],
       [1., 1.]]))
>>> bp.grad_bp(lambda m: bnp.sum(m, axis=1) @ np.array([1.0, 10.0]), m)
array([[ 1.,  1.],
       [10., 10.]])
""",
    "var": """
>>> bp.backprop(bnp.var, np.array([1.0, 3.0]))
(1.0, array([-1.,  1.]))
""",
    "array_split": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.grad_bp(lambda v: bnp.array_split(v, 2)[0] @ np.array([1.0, 2.0]), v)
array([1., 2., 0.])
""",
    "atleast_1d": """
>>> bp.backprop(bnp.atleast_1d, 2.0)
(array([2.]), 1.0)
""",
    "atleast_2d": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.eval_bp(bnp.atleast_2d, v)
array([[1., 2., 3.]])
""",
    "atleast_3d": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.eval_bp(bnp.atleast_3d, v).shape
(1, 3, 1)
""",
    "broadcast_to": """
>>> bp.backprop(lambda v: bnp.broadcast_to(v, (2, 2)), np.array([1.0, 2.0]))
(array([[1., 2.],
       [1., 2.]]), array([2., 2.]))
""",
    "column_stack": """
>>> u, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
>>> bp.eval_bp2(lambda u, w: bnp.column_stack([u, w]), u, w)
array([[1., 3.],
       [2., 4.]])
""",
    "concatenate": """
>>> u, w = np.array([1.0]), np.array([2.0, 3.0])
>>> bp.backprop2(lambda u, w: bnp.concatenate([u, w]) * np.arange(3.0), u, w)
(array([0., 2., 6.]), (array([0.]), array([1., 2.])))
""",
    "diag": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.eval_bp(bnp.diag, v)
array([[1., 0., 0.],
       [0., 2., 0.],
       [0., 0., 3.]])
>>> bp.grad_bp(lambda m: bnp.diag(m), np.ones((2, 2)))
array([[1., 0.],
       [0., 1.]])
""",
    "diagonal": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(bnp.diagonal, m)
(array([1., 4.]), array([[1., 0.],
       [0., 1.]]))
""",
    "dstack": """
>>> u, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
>>> bp.eval_bp2(lambda u, w: bnp.dstack([u, w]), u, w).shape
(1, 2, 2)
""",
    "expand_dims": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.eval_bp(lambda v: bnp.expand_dims(v, 0), v)
array([[1., 2., 3.]])
""",
    "flip": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.flip(v) * np.array([1.0, 0.0, 0.0]), v)
(array([3., 0., 0.]), array([0., 0., 1.]))
""",
    "fliplr": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.eval_bp(bnp.fliplr, m)
array([[2., 1.],
       [4., 3.]])
""",
    "flipud": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.eval_bp(bnp.flipud, m)
array([[3., 4.],
       [1., 2.]])
""",
    "hstack": """
>>> bp.backprop2(lambda u, w: bnp.hstack([u, w]), np.array([1.0]), np.array([2.0, 3.0]))
(array([1., 2., 3.]), (array([1.]), array([1., 1.])))
""",
    "moveaxis": """
>>> bp.eval_bp(lambda a: bnp.moveaxis(a, 0, -1), np.zeros((2, 3, 4))).shape
(3, 4, 2)
""",
    "pad": """
>>> bp.backprop(lambda v: bnp.pad(v, 1), np.array([1.0, 2.0]))
(array([0., 1., 2., 0.]), array([1., 1.]))
""",
    "ravel": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(bnp.ravel, m)
(array([1., 2., 3., 4.]), array([[1., 1.],
       [1., 1.]]))
""",
    "repeat": """
>>> bp.backprop(lambda v: bnp.repeat(v, 2), np.array([1.0, 2.0]))
(array([1., 1., 2., 2.]), array([2., 2.]))
""",
    "reshape": """
>>> v = np.array([1.0, 2.0, 3.0, 4.0])
>>> bp.backprop(lambda v: bnp.reshape(v, (2, 2))[1], v)
(array([3., 4.]), array([0., 0., 1., 1.]))
""",
    "roll": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.roll(v, 1) * np.array([1.0, 0.0, 0.0]), v)
(array([3., 0., 0.]), array([0., 0., 1.]))
""",
    "rot90": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.eval_bp(bnp.rot90, m)
array([[2., 4.],
       [1., 3.]])
""",
    "split": """
>>> bp.grad_bp(lambda v: bnp.split(v, 2)[1] * 5.0, np.array([1.0, 2.0, 3.0, 4.0]))
array([0., 0., 5., 5.])
""",
    "squeeze": """
>>> bp.backprop(bnp.squeeze, np.array([[1.0, 2.0]]))
(array([1., 2.]), array([[1., 1.]]))
""",
    "stack": """
>>> bp.backprop2(lambda u, w: bnp.stack([u, w]), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
(array([[1., 2.],
       [3., 4.]]), (array([1., 1.]), array([1., 1.])))
""",
    "swapaxes": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.eval_bp(lambda m: bnp.swapaxes(m, 0, 1), m)
array([[1., 3.],
       [2., 4.]])
""",
    "tile": """
>>> bp.backprop(lambda v: bnp.tile(v, 3), np.array([1.0, 2.0]))
(array([1., 2., 1., 2., 1., 2.]), array([3., 3.]))
""",
    "trace": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(bnp.trace, m)
(5.0, array([[1., 0.],
       [0., 1.]]))
""",
    "transpose": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.transpose(m)[0], m)
(array([1., 3.]), array([[1., 0.],
       [1., 0.]]))
""",
    "tril": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(bnp.tril, m)
(array([[1., 0.],
       [3., 4.]]), array([[1., 0.],
       [1., 1.]]))
""",
    "triu": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(bnp.triu, m)
(array([[1., 2.],
       [0., 4.]]), array([[1., 1.],
       [0., 1.]]))
""",
    "vstack": """
>>> u, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
>>> bp.eval_bp2(lambda u, w: bnp.vstack([u, w]), u, w)
array([[1., 2.],
       [3., 4.]])
""",
    "choose": """
>>> choices = [np.array([1.0, 2.0]), np.array([10.0, 20.0])]
>>> bp.backprop(lambda c: bnp.choose([1, 0], c), choices)
(array([10.,  2.]), [array([0., 1.]), array([1., 0.])])
""",
    "clip": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.clip(v, 1.5, 2.5), v)
(array([1.5, 2. , 2.5]), array([0., 1., 0.]))
""",
    "compress": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.compress([True, False, True], v), v)
(array([1., 3.]), array([1., 0., 1.]))
""",
    "copy": """
>>> bp.backprop(bnp.copy, np.array([1.0, 2.0]))
(array([1., 2.]), array([1., 1.]))
""",
    "empty_like": """
>>> bnp.empty_like(bp.const_var(np.zeros(3))).shape
(3,)
""",
    "extract": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.extract(v > 1.5, v), v)
(array([2., 3.]), array([0., 1., 1.]))
""",
    "full_like": """
>>> bp.backprop(lambda x: bnp.full_like(np.zeros(3), x), 2.0)
(array([2., 2., 2.]), 3.0)
""",
    "ones_like": """
>>> bp.eval_bp(lambda v: v + bnp.ones_like(v), np.array([1.0, 2.0]))
array([2., 3.])
""",
    "select": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.select([v < 2, v > 2], [v, 10 * v]), v)
(array([ 1.,  0., 30.]), array([ 1.,  0., 10.]))
""",
    "sort": """
>>> bp.backprop(lambda v: bnp.sort(v)[0], np.array([3.0, 1.0, 2.0]))
(1.0, array([0., 1., 0.]))
""",
    "take": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.take(v, [2, 2, 0]), v)
(array([3., 3., 1.]), array([1., 0., 2.]))
""",
    "take_along_axis": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.take_along_axis(m, np.array([[1], [0]]), axis=1), m)
(array([[2.],
       [3.]]), array([[0., 1.],
       [1., 0.]]))
""",
    "where": """
>>> v = np.array([1.0, 2.0, 3.0])
>>> bp.backprop(lambda v: bnp.where(v > 1.5, v, 0.0), v)
(array([0., 2., 3.]), array([0., 1., 1.]))
""",
    "zeros_like": """
>>> bp.eval_bp(lambda v: v + bnp.zeros_like(v), np.array([1.0, 2.0]))
array([1., 2.])
""",
    "nonzero": """
>>> bp.eval_bp(lambda v: v[bnp.nonzero(v)], np.array([0.0, 2.0, 0.0, 3.0]))
array([2., 3.])
""",
    "argmax": """
>>> bp.backprop(lambda v: v[bnp.argmax(v)], np.array([1.0, 3.0, 2.0]))
(3.0, array([0., 1., 0.]))
""",
    "argmin": """
>>> bp.backprop(lambda v: v[bnp.argmin(v)], np.array([1.0, 3.0, 2.0]))
(1.0, array([1., 0., 0.]))
""",
    "argsort": """
>>> bp.eval_bp(lambda v: v[bnp.argsort(v)], np.array([3.0, 1.0, 2.0]))
array([1., 2., 3.])
""",
    "argwhere": """
>>> bnp.argwhere(bp.const_var(np.array([0.0, 2.0, 3.0])))
array([[1],
       [2]])
""",
    "flatnonzero": """
>>> bnp.flatnonzero(bp.const_var(np.array([0.0, 2.0, 3.0])))
array([1, 2])
""",
    "searchsorted": """
>>> bnp.searchsorted(bp.const_var(np.array([1.0, 2.0, 3.0])), 2.5)
np.int64(2)
""",
    "count_nonzero": """
>>> bnp.count_nonzero(bp.const_var(np.array([0.0, 2.0, 3.0])))
np.int64(2)
""",
    "shape": """
>>> bnp.shape(bp.const_var(np.zeros((2, 3))))
(2, 3)
""",
    "ndim": """
>>> bnp.ndim(bp.const_var(np.zeros((2, 3))))
2
""",
    "size": """
>>> bnp.size(bp.const_var(np.zeros((2, 3))))
6
""",
    "isclose": """
>>> bnp.isclose(bp.const_var(np.array([1.0, 2.0])), 1.0)
array([ True, False])
""",
    "allclose": """
>>> bnp.allclose(bp.const_var(np.array([1.0, 2.0])), np.array([1.0, 2.0]))
True
""",
    "array_equal": """
>>> bnp.array_equal(bp.const_var(np.array([1.0, 2.0])), np.array([1.0, 2.0]))
True
""",
    "cross": """
>>> u, w = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
>>> bp.eval_bp2(bnp.cross, u, w)
array([0., 0., 1.])
>>> bp.grad_bp2(lambda u, w: bnp.cross(u, w)[2], u, w)
(array([1., 0., 0.]), array([0., 1., 0.]))
""",
    "dot": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop2(bnp.dot, m, np.array([1.0, 1.0]))
(array([3., 7.]), (array([[1., 1.],
       [1., 1.]]), array([4., 6.])))
""",
    "einsum": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.einsum('ij,ij->', m, m), m)
(30.0, array([[2., 4.],
       [6., 8.]]))
""",
    "inner": """
>>> bp.backprop2(bnp.inner, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
(11.0, (array([3., 4.]), array([1., 2.])))
""",
    "kron": """
>>> bp.backprop2(bnp.kron, np.array([1.0, 2.0]), np.array([1.0, 10.0]))
(array([ 1., 10.,  2., 20.]), (array([11., 11.]), array([3., 3.])))
""",
    "matmul": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.matmul(m, m)[0, 0], m)
(7.0, array([[2., 3.],
       [2., 0.]]))
""",
    "outer": """
>>> bp.backprop2(bnp.outer, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
(array([[3., 4.],
       [6., 8.]]), (array([7., 7.]), array([3., 3.])))
""",
    "tensordot": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.tensordot(m, m, axes=2), m)
(30.0, array([[2., 4.],
       [6., 8.]]))
""",
    "vdot": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop2(bnp.vdot, m, np.ones((2, 2)))
(10.0, (array([[1., 1.],
       [1., 1.]]), array([[1., 2.],
       [3., 4.]])))
""",
    "linalg.EighResult": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> w, v = bp.eval_bp(lambda s: bp.join_var(bnp.linalg.eigh(s)), s)
>>> w
array([1., 3.])
""",
    "linalg.QRResult": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> q, r = bp.eval_bp(lambda m: bp.join_var(bnp.linalg.qr(m)), m)
>>> np.allclose(q @ r, m)
True
""",
    "linalg.SVDResult": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> u, s, vh = bp.eval_bp(lambda m: bp.join_var(bnp.linalg.svd(m)), m)
>>> np.allclose(u * s @ vh, m)
True
""",
    "linalg.SlogdetResult": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> sign, logabsdet = bp.eval_bp(lambda s: bp.join_var(bnp.linalg.slogdet(s)), s)
>>> sign, round(logabsdet, 4)
(1.0, 1.0986)
""",
    "linalg.cholesky": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> bp.eval_bp(bnp.linalg.cholesky, s).round(4)
array([[1.4142, 0.    ],
       [0.7071, 1.2247]])
>>> bp.grad_bp(lambda s: bnp.linalg.cholesky(s)[0, 0], s).round(4)
array([[0.3536, 0.    ],
       [0.    , 0.    ]])
""",
    "linalg.det": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> y, g = bp.backprop(bnp.linalg.det, m)
>>> round(y, 4), g.round(4)
(-2.0, array([[ 4., -3.],
       [-2.,  1.]]))
""",
    "linalg.eigh": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> bp.grad_bp(lambda s: bnp.linalg.eigh(s)[0][1], s).round(4)
array([[0.5, 0.5],
       [0.5, 0.5]])
""",
    "linalg.eigvalsh": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> bp.eval_bp(bnp.linalg.eigvalsh, s).round(4)
array([1., 3.])
>>> bp.grad_bp(lambda s: bnp.linalg.eigvalsh(s)[0], s).round(4)
array([[ 0.5, -0.5],
       [-0.5,  0.5]])
""",
    "linalg.inv": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> bp.eval_bp(bnp.linalg.inv, s).round(4)
array([[ 0.6667, -0.3333],
       [-0.3333,  0.6667]])
>>> bp.grad_bp(lambda s: bnp.sum(bnp.linalg.inv(s)), s).round(4)
array([[-0.1111, -0.1111],
       [-0.1111, -0.1111]])
""",
    "linalg.matrix_power": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.backprop(lambda m: bnp.linalg.matrix_power(m, 2)[0, 0], m)
(7.0, array([[2., 3.],
       [2., 0.]]))
""",
    "linalg.multi_dot": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> bp.grad_bp(lambda m: bnp.linalg.multi_dot([np.ones(2), m, np.ones(2)]), m)
array([[1., 1.],
       [1., 1.]])
""",
    "linalg.norm": """
>>> y, g = bp.backprop(bnp.linalg.norm, np.array([3.0, 4.0]))
>>> y, g.round(4)
(5.0, array([0.6, 0.8]))
>>> bp.grad_bp(lambda v: bnp.linalg.norm(v, ord=1), np.array([3.0, -4.0]))
array([ 1., -1.])
""",
    "linalg.pinv": """
>>> a = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
>>> bp.eval_bp(bnp.linalg.pinv, a).round(4)
array([[1. , 0. , 0. ],
       [0. , 0.5, 0. ]])
""",
    "linalg.qr": """
>>> m = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> r = bp.eval_bp(lambda m: bnp.linalg.qr(m)[1], m)
>>> np.allclose(np.abs(r), np.abs(np.linalg.qr(m)[1]))
True
""",
    "linalg.slogdet": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> bp.grad_bp(lambda s: bnp.linalg.slogdet(s)[1], s).round(4)
array([[ 0.6667, -0.3333],
       [-0.3333,  0.6667]])
""",
    "linalg.solve": """
>>> s = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> b = np.array([3.0, 3.0])
>>> bp.eval_bp(lambda s: bnp.linalg.solve(s, b), s).round(4)
array([1., 1.])
>>> bp.grad_bp(lambda b: bnp.sum(bnp.linalg.solve(s, b)), b).round(4)
array([0.3333, 0.3333])
""",
    "linalg.svd": """
>>> m = np.diag([3.0, 2.0])
>>> bp.eval_bp(lambda m: bnp.linalg.svd(m, compute_uv=False), m).round(4)
array([3., 2.])
>>> bp.grad_bp(lambda m: bnp.linalg.svd(m, compute_uv=False)[0], m).round(4)
array([[1., 0.],
       [0., 0.]])
""",
    "special.digamma": """
>>> y, g = bp.backprop(bnp.special.digamma, 1.0)
>>> round(y, 4), round(g, 4)
(-0.5772, 1.6449)
""",
    "special.erf": """
>>> y, g = bp.backprop(bnp.special.erf, 0.5)
>>> round(y, 4), round(g, 4)
(0.5205, 0.8788)
""",
    "special.erfc": """
>>> y, g = bp.backprop(bnp.special.erfc, 0.5)
>>> round(y, 4), round(g, 4)
(0.4795, -0.8788)
""",
    "special.erfcinv": """
>>> y, g = bp.backprop(bnp.special.erfcinv, 0.5)
>>> round(y, 4), round(g, 4)
(0.4769, -1.1126)
""",
    "special.erfinv": """
>>> y, g = bp.backprop(bnp.special.erfinv, 0.5)
>>> round(y, 4), round(g, 4)
(0.4769, 1.1126)
""",
    "special.expit": """
>>> y, g = bp.backprop(bnp.special.expit, 0.0)
>>> round(y, 4), round(g, 4)
(0.5, 0.25)
""",
    "special.gammaln": """
>>> y, g = bp.backprop(bnp.special.gammaln, 3.0)
>>> round(y, 4), round(g, 4)
(0.6931, 0.9228)
""",
    "special.log_expit": """
>>> y, g = bp.backprop(bnp.special.log_expit, 0.0)
>>> round(y, 4), round(g, 4)
(-0.6931, 0.5)
""",
    "special.log_ndtr": """
>>> y, g = bp.backprop(bnp.special.log_ndtr, 0.0)
>>> round(y, 4), round(g, 4)
(-0.6931, 0.7979)
""",
    "special.logit": """
>>> y, g = bp.backprop(bnp.special.logit, 0.25)
>>> round(y, 4), round(g, 4)
(-1.0986, 5.3333)
""",
    "special.ndtr": """
>>> y, g = bp.backprop(bnp.special.ndtr, 0.0)
>>> round(y, 4), round(g, 4)
(0.5, 0.3989)
""",
    "special.ndtri": """
>>> y, g = bp.backprop(bnp.special.ndtri, 0.5)
>>> round(y, 4), round(g, 4)
(0.0, 2.5066)
""",
    "special.psi": """
>>> y, g = bp.backprop(bnp.special.psi, 1.0)
>>> round(y, 4), round(g, 4)
(-0.5772, 1.6449)
""",
    "special.log_softmax": """
>>> z = np.array([0.0, np.log(3.0)])
>>> bp.eval_bp(bnp.special.log_softmax, z).round(4)
array([-1.3863, -0.2877])
>>> bp.grad_bp(lambda z: bnp.special.log_softmax(z)[0], z).round(4)
array([ 0.75, -0.75])
""",
    "special.logsumexp": """
>>> z = np.array([0.0, np.log(3.0)])
>>> y, g = bp.backprop(bnp.special.logsumexp, z)
>>> round(y, 4), g.round(4)
(1.3863, array([0.25, 0.75]))
""",
    "special.softmax": """
>>> z = np.array([0.0, np.log(3.0)])
>>> bp.eval_bp(bnp.special.softmax, z).round(4)
array([0.25, 0.75])
>>> bp.grad_bp(lambda z: bnp.special.softmax(z)[0], z).round(4)
array([ 0.1875, -0.1875])
""",
    "special.xlog1py": """
>>> z, (gx, gy) = bp.backprop2(bnp.special.xlog1py, 2.0, 1.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(1.3863, 0.6931, 1.0)
""",
    "special.xlogy": """
>>> z, (gx, gy) = bp.backprop2(bnp.special.xlogy, 2.0, 1.0)
>>> round(z, 4), round(gx, 4), round(gy, 4)
(0.0, 0.0, 2.0)
>>> bp.grad_bp2(bnp.special.xlogy, 0.0, 0.0)
(-inf, 0.0)
""",
}


# where the registry's table (`TABLE`) lists the functions of each namespace
_QUALIFIED = {"": "numpy.", "linalg": "numpy.linalg.", "special": "scipy.special."}


def attach(namespace: ModuleType) -> None:
    """Complete the docstrings of `bprop.numpy` (the namespace given) and of its `linalg` and
    `special` modules from the registry: a docstring that does not state the gradient gets the
    rule of its entry in `TABLE`, and every function gets its example from `EXAMPLES` (keys
    name a function of `namespace`, dotted for the submodules: `"linalg.det"`). A function that
    already has an example is left as it is."""
    for key, example in EXAMPLES.items():
        module, _, name = key.rpartition(".")
        target: object = namespace
        for part in key.split("."):
            target = getattr(target, part)
        doc = inspect.cleandoc(getattr(target, "__doc__", None) or "")
        if ">>>" in doc:
            continue
        entry = TABLE.get(_QUALIFIED[module] + name)
        if entry is not None and "gradient" not in doc.lower():
            doc = f"{doc}\nGradient: {entry.rule}."
        target.__doc__ = f"{doc}\n\n{example.strip()}\n"
