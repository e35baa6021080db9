"""Helpers tests import by name (``from support import ...``); fixtures are in conftest.py.

Test directories have no ``__init__.py``, so every ``conftest.py`` is importable only as
``conftest`` and which one that is depends on collection order: shared helpers live here.
"""

from __future__ import annotations

import math
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
