"""The typing contract, checked by running mypy, pyright and stubtest.

* tests/typing/check_*.py hold accepted code (`assert_type`) and rejected code (lines marked
  `# type: ignore[<code>]`); mypy --strict with warn_unused_ignores must pass on them, so a
  rejection that disappears fails the run.
* Negative control: with the ignore comments stripped, mypy must report the named error code(s)
  on every marked line (so each ignore hides a real error of that kind), and no error elsewhere.
* stubtest checks the hand-written stub bprop/_core.pyi against the built extension.
* mypy --strict passes on the package itself.

mypy is run as `sys.executable -m mypy`, i.e. the mypy of the interpreter running the tests.

pyright (standard mode, settings in pyproject.toml [tool.pyright]) runs beside mypy:

* once over the package and the check files: no error. In tests/typing the configuration turns on
  reportUnnecessaryTypeIgnoreComment, so every `# type: ignore[...]` (pyright honours these
  whatever the code in brackets) must hide a pyright error too: each rejection is a rejection
  by both checkers;
* once over the stripped copies (negative control): an error on every marked line, none elsewhere;
* `--verifytypes bprop --ignoreexternal`: every public symbol's type is known (100%).

pyright is the console script installed next to sys.executable (pyright on PyPI), else
`sys.executable -m pyright`; it is given `--pythonpath sys.executable` and finds the package's
sources through the configuration's extraPaths (the editable install's .pth is not needed).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tokenize
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TYPING_DIR = REPO / "tests" / "typing"
CONFIG = TYPING_DIR / "mypy.ini"
STUBTEST_ALLOWLIST = TYPING_DIR / "stubtest_allowlist.txt"
PACKAGE_DIR = REPO / "python" / "bprop"
CHECK_FILES = sorted(TYPING_DIR.glob("check_*.py"))

# A rejected line ends in the comment `# type: ignore[<code>]` (or `[<code>, <code>]` when mypy
# reports several errors for that one line).
IGNORE_RE = re.compile(r"^# type: ignore\[(?P<codes>[a-z][a-z-]*(?:, [a-z][a-z-]*)*)\]$")
ANY_IGNORE_RE = re.compile(r"type:\s*ignore")
ERROR_RE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$"
)


def test_check_files_present() -> None:
    names = {p.name for p in CHECK_FILES}
    assert {"check_ops.py", "check_runners.py", "check_bvar.py", "check_numpy.py"} <= names, names


@dataclass(frozen=True)
class MypyError:
    path: Path
    line: int
    code: str | None
    message: str


@dataclass(frozen=True)
class MypyRun:
    returncode: int
    output: str
    errors: tuple[MypyError, ...]

    def errors_in(self, path: Path) -> list[MypyError]:
        # Matched by file name (the check files and their stripped copies have distinct names):
        # for a file whose contents it has cached, mypy may report the path it was cached under,
        # e.g. an earlier run's temporary directory.
        return [e for e in self.errors if e.path.name == path.name]


def run_mypy(*targets: Path) -> MypyRun:
    """`python -m mypy --strict` with tests/typing/mypy.ini, from the repository root."""
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--config-file",
        str(CONFIG),
        "--show-absolute-path",
        "--no-pretty",
        "--no-color-output",
        *(str(t) for t in targets),
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    # 0: clean, 1: type errors; anything else (2: usage error or crash) is not a type check.
    assert proc.returncode in (0, 1), f"mypy did not run ({proc.returncode}):\n{output}"
    errors = []
    for line in proc.stdout.splitlines():
        m = ERROR_RE.match(line)
        if m:
            errors.append(
                MypyError(Path(m["path"]).resolve(), int(m["line"]), m["code"], m["message"])
            )
    assert (proc.returncode == 0) == (not errors), f"could not parse mypy's output:\n{output}"
    return MypyRun(proc.returncode, output, tuple(errors))


@dataclass(frozen=True)
class Rejection:
    file: Path
    line: int
    codes: tuple[str, ...]
    text: str

    @property
    def id(self) -> str:
        return f"{self.file.name}:{self.line}[{', '.join(self.codes)}]"


def comments(source: str) -> list[tokenize.TokenInfo]:
    """The comment tokens of a source (docstrings that mention ignores are not comments)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t for t in tokens if t.type == tokenize.COMMENT]


