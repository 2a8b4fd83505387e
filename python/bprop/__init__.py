"""bprop: reverse-mode automatic differentiation in the style of Haskell's *backprop*.

Write ordinary functions of `BVar`s and get gradients of anything with a Backprop instance;
define primitives as `Op`s with hand-written pullbacks. The tape and the reverse sweep are Rust
(`bprop._core`); this package is the typed API.
"""

from __future__ import annotations

import math as _math

from . import _hooks, classes, errors, explicit, linalg, num, optics, prelude
from . import numpy as numpy
from ._core import (
    BVar,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    const_var,
    cos,
    cosh,
    exp,
    log,
    log_base,
    recip,
    signum,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from .classes import (
    add,
    add_as_list,
    add_num,
    add_vec,
    one,
    one_functor,
    one_num,
    one_vec,
    register_backprop,
    zero,
    zero_functor,
    zero_num,
    zero_vec,
)
from .errors import (
    ArityError,
    BackpropError,
    BackpropInstanceError,
    NoGradientError,
    ShapeError,
    TapeScopeError,
)
from .op import (
    Op,
    abs_op,
    acos_op,
    acosh_op,
    add_op,
    asin_op,
    asinh_op,
    atan_op,
    atanh_op,
    bp_op,
    compose_op,
    compose_op1,
    cos_op,
    cosh_op,
    div_op,
    eval_op,
    exp_op,
    grad_op,
    grad_op_with,
    id_op,
    lift_op,
    lift_op1,
    lift_op2,
    lift_op3,
    log_base_op,
    log_op,
    mul_op,
    neg_op,
    no_grad,
    no_grad1,
    op0,
    op1,
    op2,
    op3,
    op_coerce,
    op_const,
    op_iso,
    op_iso2,
    op_iso3,
    op_iso_n,
    op_n,
    op_tup,
    pow_op,
    recip_op,
    run_op,
    signum_op,
    sin_op,
    sinh_op,
    sqrt_op,
    sub_op,
    tan_op,
    tanh_op,
)
from .optics import (
    ComponentLens,
    Lens,
    Traversal,
    attr,
    collect_var,
    compose,
    each,
    item,
    iso_var,
    iso_var2,
    iso_var3,
    iso_var_n,
    join_var,
    key,
    lens,
    over_var,
    preview_var,
    sequence_var,
    set_var,
    split_var,
    to_list_of_var,
    traversal,
    view_var,
)
from .run import (
    backprop,
    backprop2,
    backprop_n,
    backprop_with,
    backprop_with2,
    backprop_with_n,
    eval_bp,
    eval_bp0,
    eval_bp2,
    eval_bp_n,
    grad_bp,
    grad_bp2,
    grad_bp_n,
)
from .vars import auto, coerce_var

_hooks.install()

pi: float = _math.pi
"""π, as Haskell's `Floating` `pi`."""

__all__ = [
    "BVar", "Op", "auto", "coerce_var", "const_var", "pi",
    # runners
    "backprop", "backprop2", "backprop_n", "backprop_with", "backprop_with2", "backprop_with_n",
    "eval_bp", "eval_bp0", "eval_bp2", "eval_bp_n", "grad_bp", "grad_bp2", "grad_bp_n",
    # math
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp", "log", "log_base",
    "recip", "signum", "sin", "sinh", "sqrt", "tan", "tanh",
    # ops
    "abs_op", "acos_op", "acosh_op", "add_op", "asin_op", "asinh_op", "atan_op", "atanh_op",
    "bp_op", "compose_op", "compose_op1", "cos_op", "cosh_op", "div_op", "eval_op", "exp_op",
    "grad_op", "grad_op_with", "id_op", "lift_op", "lift_op1", "lift_op2", "lift_op3",
    "log_base_op", "log_op", "mul_op", "neg_op", "no_grad", "no_grad1", "op0", "op1", "op2",
    "op3", "op_coerce", "op_const", "op_iso", "op_iso2", "op_iso3", "op_iso_n", "op_n",
    "op_tup", "pow_op", "recip_op", "run_op", "signum_op", "sin_op", "sinh_op", "sqrt_op",
    "sub_op", "tan_op", "tanh_op",
    # the Backprop protocol
    "add", "add_as_list", "add_num", "add_vec", "one", "one_functor", "one_num", "one_vec",
    "register_backprop", "zero", "zero_functor", "zero_num", "zero_vec",
    # optics and containers
    "ComponentLens", "Lens", "Traversal", "attr", "collect_var", "compose", "each", "item", "iso_var", "iso_var2",
    "iso_var3", "iso_var_n", "join_var", "key", "lens", "over_var", "preview_var", "sequence_var",
    "set_var", "split_var", "to_list_of_var", "traversal", "view_var",
    # errors
    "ArityError", "BackpropError", "BackpropInstanceError", "NoGradientError", "ShapeError",
    "TapeScopeError",
    "classes", "errors", "explicit", "linalg", "num", "numpy", "optics", "prelude",
]
