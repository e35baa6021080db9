"""The hardening suites' switch between short (CI) and long runs, and the sibling directories
their modules import from.

``--long`` is added here; ``RECONCILER_LONG=1`` does the same from the environment. The
suites' figures are printed by tests/figures_plugin.py.
"""

from __future__ import annotations

import sys

import pytest
from hardening_helpers import TESTS
from support import set_long

# the suites reuse the apply and planner tests' machinery (apply_helpers, the crash test's
# kill helpers, the catalog strategies): make their modules importable by name, as pytest
# does once it has collected a module from those directories. Here, because this file is
# loaded before any module of this directory, whatever was collected before it.
for _sub in ("apply", "plan"):
    if str(TESTS / _sub) not in sys.path:
        sys.path.append(str(TESTS / _sub))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False,
                     help="hardening suites: long mode (many more examples, seeds and kills); "
                          "RECONCILER_LONG=1 does the same")


def pytest_configure(config: pytest.Config) -> None:
    set_long(bool(config.getoption("--long", default=False)))