def rejections(path: Path) -> list[Rejection]:
    lines = path.read_text().splitlines()
    found = []
    for tok in comments(path.read_text()):
        m = IGNORE_RE.match(tok.string.rstrip())
        if m:
            lineno, col = tok.start
            codes = tuple(m["codes"].split(", "))
            found.append(Rejection(path, lineno, codes, lines[lineno - 1][:col].strip()))
    return found


ALL_REJECTIONS = [r for path in CHECK_FILES for r in rejections(path)]


def strip_ignores(source: str) -> str:
    """The same source, line for line, without the `# type: ignore[...]` comments."""
    lines = source.splitlines()
    for tok in comments(source):
        if IGNORE_RE.match(tok.string.rstrip()):
            lineno, col = tok.start
            lines[lineno - 1] = lines[lineno - 1][:col].rstrip()
    return "\n".join(lines) + "\n"


# ---- the check files are accepted as written --------------------------------------------------


@pytest.fixture(scope="module")
def checked() -> MypyRun:
    return run_mypy(TYPING_DIR)


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_check_file_passes_mypy_strict(checked: MypyRun, path: Path) -> None:
    """Accepted code has the asserted types and every marked line is rejected with its code."""
    errors = checked.errors_in(path)
    assert not errors, f"mypy --strict reports errors in {path.name}:\n{checked.output}"


def test_mypy_strict_exit_status_on_typing_dir(checked: MypyRun) -> None:
    assert checked.returncode == 0, checked.output


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_every_ignore_names_one_code(path: Path) -> None:
    """A bare `# type: ignore` would let the negative control accept any error; every ignore
    must name its codes, in the end-of-line form the control understands."""
    loose = [
        f"{tok.start[0]}: {tok.line.rstrip()}"
        for tok in comments(path.read_text())
        if ANY_IGNORE_RE.search(tok.string) and not IGNORE_RE.match(tok.string.rstrip())
    ]
    assert not loose, "ignores the negative control cannot check:\n" + "\n".join(loose)
    assert rejections(path), f"{path.name} has no rejected lines"


# ---- negative control: the rejections are real -----------------------------------------------


@pytest.fixture(scope="module")
def stripped(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[Path, Path], MypyRun]:
    """All check files with their ignores removed, type-checked in one mypy run."""
    out_dir = tmp_path_factory.mktemp("typing_stripped")
    copies = {}
    for path in CHECK_FILES:
        # A distinct module name keeps mypy's cache entries for the real files intact.
        copy = out_dir / f"stripped_{path.name}"
        copy.write_text(strip_ignores(path.read_text()))
        copies[path] = copy
    return copies, run_mypy(*copies.values())


@pytest.mark.parametrize("rejection", ALL_REJECTIONS, ids=lambda r: r.id)
def test_rejected_line_is_an_error_without_its_ignore(
    stripped: tuple[dict[Path, Path], MypyRun], rejection: Rejection
) -> None:
    copies, run = stripped
    on_line = [e for e in run.errors_in(copies[rejection.file]) if e.line == rejection.line]
    codes = sorted({str(e.code) for e in on_line})
    missing = [c for c in rejection.codes if c not in codes]
    assert not missing, (
        f"{rejection.id}: `{rejection.text}` is not rejected with {missing} "
        f"(errors on the line: {codes or 'none'}):\n"
        + "\n".join(f"  {e.line}: {e.message} [{e.code}]" for e in on_line)
    )


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_stripped_file_errors_only_on_rejected_lines(
    stripped: tuple[dict[Path, Path], MypyRun], path: Path
) -> None:
    """Each rejection is local: removing the ignores creates errors on the marked lines only."""
    copies, run = stripped
    marked = {r.line for r in rejections(path)}
    stray = [e for e in run.errors_in(copies[path]) if e.line not in marked]
    assert not stray, "errors on unmarked lines:\n" + "\n".join(
        f"  {path.name}:{e.line}: {e.message} [{e.code}]" for e in stray
    )


