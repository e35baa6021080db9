"""The hardening suites' switch between short (CI) and long runs, and their figures.

``--long`` is added here; ``RECONCILER_LONG=1`` does the same from the environment.
"""

from __future__ import annotations

import pytest
from hardening_helpers import STATS
from support import long_mode, set_long


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False,
                     help="hardening suites: long mode (many more examples, seeds and kills); "
                          "RECONCILER_LONG=1 does the same")


def pytest_configure(config: pytest.Config) -> None:
    set_long(bool(config.getoption("--long", default=False)))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not STATS:
        return
    mode = "long" if long_mode() else "short"
    terminalreporter.section(f"hardening figures ({mode} mode)")
    for suite in sorted(STATS):
        figures = ", ".join(f"{k}={v}" for k, v in sorted(STATS[suite].items()))
        terminalreporter.write_line(f"{suite}: {figures}")
