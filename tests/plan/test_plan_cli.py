"""`reconciler plan` on the command line: exit codes, and colour only on a terminal.

Colour is decided by the command (``use_color``) and by ``click.echo``, which strips styles
from anything that is not a terminal: only a real pseudo-terminal shows both at work.
"""

from __future__ import annotations

import math
import os
import pty
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from catalogs import PRO_CATALOG as CATALOG
from click.testing import CliRunner, Result

from reconciler.cli import main

ANSI = b"\x1b["


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    return path


def cli(state: Path, *args: str) -> Result:
    """The command in-process against the embedded emulator, without the client's rate
    limit."""
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(
            main, ["--emulator", "--emulator-state", str(state), *args],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None},
            catch_exceptions=False)


def test_changes_exit_0_and_2_only_with_detailed_exitcode(tmp_path: Path, catalog: Path):
    state = tmp_path / "state.json"
    plain = cli(state, "plan", str(catalog))
    assert plain.exit_code == 0, plain.output
    assert "Plan: 2 to create" in plain.stdout
    detailed = cli(state, "plan", str(catalog), "--detailed-exitcode")
    assert detailed.exit_code == 2, detailed.output
    assert detailed.stdout == plain.stdout
    applied = cli(state, "apply", str(catalog), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert cli(state, "plan", str(catalog), "--detailed-exitcode").exit_code == 0


def test_a_refused_plan_exits_1_also_with_detailed_exitcode(tmp_path: Path, catalog: Path):
    state = tmp_path / "state.json"
    taken = tmp_path / "taken.yaml"
    taken.write_text("products:\n  pro: {name: Pro (dashboard)}\n")
    assert cli(state, "apply", str(taken), "--stack", "other", "--auto-approve").exit_code == 0
    refused = cli(state, "plan", str(catalog), "--detailed-exitcode")
    assert refused.exit_code == 1
    assert "products.pro: id 'pro' is held by pro, which is managed by stack 'other'" in (
        refused.stderr)


def command(state: Path, catalog: Path) -> list[str]:
    return [sys.executable, "-m", "reconciler", "--emulator", "--emulator-state", str(state),
            "plan", str(catalog)]


def environment(**env: str) -> dict[str, str]:
    """This environment without NO_COLOR nor anything pointing the CLI elsewhere."""
    return {**{k: v for k, v in os.environ.items()
               if not k.startswith(("STRIPE_", "RECONCILER_", "GITHUB_")) and k != "NO_COLOR"},
            **env}


def on_terminal(state: Path, catalog: Path, **env: str) -> bytes:
    """What ``reconciler plan`` prints when its stdout is a terminal."""
    master, terminal = pty.openpty()
    with subprocess.Popen(command(state, catalog), stdout=terminal, stderr=subprocess.PIPE,
                          env=environment(**env)) as process:
        os.close(terminal)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else b""
    return out


@pytest.mark.slow
def test_colour_on_a_terminal_unless_no_color(tmp_path: Path, catalog: Path):
    state = tmp_path / "state.json"
    coloured = on_terminal(state, catalog)
    assert b"Plan: 2 to create" in coloured and ANSI in coloured
    # https://no-color.org: set and not empty turns colour off, whatever its value
    plain = on_terminal(state, catalog, NO_COLOR="1")
    assert b"Plan: 2 to create" in plain and ANSI not in plain
    assert ANSI not in on_terminal(state, catalog, NO_COLOR="false")
    assert ANSI in on_terminal(state, catalog, NO_COLOR="")
    # not a terminal: no colour without NO_COLOR either
    piped = subprocess.run(command(state, catalog), capture_output=True, check=True,
                           env=environment())
    assert b"Plan: 2 to create" in piped.stdout and ANSI not in piped.stdout
