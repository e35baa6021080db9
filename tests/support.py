"""Helpers tests import by name (``from support import ...``); fixtures are in conftest.py.

Test directories have no ``__init__.py``, so every ``conftest.py`` is importable only as
``conftest`` and which one that is depends on collection order: shared helpers live here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from reconciler.emulator import Emulator
from reconciler.stripe import StripeClient

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
TEST_KEY = "sk_test_reconciler_suite"


def emulator_client(emulator: Emulator, key: str = TEST_KEY, **kwargs: Any) -> StripeClient:
    """A client for ``emulator`` in-process, without client-side rate limiting."""
    kwargs.setdefault("rate_limit", math.inf)
    return StripeClient(key, api_base="http://emulator.test",
                        transport=emulator.async_transport(), **kwargs)


# Long mode: the hardening suites' extra examples, seeds and kills, and the property tests'
# extra examples. ``RECONCILER_LONG=1`` turns it on for any paths; ``--long`` (defined in
# tests/hardening/conftest.py) when tests/hardening is on the command line. CI runs short.
_LONG_FLAG = {"on": os.environ.get("RECONCILER_LONG", "") not in ("", "0")}


def set_long(on: bool) -> None:
    _LONG_FLAG["on"] = _LONG_FLAG["on"] or on


def long_mode() -> bool:
    return _LONG_FLAG["on"]


def runs(short: int, long: int) -> int:
    """How many runs (examples, seeds, kills) a test makes in the current mode."""
    return long if long_mode() else short
