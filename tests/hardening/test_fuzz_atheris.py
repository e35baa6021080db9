"""Coverage-guided fuzzing of the manifest loader and validator with atheris (libFuzzer).

Runs ``fuzz_atheris_target.py`` in a subprocess (libFuzzer exits the process on a crash),
seeded with every YAML file of ``examples/`` and the manifest corpus. Short mode: 2,000
inputs; long mode: 100,000. Skipped when atheris is not installed (``pip install atheris``:
it ships wheels for CPython 3.11 on Linux x86_64).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from figures_plugin import record
from hardening_helpers import TESTS
from optional_tools import module, needs
from support import runs

pytestmark = needs("atheris", module("atheris"), "pip install atheris")

TARGET = Path(__file__).parent / "fuzz_atheris_target.py"
SEEDS = [*TESTS.parent.joinpath("examples").rglob("*.y*ml"),
         *TESTS.joinpath("manifests", "corpus").rglob("*.y*ml")]


@pytest.mark.slow
def test_atheris_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(SEEDS):
        shutil.copyfile(seed, corpus / f"{i:04d}-{seed.name}")
    count = runs(2000, 100_000)
    proc = subprocess.run(
        [sys.executable, str(TARGET), f"-runs={count}", "-timeout=10", "-rss_limit_mb=2048",
         f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus)],
        cwd=tmp_path, capture_output=True, text=True, timeout=3600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    done = re.search(r"Done (\d+) runs", output)
    assert done and int(done.group(1)) >= count, output[-3000:]
    record("fuzz-atheris", inputs=int(done.group(1)))
