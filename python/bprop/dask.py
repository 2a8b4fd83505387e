"""Data-parallel gradients on a dask.distributed cluster.

Split a batch into shards, compute the gradient of the loss on each shard on the workers with
bprop, and add the gradients up on the workers with `bprop.add` (a binary tree of tasks), so the
client receives one gradient of the parameters' own type. When the loss is a mean over the rows
of its shard, each shard's loss is weighted by its share of the rows, and the result is the
gradient of the mean over the whole batch.

Parameters, shards and gradients travel by pickle, so any type with a Backprop instance works (a
dataclass, dict or list of arrays, a registered type of yours); a `BVar` refuses to pickle.
dask is optional: ``pip install bprop[dask]``. Importing this module does not import dask; the
functions that need a cluster import it when called.

The weighting needs no cluster:

>>> import bprop.dask
>>> bp.dask.shard_weights([np.zeros((3, 2)), np.zeros((1, 2))])
[0.75, 0.25]

See docs/scaling-out.md for a cluster at work.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

from ._core import BVar
from .classes import add
from .run import backprop as _backprop

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["ShardError", "backprop", "grad_bp", "row_count", "shard_weights"]

P = TypeVar("P")
S = TypeVar("S")
R = TypeVar("R")
T = TypeVar("T")

Weights = Literal["size"] | Sequence[float] | None

_INSTALL_HINT = "bprop.dask needs dask.distributed: pip install bprop[dask]"


class ShardError(RuntimeError):
    """Raised when the loss or its gradient fails on a worker: names the shard (or the range of
    shards whose gradients were being added) and keeps the worker's exception as `__cause__`.

    >>> import bprop.dask
    >>> err = bp.dask.ShardError("loss on shard 2 raised ValueError: bad", shard=2)
    >>> err.shard, str(err)
    (2, 'loss on shard 2 raised ValueError: bad')
    """

    def __init__(self, message: str, *, shard: int | None) -> None:
        super().__init__(message)
        self.shard = shard


def _require_distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc


# ---------------------------------------------------------------- weights


def row_count(shard: object) -> int:
    """Number of rows of a shard: the length of the first axis of an array, and for a tuple,
    list, dict or dataclass of arrays the row count its parts share.

    >>> import bprop.dask
    >>> bp.dask.row_count((np.zeros((5, 3)), np.zeros(5)))
    5
    >>> bp.dask.row_count({"x": np.zeros((2, 3)), "y": np.zeros(4)})
    Traceback (most recent call last):
    ...
    ValueError: bprop.dask.row_count: the parts of a shard have different row counts: [2, 4]
    """
    counts = _row_counts(shard)
    if not counts:
        raise TypeError(
            f"bprop.dask.row_count: cannot count the rows of a {type(shard).__name__} shard "
            "(it holds no array); pass weights=... explicitly"
        )
    if len(set(counts)) > 1:
        raise ValueError(
            f"bprop.dask.row_count: the parts of a shard have different row counts: {counts}"
        )
    return counts[0]


def _row_counts(shard: object) -> list[int]:
    shape = getattr(shard, "shape", None)
    if isinstance(shape, tuple):
        if not shape:
            raise TypeError("bprop.dask.row_count: a 0-d array has no rows")
        return [int(shape[0])]
    parts: list[object]
    if isinstance(shard, Mapping):
        parts = list(shard.values())
    elif isinstance(shard, (tuple, list)):
        parts = list(shard)
    elif dataclasses.is_dataclass(shard) and not isinstance(shard, type):
        parts = [getattr(shard, f.name) for f in dataclasses.fields(shard)]
    else:
        return []
    return [n for part in parts for n in _row_counts(part)]


def shard_weights(shards: Sequence[object], weights: Weights = "size") -> list[float] | None:
    """The factor each shard's loss is multiplied by before the gradients are added.

    ``"size"`` (for a loss that is a mean over the rows of its shard) gives each shard its share
    of all rows, so the sum is the mean over the whole batch; ``None`` (for a loss that is a sum)
    leaves the losses as they are; a sequence gives the factors directly.

    >>> import bprop.dask
    >>> bp.dask.shard_weights([(np.zeros((1, 2)), np.zeros(1)), (np.zeros((3, 2)), np.zeros(3))])
    [0.25, 0.75]
    >>> bp.dask.shard_weights([np.zeros(2)], None) is None
    True
    >>> bp.dask.shard_weights([np.zeros(2), np.zeros(2)], [0.5])
    Traceback (most recent call last):
    ...
    ValueError: bprop.dask: weights has 1 entries for 2 shards
    """
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights != "size":
            raise ValueError(
                f"bprop.dask: weights must be 'size', None or a sequence of numbers, "
                f"got {weights!r}"
            )
        sizes = [row_count(s) for s in shards]
        total = sum(sizes)
        if total == 0:
            raise ValueError("bprop.dask: the shards hold no rows, so weights='size' is undefined")
        return [n / total for n in sizes]
    factors = [float(w) for w in weights]
    if len(factors) != len(shards):
        raise ValueError(f"bprop.dask: weights has {len(factors)} entries for {len(shards)} shards")
    return factors


# ---------------------------------------------------------------- worker side


def _shard_backprop(
    loss: Callable[[BVar[P], S], BVar[R]],
    params: P,
    shard: S,
    weight: float | list[float] | None,
    index: int,
) -> tuple[R, P]:
    """Runs on a worker: the (weighted) loss of one shard and its gradient. `weight` is this
    shard's factor, or the list of all factors when they were computed on a worker."""
    if weight is None:
        return _backprop(lambda p: loss(p, shard), params)
    w = weight[index] if isinstance(weight, list) else weight

    def weighted(p: BVar[P]) -> BVar[R]:
        out: BVar[Any] = loss(p, shard)
        return out * w

    return _backprop(weighted, params)