# ---- the stub and the package -----------------------------------------------------------------


def test_stubtest_core() -> None:
    """bprop/_core.pyi matches the built extension module.

    The allowlist holds only what the stub leaves out on purpose (see the comments in it):
    BVar's __float__/__int__/__complex__ exist at run time only to raise TypeError, and are
    absent from the stub so that mypy rejects float(v) statically.
    """
    cmd = [
        sys.executable,
        "-m",
        "mypy.stubtest",
        "bprop._core",
        "--allowlist",
        str(STUBTEST_ALLOWLIST),
    ]
    # Not tests/typing/mypy.ini: stubtest ignores `strict` in a config file but honours
    # warn_unused_ignores, so the package's ignores for strict-only errors would be reported as
    # unused. MYPYPATH makes it read this checkout's stub.
    env = {**os.environ, "MYPYPATH": str(REPO / "python")}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stubtest_numpy() -> None:
    """The typed namespace bprop.numpy (`__init__.pyi`, `linalg.pyi`, `special.pyi`) matches the
    runtime registry's functions: names, parameters and defaults. The allowlist covers only the
    private implementation modules (stubtest reads their sources as stubs)."""
    cmd = [
        sys.executable,
        "-m",
        "mypy.stubtest",
        "bprop.numpy",
        "--allowlist",
        str(REPO / "tests" / "typing" / "stubtest_numpy_allowlist.txt"),
    ]
    # No config file, as for bprop._core: with tests/typing/mypy.ini (warn_unused_ignores, but
    # `strict` ignored by stubtest) the package's ignores of strict-only errors read as unused.
    env = {**os.environ, "MYPYPATH": str(REPO / "python")}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_package_passes_mypy_strict() -> None:
    run = run_mypy(PACKAGE_DIR)
    assert run.returncode == 0, run.output


# ---- pyright ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PyrightError:
    path: Path
    line: int
    rule: str
    message: str


@dataclass(frozen=True)
class PyrightRun:
    output: str
    errors: tuple[PyrightError, ...]

    def errors_in(self, path: Path) -> list[PyrightError]:
        return [e for e in self.errors if e.path.name == path.name]

    def report(self, errors: list[PyrightError]) -> str:
        return "\n".join(
            f"  {e.path.name}:{e.line}: {e.message.splitlines()[0]} [{e.rule}]" for e in errors
        )


def pyright_command() -> list[str]:
    script = Path(sys.executable).parent / "pyright"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pyright"]


def pyright_env() -> dict[str, str]:
    # PYTHONPATH: --verifytypes resolves the package by import (it ignores extraPaths).
    # The warning variable keeps the PyPI wrapper from printing version notices.
    return {
        **os.environ,
        "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1",
        "PYTHONPATH": str(REPO / "python"),
    }


def run_pyright(*targets: Path) -> PyrightRun:
    """pyright with the repository's configuration, from the repository root; its errors."""
    cmd = [*pyright_command(), "--pythonpath", sys.executable, "--outputjson"]
    cmd += [str(t) for t in targets]
    proc = subprocess.run(
        cmd, cwd=REPO, env=pyright_env(), capture_output=True, text=True, check=False
    )
    # 0: clean, 1: errors; anything else (2: fatal, 3: bad configuration) is not a type check.
    assert proc.returncode in (0, 1), f"pyright did not run ({proc.returncode}):\n{proc.stderr}"
    report = json.loads(proc.stdout)
    errors = tuple(
        PyrightError(
            Path(d["file"]).resolve(),
            d["range"]["start"]["line"] + 1,
            d.get("rule", ""),
            d["message"],
        )
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    )
    assert (proc.returncode == 0) == (not errors), proc.stdout
    return PyrightRun(proc.stdout, errors)


