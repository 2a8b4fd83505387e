#!/usr/bin/env python3
"""Run every benchmark harness and gather their figures into one table (what `make bench` runs).

Each harness runs in a fresh process of its own (``--json PATH``: its result rows) and prints its
own detailed output as it goes. The rows are then put side by side: for each workload bprop's
time, the hand-written baseline's, their ratio against the target, and the time of each peer
(PyTorch, JAX, HIPS autograd) or why it has none. Below come the Rust core's figures from
``cargo bench -p bprop-core`` (criterion's results in target/criterion, read as they are: run
cargo bench first, as `make bench` does) and the harnesses' own tables (threads, dask).

With ``--write`` (the default for a full run) it also writes

* benches/RESULTS.md: the machine, the versions, the date and the tables, between the
  ``<!-- generated:start -->`` and ``<!-- generated:end -->`` markers (the rest of the file, the
  hand-written log, is kept as it is);
* README.md: the main table between the same markers;
* benches/results.png: bprop's time over each contender's, per workload (log scale; below 1,
  bprop is faster).

A harness that fails or finds a wrong result is reported and the exit status is non-zero; a slow
figure never fails, and a missing or failing peer only leaves its cell empty with the reason.

    python benches/report.py               # full run (about 5 minutes, more with every peer)
    python benches/report.py --quick       # smoke run: short harness runs, writes nothing
    python benches/report.py --quick --write --no-peers
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from jsonrows import NOT_INSTALLED, OWN_GRADIENT, PEER_KEYS, Row, Table

RESULTS_MD = HERE / "RESULTS.md"
README_MD = ROOT / "README.md"
CHART = HERE / "results.png"
START, END = "<!-- generated:start -->", "<!-- generated:end -->"

PEER_NAMES = {"torch": "PyTorch", "jax": "JAX", "autograd": "autograd", "micrograd": "micrograd"}
# The peers' distributions, for the versions line (importlib.metadata: nothing is imported).
PEER_DISTS = ("torch", "jax", "jaxlib", "autograd", "micrograd")
# A criterion group named like this counts floating-point operations as its elements, so its
# throughput reads as GFLOP/s (benches/README.md).
FLOP_GROUP = re.compile(r"matmul", re.IGNORECASE)
# Criterion results this much older than the newest come from an earlier `cargo bench` run.
STALE_AFTER = datetime.timedelta(hours=1)


@dataclass
class Harness:
    script: str
    full: list[str]
    quick: list[str]
    blas: bool = False  # takes --blas-threads
    peers: bool = True  # takes --no-peers
    in_quick: bool = True  # run by --quick too
    needs: tuple[str, ...] = ()  # optional modules it imports; skipped (and said) without them


HARNESSES = [
    # --memory: tape memory on 10 000 000 nodes, the size of the target
    Harness("bench_scalar.py", ["--memory"], ["--quick"]),
    Harness("bench_arrays.py", [], ["--quick"], blas=True, needs=("sklearn",)),
    Harness("bench_containers.py", [], ["--quick"]),
    Harness("bench_numpy.py", [], ["--quick"], blas=True, needs=("sklearn",)),
    # hvp of the W2 loss and a 50-weight Hessian (issue 13); --quick leaves out JAX eager
    Harness("bench_higher.py", [], ["--quick"], blas=True, needs=("sklearn",)),
    Harness("bench_threads.py", [], ["--jobs", "8", "--rounds", "2"], peers=False),
    # a LocalCluster of worker processes: too slow to start for a smoke run
    Harness(
        "bench_dask.py", [], [], peers=False, in_quick=False, needs=("distributed", "threadpoolctl")
    ),
]


@dataclass
class Outcome:
    """What the harnesses handed back."""

    rows: list[Row] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # harness errors and wrong results
    skipped: list[str] = field(default_factory=list)  # harnesses not run, and why
    blas: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------- running


def run_harnesses(harnesses: Iterable[Harness], args: argparse.Namespace) -> Outcome:
    out = Outcome()
    with tempfile.TemporaryDirectory(prefix="bprop-bench-") as tmp:
        for h in harnesses:
            missing = [m for m in h.needs if importlib.util.find_spec(m) is None]
            if missing:
                out.skipped.append(f"{h.script}: not run, {', '.join(missing)} not installed")
                print(f"\n== {h.script}: skipped, {', '.join(missing)} not installed", flush=True)
                continue
            path = Path(tmp) / (h.script + ".json")
            cmd = [sys.executable, str(HERE / h.script), "--json", str(path)]
            cmd += h.quick if args.quick else h.full
            env = dict(os.environ)
            if h.blas and args.blas_threads > 0:
                cmd += ["--blas-threads", str(args.blas_threads)]
                # threadpoolctl limits the BLAS libraries loaded so far; these variables also
                # hold for those loaded later (scipy's through scikit-learn, a peer's)
                for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
                    env[var] = str(args.blas_threads)
            if h.peers and args.no_peers:
                cmd.append("--no-peers")
            print(f"\n== {shlex.join(cmd[1:])}", flush=True)
            t0 = time.perf_counter()
            rc = subprocess.run(
                cmd, check=False, stdin=subprocess.DEVNULL, cwd=ROOT, env=env
            ).returncode
            out.seconds[h.script] = time.perf_counter() - t0
            if not path.exists():
                out.failures.append(f"{h.script} exited with status {rc} and wrote no results")
                continue
            doc = json.loads(path.read_text(encoding="utf-8"))
            out.rows += doc["rows"]
            out.tables += doc["tables"]
            out.failures += [f"{h.script}: {p}" for p in doc["problems"]]
            if rc != 0 and not doc["problems"]:
                out.failures.append(f"{h.script} exited with status {rc}")
            if h.blas and not out.blas:
                out.blas = doc["blas"]
    return out


# ---------------------------------------------------------------------------- criterion


def criterion_table(target_dir: Path) -> Table | None:
    """The latest `cargo bench` results of every criterion benchmark under target/criterion,
    read generically: the name, mean time, time per element and throughput."""
    found = []
    paths = (target_dir / "criterion").glob("**/new/benchmark.json")
    for meta_path in sorted(paths, key=natural):
        est_path = meta_path.with_name("estimates.json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            est = json.loads(est_path.read_text(encoding="utf-8"))
            mean_ns = float(est["mean"]["point_estimate"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a half-written or foreign file: not a result
        when = datetime.datetime.fromtimestamp(est_path.stat().st_mtime, datetime.UTC)
        found.append((meta, mean_ns, when))
    if not found:
        return None
    newest = max(w for _, _, w in found)
    rows, stale = [], []
    for meta, mean_ns, when in found:
        name = meta.get("full_id") or meta.get("title") or "?"
        per, rate = "", ""
        throughput = meta.get("throughput") or {}
        if throughput.get("Elements"):
            n = float(throughput["Elements"])
            per = f"{fmt(mean_ns / n)} ns"
            flops = FLOP_GROUP.search(meta.get("group_id", ""))
            rate = f"{fmt(n / mean_ns)} GFLOP/s" if flops else per_second(n / mean_ns, "elem/s")
        elif throughput.get("Bytes"):
            n = float(throughput["Bytes"])
            per = f"{fmt(mean_ns / n)} ns/B"
            rate = per_second(n / mean_ns, "B/s")
        if newest - when > STALE_AFTER:
            name += " †"
            stale.append(when)
        rows.append([name, duration(mean_ns), per, rate])
    notes = [f"measured {newest:%Y-%m-%d %H:%M} UTC"]
    if stale:
        notes.append(
            f"† from an earlier `cargo bench` run (as early as {min(stale):%Y-%m-%d %H:%M} UTC)"
        )
    return Table(
        title="Rust core: `cargo bench -p bprop-core` (criterion, mean time)",
        columns=["benchmark", "mean", "per element", "throughput"],
        rows=rows,
        notes=notes,
    )


def natural(path: Path) -> list[tuple[int, str]]:
    """Sort key reading runs of digits as numbers (kernels/4096 before kernels/32768)."""
    return [(int(p), "") if p.isdigit() else (0, p) for p in re.split(r"(\d+)", str(path))]


def per_second(per_ns: float, unit: str) -> str:
    """A rate given per nanosecond, with the SI prefix that keeps it readable."""
    for scale, prefix in ((1.0, "G"), (1e-3, "M"), (1e-6, "k")):
        if per_ns >= scale:
            return f"{fmt(per_ns / scale)} {prefix}{unit}"
    return f"{fmt(per_ns * 1e9)} {unit}"


def duration(ns: float) -> str:
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            return f"{fmt(ns / scale)} {unit}"
    return f"{fmt(ns)} ns"


# ---------------------------------------------------------------------------- formatting


def fmt(v: float) -> str:
    """Three significant digits or more, thousands grouped by spaces (as in the issue's table)."""
    if v >= 1000:
        return f"{v:,.0f}".replace(",", " ")
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def peer_columns(rows: list[Row]) -> list[str]:
    """The peer keys with a column: the report's three always, others when they have a time."""
    timed = {k for r in rows for k, p in r["peers"].items() if p["time"] is not None}
    return [k for k in PEER_KEYS if k in ("torch", "jax", "autograd") or k in timed]


class Footnotes:
    """Numbered notes for cells whose reason is too long for the table."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.notes:
            self.notes.append(text)
        return f"[{self.notes.index(text) + 1}]"

    def lines(self) -> list[str]:
        """The notes, to follow the table (after a blank line), or nothing."""
        return [""] + [f"[{i + 1}] {n}" for i, n in enumerate(self.notes)] if self.notes else []


def target_cell(r: Row) -> str:
    parts = []
    if r["target"] is not None:
        if r.get("target_of") == "bprop":
            value: float | None = r["bprop"]
            text = f"≤ {r['target']:g} {r['unit']}"
        else:
            value = r["ratio"]
            text = f"≤ {r['target']:g}×"
        if value is not None:
            parts.append(f"{text} {'✓' if value <= r['target'] else '✗'}")
    for key, most in r.get("peer_targets", {}).items():
        peer = r["peers"].get(key)
        if peer is None or peer["time"] is None:
            continue
        name = PEER_NAMES.get(key, key)
        text = f"< {name}" if most == 1.0 else f"≤ {most:g}× {name}"
        parts.append(f"{text} {'✓' if r['bprop'] / peer['time'] <= most else '✗'}")
    return " · ".join(parts)


def main_table(rows: list[Row], notes: Footnotes) -> Table:
    keys = peer_columns(rows)
    columns = ["workload", "unit", "bprop", "hand-written", "ratio", "target"]
    columns += [PEER_NAMES[k] for k in keys]
    body = []
    for r in rows:
        baseline = ""
        if r["baseline"] is not None:
            baseline = fmt(r["baseline"])
            if r["baseline_name"] not in ("hand-written numpy", "hand-written reverse pass"):
                baseline += f" ({r['baseline_name']})"
        cells = [
            r["workload"],
            r["unit"],
            fmt(r["bprop"]),
            baseline,
            f"{r['ratio']:.2f}×" if r["ratio"] is not None else "",
            target_cell(r),
        ]
        for k in keys:
            p = r["peers"].get(k)
            if p is None:
                cells.append("")  # the harness has no such peer for this workload
                continue
            variant = f" ({p['variant']})" if p.get("variant") else ""
            if p["time"] is not None:
                cell = fmt(p["time"]) + variant
                if p.get("note"):
                    cell += " " + notes.mark(f"{PEER_NAMES[k]}, {r['workload']}: {p['note']}")
            else:
                reason = p.get("skipped", "")
                if reason in (NOT_INSTALLED,) or reason.startswith("not run"):
                    cell = reason
                else:
                    # one note per distinct error: a broken peer fails the same way everywhere
                    cell = "failed " + notes.mark(f"{PEER_NAMES[k]}: {reason}")
            cells.append(cell)
        body.append(cells)
    return Table(title="", columns=columns, rows=body)


def markdown(t: Table) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(t["columns"]), "|" + "---|" * len(t["columns"])]
    out += [line(r) for r in t["rows"]]
    return "\n".join(out)


def section(t: Table) -> str:
    parts = [f"### {t['title']}", "", markdown(t)]
    if t.get("notes"):
        parts += ["", *(f"* {n}" for n in t.get("notes", []))]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- the environment


def first_line(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = "memory unknown"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        cpu = next(ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if "model name" in ln)
    except (OSError, StopIteration):
        pass
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(next(ln.split()[1] for ln in meminfo.splitlines() if ln.startswith("MemTotal")))
        memory = f"{kib / 2**20:.1f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    cores = os.cpu_count()
    load = (
        f", load average {os.getloadavg()[0]:.1f} at the start" if hasattr(os, "getloadavg") else ""
    )
    return f"{cpu}, {cores} logical cores, {memory}; {platform.platform()}{load}"


def versions(blas: str) -> str:
    def dist(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    numpy = dist("numpy") or "not installed"
    peers = [f"{n} {v}" for n in PEER_DISTS if (v := dist(n))]
    commit = first_line(["git", "describe", "--always", "--dirty"])
    return (
        f"bprop {dist('bprop') or '?'} (git {commit}); Python {platform.python_version()}; "
        f"numpy {numpy}; {blas or 'BLAS: unknown'}; {first_line(['rustc', '--version'])}; "
        f"peers: {', '.join(peers) or 'none installed'}"
    )


# ---------------------------------------------------------------------------- writing


def replace_generated(path: Path, generated: str, fresh: str) -> None:
    """Put `generated` between the markers of `path` (created from `fresh` when missing),
    keeping everything outside them."""
    text = path.read_text(encoding="utf-8") if path.exists() else fresh
    block = f"{START}\n{generated.strip()}\n{END}"
    if START in text and END in text and text.index(START) < text.index(END):
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        print(f"note: {path} had no generated section; it is appended", file=sys.stderr)
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


RESULTS_FRESH = f"""# Benchmark results

`make bench` writes the section between the markers below: it runs `cargo bench -p bprop-core`,
then `benches/report.py`, which runs every harness of this directory in a fresh process and
collects their figures (see benches/README.md for the workloads and the columns). Everything
outside the markers is written by hand and kept by the script.

{START}
{END}

## Log
"""


def chart(rows: list[Row], path: Path, subtitle: str) -> str | None:
    """bprop's time over each contender's per workload, as grouped bars; None if written, else
    why not."""
    try:
        matplotlib = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        return "matplotlib is not installed"
    series: dict[str, list[float | None]] = {"hand-written": [], OWN_GRADIENT: []}
    series.update({PEER_NAMES[k]: [] for k in ("torch", "jax", "autograd")})
    labels = []
    for r in rows:
        # a row measured against bprop's own gradient (hvp) gets a bar of its own colour: its
        # ratio is a cost in gradients, not a comparison with hand-written code
        own = r["baseline_name"] == OWN_GRADIENT
        ratios: dict[str, float | None] = {
            "hand-written": None if own else r["ratio"],
            OWN_GRADIENT: r["ratio"] if own else None,
        }
        for k in ("torch", "jax", "autograd"):
            p = r["peers"].get(k)
            t = p["time"] if p else None
            ratios[PEER_NAMES[k]] = r["bprop"] / t if t else None
        if all(v is None for v in ratios.values()):
            continue
        labels.append(r["workload"])
        for name, v in ratios.items():
            series[name].append(v)
    series = {k: v for k, v in series.items() if any(x is not None for x in v)}
    if not labels:
        return "no ratios to draw"
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.7 * len(labels) + 2), 6.5))
    for i, (name, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j, v in enumerate(values) if v]
        ys = [v for v in values if v]
        # each bar spans from 1 to its ratio: up when bprop is slower, down when faster
        bars = ax.bar(xs, [y - 1.0 for y in ys], width, bottom=1.0, label=name)
        ax.bar_label(bars, labels=[f"{y:.2g}" for y in ys], fontsize=6, padding=1)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="<1 = bprop faster")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=40, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_ylabel("bprop time / contender time (log scale)")
    ax.set_title(f"bprop against each contender, per workload\n{subtitle}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# ---------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="smoke run: short harness runs")
    ap.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        help="write RESULTS.md, README.md's table and the chart (default: on unless --quick)",
    )
    ap.add_argument("--no-peers", action="store_true", help="run no peer library")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="numpy's BLAS threads in the array harnesses (default 1, as in the issue's table; "
        "0: the library's default)",
    )
    ap.add_argument(
        "--only", nargs="+", metavar="HARNESS", help="run only these harnesses (e.g. bench_scalar)"
    )
    ap.add_argument(
        "--target-dir",
        type=Path,
        default=Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")),
        help="cargo's target directory, where criterion's results are (default: target)",
    )
    args = ap.parse_args()
    write = args.write if args.write is not None else not args.quick

    harnesses = [h for h in HARNESSES if h.in_quick or not args.quick]
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only}
        unknown = wanted - {h.script.removesuffix(".py") for h in HARNESSES}
        if unknown:
            ap.error(f"no such harness: {', '.join(sorted(unknown))}")
        harnesses = [h for h in HARNESSES if h.script.removesuffix(".py") in wanted]

    started = datetime.datetime.now(datetime.UTC)
    where = machine()
    t0 = time.perf_counter()
    outcome = run_harnesses(harnesses, args)
    elapsed = time.perf_counter() - t0

    notes = Footnotes()
    table = main_table(outcome.rows, notes)
    core = criterion_table(args.target_dir)
    extra = ([core] if core else []) + outcome.tables
    no_core = (
        ""
        if core
        else f"No `cargo bench` results in {args.target_dir / 'criterion'}: run "
        "`cargo bench -p bprop-core` first (`make bench` does) for the Rust core's figures."
    )
    blas = (
        f"BLAS limited to {args.blas_threads} thread(s) in the array harnesses"
        if args.blas_threads > 0
        else "BLAS threads left at the library's default"
    )
    mode = "quick run (`report.py --quick`)" if args.quick else "full run"
    header = [
        f"* date: {started:%Y-%m-%d %H:%M} UTC, {mode}, {elapsed / 60:.1f} minutes for the harnesses",
        f"* machine: {where}",
        f"* versions: {versions(outcome.blas)}",
        (
            f"* settings: {blas}; PyTorch on 1 thread; JAX with its default threading; every "
            "figure is the best of interleaved rounds in one process, so compare ratios rather "
            "than absolute times across runs"
        ),
    ]
    legend = (
        "Times in the row's unit (lower is better); ratio = bprop / hand-written (or / the "
        "baseline named in parentheses: for the hvp rows, bprop's own gradient of the same "
        "loss); target: ✓ met, ✗ not met (`< PyTorch`: bprop faster than it). A blank peer "
        "cell: no such peer for that workload."
    )
    main_md = "\n".join(
        [
            "### Workloads: bprop, the hand-written baseline and the peers",
            "",
            legend,
            "",
            markdown(table),
            *notes.lines(),
        ]
    )
    skipped_md = "\n".join(f"* {s}" for s in outcome.skipped)
    failures_md = (
        "\n".join(["### Failures", "", *(f"* {f}" for f in outcome.failures)])
        if outcome.failures
        else ""
    )
    body = "\n\n".join(
        p
        for p in [
            "\n".join(header),
            main_md,
            no_core,
            *map(section, extra),
            skipped_md,
            failures_md,
        ]
        if p
    )

    print("\n" + "=" * 100)
    print(body)
    print("\nharness times: " + ", ".join(f"{k} {v:.0f} s" for k, v in outcome.seconds.items()))

    if write:
        replace_generated(RESULTS_MD, body, RESULTS_FRESH)
        short = "\n".join(
            [
                (
                    f"Generated by `make bench` ({mode}) on {started:%Y-%m-%d} "
                    f"({where.split(';')[0]}; {blas}); the machine, versions, Rust core figures "
                    "and notes are in [benches/RESULTS.md](benches/RESULTS.md)."
                ),
                "",
                legend,
                "",
                markdown(table),
                *notes.lines(),
            ]
        )
        replace_generated(README_MD, short, "")
        why_not = chart(outcome.rows, CHART, f"{started:%Y-%m-%d}, {where.split(';')[0]}")
        written = [RESULTS_MD, README_MD] + ([CHART] if why_not is None else [])
        print("\nwrote " + ", ".join(str(p.relative_to(ROOT)) for p in written))
        if why_not:
            print(f"chart not drawn: {why_not}")

    if outcome.failures:
        print("\nFAILED:\n  " + "\n  ".join(outcome.failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
