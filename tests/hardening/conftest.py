"""The hardening suites' switch between short (CI) and long runs.

``--long`` is added here; ``RECONCILER_LONG=1`` does the same from the environment. The
suites' figures are printed by tests/figures_plugin.py.
"""

from __future__ import annotations

import pytest
from support import set_long


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False,
                     help="hardening suites: long mode (many more examples, seeds and kills); "
                          "RECONCILER_LONG=1 does the same")


def pytest_configure(config: pytest.Config) -> None:
    set_long(bool(config.getoption("--long", default=False)))

