"""Elementwise functions (numpy ufuncs) on BVars.

The arithmetic and the `Floating` math have native Rust kernels (`bprop._core`): a plain call
such as `np.exp(v)` reaches them straight from `BVar.__array_ufunc__`, and the entries here
serve calls with keyword arguments and the `bprop.numpy` namespace. The other ufuncs are
primitives with numpy forwards and the pullback written beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from ._registry import check_float_dtype, refuse, ufunc

__all__: list[str] = []


def _native(name: str, core_fn: Callable[..., Any], arity: int, rule: str, *aliases: str) -> Callable[..., Any]:
    """The ufunc `name` (and its aliases) backed by the native kernel `core_fn`."""

    def impl(*args: Any, out: Any = None, where: Any = True, dtype: Any = None, casting: Any = None,
             order: Any = None, subok: Any = True, signature: Any = None) -> Any:
        refuse(name, out=out, where=where, signature=signature)
        check_float_dtype(name, dtype)
        if len(args) != arity:
            raise TypeError(f"numpy.{name} takes {arity} argument(s), got {len(args)}")
        return core_fn(*args)

    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = f"numpy.{name} on BVars (native kernel). Gradient: {rule}."
    ufunc(name, *aliases, rule=rule, native=True)(impl)
    globals()[name] = impl
    __all__.append(name)
    return impl


_native("add", _core.add, 2, "(g, g), unbroadcast")
_native("subtract", _core.sub, 2, "(g, -g), unbroadcast")
_native("multiply", _core.mul, 2, "(g·y, g·x), unbroadcast")
_native("divide", _core.div, 2, "(g/y, -g·x/y²), unbroadcast", "true_divide")
_native("power", _core.pow, 2, "(g·y·x^(y-1), g·x^y·log x); 0 at x = 0 for the exponent", "float_power")
_native("negative", _core.neg, 1, "-g")
_native("absolute", _core.abs, 1, "g·sign(x)", "fabs")
_native("sign", _core.signum, 1, "0")
_native("reciprocal", _core.recip, 1, "-g/x²")
_native("exp", _core.exp, 1, "g·exp(x)")
_native("log", _core.log, 1, "g/x")
_native("sqrt", _core.sqrt, 1, "g/(2√x)")
_native("sin", _core.sin, 1, "g·cos x")
_native("cos", _core.cos, 1, "-g·sin x")
_native("tan", _core.tan, 1, "g·(1 + tan²x)")
_native("arcsin", _core.asin, 1, "g/√(1-x²)")
_native("arccos", _core.acos, 1, "-g/√(1-x²)")
_native("arctan", _core.atan, 1, "g/(1+x²)")
_native("sinh", _core.sinh, 1, "g·cosh x")
_native("cosh", _core.cosh, 1, "g·sinh x")
_native("tanh", _core.tanh, 1, "g·(1 - tanh²x)")
_native("arcsinh", _core.asinh, 1, "g/√(x²+1)")
_native("arccosh", _core.acosh, 1, "g/√(x²-1)")
_native("arctanh", _core.atanh, 1, "g/(1-x²)")
_native("positive", lambda x: x, 1, "g")
