"""Faults on demand: latency, rate limiting, server errors and "commit then drop".

Decisions are reproducible: each request draws two numbers from a ``random.Random(seed)``
whatever happens to it (one for the 500s, one for the drops), so the same seed and the same
request sequence meet the same faults. Only the rate limiter looks at a clock, and that clock
is injected (a token bucket of ``rate_limit`` tokens refilled at ``rate_limit`` per second).
Latency is applied by the transports and the server, not here, so that the async transport
can await it.

``limits`` names a model of Stripe's own limiters (:mod:`.limits`: ``none``, ``sandbox``,
``live``), checked after ``rate_limit``, a plain global bucket (the model's kind) kept for the
tests that set one: a request either refuses spends no token of the other.

A rate-limited request is answered 429 with ``Stripe-Should-Retry: true`` and
``Retry-After: <retry_after>`` (1 second by default, as Stripe's edge may send; tests can make
it shorter, e.g. ``0.05``: a fraction of a second is written as a decimal).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any

from .limits import Limiter, RateBucket, Refusal, model


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0
    rate_limit: float | None = None  # requests per second; None = unlimited
    fail_rate: float = 0.0  # share of requests answered 500 (nothing is written)
    drop_rate: float = 0.0  # share of writes stored and then answered by a dropped connection
    seed: int = 0
    retry_after: float = 1.0  # seconds, sent as Retry-After with each 429
    limits: str = "none"  # a model of Stripe's limiters: none, sandbox or live (.limits)

    def __post_init__(self) -> None:
        for name in ("fail_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if not 0 <= self.retry_after < float("inf"):
            raise ValueError("retry_after must be a non-negative number of seconds")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be positive")
        model(self.limits)  # a ValueError names the choices

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Fault(Enum):
    NONE = "none"
    RATE_LIMIT = "rate_limit"  # 429 before anything runs (a global or an endpoint's budget)
    CONCURRENCY = "concurrency_limit"  # 429: too many requests in flight (.limits)
    SERVER_ERROR = "server_error"  # 500 before anything runs
    DROP = "drop"  # runs, then the connection drops (writes only)


class FaultInjector:
    """Draws the fault of each request, thread-safely, from the settings and the seed."""

    def __init__(self, faults: Faults, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.limiter = Limiter(clock)
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)
            rate = faults.rate_limit
            self._bucket = None if rate is None else RateBucket(rate, self._clock())
            self.limiter.configure(model(faults.limits))

    def decide(self, write: bool, endpoint: str = "", search: bool = False) -> Fault:
        """The fault of one request to ``endpoint`` (``METHOD /route/template``)."""
        with self._lock:
            fail, drop = self._random.random(), self._random.random()
            # the plain bucket first: a request it refuses spends no token of the model's
            if self._bucket is not None and not self._bucket.ready(self._clock()):
                return Fault.RATE_LIMIT
            refused = self.limiter.admit(endpoint, search)
            if refused is Refusal.CONCURRENCY:
                return Fault.CONCURRENCY
            if refused is not None:
                return Fault.RATE_LIMIT
            if self._bucket is not None:
                self._bucket.tokens -= 1
            if fail < self.faults.fail_rate:
                return Fault.SERVER_ERROR
            if write and drop < self.faults.drop_rate:
                return Fault.DROP
            return Fault.NONE