def _add_pair(a: tuple[R, P], b: tuple[R, P]) -> tuple[R, P]:
    """Runs on a worker: one node of the reduction tree."""
    return add(a[0], b[0]), add(a[1], b[1])


# ---------------------------------------------------------------- client side


def backprop(
    loss: Callable[[BVar[P], S], BVar[R]],
    params: P,
    shards: Sequence[S | Future[S]],
    *,
    client: Client,
    weights: Weights = "size",
) -> tuple[R, P]:
    """The loss over all shards and its gradient with respect to `params`, computed shard by
    shard on the workers of `client` and added up there.

    `loss(params, shard)` is called on a worker with `params` as a `BVar`, as `bprop.backprop`
    would; `shards` are the shards' data (sent with the tasks) or futures of data already on
    the cluster (``client.scatter``). With ``weights="size"`` (the default, for a loss that is a
    mean over its shard's rows) the result equals ``bp.backprop`` of the mean over the whole
    batch, to rounding. An exception on a worker is raised here as a `ShardError` naming the
    shard, with the worker's exception as `__cause__`.

    Needs at least one shard (checked before dask is touched):

    >>> import bprop.dask
    >>> bp.dask.backprop(lambda p, s: p * s, 1.0, [], client=None)
    Traceback (most recent call last):
    ...
    ValueError: bprop.dask.backprop: shards is empty; pass at least one shard

    With a cluster, see docs/scaling-out.md::

        client = distributed.Client("tcp://scheduler:8786")
        value, grad = bp.dask.backprop(loss, params, shards, client=client)
    """
    return _run("backprop", loss, params, shards, client, weights)


def grad_bp(
    loss: Callable[[BVar[P], S], BVar[Any]],
    params: P,
    shards: Sequence[S | Future[S]],
    *,
    client: Client,
    weights: Weights = "size",
) -> P:
    """The gradient part of `bprop.dask.backprop`: the gradient of the (weighted) loss over all
    shards with respect to `params`, of the type of `params`.

    >>> import bprop.dask
    >>> bp.dask.grad_bp(lambda p, s: p * s, 1.0, [], client=None)
    Traceback (most recent call last):
    ...
    ValueError: bprop.dask.grad_bp: shards is empty; pass at least one shard
    """
    return _run("grad_bp", loss, params, shards, client, weights)[1]


