"""mypy-only checks for `bprop.numpy` (`import bprop.numpy as bnp`) and the ndarray methods of
BVars: numpy's names and signatures with BVar types (issue 9, item 6).

Never imported or run: tests/test_typing.py runs `mypy --strict` on this file (see check_ops.py
for the conventions: `assert_type` for accepted code, one exact `# type: ignore[<code>]` per
rejected line, checked both ways).

The rules (bprop/numpy/__init__.pyi): array BVars are `BVar[NDArray[float64]]` in and out;
float BVars go where numpy takes scalars; plain arrays and floats mix with BVars as constants;
plain-only calls give plain values; full reductions give `BVar[float]`, reductions over an axis
(or with `keepdims=True`) give array BVars.
"""

from __future__ import annotations

from typing import Any, assert_type

import bprop as bp
import bprop.numpy as bnp
import numpy as np
import numpy.typing as npt
from bprop import BVar

Vec = npt.NDArray[np.float64]
Arr = BVar[Vec]
Idx = npt.NDArray[np.intp]


# ---- a numpy-style MLP, as a user writes it ---------------------------------------------------

SIZES = [(4, 8), (8, 3)]


def unpack(flat: Arr) -> list[tuple[Arr, Arr]]:
    """Weights and biases, sliced out of one flat parameter vector and reshaped."""
    params = []
    i = 0
    for m, n in SIZES:
        w = flat[i : i + m * n].reshape(m, n)
        i += m * n
        b = flat[i : i + n]
        i += n
        params.append((w, b))
    return params


def log_softmax(z: Arr) -> Arr:
    m = bnp.max(z, axis=1, keepdims=True)
    return z - m - bnp.log(bnp.sum(bnp.exp(z - m), axis=1, keepdims=True))


def mlp_loss(flat: Arr, x: Vec, onehot: Vec) -> BVar[float]:
    h: Arr | Vec = x
    layers = unpack(flat)
    for w, b in layers[:-1]:
        h = bnp.maximum(h @ w + b, 0.0)
    w, b = layers[-1]
    logits = bnp.matmul(h, w) + b
    return -bnp.mean(bnp.sum(log_softmax(logits) * onehot, axis=1))


def train_step(flat: Vec, x: Vec, onehot: Vec) -> Vec:
    grad = bp.grad_bp(lambda p: mlp_loss(p, x, onehot), flat)
    assert_type(grad, Vec)
    return flat - 0.1 * grad


def l2(flat: Arr) -> BVar[float]:
    # The same MLP's regulariser with the ndarray methods.
    return 1e-4 * (flat * flat).sum() + flat.mean() * 0.0


# ---- accepted ------------------------------------------------------------------------------------


def elementwise(v: Arr, x: BVar[float], w: Vec, n: npt.NDArray[np.int64]) -> None:
    assert_type(bnp.exp(v), Arr)
    assert_type(bnp.exp(x), BVar[float])
    assert_type(bnp.tanh(v), Arr)
    assert_type(bnp.log1p(x), BVar[float])
    assert_type(bnp.floor(v), Arr)
    assert_type(bnp.round(v, 2), Arr)
    assert_type(bnp.sinc(x), BVar[float])
    assert_type(bnp.add(v, v), Arr)
    # float BVars with floats stay floats; an array anywhere gives an array BVar.
    assert_type(bnp.maximum(x, 0.0), BVar[float])
    assert_type(bnp.maximum(0, x), BVar[float])
    assert_type(bnp.maximum(v, 0.0), Arr)
    assert_type(bnp.power(v, x), Arr)
    assert_type(bnp.logaddexp(x, v), Arr)
    assert_type(bnp.arctan2(v, w), Arr)
    assert_type(bnp.hypot(w, v), Arr)
    assert_type(bnp.multiply(x, w), Arr)
    assert_type(bnp.subtract(n, x), Arr)
    # Plain values only: plain results.
    assert_type(bnp.exp(1.0), float)
    assert_type(bnp.exp(w), Vec)
    assert_type(bnp.maximum(w, 0.0), Vec)
    assert_type(bnp.add(1.0, 2.0), float)
    # The ufunc keywords with their defaults.
    assert_type(bnp.exp(v, out=None, dtype=np.float64), Arr)


