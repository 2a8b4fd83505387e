"""Type variables shared by the typed modules (ops and runners are typed per arity, 1-6)."""

from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple, cast

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")
G = TypeVar("G")
R = TypeVar("R")
As = TypeVarTuple("As")

_Sig = TypeVar("_Sig", bound=Callable[..., Any])


def signature_of(model: _Sig) -> Callable[[Callable[..., Any]], _Sig]:
    """Types the decorated function with `model`'s signature (all its per-arity overloads),
    for a function that takes the same arguments as `model` (bprop.num's n-ary runners take
    bprop.run's), so that the overloads are written once. The function itself is unchanged."""

    def typed(impl: Callable[..., Any]) -> _Sig:
        return cast(_Sig, impl)

    return typed
