"""The run's summary names each missing optional tool, the tests it skipped and how to
install it, from the skips of a real pytest run on a small test directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
pytestmark = pytest.mark.slow  # a pytest run each


def _pytest(directory: Path, *args: str) -> str:
    directory.joinpath("pytest.ini").write_text("[pytest]\n")  # not this project's settings
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "optional_tools",
         *args, str(directory)], cwd=directory, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(TESTS)}, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _write(path: Path, text: str) -> None:
    path.write_text("from optional_tools import needs\n\n" + text)


def test_the_summary_names_each_missing_tool_and_what_it_skipped(tmp_path):
    _write(tmp_path / "test_lint.py",
           '@needs("lintr", None, "pip install lintr")\ndef test_a(): pass\n\n'
           '@needs("lintr", None, "pip install lintr")\ndef test_b(): pass\n\n'
           '@needs("here", "/usr/bin/here", "apt-get install here")\ndef test_c(): pass\n')
    _write(tmp_path / "test_browser.py",
           'pytestmark = needs("browsr", False, "apt-get install browsr")\n\n'
           'def test_d(): pass\n')
    for i in range(5):
        _write(tmp_path / f"test_many{i}.py",
               '@needs("manytool", None, "get it")\ndef test_e(): pass\n')
    out = _pytest(tmp_path)
    (line,) = [line for line in out.splitlines() if line.startswith("optional tools missing")]
    assert line == (
        "optional tools missing: browsr (test_browser.py skipped; apt-get install browsr), "
        "lintr (test_lint.py skipped; pip install lintr), "
        "manytool (test_many0.py, test_many1.py, test_many2.py and 2 more skipped; get it)")
    assert "1 passed, 8 skipped" in out


def test_no_line_when_every_tool_is_there(tmp_path):
    _write(tmp_path / "test_ok.py", '@needs("here", True, "-")\ndef test_a(): pass\n')
    assert "optional tools" not in _pytest(tmp_path)


def test_a_module_level_skip_of_a_missing_import_is_named(tmp_path):
    """How the atheris test skips: a module's mark, from whether the module imports."""
    _write(tmp_path / "test_fuzz.py",
           'from optional_tools import module\n\n'
           'pytestmark = needs("nosuchmod", module("nosuchmod_xyz"), "pip install nosuchmod")\n\n'
           'def test_f(): pass\n')
    assert "optional tools missing: nosuchmod (test_fuzz.py skipped; pip install nosuchmod)" \
        in _pytest(tmp_path)