def reductions(v: Arr, x: BVar[float], w: Vec, keep: bool) -> None:
    # Full reductions give float BVars ...
    assert_type(bnp.sum(v), BVar[float])
    assert_type(bnp.mean(v), BVar[float])
    assert_type(bnp.prod(v), BVar[float])
    assert_type(bnp.max(v), BVar[float])
    assert_type(bnp.amin(v), BVar[float])
    assert_type(bnp.var(v, ddof=1), BVar[float])
    assert_type(bnp.std(v), BVar[float])
    assert_type(bnp.ptp(v), BVar[float])
    assert_type(bnp.sum(x), BVar[float])
    # ... reductions over axes give array BVars.
    assert_type(bnp.sum(v, axis=0), Arr)
    assert_type(bnp.sum(v, 0), Arr)
    assert_type(bnp.mean(v, axis=(0, -1)), Arr)
    assert_type(bnp.max(v, axis=1, keepdims=True), Arr)
    assert_type(bnp.sum(v, keepdims=True), Arr)
    assert_type(bnp.std(v, axis=-1, ddof=1), Arr)
    assert_type(bnp.sum(v, axis=np.int64(1)), Arr)
    # keepdims known only as a bool: either.
    assert_type(bnp.sum(v, keepdims=keep), Arr | BVar[float])
    assert_type(bnp.cumsum(v), Arr)
    assert_type(bnp.cumprod(v, axis=0), Arr)
    assert_type(bnp.average(v, axis=0, weights=w), Arr)
    assert_type(bnp.nansum(v), BVar[float])
    # Plain arrays: plain results.
    assert_type(bnp.sum(w), float)
    assert_type(bnp.sum(w, axis=0), Vec)
    assert_type(bnp.mean(w, keepdims=True), Vec)


def methods(v: Arr, x: BVar[float]) -> None:
    assert_type(v.sum(), BVar[float])
    assert_type(v.sum(axis=0), Arr)
    assert_type(v.sum(0, keepdims=True), Arr)
    assert_type(v.mean(), BVar[float])
    assert_type(v.max(axis=-1), Arr)
    assert_type(v.min(), BVar[float])
    assert_type(v.prod(), BVar[float])
    assert_type(v.var(ddof=1), BVar[float])
    assert_type(v.std(axis=0), Arr)
    assert_type(v.cumsum(), Arr)
    assert_type(v.cumprod(axis=1), Arr)
    assert_type(x.sum(), BVar[float])
    assert_type(v.reshape(2, 3), Arr)
    assert_type(v.reshape((2, -1)), Arr)
    assert_type(v.reshape(-1), Arr)
    assert_type(v.ravel(), Arr)
    assert_type(v.flatten(), Arr)
    assert_type(v.transpose(), Arr)
    assert_type(v.transpose(1, 0), Arr)
    assert_type(v.transpose((1, 0)), Arr)
    assert_type(v.T, Arr)
    assert_type(v.swapaxes(0, 1), Arr)
    assert_type(v.squeeze(), Arr)
    assert_type(v.dot(v), Arr)
    assert_type(v.clip(0.0, 1.0), Arr)
    assert_type(v.clip(min=x), Arr)
    assert_type(v.take([0, 2]), Arr)
    assert_type(v.take(0), BVar[float])
    assert_type(v.repeat(2, axis=0), Arr)
    assert_type(v.diagonal(), Arr)
    assert_type(v.trace(), BVar[float])
    assert_type(v.copy(), Arr)
    assert_type(v.argmax(), np.intp)
    assert_type(v.argmax(axis=1), Idx)
    assert_type(v.argsort(), Idx)
    assert_type(v.shape, tuple[int, ...])
    assert_type(v.ndim, int)
    assert_type(v.size, int)
    assert_type(v.dtype, np.dtype[np.float64])
    assert_type(len(v), int)
    assert_type(v.round(), Arr)
    assert_type(v.astype(np.float64), Arr)
    assert_type(v.conj(), Arr)
    assert_type(v.real, Arr)
    assert_type(v.imag, Vec)
    assert_type(v.mT, Arr)
    assert_type(v.itemsize, int)
    # Functional updates (BVars are immutable).
    assert_type(v.at[0].set(1.0), Arr)
    assert_type(v.at[1:3].add(v), Arr)
    assert_type(v.at[:, 0].set(x), Arr)


def indexing(v: Arr, mask: npt.NDArray[np.bool_], idx: Idx) -> None:
    assert_type(v[1:3], Arr)
    assert_type(v[:, 0], Arr)
    assert_type(v[..., None], Arr)
    assert_type(v[mask], Arr)
    assert_type(v[idx], Arr)
    assert_type(v[[0, 0, 1]], Arr)
    # An integer gives a row or an element: the rank is not known statically.
    assert_type(v[0], BVar[Any])
    assert_type(v[0, 1], BVar[Any])


