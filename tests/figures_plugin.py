"""The hardening suites' figures (inputs, runs, faults injected, kills, duplicates found),
printed in pytest's terminal summary.

Registered by ``tests/conftest.py`` rather than tests/hardening/conftest.py: under
pytest-xdist (``scripts/test.sh`` runs ``-n``) the tests run in worker processes and the
controller, which prints the summary, collects nothing, so a conftest below ``tests/`` is
not loaded there unless the run names its folder. Each worker hands its figures to the controller at its end, which sums
them; without xdist the figures are this process's own.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from support import long_mode

# figures per suite: {"chaos": {"runs": 5, "duplicates": 0, ...}}
STATS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_KEY = "hardening_figures"


def record(suite: str, **figures: int) -> None:
    for name, n in figures.items():
        STATS[suite][name] += n


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: what it recorded goes to the controller
        output[_KEY] = {suite: dict(figures) for suite, figures in STATS.items()}


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown without xdist
def pytest_testnodedown(node: Any, error: object) -> None:
    for suite, figures in getattr(node, "workeroutput", {}).get(_KEY, {}).items():
        record(suite, **figures)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS:
        return
    mode = "long" if long_mode() else "short"
    terminalreporter.section(f"hardening figures ({mode} mode)")
    for suite in sorted(STATS):
        figures = ", ".join(f"{k}={v}" for k, v in sorted(STATS[suite].items()))
        terminalreporter.write_line(f"{suite}: {figures}")
