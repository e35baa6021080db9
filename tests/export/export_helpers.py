"""Helpers for the export and import acceptance tests: the library in-process, the command
line in-process (click's runner, the embedded emulator on a state file), directory compare."""

from __future__ import annotations

import asyncio
import filecmp
import functools
import json
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import yaml
from click.testing import CliRunner, Result
from messy_account import build_messy_account
from support import emulator_client

from reconciler.cli import main
from reconciler.emulator import Emulator
from reconciler.manifests import Manifest, load, validate
from reconciler.stripe import StripeClient

T = TypeVar("T")


def run(emu: Emulator, work: Callable[[StripeClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with emulator_client(emu) as client:
            return await work(client)
    return asyncio.run(go())


def messy_emulator() -> Emulator:
    emu = Emulator()
    run(emu, build_messy_account)
    return emu


@functools.cache
def _messy_snapshot() -> str:
    return json.dumps(messy_emulator().state())


def messy_state(state_file: Path) -> Path:
    """A state file for ``--emulator`` holding the messy account (built once per session:
    written object by object, the file would be rewritten a hundred times)."""
    state_file.write_text(_messy_snapshot(), "utf-8")
    return state_file


def load_checked(*paths: Path) -> Manifest:
    """Load and validate like `reconciler validate`; fails the test on any problem."""
    manifest, issues = load([str(p) for p in paths])
    issues = issues + validate(manifest)
    assert not issues, "\n".join(str(i) for i in issues)
    return manifest


def exported_entries(directory: Path) -> dict[str, dict[str, Any]]:
    """kind -> manifest key -> fields, from the files `reconciler export` wrote."""
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        docs.update(yaml.safe_load(path.read_text()))
    return docs


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ (or exist on one side only) between two directories."""
    compare = filecmp.dircmp(a, b)
    return sorted(compare.left_only + compare.right_only + compare.diff_files
                  + [f for f in compare.common_files if not filecmp.cmp(a / f, b / f, False)])


def cli(*args: str, state: Path, **kwargs: Any) -> Result:
    """``reconciler --emulator --emulator-state STATE ARGS...`` in-process, without the
    client's rate limit (20 requests a second in test mode: seconds per command here)."""
    runner = CliRunner()
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return runner.invoke(main, ["--emulator", "--emulator-state", str(state), *args],
                             env={"NO_COLOR": "1", "STRIPE_API_KEY": None,
                                  "STRIPE_API_BASE": None, "RECONCILER_STACK": None},
                             catch_exceptions=False, **kwargs)


def shown(result: Result) -> str:
    return f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