def shapes(v: Arr, x: BVar[float], w: Vec) -> None:
    assert_type(bnp.reshape(v, (2, 3)), Arr)
    assert_type(bnp.reshape(v, -1), Arr)
    assert_type(bnp.ravel(v), Arr)
    assert_type(bnp.transpose(v), Arr)
    assert_type(bnp.transpose(v, axes=(1, 0)), Arr)
    assert_type(bnp.swapaxes(v, 0, 1), Arr)
    assert_type(bnp.moveaxis(v, 0, -1), Arr)
    assert_type(bnp.expand_dims(v, 0), Arr)
    assert_type(bnp.squeeze(v), Arr)
    assert_type(bnp.broadcast_to(x, (3, 2)), Arr)
    assert_type(bnp.concatenate([v, w]), Arr)
    assert_type(bnp.concatenate((v, v), axis=1), Arr)
    assert_type(bnp.stack([v, v]), Arr)
    assert_type(bnp.stack([x, x, 1.0]), Arr)
    assert_type(bnp.vstack([v, w]), Arr)
    assert_type(bnp.hstack((v, v)), Arr)
    assert_type(bnp.column_stack([v, v]), Arr)
    assert_type(bnp.split(v, 2), list[Arr])
    assert_type(bnp.array_split(v, [1, 3], axis=0), list[Arr])
    assert_type(bnp.repeat(v, 2), Arr)
    assert_type(bnp.tile(v, (2, 1)), Arr)
    assert_type(bnp.flip(v, axis=0), Arr)
    assert_type(bnp.roll(v, 1), Arr)
    assert_type(bnp.rot90(v), Arr)
    assert_type(bnp.tril(v), Arr)
    assert_type(bnp.triu(v, k=1), Arr)
    assert_type(bnp.diag(v), Arr)
    assert_type(bnp.diagonal(v), Arr)
    assert_type(bnp.trace(v), BVar[float])
    assert_type(bnp.pad(v, 1), Arr)
    # Plain-only calls.
    assert_type(bnp.concatenate([w, w]), Vec)
    assert_type(bnp.reshape(w, (2, 3)), Vec)


def products(v: Arr, x: BVar[float], w: Vec) -> None:
    assert_type(v @ v, Arr)
    assert_type(v @ w, Arr)
    assert_type(w @ v, Arr)
    assert_type(bnp.matmul(v, w), Arr)
    assert_type(bnp.matmul(w, v), Arr)
    assert_type(bnp.dot(v, v), Arr)
    assert_type(bnp.dot(x, 2.0), BVar[float])
    assert_type(bnp.dot(x, v), Arr)
    assert_type(bnp.vdot(v, w), BVar[float])
    assert_type(bnp.inner(v, v), Arr)
    assert_type(bnp.outer(v, w), Arr)
    assert_type(bnp.tensordot(v, v, axes=([1], [0])), Arr)
    assert_type(bnp.kron(v, w), Arr)
    assert_type(bnp.einsum("ij,jk->ik", v, w), BVar[Any])
    assert_type(bnp.matmul(w, w), Vec)


def selection(v: Arr, x: BVar[float], w: Vec, idx: Idx) -> None:
    assert_type(bnp.where(w > 0, v, 0.0), Arr)
    assert_type(bnp.where(w > 0, 0.0, v), Arr)
    assert_type(bnp.clip(v, 0.0, 1.0), Arr)
    assert_type(bnp.clip(x, 0.0, 1.0), BVar[float])
    assert_type(bnp.take(v, idx, axis=0), Arr)
    assert_type(bnp.take_along_axis(v, idx, axis=1), Arr)


def linalg(a: Arr, b: Arr, w: Vec) -> None:
    assert_type(bnp.linalg.det(a), BVar[float])
    assert_type(bnp.linalg.norm(a), BVar[float])
    assert_type(bnp.linalg.norm(a, ord=1), BVar[float])
    assert_type(bnp.linalg.norm(a, axis=1), Arr)
    assert_type(bnp.linalg.norm(a, "fro", (0, 1), keepdims=True), Arr)
    _sign, logdet = bnp.linalg.slogdet(a)
    assert_type(logdet, BVar[float])
    assert_type(bnp.linalg.slogdet(a).logabsdet, BVar[float])
    assert_type(bnp.linalg.inv(a), Arr)
    assert_type(bnp.linalg.solve(a, b), Arr)
    assert_type(bnp.linalg.solve(w, b), Arr)
    assert_type(bnp.linalg.cholesky(a), Arr)
    _vals, vecs = bnp.linalg.eigh(a)
    assert_type(vecs, Arr)
    assert_type(bnp.linalg.eigvalsh(a), Arr)
    _u, s, _vh = bnp.linalg.svd(a, full_matrices=False)
    assert_type(s, Arr)
    assert_type(bnp.linalg.svd(a, compute_uv=False), Arr)
    assert_type(bnp.linalg.pinv(a), Arr)
    _q, r = bnp.linalg.qr(a)
    assert_type(r, Arr)
    assert_type(bnp.linalg.qr(a, mode="r"), Arr)
    assert_type(bnp.linalg.matrix_power(a, 3), Arr)
    assert_type(bnp.linalg.multi_dot([a, b, w]), Arr)
    assert_type(bnp.linalg.det(w), float)


