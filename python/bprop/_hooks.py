"""Hand the extension the Python-level behaviour it calls back into (`_core.install_hooks`),
so that `bprop._core` never imports the package it belongs to. Run once, by `bprop/__init__`."""

from __future__ import annotations

from . import _containers, _core, _generic, _nested, classes, errors
from .numpy import _dispatch


def install() -> None:
    _core.install_hooks(
        tape_scope_error=errors.TapeScopeError,
        arity_error=errors.ArityError,
        shape_error=errors.ShapeError,
        generic_zero=classes.zero,
        generic_one=classes.one,
        generic_add=classes.add,
        containers_embed=_containers.embed,
        containers_components=_containers.components,
        getitem=_dispatch.getitem,
        getattr=_dispatch.getattr_,
        iterate=_dispatch.iterate,
        generic_unary=_generic.unary,
        generic_binary=_generic.binary,
        array_ufunc=_dispatch.array_ufunc,
        array_function=_dispatch.array_function,
        nested_kernel=_nested.kernel,
        nested_forward=_nested.forward,
    )
