"""Stripe's API limiters as the emulator models them: ``--limits sandbox|live|none``.

What Stripe documents (docs.stripe.com/rate-limits; the figures are in
:mod:`reconciler.stripe.limits`): a global limit per account by mode (100 requests per second
live, 25 in a sandbox), 25 per second per endpoint (method and route: ``GET /v1/prices/{id}``
for different ids counts together; calls also count against the global limit), 20 per second
for the Search API, and "several API limiters, including rate and concurrency limiters",
answered ``429``.

Assumptions, where the page is silent:

- an endpoint is the method and the route template (:attr:`.routes.Route.template`), so the
  product features of every product share ``GET /v1/products/{product}/features``;
- every limit is a token bucket holding one second's worth of requests (a burst of 25 after a
  quiet second is admitted, a 26th is not), refilled continuously;
- the concurrency limit is as many requests in flight as the global limit allows per second
  (25 in a sandbox, 100 live): Stripe publishes no figure;
- one emulator is one account: the buckets are shared by every request it serves, whatever
  key made it (tests and benchmarks use one account per emulator);
- a refused request runs nothing and spends no token of the other buckets.

``none`` (the default, what tests had before the model existed) admits everything; the older
single global ``Faults.rate_limit`` still applies on top of any model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from reconciler.stripe.limits import ENDPOINT_RATE, GLOBAL_RATES, MODES, SEARCH_RATE

MODELS = ("none", *MODES)
"""The names ``--limits`` accepts."""


@dataclass(frozen=True)
class Model:
    global_rate: float
    concurrency: int
    endpoint_rate: float = ENDPOINT_RATE
    search_rate: float = SEARCH_RATE


_MODELS: dict[str, Model | None] = {
    "none": None,
    **{mode: Model(rate, concurrency=int(rate)) for mode, rate in GLOBAL_RATES.items()},
}


def model(name: str) -> Model | None:
    """The model called ``name``; a ValueError names the choices."""
    if name not in _MODELS:
        raise ValueError(f"limits must be one of {', '.join(MODELS)}, not {name!r}")
    return _MODELS[name]


class Refusal(Enum):
    GLOBAL = "global"
    ENDPOINT = "endpoint"
    CONCURRENCY = "concurrency"


class RateBucket:
    """Holds at most ``rate`` tokens (one second's worth, at least one), refilled at ``rate``
    per second; not thread-safe (:class:`Limiter` holds the lock)."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.updated = now

    def ready(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return self.tokens >= 1.0


class Limiter:
    """The limiters of one :class:`Model`, thread-safe (the socket server runs a thread per
    connection). :meth:`enter`/:meth:`leave` bracket a request from its arrival to its
    answer (injected latency included), which is what the concurrency limit counts."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = 0
        self.configure(None)

    def configure(self, limits: Model | None) -> None:
        """Use ``limits`` from now on, with full buckets (requests in flight stay counted)."""
        with self._lock:
            self.model = limits
            self._global = None if limits is None else RateBucket(limits.global_rate, self._clock())
            self._endpoints: dict[str, RateBucket] = {}

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def admit(self, endpoint: str, search: bool) -> Refusal | None:
        """Take a token of the global and the endpoint's bucket, or say which limit refuses.

        ``endpoint`` is ``METHOD /route/template``; ``search`` picks the Search API's rate.
        """
        if self.model is None or self._global is None:
            return None
        with self._lock:
            if self._in_flight > self.model.concurrency:
                return Refusal.CONCURRENCY
            now = self._clock()
            bucket = self._endpoints.get(endpoint)
            if bucket is None:
                rate = self.model.search_rate if search else self.model.endpoint_rate
                bucket = self._endpoints[endpoint] = RateBucket(rate, now)
            if not self._global.ready(now):
                return Refusal.GLOBAL
            if not bucket.ready(now):
                return Refusal.ENDPOINT
            self._global.tokens -= 1
            bucket.tokens -= 1
            return None