def special(v: Arr, x: BVar[float]) -> None:
    assert_type(bnp.special.expit(v), Arr)
    assert_type(bnp.special.gammaln(x), BVar[float])
    assert_type(bnp.special.xlogy(x, v), Arr)
    assert_type(bnp.special.logsumexp(v), BVar[float])
    assert_type(bnp.special.logsumexp(v, axis=1, keepdims=True), Arr)
    assert_type(bnp.special.softmax(v, axis=-1), Arr)
    assert_type(bnp.special.log_softmax(v), Arr)


# ---- rejected ------------------------------------------------------------------------------------


def rejected(v: Arr, x: BVar[float], s: BVar[str], n: BVar[int], w: Vec) -> None:
    # Bad axes and shapes.
    bnp.sum(v, axis="a")  # type: ignore[arg-type]
    bnp.sum(v, axis=1.5)  # type: ignore[call-overload]
    bnp.mean(v, axis=[0, "a"])  # type: ignore[list-item]
    bnp.reshape(v, 1.5)  # type: ignore[call-overload]
    bnp.reshape(v, "ab")  # type: ignore[arg-type]
    v.reshape(2.0, 3)  # type: ignore[call-overload]
    v.sum(axis="a")  # type: ignore[arg-type]
    bnp.transpose(v, axes="ij")  # type: ignore[arg-type]
    # BVars of non-array values.
    bnp.exp(s)  # type: ignore[arg-type]
    bnp.sum(s)  # type: ignore[arg-type]
    bnp.maximum(s, 0.0)  # type: ignore[arg-type]
    bnp.maximum(v, s)  # type: ignore[arg-type]
    bnp.matmul(v, s)  # type: ignore[arg-type]
    bnp.linalg.det(s)  # type: ignore[arg-type]
    bnp.exp(n)  # type: ignore[arg-type]
    bnp.exp("s")  # type: ignore[call-overload]
    s.sum()  # type: ignore[misc]
    # The result of a full reduction is a float BVar, not an array.
    total = bnp.sum(v)
    bnp.transpose(total)  # type: ignore[arg-type]
    total.reshape(2, 3)  # type: ignore[misc]
    total @ v  # type: ignore[operator]
    bnp.linalg.inv(bnp.mean(v))  # type: ignore[arg-type]
    _r: Arr = v.sum()  # type: ignore[assignment]
    _r2: Arr = bnp.linalg.det(v)  # type: ignore[assignment]
    # A full reduction keeps no axis; its result is not a plain float either.
    _f: float = bnp.sum(v)  # type: ignore[assignment]
    # Stacking takes a sequence of arrays.
    bnp.concatenate(v)  # type: ignore[call-overload]
    # Only float64 is differentiable; item()/tolist() would drop the gradient.
    v.astype(np.float32)  # type: ignore[arg-type]
    v.item()  # type: ignore[attr-defined]
    v.tolist()  # type: ignore[attr-defined]
    bnp.stack(v)  # type: ignore[call-overload]
    bnp.concatenate([v, s])  # type: ignore[list-item]
    # Wrong keyword names.
    bnp.sum(v, axes=0)  # type: ignore[call-overload]
    bnp.max(v, keepdim=True)  # type: ignore[call-overload]
    bnp.linalg.norm(v, p=2)  # type: ignore[call-overload]
    v.sum(keepdim=True)  # type: ignore[call-overload]
    bnp.exp(v, axis=0)  # type: ignore[call-overload]
    # Keywords bprop refuses (BVars are immutable; only float64 is differentiable).
    bnp.sum(v, out=w)  # type: ignore[call-overload]
    bnp.exp(v, out=w)  # type: ignore[call-overload]
    bnp.sum(v, dtype=np.int32)  # type: ignore[arg-type]
    bnp.sum(v, where=w > 0)  # type: ignore[call-overload]
    # Matrix products take arrays, not scalars.
    bnp.matmul(v, 2.0)  # type: ignore[call-overload]
    x @ v  # type: ignore[operator]
    # Misspelt or missing attributes stay errors.
    v.summ()  # type: ignore[attr-defined]
    v.argmax(axis="a")  # type: ignore[call-overload]
    bnp.not_a_function(v)  # type: ignore[attr-defined]
    # Index results are plain integers, not BVars.
    _i: BVar[Any] = v.argmax()  # type: ignore[assignment]
    # svd gives a named triple; its singular values alone with compute_uv=False.
    _sv: Arr = bnp.linalg.svd(v, full_matrices=False)  # type: ignore[assignment]
    bnp.linalg.qr(v, mode="raw")  # type: ignore[call-overload]
