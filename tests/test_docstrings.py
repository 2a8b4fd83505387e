"""Every public name of bprop is documented with an example, and every example runs (#10).

(a) doctest runs over every module of the package: the Python modules and the `bprop._core`
    extension (whose properties, which `doctest`'s finder skips, are collected here), and over
    the docstrings of public names that no module's finder reaches (factory-made functions).
(b) every public function, class and method has a docstring with at least one `>>>` example;
    the exception classes of `bprop.errors` need a docstring saying when they are raised.
    Public values that cannot carry a docstring of their own (the ready-made `Op`s such as
    `bp.sin_op`, the `Op.name`/`Op.arity` slots, `bp.pi`) must appear in a doctested example
    instead.

Examples run with `bp` (bprop), `bnp` (bprop.numpy) and `np` (numpy) already imported, and
nothing else: the module's own globals are not visible, so examples read as user code.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import types
from typing import Any

import bprop
import bprop.numpy as bnp
import numpy as np
import pytest
from bprop import _core

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# the public namespaces of issue #10 (bprop's own `__all__` first)
PUBLIC_MODULES = [
    "bprop",
    "bprop.optics",
    "bprop.classes",
    "bprop.prelude",
    "bprop.explicit",
    "bprop.num",
    "bprop.linalg",
    "bprop.errors",
    "bprop.numpy",
    "bprop.numpy.linalg",
    "bprop.numpy.special",
]
# classes whose public methods and properties are API too
PUBLIC_CLASSES = [bprop.BVar, bprop.Op]


def package_modules() -> list[str]:
    names = ["bprop"]
    names += [m.name for m in pkgutil.walk_packages(bprop.__path__, "bprop.")]
    return sorted(set(names))


def globs() -> dict[str, Any]:
    return {"bp": bprop, "bnp": bnp, "np": np}


def module_doctests(name: str) -> list[doctest.DocTest]:
    """The doctests of one module: doctest's finder, plus (for the extension) the docstrings of
    its classes' properties, which the finder does not collect from extension types."""
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name, globs=globs())
    if module is _core:
        parser = doctest.DocTestParser()
        for cls_name, cls in vars(module).items():
            if not isinstance(cls, type):
                continue
            for attr, val in vars(cls).items():
                if inspect.isgetsetdescriptor(val) and val.__doc__ and ">>>" in val.__doc__:
                    qual = f"{name}.{cls_name}.{attr}"
                    tests.append(parser.get_doctest(val.__doc__, globs(), qual, None, 0))
    return [t for t in tests if t.examples]


def public_objects() -> list[tuple[str, Any]]:
    """(qualified name, object) for every public function, class, method and value."""
    out: list[tuple[str, Any]] = []
    for mod_name in PUBLIC_MODULES:
        module = importlib.import_module(mod_name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n in vars(module) if not n.startswith("_")]
        for n in names:
            obj = getattr(module, n)
            if isinstance(obj, types.ModuleType):
                continue  # the submodules are checked as namespaces of their own
            out.append((f"{mod_name}.{n}", obj))
    for cls in PUBLIC_CLASSES:
        for n, val in vars(cls).items():
            if not n.startswith("_"):
                out.append((f"bprop.{cls.__name__}.{n}", val))
    return out


def is_error_class(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseException)


def doc_of(obj: Any) -> str:
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return inspect.cleandoc(getattr(obj, "__doc__", None) or "")


def unreached_doctests() -> list[doctest.DocTest]:
    """The examples of public names that no module's doctests reach: doctest's finder takes an
    object only from the module named by its `__module__`, so a function built by a factory in
    one module and published by another (`bnp.argmax`, made by the registry) would never run."""
    reached = {
        inspect.cleandoc(t.docstring or "") for m in package_modules() for t in module_doctests(m)
    }
    parser = doctest.DocTestParser()
    out, seen = [], set()
    for name, obj in public_objects():
        doc = doc_of(obj)
        if ">>>" in doc and doc not in reached and doc not in seen:
            seen.add(doc)
            out.append(parser.get_doctest(doc, globs(), name, None, 0))
    return out


UNREACHED = "(public names defined elsewhere)"


@pytest.mark.parametrize("name", [*package_modules(), UNREACHED])
def test_doctests_pass(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    tests = unreached_doctests() if name == UNREACHED else module_doctests(name)
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.tries > 0 or name != UNREACHED, "no examples collected"
    assert runner.failures == 0, "".join(report)


def has_own_doc(obj: Any) -> bool:
    """Functions, classes, methods and properties have docstrings of their own; instances
    (an `Op` value) and slots show their class's or none."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return (
        inspect.isroutine(obj)
        or isinstance(obj, (type, property))
        or inspect.isgetsetdescriptor(obj)
    )


def example_sources() -> list[str]:
    """The source of every example that (a) runs."""
    tests = [t for m in package_modules() for t in module_doctests(m)] + unreached_doctests()
    return [ex.source for t in tests for ex in t.examples]


def test_public_names_have_examples() -> None:
    missing = []
    sources = example_sources()
    for name, obj in public_objects():
        doc = doc_of(obj)
        if is_error_class(obj):
            if not doc:
                missing.append(f"{name} (no docstring)")
        elif not has_own_doc(obj):
            word = re.compile(rf"\.{re.escape(name.rsplit('.', 1)[-1])}\b")
            if not any(word.search(src) for src in sources):
                missing.append(f"{name} (in no example)")
        elif ">>>" not in doc:
            missing.append(name)
    assert not missing, f"{len(missing)} public names lack a docstring example:\n" + "\n".join(
        missing
    )
