"""Fixtures for the Stripe client tests (helpers live in ``stripe_fakes``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from stripe_fakes import KEY, FakeTime, Script

from reconciler.stripe import RetryPolicy, StripeClient


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Callable[..., StripeClient]:
    """A client on simulated time with jitter pinned to its maximum, no rate limit."""
    def make(handler: Any, *, key: str = KEY, **kw: Any) -> StripeClient:
        transport = handler.transport if isinstance(handler, Script) else (
            handler if isinstance(handler, httpx.AsyncBaseTransport)
            else httpx.MockTransport(handler)
        )
        kw.setdefault("clock", fake_time.clock)
        kw.setdefault("sleep", fake_time.sleep)
        kw.setdefault("random", lambda: 1.0)
        kw.setdefault("rate_limit", math.inf)
        kw.setdefault("retry", RetryPolicy())
        return StripeClient(key, transport=transport, **kw)
    return make

