"""The hardening figures reach the run's summary, summed over the tests that recorded them,
whether the tests ran in this process or in pytest-xdist workers (what scripts/test.sh runs),
from a real pytest run on a small test directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
pytestmark = pytest.mark.slow  # a pytest run each


@pytest.mark.parametrize("workers", [[], ["-n", "2", "--dist", "loadfile"]],
                         ids=["one-process", "xdist"])
def test_the_figures_of_every_test_are_summed_in_the_summary(tmp_path, workers):
    tmp_path.joinpath("pytest.ini").write_text("[pytest]\n")  # not this project's settings
    for name, inputs in (("a", 3), ("b", 4)):
        tmp_path.joinpath(f"test_{name}.py").write_text(
            "from figures_plugin import record\n\n"
            f"def test_{name}():\n    record('demo', inputs={inputs}, runs=1)\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "figures_plugin",
         *workers, str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(TESTS), "RECONCILER_LONG": ""}, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    _, section, figures = result.stdout.partition("hardening figures (short mode)")
    assert section, result.stdout
    assert figures.splitlines()[1] == "demo: inputs=7, runs=2"
