"""What `plan -o`, `drift -o` and `schema -o` write: never through a symlink, replaced in one
step, and a clear error (exit 1, no traceback) when the file cannot be written."""

from __future__ import annotations

import math
import stat
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.fsutil import default_mode

CATALOG = "products:\n  pro: {name: Pro}\n"


def cli(tmp_path: Path, *args: str) -> Result:
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(
            main, ["--emulator", "--emulator-state", str(tmp_path / "state.json"), *args],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None})


def _command(tmp_path: Path, name: str, out: Path) -> list[str]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    return {"plan": ["plan", str(catalog), "-o", str(out)],
            "drift": ["drift", str(catalog), "-o", str(out)],
            "schema": ["schema", "-o", str(out)]}[name]


COMMANDS = ["plan", "drift", "schema"]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_symlinked_output_is_refused_and_its_target_kept(tmp_path, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out.json"
    out.symlink_to(victim)
    result = cli(tmp_path, *_command(tmp_path, name, out))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (f"Error: {out} is a symbolic link; refusing to write through it; nothing was "
            "written.\n") in result.stderr
    assert victim.read_text() == "precious\n"
    assert out.is_symlink()


@pytest.mark.parametrize("name", COMMANDS)
def test_a_dangling_symlink_is_refused_too(tmp_path, name):
    out = tmp_path / "out.json"
    out.symlink_to(tmp_path / "elsewhere.json")
    result = cli(tmp_path, *_command(tmp_path, name, out))
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "elsewhere.json").exists()


@pytest.mark.parametrize("name", COMMANDS)
def test_an_existing_file_is_replaced_in_one_step(tmp_path, name):
    """A new inode (renamed over, not truncated in place: a reader sees the old file or the
    new one), no temporary file left, and the mode open() would give."""
    out = tmp_path / "out.json"
    out.write_text("old\n")
    before = out.stat().st_ino
    result = cli(tmp_path, *_command(tmp_path, name, out))
    assert result.exit_code in (0, 2), result.output
    assert out.read_text() not in ("", "old\n")
    assert out.stat().st_ino != before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert stat.S_IMODE(out.stat().st_mode) == default_mode()  # not the temporary file's 0600


@pytest.mark.parametrize("name", COMMANDS)
def test_a_missing_folder_is_an_error_not_a_traceback(tmp_path, name):
    out = tmp_path / "nodir" / "out.json"
    result = cli(tmp_path, *_command(tmp_path, name, out))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert (f"Error: cannot write {out}: No such file or directory; nothing was written.\n"
            in result.stderr)
