"""mypy-only checks for bprop.prelude: reductions, maps, folds and zips on BVars of lists, tuples
and arrays, and on plain lists of BVars.

Never imported or run: tests/test_typing.py runs `mypy --strict` on this file (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).
"""

from __future__ import annotations

from typing import Any, assert_type

import bprop as bp
import numpy as np
import numpy.typing as npt
from bprop import BVar, prelude

Vec = npt.NDArray[np.float64]


def double(v: BVar[float]) -> BVar[float]:
    return v * 2.0


def show(v: BVar[float]) -> BVar[str]:
    return bp.const_var(str(v.value))


def shout(s: BVar[str]) -> BVar[str]:
    return s


def plus(a: BVar[float], b: BVar[float]) -> BVar[float]:
    return a + b


def scale(x: BVar[float], n: BVar[int]) -> BVar[float]:
    return x


def count(acc: BVar[int], x: BVar[float]) -> BVar[int]:
    return acc


def step(acc: BVar[int], x: BVar[float]) -> tuple[BVar[int], BVar[str]]:
    return acc, show(x)


# ---- accepted ---------------------------------------------------------------------------------


def reductions(
    lv: BVar[list[float]], tv: BVar[tuple[float, ...]], xs: list[BVar[float]], av: BVar[Vec]
) -> None:
    for reduce in (prelude.sum, prelude.product, prelude.minimum, prelude.maximum):
        assert_type(reduce(lv), BVar[float])
        assert_type(reduce(tv), BVar[float])
        assert_type(reduce(xs), BVar[float])
        assert_type(reduce(tuple(xs)), BVar[float])
        assert_type(reduce(av), BVar[Any])
    assert_type(prelude.sum(lv), BVar[float])
    assert_type(prelude.product(tv), BVar[float])
    assert_type(prelude.minimum(xs), BVar[float])
    assert_type(prelude.maximum(av), BVar[Any])
    assert_type(prelude.to_list(tv), BVar[list[float]])


def maps(
    lv: BVar[list[float]], tv: BVar[tuple[float, ...]], xs: list[BVar[float]], av: BVar[Vec]
) -> None:
    assert_type(prelude.map(double, lv), BVar[list[float]])
    assert_type(prelude.map(show, lv), BVar[list[str]])
    assert_type(prelude.map(show, tv), BVar[tuple[str, ...]])
    assert_type(prelude.map(double, xs), BVar[list[float]])
    assert_type(prelude.map(lambda v: v + 1.0, lv), BVar[list[float]])
    assert_type(prelude.map(double, av), BVar[npt.NDArray[Any]])


def folds(
    lv: BVar[list[float]],
    tv: BVar[tuple[float, ...]],
    xs: list[BVar[float]],
    av: BVar[Vec],
    z: BVar[float],
    n: BVar[int],
) -> None:
    assert_type(prelude.foldr(plus, z, lv), BVar[float])
    assert_type(prelude.foldl(plus, z, tv), BVar[float])
    assert_type(prelude.foldr(plus, z, xs), BVar[float])
    # the accumulator's type is the seed's, not the elements'
    assert_type(prelude.foldl(count, n, lv), BVar[int])
    assert_type(prelude.foldl(count, n, av), BVar[int])
    assert_type(prelude.map_accum_l(step, n, lv), tuple[BVar[int], BVar[list[str]]])
    assert_type(prelude.map_accum_r(step, n, tv), tuple[BVar[int], BVar[tuple[str, ...]]])


def zips(
    lv: BVar[list[float]],
    tv: BVar[tuple[float, ...]],
    nv: BVar[list[int]],
    xs: list[BVar[float]],
    av: BVar[Vec],
) -> None:
    assert_type(prelude.zip_with(plus, lv, tv), BVar[list[float]])
    assert_type(prelude.zip_with(plus, tv, xs), BVar[tuple[float, ...]])
    assert_type(prelude.zip_with(scale, lv, nv), BVar[list[float]])
    assert_type(prelude.zip_with(plus, av, av), BVar[npt.NDArray[Any]])


# ---- rejected ---------------------------------------------------------------------------------


def rejected(x: BVar[float], lv: BVar[list[float]], nv: BVar[list[int]], z: BVar[float]) -> None:
    # a BVar of a scalar is not a container
    prelude.sum(x)  # type: ignore[arg-type]
    prelude.maximum(x)  # type: ignore[arg-type]
    # the mapped function must take the elements' type
    prelude.map(shout, lv)  # type: ignore[arg-type]
    prelude.zip_with(plus, lv, nv)  # type: ignore[arg-type]
    # results have the element type
    total = prelude.sum(lv)
    _s: BVar[str] = total  # type: ignore[assignment]
    mapped = prelude.map(show, lv)
    _m: BVar[list[float]] = mapped  # type: ignore[assignment]
    # the fold's function returns the accumulator's type
    prelude.foldl(count, z, lv)  # type: ignore[arg-type]
