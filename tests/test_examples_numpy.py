"""The numpy-style example programs (examples/gp_regression.py, char_rnn.py, conv_net.py) run in
their quick mode and reach their results, and the table of supported functions in docs/numpy.md is
the one the registry generates (docs/gen_numpy_table.py)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import bprop as bp
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NAMES = ("gp_regression", "char_rnn", "conv_net")


def load(path: Path, name: str) -> ModuleType:
    """Import a script by path (registered in sys.modules, as dataclasses need)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(EXAMPLES) not in sys.path:  # the examples import their shared gradcheck.py
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def example(name: str) -> ModuleType:
    return load(EXAMPLES / f"{name}.py", f"bprop_example_{name}")


# ---------------------------------------------------------------- written as numpy code


@pytest.mark.parametrize("name", NAMES)
def test_example_is_plain_numpy_code(name: str) -> None:
    """The point of the examples: unchanged numpy code, bprop only for the runners."""
    source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
    assert "import numpy as np" in source
    assert not re.search(r"bprop\.(numpy|linalg)|bp\.linalg|\bbnp\b", source), (
        "examples must not use bprop.numpy or bprop.linalg"
    )
    used = set(re.findall(r"\bbp\.(\w+)", source))
    assert used and used <= {"grad_bp", "backprop"}, (
        f"bprop calls other than the runners: {sorted(used)}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_example_help(name: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,  # the assertion below shows stderr
    )
    assert out.returncode == 0, out.stderr
    assert "--quick" in out.stdout


# ---------------------------------------------------------------- quick runs


def test_gp_regression_quick() -> None:
    gp = example("gp_regression")
    result = gp.run(**gp.QUICK, verbose=False)
    assert gp.failures(result) == []
    assert result.check.passed and result.check.worst <= gp.FD_RTOL
    assert result.history[-1] > result.history[0] + 5.0  # the likelihood rose substantially
    assert all(b >= a - 1e-9 for a, b in zip(result.history, result.history[1:]))  # and steadily
    lengthscale, _signal_var, noise_var = np.exp(result.theta)
    assert 0.05 < np.sqrt(noise_var) < 0.5  # the data's noise sd is 0.2
    assert 0.1 < lengthscale < 3.0


def test_gp_same_function_on_plain_arrays() -> None:
    """The likelihood is plain numpy: on arrays it gives a float, equal to bprop's value."""
    gp = example("gp_regression")
    x, y = gp.make_data(12)
    theta = np.array([0.1, -0.2, -1.0])
    plain = gp.log_marginal_likelihood(theta, x, y)
    value, grad = bp.backprop(lambda t: gp.log_marginal_likelihood(t, x, y), theta)
    assert np.isclose(float(value), float(plain), rtol=1e-12)
    assert isinstance(grad, np.ndarray) and grad.shape == (3,)


def test_char_rnn_quick() -> None:
    rnn = example("char_rnn")
    result = rnn.run(**rnn.QUICK, sample_length=40, verbose=False)
    assert rnn.failures(result) == []
    assert result.check.passed and result.check.worst <= rnn.FD_RTOL
    k = len(result.losses) // 10
    assert np.mean(result.losses[-k:]) < 0.8 * np.mean(result.losses[:k])
    assert len(result.sample) == len("the ") + 40 and set(result.sample) <= set(rnn.TEXT)


def test_conv_net_quick() -> None:
    conv = example("conv_net")
    result = conv.run(**conv.QUICK, verbose=False)
    assert conv.failures(result) == []
    assert result.check.passed and result.check.worst <= conv.FD_RTOL
    assert result.epoch_losses[-1] < result.initial_loss
    assert result.test_accuracy >= 0.8


def test_conv_net_layers_match_a_direct_convolution() -> None:
    """The einsum-over-patches convolution and the reshape max-pool compute what they claim."""
    conv = example("conv_net")
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(3, 3, 3, 5)), rng.normal(size=5)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    direct = np.zeros((2, 4, 4, 5))
    for i in range(4):
        for j in range(4):
            direct[:, i, j, :] = (
                np.einsum("nabc,abco->no", padded[:, i : i + 3, j : j + 3, :], w) + b
            )
    np.testing.assert_allclose(conv.conv3x3(x, w, b), direct, rtol=1e-12, atol=1e-12)
    pooled = conv.max_pool(x)
    np.testing.assert_array_equal(pooled[1, 0, 1], np.max(x[1, 0:2, 2:4].reshape(4, 3), axis=0))
    got = bp.eval_bp(lambda p: conv.conv3x3(x, p["w"], p["b"]), {"w": w, "b": b})
    np.testing.assert_allclose(got, direct, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the docs table


def test_docs_numpy_table_is_up_to_date() -> None:
    gen = load(ROOT / "docs" / "gen_numpy_table.py", "bprop_docs_gen_numpy_table")
    doc = (ROOT / "docs" / "numpy.md").read_text(encoding="utf-8")
    assert gen.current_table(doc) == gen.table(), (
        "docs/numpy.md is out of date: run python docs/gen_numpy_table.py --write"
    )


def test_docs_numpy_table_lists_every_registry_entry() -> None:
    from bprop.numpy._registry import TABLE

    gen = load(ROOT / "docs" / "gen_numpy_table.py", "bprop_docs_gen_numpy_table")
    generated = gen.table()
    assert TABLE, "the registry is empty"
    for name, entry in TABLE.items():
        short = name.rsplit(".", 1)[-1]
        assert f"| `{short}` |" in generated, name
        assert gen._cell(entry.rule) in generated, name
