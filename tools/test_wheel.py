#!/usr/bin/env python3
"""Test the built wheel as users get it: installed into fresh virtual environments.

For each Python version (3.11, 3.12 and 3.13 by default) this script

1. finds a CPython of that version (pyenv's versions directory, then ``pythonX.Y`` on PATH); a
   version that is missing is skipped with a message, and listed as SKIPPED in the summary;
2. creates a fresh virtual environment ``target/wheel-venvs/pyX.Y`` and installs the wheel together
   with the pinned test tools (requirements-dev.txt) from binary wheels only
   (``--only-binary :all:``), with no Rust toolchain on PATH: a wheel that needed building, or a
   pin without a wheel for that Python, fails here;
3. checks that ``import bprop`` resolves to the environment's site-packages, not to the
   checkout's ``python/`` directory, and that the extension is the abi3 one;
4. runs ``mypy.stubtest`` on ``bprop._core`` and ``bprop.numpy`` against the installed package
   (stubs and runtime both read from the wheel);
5. runs the test suite (tests/ and docs/) with the repository's pytest configuration from a
   scratch working directory, so that the package under test is the installed one. The typing
   checks (tests/test_typing.py) type-check the sources in python/ with the mypy and pyright of
   that environment; their stubtest compares the checkout's stubs with the installed extension,
   where step 4 compares the installed stubs.

    python tools/test_wheel.py target/wheels              # every version
    python tools/test_wheel.py target/wheels -V 3.12      # one version
    python tools/test_wheel.py target/wheels -- -x -k ops # extra pytest arguments

Exit status: 0 when every version found passed (and at least one was found), 1 otherwise;
``--require-all`` also fails when a version is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO / "python"
LOCK = REPO / "requirements-dev.txt"
STUBTEST_ALLOWLIST = REPO / "tests" / "typing" / "stubtest_allowlist.txt"
STUBTEST_NUMPY_ALLOWLIST = REPO / "tests" / "typing" / "stubtest_numpy_allowlist.txt"
DEFAULT_VERSIONS = ("3.11", "3.12", "3.13")

# Run in the fresh environment: where the package and its extension come from.
IMPORT_CHECK = """
import sys, sysconfig
from pathlib import Path
import bprop, bprop._core
package = Path(bprop.__file__).resolve()
core = Path(bprop._core.__file__).resolve()
site = Path(sysconfig.get_paths()["purelib"]).resolve()
print(f"  bprop       {package}")
print(f"  bprop._core {core}")
source = Path(sys.argv[1]).resolve()
if package.is_relative_to(source) or core.is_relative_to(source):
    sys.exit(f"error: bprop was imported from the source tree {source}, not the installed wheel")
if not package.is_relative_to(site):
    sys.exit(f"error: bprop is not imported from the environment's site-packages {site}")
if not core.name.endswith(".abi3.so"):
    sys.exit(f"error: the extension {core.name} is not the abi3 build")
