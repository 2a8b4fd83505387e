"""Type variables shared by the typed modules (ops and runners are typed per arity, 1-6)."""

from typing import TypeVar, TypeVarTuple

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")
G = TypeVar("G")
R = TypeVar("R")
As = TypeVarTuple("As")
