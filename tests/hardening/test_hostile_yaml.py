"""Hostile YAML: any file is accepted or refused by ``reconciler validate`` in under 20 s and
1 GB, with each problem said once. Each case runs the command line in a subprocess whose
peak memory is measured (``wait4``) and whose address space is capped, so that a regression
fails here instead of exhausting the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from apply_helpers import cli_env
from hardening_helpers import Measured, run_measured

LIMIT_SECONDS = 20
LIMIT_MB = 1024


def _validate(path: Path, *options: str) -> Measured:
    result = run_measured([sys.executable, "-m", "reconciler", "validate", path.name, *options],
                          cwd=path.parent, env=cli_env(), timeout=120,
                          memory_cap_mb=2 * LIMIT_MB)
    assert "Traceback" not in result.stderr
    assert result.seconds < LIMIT_SECONDS and result.peak_mb < LIMIT_MB, result
    return result


@pytest.mark.slow
def test_one_long_string_aliased_20000_times(tmp_path: Path) -> None:
    """Was 3.9 GB, 23 s and the same error printed 20,000 times."""
    lines = ["products:", "  p:", "    name: P", "    description: &s " + "x" * 100_000,
             "    metadata:", *(f"      k{i}: *s" for i in range(20_000))]
    path = tmp_path / "aliases.yaml"
    path.write_text("\n".join(lines) + "\n")

    result = _validate(path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "aliases.yaml:4:18: aliases expand to too large a document; refusing to expand it",
        "1 problem found: 0 entries in 1 file"]


@pytest.mark.slow
def test_a_50_mb_file_is_refused_unread(tmp_path: Path) -> None:
    """Was 49 s and 1.45 GB for 336,000 entries."""
    path = tmp_path / "huge.yaml"
    entry = "  p{}: {{name: Product}}\n"
    with path.open("w") as fh:
        fh.write("products:\n")
        fh.writelines(entry.format(i) for i in range(2_200_000))
    assert path.stat().st_size > 50_000_000

    result = _validate(path)

    assert result.returncode == 1
    assert "huge.yaml: the file is larger than 2,000,000 bytes" in result.stderr
    assert result.seconds < 5


@pytest.mark.slow
def test_the_densest_file_under_the_cap_is_read_in_bounds(tmp_path: Path) -> None:
    """The worst a file under the default cap can do: 2 MB of the shortest invalid entries
    (each one a problem), then the most aliases may add to them."""
    path = tmp_path / "dense.yaml"
    entries = [f"  a{i}: 1" for i in range(150_000)]
    path.write_text("products:\n" + "\n".join(entries) + "\n")
    assert path.stat().st_size < 2_000_000

    result = _validate(path)
    assert result.returncode == 1
    assert result.stderr.endswith("150000 problems found: 0 entries in 1 file\n")

    expanding = tmp_path / "expanding.yaml"
    block = [f"      k{i}: v" for i in range(100_000)]
    expanding.write_text("\n".join(["products:", "  p:", "    name: P", "    metadata: &m",
                                    *block, "  q:", "    name: Q", "    metadata: *m"]) + "\n")
    result = _validate(expanding)
    assert "must have at most 50 keys, not 100000" in result.stderr
