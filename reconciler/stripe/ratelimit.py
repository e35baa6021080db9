"""Client-side rate limiting: asyncio token buckets with an injectable clock.

Stripe limits each account globally (25 requests per second in a sandbox, 100 in live mode)
and each endpoint, a method and route, on its own (25 per second; search 20), and answers 429
beyond that (:mod:`.limits`). Retrying 429s works but wastes requests and time, so the client
paces every request under both budgets (:class:`Budgets`) with a safety margin of
:data:`DEFAULT_MARGIN` below each: by default 23/s for test keys and 92/s for live keys
globally, 23/s per endpoint and 18.4/s per search endpoint. The margin absorbs the jitter
between the moment the client takes a token and the moment Stripe counts the request; 8%
keeps a steady stream a whole request per second under a 25/s limit.

A bucket holds at most ``burst`` tokens and refills at ``rate`` per second; each request
takes one token, waiting when there is none. A bucket alone would let ``burst + rate``
requests start within one second (a full bucket, then its refill), so the bucket also keeps
the start times of the last second and lets no more than ``rate`` (rounded up, so that a
fractional rate is still sustained) start in any one-second window: ``rate`` is a promise
per second, the burst only decides how many may go at once (default ``rate / 4``: 5 in test,
23 in live). Sustained throughput is ``rate`` either way.

Waiters are served first come, first served. ``clock`` (seconds, monotonic) and ``sleep``
are injectable, so tests run on simulated time.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from reconciler import reference

from .limits import ENDPOINT_RATE, GLOBAL_RATES, SEARCH_RATE

__all__ = ["DEFAULT_ENDPOINT_RATE", "DEFAULT_MARGIN", "DEFAULT_RATES", "Budgets", "TokenBucket",
           "default_rate", "endpoint_of"]

DEFAULT_MARGIN = 0.08
"""Share of each Stripe limit the client leaves unused by default."""
DEFAULT_RATES = {"test": GLOBAL_RATES["sandbox"] * (1 - DEFAULT_MARGIN),
                 "live": GLOBAL_RATES["live"] * (1 - DEFAULT_MARGIN)}
"""Global requests per second by key mode: 23 below Stripe's 25 (test), 92 below 100 (live)."""
DEFAULT_ENDPOINT_RATE = ENDPOINT_RATE * (1 - DEFAULT_MARGIN)
"""Requests per second to one endpoint: 23 below Stripe's 25."""

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
        self._held_until = -math.inf  # no token is given before (see hold)
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
        elapsed = max(0.0, now - max(self._updated, self._held_until))
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now

    def hold(self, seconds: float) -> None:
        """Give no token for ``seconds`` from now (the server said 429: the callers already
        queued wait too, instead of each meeting its own 429)."""
        self._tokens = 0.0
        self._held_until = max(self._held_until, self._clock() + seconds)

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
                           self._starts[0] + 1.0 - now if window_full else 0.0,
                           self._held_until - now)
                self.waited += wait
                await self._sleep(wait)


@functools.cache
def _literals() -> frozenset[str]:
    """Every path segment of Stripe's routes that is not a placeholder (``v1``, ``prices``,
    ``search``, ``deactivate``...), from the reference data."""
    words = {"v1", "account"}
    for facts in reference.api()["kinds"].values():
        for endpoint in facts["endpoints"]:
            words.update(s for s in endpoint["path"].split("/") if s and not s.startswith("{"))
    return frozenset(words)


def endpoint_of(method: str, path: str) -> str:
    """The endpoint Stripe counts a request against: its method and route, each id written
    ``{id}`` (``GET /v1/prices/{id}`` whatever the price), as docs.stripe.com/rate-limits
    describes ("each named API operation" is an endpoint). A segment that is not a word of
    Stripe's routes is taken for an id; a user-chosen id spelled like one (a coupon called
    ``search``) only lands in a neighbouring budget."""
    words = _literals()
    return f"{method} " + "/".join(s if not s or s in words else "{id}" for s in path.split("/"))


class Budgets:
    """The global bucket and one bucket per endpoint of one client (one run).

    A request takes its endpoint's token first, then the global one, so a queue on one busy
    endpoint (a thousand price creates) holds no global token while the others go on. A
    ``math.inf`` endpoint rate turns the endpoint budgets off. A search endpoint gets
    ``endpoint_rate`` scaled as Stripe scales it (20 of 25).
    """

    def __init__(self, global_bucket: TokenBucket, endpoint_rate: float, *,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        if not endpoint_rate > 0:
            raise ValueError(f"endpoint rate must be positive, got {endpoint_rate!r}")
        self.global_bucket = global_bucket
        self.endpoint_rate = float(endpoint_rate)
        self._clock = clock
        self._sleep = sleep
        self._endpoints: dict[str, TokenBucket] = {}

    def endpoint(self, method: str, path: str) -> TokenBucket:
        """The bucket of the endpoint of ``method path``, made on first use."""
        key = endpoint_of(method, path)
        bucket = self._endpoints.get(key)
        if bucket is None:
            rate = self.endpoint_rate
            if key.endswith("/search"):
                rate *= SEARCH_RATE / ENDPOINT_RATE
            bucket = self._endpoints[key] = TokenBucket(rate, clock=self._clock,
                                                        sleep=self._sleep)
        return bucket

