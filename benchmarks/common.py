"""What every measurement of the harness shares: the client it plans or applies through, the
emulator's own request counts (the client's would miss requests it never learns were
refused), best-of timing, and the machine's load (the benchmark machine is shared, and a
wall time means little without the load it was taken under)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from reconciler.emulator import Emulator
from reconciler.stripe import StripeClient

KEY = "sk_test_reconciler_benchmarks"
"""A test-mode key: with ``rate=None`` the client paces itself as the CLI does (23/s)."""


def client(url: str | None, emulator: Emulator | None = None, rate: float | None = 0.0,
           **kwargs: Any) -> StripeClient:
    """A client of the served emulator at ``url`` (or of ``emulator`` in-process).

    ``rate`` 0 turns the client's limiter off; None leaves the client its default, the CLI's.
    """
    limit = math.inf if rate == 0 else rate
    if url is None:
        assert emulator is not None
        return StripeClient(KEY, api_base="http://emulator.test", rate_limit=limit,
                            transport=emulator.async_transport(), **kwargs)
    return StripeClient(KEY, api_base=url, rate_limit=limit, **kwargs)


def requests(emulator: Emulator) -> tuple[int, int, dict[str, int]]:
    """(all requests, of which 429, per route) since the counters were reset."""
    counts = emulator.request_counts()
    limited = sum(1 for r in emulator.request_log() if getattr(r, "status", None) == 429)
    return sum(counts.values()), limited, counts


def best(repeat: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(max(1, repeat)))


def load() -> list[float]:
    """The 1-, 5- and 15-minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]
