"""The result rows each harness writes with ``--json PATH`` and ``benches/report.py`` collects.

A row is one workload: its label, the unit of its times, bprop's time, the hand-written
baseline's time, their ratio and the target for it, and for each peer the harness knows either a
time in the same unit or the reason it has none ("not installed", "failed: ...", "not run").
Harnesses fill these from the figures they already print; nothing here times anything.

A harness may also hand over small tables of its own (the threads speed-ups, say) that do not fit
the bprop/baseline/ratio shape; the report prints them as they are.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any, NotRequired, ParamSpec, TypedDict, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

# Peers by key, in the order of the report's columns. A harness names the flavour it ran
# ("jit", "eager", "dict") in a peer's `variant`.
PEER_KEYS = ("torch", "jax", "autograd", "micrograd")
NOT_INSTALLED = "not installed"
NOT_RUN = "not run (--no-peers)"
# `baseline_name` of a row whose baseline is bprop's own gradient of the same function (the
# higher-order rows: their ratio is a cost in gradients, not a comparison with hand-written code)
OWN_GRADIENT = "bprop's gradient"


class Peer(TypedDict):
    time: float | None  # in the row's unit; None when skipped
    variant: NotRequired[str]
    skipped: NotRequired[str]  # why there is no time
    note: NotRequired[str]  # e.g. a result that differs from the baseline's


class Row(TypedDict):
    workload: str
    unit: str
    bprop: float
    baseline: float | None  # the hand-written version, in the same unit
    baseline_name: str
    ratio: float | None  # bprop / baseline (lower is better for bprop)
    # the target: at most this ratio, or, with "target_of": "bprop", at most this much of `unit`
    target: float | None
    target_of: NotRequired[str]
    # per peer key: the most bprop / peer may be (1.0: "faster than the peer")
    peer_targets: NotRequired[dict[str, float]]
    peers: dict[str, Peer]
    note: NotRequired[str]


class Table(TypedDict):
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: NotRequired[list[str]]  # lines printed under the table


def peer_time(time: float, variant: str = "", note: str = "") -> Peer:
    p = Peer(time=time)
    if variant:
        p["variant"] = variant
    if note:
        p["note"] = note
    return p


def peer_skipped(reason: str, variant: str = "") -> Peer:
    p = Peer(time=None, skipped=reason)
    if variant:
        p["variant"] = variant
    return p


def peer_failed(exc: BaseException, variant: str = "") -> Peer:
    return peer_skipped(f"failed: {type(exc).__name__}: {exc}", variant)


def try_peer(
    peers: dict[str, Peer],
    key: str,
    variant: str,
    measure: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T | None:
    """`measure(*args, **kwargs)`: a peer's setup, check and timing. A peer that is not
    installed, or that fails (any exception, also from setting it up), gives None and has its
    Peer recorded in `peers` under `key`: a peer must never hide bprop's figures or stop the run.
    """
    try:
        return measure(*args, **kwargs)
    except ModuleNotFoundError:
        peers[key] = peer_skipped(NOT_INSTALLED, variant)
    except Exception as exc:  # noqa: BLE001
        peers[key] = peer_failed(exc, variant)
    return None


def failure(peer: Peer) -> str | None:
    """Why a peer that was tried has no time, when it failed (None when it is not installed)."""
    why = peer.get("skipped")
    return None if why in (None, NOT_INSTALLED) else why


def row(
    workload: str,
    unit: str,
    bprop: float,
    baseline: float | None,
    baseline_name: str,
    target: float | None,
    peers: dict[str, Peer] | None = None,
    *,
    target_of: str = "ratio",
    peer_targets: dict[str, float] | None = None,
    note: str = "",
) -> Row:
    r = Row(
        workload=workload,
        unit=unit,
        bprop=bprop,
        baseline=baseline,
        baseline_name=baseline_name,
        ratio=bprop / baseline if baseline else None,
        target=target,
        peers=dict(peers or {}),
    )
    if target_of != "ratio":
        r["target_of"] = target_of
    if peer_targets:
        r["peer_targets"] = peer_targets
    if note:
        r["note"] = note
    return r


def limit_blas_threads(threads: int | None) -> None:
    """Limit numpy's BLAS to `threads` threads for the rest of the run (`None`: leave it)."""
    if threads is None:
        return
    # called (not used as a `with` block), threadpool_limits sets the limit and keeps it until
    # restore_original_limits(), which nothing calls: it holds for the whole run
    importlib.import_module("threadpoolctl").threadpool_limits(limits=threads, user_api="blas")


def blas_description() -> str:
    """The BLAS libraries loaded in this process (numpy's and any peer's), their versions and
    thread counts, as threadpoolctl sees them."""
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return "BLAS: unknown (threadpoolctl not installed)"
    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return (
        "; ".join(
            f"BLAS: {i.get('internal_api')} {i.get('version')}, {i.get('num_threads')} thread(s)"
            for i in infos
        )
        or "BLAS: none found"
    )


def write(
    path: str | None,
    rows: list[Row],
    problems: list[str],
    tables: list[Table] | None = None,
) -> None:
    """Write the harness's rows (and its wrong results, if any) to `path`; nothing without one.
    The BLAS description is taken now, after the harness and its peers loaded theirs."""
    if path is None:
        return
    doc: dict[str, Any] = {
        "argv": sys.argv,
        "blas": blas_description(),
        "rows": rows,
        "tables": tables or [],
        "problems": problems,
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
