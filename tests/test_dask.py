"""bprop.dask: data-parallel gradients on a dask.distributed LocalCluster (issue 12).

One cluster of 2 worker processes (1 thread each, loopback only, no dashboard) serves the module.
Gradients computed shard by shard on the workers and added there must equal the single-process
gradient of the same loss over the whole batch.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bprop as bp
import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install bprop[dask])"
)

import bprop.dask as bpd
from distributed import Client, LocalCluster

TOL = 1e-12


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@dataclass
class Net:
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float


def mean_loss(net: Any, shard: tuple[np.ndarray, np.ndarray]) -> Any:
    x, y = shard
    p = bp.split_var(net)
    r = np.tanh(x @ p.w1 + p.b1) @ p.w2 + p.b2 - y
    return np.mean(r * r)


def sum_loss(net: Any, shard: tuple[np.ndarray, np.ndarray]) -> Any:
    x, y = shard
    p = bp.split_var(net)
    r = np.tanh(x @ p.w1 + p.b1) @ p.w2 + p.b2 - y
    return np.sum(r * r)


def fails_on_three_rows(net: Any, shard: tuple[np.ndarray, np.ndarray]) -> Any:
    if shard[0].shape[0] == 3:
        raise ValueError("this shard has three rows")
    return mean_loss(net, shard)


def make_data(rows: int = 23) -> tuple[Net, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(12)
    net = Net(rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=6), 0.25)
    return net, rng.normal(size=(rows, 4)), rng.normal(size=rows)


def split(x: np.ndarray, y: np.ndarray, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    cuts = np.cumsum(sizes)[:-1]
    return list(zip(np.split(x, cuts), np.split(y, cuts)))


def assert_net_close(got: Net, want: Net) -> None:
    assert type(got) is Net
    for f in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(getattr(got, f), getattr(want, f), rtol=0, atol=TOL)


# unequal shard sizes, and more shards than workers (a reduction tree of three levels)
SIZES = [[23], [20, 3], [1, 7, 15], [5, 3, 2, 9, 4]]


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
def test_mean_loss_matches_single_process(client: Client, sizes: list[int]) -> None:
    net, x, y = make_data()
    want_value, want = bp.backprop(lambda n: mean_loss(n, (x, y)), net)
    value, got = bpd.backprop(mean_loss, net, split(x, y, sizes), client=client)
    assert_net_close(got, want)
    assert abs(float(value) - float(want_value)) <= TOL
    assert_net_close(bpd.grad_bp(mean_loss, net, split(x, y, sizes), client=client), want)


def test_unweighted_mean_is_not_the_full_batch_mean(client: Client) -> None:
    # the weighting matters: unequal shards added without it give a different gradient
    net, x, y = make_data()
    want = bp.grad_bp(lambda n: mean_loss(n, (x, y)), net)
    got = bpd.grad_bp(mean_loss, net, split(x, y, [1, 22]), client=client, weights=None)
    assert not np.allclose(got.w1, want.w1, rtol=0, atol=1e-3)


def test_sum_loss_unweighted(client: Client) -> None:
    net, x, y = make_data()
    want_value, want = bp.backprop(lambda n: sum_loss(n, (x, y)), net)
    value, got = bpd.backprop(sum_loss, net, split(x, y, [4, 11, 8]), client=client, weights=None)
    assert_net_close(got, want)
    assert abs(float(value) - float(want_value)) <= 1e-10


def test_explicit_weights(client: Client) -> None:
    net, x, y = make_data()
    shards = split(x, y, [10, 13])
    g0 = bp.grad_bp(lambda n: mean_loss(n, shards[0]), net)
    g1 = bp.grad_bp(lambda n: mean_loss(n, shards[1]), net)
    got = bpd.grad_bp(mean_loss, net, shards, client=client, weights=[2.0, -0.5])
    np.testing.assert_allclose(got.w1, 2.0 * g0.w1 - 0.5 * g1.w1, rtol=0, atol=TOL)
    assert abs(got.b2 - (2.0 * g0.b2 - 0.5 * g1.b2)) <= TOL


def test_shards_already_on_the_cluster(client: Client) -> None:
    # futures of scattered shards: the row counts for the weights are taken on the workers
    net, x, y = make_data()
    want = bp.grad_bp(lambda n: mean_loss(n, (x, y)), net)
    futures = client.scatter(split(x, y, [2, 21]))
    assert_net_close(bpd.grad_bp(mean_loss, net, futures, client=client), want)


def test_shards_on_the_cluster_mixed_with_local_ones(client: Client) -> None:
    net, x, y = make_data()
    want = bp.grad_bp(lambda n: mean_loss(n, (x, y)), net)
    shards = split(x, y, [2, 14, 7])
    mixed: list[Any] = [shards[0], client.scatter([shards[1]])[0], shards[2]]
    assert_net_close(bpd.grad_bp(mean_loss, net, mixed, client=client), want)


def test_shards_on_the_cluster_errors(client: Client) -> None:
    net, x, y = make_data()
    # the row counts are taken on a worker; their errors keep their type and name the call
    empty = client.scatter([(x[:0], y[:0])])[0]
    with pytest.raises(ValueError, match=r"^bprop.dask.backprop: the shards hold no rows"):
        bpd.backprop(mean_loss, net, [empty], client=client)
    ragged = client.scatter([(x[:3], y[:4])])[0]
    with pytest.raises(ValueError, match=r"^bprop.dask.grad_bp: .*different row counts: \[3, 4\]"):
        bpd.grad_bp(mean_loss, net, [ragged], client=client)
    # client.scatter(shard) scatters a tuple's parts one by one: a clear hint
    parts = client.scatter((x, y))
    with pytest.raises(
        TypeError, match=r"shard 0 is a tuple of futures.*client.scatter\(\[shard\]\)"
    ):
        bpd.grad_bp(mean_loss, net, [parts], client=client)


def test_dict_and_list_parameters_travel(client: Client) -> None:
    rng = np.random.default_rng(3)
    params: dict[str, Any] = {"w": [rng.normal(size=3), rng.normal(size=3)], "c": 0.5}
    xs = rng.normal(size=(9, 3))

    def loss(p: Any, x: np.ndarray) -> Any:
        w0, w1 = bp.sequence_var(p["w"])
        return np.mean(np.sin(x @ w0) * (x @ w1)) + p["c"] * p["c"]

    want = bp.grad_bp(lambda p: loss(p, xs), params)
    got = bpd.grad_bp(loss, params, [xs[:4], xs[4:]], client=client)
    assert sorted(got) == ["c", "w"] and isinstance(got["w"], list)
    for g, w in zip(got["w"], want["w"]):
        np.testing.assert_allclose(g, w, rtol=0, atol=TOL)
    assert abs(got["c"] - want["c"]) <= TOL


def test_worker_exception_names_the_shard(client: Client) -> None:
    net, x, y = make_data()
    with pytest.raises(bpd.ShardError, match=r"the loss on shard 2 raised ValueError") as info:
        bpd.grad_bp(fails_on_three_rows, net, split(x, y, [10, 10, 3]), client=client)
    assert info.value.shard == 2
    assert isinstance(info.value.__cause__, ValueError)
    assert str(info.value.__cause__) == "this shard has three rows"


def test_reduction_exception_names_the_shards(client: Client) -> None:
    # each shard's loss is fine, but the loss values (arrays of 2 and 3 elements) cannot be
    # added: the add node of the tree fails, not a shard
    def loss(p: Any, x: np.ndarray) -> Any:
        return p * x

    with pytest.raises(
        bpd.ShardError, match=r"adding the gradients of shards 0\.\.1 raised"
    ) as info:
        bpd.backprop(loss, 1.0, [np.ones(2), np.ones(3)], client=client, weights=None)
    assert info.value.shard == 0
    assert info.value.__cause__ is not None
    # the same shards one at a time are fine
    value, grad = bpd.backprop(loss, 1.0, [np.ones(3)], client=client, weights=None)
    np.testing.assert_array_equal(value, np.ones(3))
    assert grad == 3.0


def test_empty_shard_list(client: Client) -> None:
    net, _, _ = make_data()
    with pytest.raises(ValueError, match=r"bprop.dask.grad_bp: shards is empty"):
        bpd.grad_bp(mean_loss, net, [], client=client)
    with pytest.raises(ValueError, match=r"bprop.dask.backprop: shards is empty"):
        bpd.backprop(mean_loss, net, [], client=client)


def test_shards_without_rows(client: Client) -> None:
    net, x, y = make_data()
    with pytest.raises(ValueError, match=r"the shards hold no rows"):
        bpd.grad_bp(mean_loss, net, [(x[:0], y[:0])], client=client)
    with pytest.raises(ValueError, match=r"weights has 1 entries for 2 shards"):
        bpd.grad_bp(mean_loss, net, split(x, y, [3, 20]), client=client, weights=[1.0])
    with pytest.raises(ValueError, match=r"weights must be 'size', None or a sequence"):
        bpd.grad_bp(mean_loss, net, split(x, y, [3, 20]), client=client, weights="rows")  # type: ignore[arg-type]


def test_bvar_refuses_to_pickle(client: Client) -> None:
    seen: list[BaseException] = []

    def loss(v: bp.BVar[float]) -> bp.BVar[float]:
        try:
            pickle.dumps(v)
        except TypeError as exc:
            seen.append(exc)
        return v * v

    assert bp.grad_bp(loss, 3.0) == 6.0
    assert len(seen) == 1
    assert str(seen[0]) == "cannot pickle 'bprop._core.BVar' object"

    def bvar_params(v: bp.BVar[float]) -> bp.BVar[float]:
        bpd.grad_bp(lambda p, s: p * s, v, [1.0], client=client)
        return v

    with pytest.raises(TypeError, match=r"bprop.dask.grad_bp: params is a BVar"):
        bp.grad_bp(bvar_params, 1.0)


def test_import_bprop_does_not_import_dask() -> None:
    code = (
        "import sys, bprop, bprop.dask\n"
        "assert not any(m == 'dask' or m.startswith(('dask.', 'distributed')) "
        "for m in sys.modules), sorted(m for m in sys.modules if 'dask' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_dask_is_a_clear_import_error() -> None:
    code = (
        "import sys\n"
        "sys.modules['distributed'] = None\n"  # as if not installed
        "import numpy as np, bprop.dask as bpd\n"
        "try:\n"
        "    bpd.grad_bp(lambda p, s: p * s, 1.0, [np.ones(1)], client=None)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "bprop.dask needs dask.distributed: pip install bprop[dask]"


def test_digits_example_quick() -> None:
    # examples/digits_dask.py: trains on its own LocalCluster and checks its final weights
    # against the single-process run (exit status 1 on a mismatch)
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn")
    pytest.importorskip("tqdm", reason="the digits example needs tqdm")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, str(root / "examples" / "digits_dask.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "dask against the single-process run: max |difference| of final weights" in out.stdout
    assert "held-out accuracy" in out.stdout