"""


def log(message: str) -> None:
    print(message, flush=True)


def version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))


def find_python(version: str) -> Path | None:
    """A CPython interpreter of this major.minor version, or None."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(
        (
            p
            for p in (pyenv_root / "versions").glob(f"{version}.*/bin/python{version}")
            if re.fullmatch(rf"{re.escape(version)}\.\d+", p.parent.parent.name)
        ),
        key=version_key,
        reverse=True,
    )
    on_path = shutil.which(f"python{version}")
    if on_path is not None:
        candidates.append(Path(on_path))
    for candidate in candidates:
        probe = subprocess.run(
            [
                str(candidate),
                "-c",
                "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.split() == ["cpython", version]:
            return candidate
    return None


def without_rust(env: dict[str, str]) -> dict[str, str]:
    """The environment with every PATH entry that holds cargo or rustc removed."""
    entries = env.get("PATH", "").split(os.pathsep)
    kept = [
        entry
        for entry in entries
        if entry and not any((Path(entry) / tool).exists() for tool in ("cargo", "rustc"))
    ]
    clean = {k: v for k, v in env.items() if k not in ("CARGO", "RUSTC", "PYO3_PYTHON")}
    clean["PATH"] = os.pathsep.join(kept)
    return clean


def run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> bool:
    log("  $ " + " ".join("<import check>" if arg == IMPORT_CHECK else arg for arg in cmd))
    return subprocess.run(cmd, cwd=cwd, env=env, check=False).returncode == 0


def test_version(
    version: str, python: Path, wheel: Path, venv_root: Path, pytest_args: list[str]
) -> bool:
    venv = venv_root / f"py{version}"
    shutil.rmtree(venv, ignore_errors=True)
    base_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    scratch = Path(tempfile.mkdtemp(prefix=f"bprop-wheel-{version}-"))
    try:
        if not run([str(python), "-m", "venv", str(venv)], cwd=scratch, env=base_env):
            return False
        vpy = venv / "bin" / "python"
        env = without_rust({**base_env, "VIRTUAL_ENV": str(venv)})
        env["PATH"] = str(venv / "bin") + os.pathsep + env["PATH"]
        install = [str(vpy), "-m", "pip", "install", "-q", "--only-binary", ":all:"]
        install += ["-r", str(LOCK), str(wheel)]
        steps: list[list[str]] = [
            install,
            [str(vpy), "-c", IMPORT_CHECK, str(SOURCE_DIR)],
            [
                str(vpy),
                "-m",
                "mypy.stubtest",
                "bprop._core",
                "--allowlist",
                str(STUBTEST_ALLOWLIST),
            ],
            [
                str(vpy),
                "-m",
                "mypy.stubtest",
                "bprop.numpy",
                "--allowlist",
                str(STUBTEST_NUMPY_ALLOWLIST),
            ],
            [
                str(vpy),
                "-m",
                "pytest",
                "-c",
                str(REPO / "pyproject.toml"),
                "--rootdir",
                str(REPO),
                "-p",
                "no:cacheprovider",
                *pytest_args,
                str(REPO / "tests"),
                str(REPO / "docs"),
            ],
        ]
        # Every step runs from the scratch directory: neither the checkout nor its python/
        # directory is on sys.path, so only the installed package can be imported.
        return all(run(step, cwd=scratch, env=env) for step in steps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("wheel_dir", type=Path, help="directory holding the one bprop wheel")
    parser.add_argument(
        "-V",
        "--version",
        dest="versions",
        action="append",
        help="a Python version to test (repeatable; default: 3.11, 3.12 and 3.13)",
    )
    parser.add_argument(
        "--venv-root",
        type=Path,
        default=REPO / "target" / "wheel-venvs",
        help="where the fresh virtual environments are made (default: target/wheel-venvs)",
    )
    parser.add_argument(
        "--require-all", action="store_true", help="fail when a Python version is missing"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()

    wheels = sorted(args.wheel_dir.glob("bprop-*.whl"))
    if len(wheels) != 1:
        log(f"error: expected one bprop wheel in {args.wheel_dir}, found {len(wheels)}")
        return 1
    wheel = wheels[0].resolve()
    if "-abi3-" not in wheel.name:
        log(f"error: {wheel.name} is not an abi3 wheel")
        return 1
    log(f"wheel: {wheel.name} ({wheel.stat().st_size / 1e6:.2f} MB)")

    results: list[tuple[str, str, float]] = []
    for version in args.versions or DEFAULT_VERSIONS:
        python = find_python(version)
        if python is None:
            log(
                f"\n== Python {version}: SKIPPED, no CPython {version} found (looked in pyenv's "
                f"versions directory and for python{version} on PATH)"
            )
            results.append((version, "SKIPPED (not found)", 0.0))
            continue
        log(f"\n== Python {version}: {python}")
        start = time.perf_counter()
        ok = test_version(version, python, wheel, args.venv_root, args.pytest_args)
        results.append((version, "passed" if ok else "FAILED", time.perf_counter() - start))

    log("\n== installed-wheel tests")
    for version, outcome, seconds in results:
        log(f"  Python {version}: {outcome}" + (f" in {seconds:.0f} s" if seconds else ""))
    outcomes = [outcome for _, outcome, _ in results]
    if any(o == "FAILED" for o in outcomes) or "passed" not in outcomes:
        return 1
    if args.require_all and any(o.startswith("SKIPPED") for o in outcomes):
        log("error: --require-all and a Python version is missing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