@pytest.fixture(scope="module")
def pyright_checked() -> PyrightRun:
    """One pyright run over the package and every check file."""
    return run_pyright(PACKAGE_DIR, TYPING_DIR)


def test_package_passes_pyright(pyright_checked: PyrightRun) -> None:
    errors = [e for e in pyright_checked.errors if e.path.is_relative_to(PACKAGE_DIR)]
    assert not errors, "pyright reports errors in the package:\n" + pyright_checked.report(errors)


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_check_file_passes_pyright(pyright_checked: PyrightRun, path: Path) -> None:
    """Accepted code has the asserted types for pyright too, and every `# type: ignore` is
    needed by pyright (reportUnnecessaryTypeIgnoreComment is an error in tests/typing)."""
    errors = pyright_checked.errors_in(path)
    assert not errors, f"pyright reports errors in {path.name}:\n" + pyright_checked.report(errors)


def test_pyright_config_flags_unneeded_ignores() -> None:
    """What test_check_file_passes_pyright relies on: in tests/typing an ignore that hides no
    pyright error is itself an error (pyproject.toml, [tool.pyright] executionEnvironments)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pyright"]
    envs = {env["root"]: env for env in config["executionEnvironments"]}
    assert envs["tests/typing"]["reportUnnecessaryTypeIgnoreComment"] == "error", envs
    assert config.get("enableTypeIgnoreComments", True), config


@pytest.fixture(scope="module")
def pyright_stripped(
    stripped: tuple[dict[Path, Path], MypyRun],
) -> tuple[dict[Path, Path], PyrightRun]:
    """The same stripped copies as the mypy control, in one pyright run."""
    copies, _ = stripped
    return copies, run_pyright(*copies.values())


@pytest.mark.parametrize("rejection", ALL_REJECTIONS, ids=lambda r: r.id)
def test_rejected_line_is_a_pyright_error_without_its_ignore(
    pyright_stripped: tuple[dict[Path, Path], PyrightRun], rejection: Rejection
) -> None:
    copies, run = pyright_stripped
    on_line = [e for e in run.errors_in(copies[rejection.file]) if e.line == rejection.line]
    assert on_line, f"{rejection.id}: `{rejection.text}` is not rejected by pyright"


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_pyright_stripped_file_errors_only_on_rejected_lines(
    pyright_stripped: tuple[dict[Path, Path], PyrightRun], path: Path
) -> None:
    copies, run = pyright_stripped
    marked = {r.line for r in rejections(path)}
    stray = [e for e in run.errors_in(copies[path]) if e.line not in marked]
    assert not stray, "pyright errors on unmarked lines:\n" + run.report(stray)


def test_pyright_verifytypes_complete() -> None:
    """`pyright --verifytypes bprop --ignoreexternal`: every symbol of the public interface has
    a known type (score 100%)."""
    cmd = [*pyright_command(), "--pythonpath", sys.executable, "--outputjson"]
    cmd += ["--verifytypes", "bprop", "--ignoreexternal"]
    proc = subprocess.run(
        cmd, cwd=REPO, env=pyright_env(), capture_output=True, text=True, check=False
    )
    report = json.loads(proc.stdout)["typeCompleteness"]
    assert report["packageRootDirectory"] == str(PACKAGE_DIR), report["packageRootDirectory"]
    unknown = [
        f"  {s['name']}: " + "; ".join(d["message"] for d in s["diagnostics"])
        for s in report["symbols"]
        if not s["isTypeKnown"]
    ]
    assert not unknown, "symbols of unknown type:\n" + "\n".join(unknown)
    assert report["completenessScore"] == 1, report["completenessScore"]
