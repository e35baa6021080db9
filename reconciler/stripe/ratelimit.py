"""Client-side rate limiting: an asyncio token bucket with an injectable clock.

Stripe allows about 25 requests per second in test mode and 100 in live mode, per account,
and answers 429 beyond that. Retrying 429s works but wastes requests and time, so the client
paces itself below the limit instead: by default 20/s for test keys and 80/s for live keys.

A bucket holds at most ``burst`` tokens and refills at ``rate`` per second; each request
takes one token, waiting when there is none. A bucket alone would let ``burst + rate``
requests start within one second (a full bucket, then its refill), so the bucket also keeps
the start times of the last second and lets no more than ``rate`` (rounded up, so that a
fractional rate is still sustained) start in any one-second window: ``rate`` is a promise
per second, the burst only decides how many may go at once (default ``rate / 4``: 5 in test,
20 in live). Sustained throughput is ``rate`` either way.

Waiters are served first come, first served. ``clock`` (seconds, monotonic) and ``sleep``
are injectable, so tests run on simulated time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

__all__ = ["DEFAULT_RATES", "TokenBucket", "default_rate"]

DEFAULT_RATES = {"test": 20.0, "live": 80.0}
"""Requests per second by key mode: below Stripe's 25/s (test) and 100/s (live)."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def default_rate(livemode: bool) -> float:
    return DEFAULT_RATES["live" if livemode else "test"]


class TokenBucket:
    """An async token bucket; ``await bucket.acquire()`` before each request."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.rate = float(rate)
        if burst is None:
            burst = math.inf if math.isinf(rate) else max(1.0, math.floor(rate / 4))
        self.burst = float(burst)
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated: float | None = None
        self._per_second = 0 if self.unlimited else math.ceil(self.rate)
        self._starts: deque[float] = deque()  # of the last second, at most _per_second
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Total seconds callers spent waiting for a token (for progress and tests)."""

    @property
    def unlimited(self) -> bool:
        return math.isinf(self.rate)

    def _refill(self, now: float) -> None:
        if self._updated is None:
            self._updated = now
            return
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        """Take one token, waiting (on the injected sleep) until one is available."""
        if self.unlimited:
            return
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                # The epsilons absorb float rounding: after sleeping exactly the computed
                # wait, tokens may read 0.9999999999 (or a start 0.9999999999 s old), and a
                # sub-ulp wait would never end.
                while self._starts and now - self._starts[0] >= 1.0 - 1e-9:
                    self._starts.popleft()
                window_full = len(self._starts) >= self._per_second
                if self._tokens >= 1.0 - 1e-9 and not window_full:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    self._starts.append(now)
                    return
                wait = max((1.0 - self._tokens) / self.rate,
                           self._starts[0] + 1.0 - now if window_full else 0.0)
                self.waited += wait
                await self._sleep(wait)