def _run(
    name: str,
    loss: Callable[[BVar[P], S], BVar[R]],
    params: P,
    shards: Sequence[S | Future[S]],
    client: Client,
    weights: Weights,
) -> tuple[R, P]:
    if isinstance(params, BVar):
        raise TypeError(
            f"bprop.dask.{name}: params is a BVar; pass its value (a BVar lives on the tape of "
            "one backprop call and cannot travel to a worker)"
        )
    shards = list(shards)
    if not shards:
        raise ValueError(f"bprop.dask.{name}: shards is empty; pass at least one shard")
    distributed = _require_distributed()
    cl: Any = client  # distributed's methods are untyped or typed as sync-or-async unions
    factors = _factors(name, shards, weights, cl, distributed.Future)

    call = uuid.uuid4().hex[:12]
    [params_future] = cl.scatter([params], hash=False)
    leaves: list[Future[tuple[R, P]]] = cl.map(
        _shard_backprop,
        [loss] * len(shards),
        [params_future] * len(shards),
        shards,
        factors if isinstance(factors, list) else [factors] * len(shards),
        range(len(shards)),
        key=[f"bprop-shard-{i}-{call}" for i in range(len(shards))],
        pure=False,
    )
    # the tree: level by level, node (future, first shard, last shard)
    level = [(f, i, i) for i, f in enumerate(leaves)]
    nodes = list(level)
    while len(level) > 1:
        nxt = []
        for j in range(0, len(level) - 1, 2):
            (fa, lo, _), (fb, _, hi) = level[j], level[j + 1]
            node = cl.submit(_add_pair, fa, fb, key=f"bprop-add-{lo}-{hi}-{call}", pure=False)
            nxt.append((node, lo, hi))
        nodes += nxt
        if len(level) % 2:  # the odd one out waits for the next level
            nxt.append(level[-1])
        level = nxt
    root = level[0][0]
    try:
        result: tuple[R, P] = root.result()
    except Exception as exc:  # noqa: BLE001 (any worker error: find and name its shard)
        task: Any = factors if isinstance(factors, distributed.Future) else None
        if task is not None:
            distributed.wait([task])
            if task.status == "error":  # counting the rows on the workers failed
                _renamed(name, _reraise, task.exception())
        error, cause = _shard_error(name, nodes, exc, distributed)
        raise error from cause
    return result


def _factors(
    name: str, shards: list[Any], weights: Weights, client: Any, future_type: type
) -> list[float] | Future[list[float]] | None:
    """The shards' weights: computed here, or (for row counts of shards that live on the
    workers) by a task, whose future the shard tasks take, so the call makes no extra round
    trip."""
    if isinstance(weights, str) and weights == "size":
        for i, s in enumerate(shards):
            if isinstance(s, (tuple, list)) and any(isinstance(p, future_type) for p in s):
                raise TypeError(
                    f"bprop.dask.{name}: shard {i} is a {type(s).__name__} of futures "
                    "(client.scatter(shard) scatters the parts of a tuple one by one); "
                    "scatter each shard as one object: client.scatter([shard])[0]"
                )
        if any(isinstance(s, future_type) for s in shards):
            sizes = [
                client.submit(row_count, s, pure=False)
                if isinstance(s, future_type)
                else _renamed(name, row_count, s)
                for s in shards
            ]
            return client.submit(_size_weights, sizes, pure=False)  # type: ignore[no-any-return]
    return _renamed(name, shard_weights, shards, weights)


def _renamed(name: str, f: Callable[..., T], *args: Any) -> T:
    """`f(*args)`, with the function named in its error messages replaced by `name`."""
    try:
        return f(*args)
    except (TypeError, ValueError) as exc:
        message = re.sub(r"^bprop\.dask(\.\w+)?:", f"bprop.dask.{name}:", str(exc))
        raise type(exc)(message) from exc


def _reraise(exc: BaseException) -> NoReturn:
    raise exc


def _size_weights(sizes: list[int]) -> list[float]:
    """Runs on a worker: weights from row counts."""
    return shard_weights([_Rows(n) for n in sizes])  # type: ignore[return-value]


class _Rows:
    """A stand-in with the row count of a shard that lives on a worker."""

    def __init__(self, n: int) -> None:
        self.shape = (n,)


def _failed(nodes: list[tuple[Any, int, int]]) -> tuple[Any, int, int] | None:
    """The first node (leaves first, then the reduction levels) that failed itself."""
    for node in nodes:
        if node[0].status == "error":
            return node
    return None


def _shard_error(
    name: str, nodes: list[tuple[Any, int, int]], exc: BaseException, distributed: Any
) -> tuple[ShardError, BaseException]:
    """The error to raise for a failed call, and the worker's exception (its cause)."""
    distributed.wait([n[0] for n in nodes])
    node = _failed(nodes)
    cause: BaseException = node[0].exception() if node is not None else exc
    what = f"{type(cause).__name__}: {cause}"
    if node is None:
        message, shard = f"bprop.dask.{name}: the computation failed: {what}", None
    elif node[1] == node[2]:
        message, shard = f"bprop.dask.{name}: the loss on shard {node[1]} raised {what}", node[1]
    else:
        message = (
            f"bprop.dask.{name}: adding the gradients of shards {node[1]}..{node[2]} raised {what}"
        )
        shard = node[1]
    return ShardError(message, shard=shard), cause
