"""When and how long to wait before retrying a request.

Policy (see :class:`RetryPolicy` for the numbers):

* A ``Stripe-Should-Retry`` response header decides first: ``true`` forces a retry whatever
  the status (e.g. a 409 lock timeout or a 400), ``false`` forbids one.
* Otherwise 429, 500, 502, 503 and 504 are retried, and so is a 400 whose error code is
  ``rate_limit``. Everything else (other 4xx, including 409 without the header) is final.
* Transport failures (``httpx.TransportError``: connect/read/write errors, timeouts, a
  dropped connection) are retried. A POST is only ever retried with the same
  Idempotency-Key, so Stripe replays a write that did land instead of doing it twice.
* An attempt that misses its total deadline (``request_timeout``: a server dripping its
  answer) is retried like httpx's own timeouts; a body past the size cap is not (the same
  server would send it again, and each attempt would read up to the cap).
* Delays grow exponentially with **full jitter**: ``uniform(0, min(max_delay,
  initial_delay * 2**retry))``, so concurrent clients do not retry in lockstep. A
  ``Retry-After`` header (seconds, or an HTTP date) is a floor, with jitter of its own on
  top (see :meth:`RetryPolicy.delay`).
* At most ``max_retries`` retries, and no retry whose delay would end after
  ``total_timeout`` seconds since the first attempt started; each attempt's httpx timeouts
  are also cut to what is left of that budget.

:func:`retrying` runs that loop over attempts handed to it as :class:`Outcome` values, so it
never sees an httpx object (:mod:`.session` sends, :mod:`.responses` reduces what came back).
"""

from __future__ import annotations

import email.utils
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import StripeError

__all__ = ["Outcome", "RetryPolicy", "parse_retry_after", "retrying", "should_retry_header"]

logger = logging.getLogger("reconciler.stripe")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    """Retries after the first attempt (so at most ``max_retries + 1`` requests)."""
    initial_delay: float = 0.5
    """Upper bound of the first backoff, in seconds; it doubles on each retry."""
    max_delay: float = 8.0
    """Cap of the exponential backoff (not of ``Retry-After``)."""
    total_timeout: float = 60.0
    """Time budget in seconds for all attempts and waits of one call."""
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )
    retry_codes: frozenset[str] = field(default_factory=lambda: frozenset({"rate_limit"}))
    retry_after_jitter: float = 0.25
    """Most jitter added above a ``Retry-After``, as a fraction of it (see :meth:`delay`)."""
    max_retry_after_jitter: float = 1.0
    """Cap in seconds of that jitter."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if min(self.initial_delay, self.max_delay, self.total_timeout, self.retry_after_jitter,
               self.max_retry_after_jitter) < 0:
            raise ValueError("delays, jitter and the time budget must be >= 0")

    @classmethod
    def none(cls) -> RetryPolicy:
        """Never retry."""
        return cls(max_retries=0)

    def delay(
        self, retry: int, retry_after: float | None, random: Callable[[], float]
    ) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry): the
        full-jitter backoff, or ``Retry-After`` plus jitter when that is longer.

        Why jitter above ``Retry-After``: every caller turned away by the same burst of 429s
        is told the same number, so waiting exactly that long sends them all back in the same
        instant, into the same limit, in lockstep again. The spread is proportional (up to
        25% by default) so that it scales with the pause the server asked for, and capped
        (1 s by default) so that a long ``Retry-After`` does not add long idle time and eat
        the time budget. It is only ever added: the server asked for at least that long.
        One ``random()`` draw per wait drives both terms, so each draw of a seeded or
        scripted source is exactly one wait.
        """
        draw = max(0.0, random())
        backoff = draw * min(self.max_delay, self.initial_delay * (2.0 ** retry))
        if retry_after is None:
            return backoff
        spread = min(self.retry_after_jitter * retry_after, self.max_retry_after_jitter)
        return max(backoff, retry_after + draw * spread)

    def retryable_status(
        self, status: int, headers: Mapping[str, str], error_code: str | None
    ) -> bool:
        """Whether a response with this status is worth another attempt (budget aside)."""
        forced = should_retry_header(headers)
        if forced is not None:
            return forced
        return status in self.retry_statuses or (
            error_code is not None and error_code in self.retry_codes
        )


def should_retry_header(headers: Mapping[str, str]) -> bool | None:
    """``Stripe-Should-Retry`` as a bool, or None when absent or unreadable."""
    value = headers.get("stripe-should-retry")
    if value is None:
        return None
    value = value.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def parse_retry_after(value: str | None, now_epoch: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or now_epoch is None:
            return None
        seconds = when.timestamp() - now_epoch
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass
class Outcome:
    """One attempt, reduced to what the retry loop needs; holds no httpx object."""

    data: dict[str, Any] = field(default_factory=dict)
    error: StripeError | None = None
    retryable: bool = False
    retry_after: float | None = None
    why: str = ""


async def retrying(
    attempt: Callable[[int, float], Awaitable[Outcome]],
    policy: RetryPolicy,
    what: str,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    random: Callable[[], float],
    on_retry: Callable[[], None],
) -> dict[str, Any]:
    """The data of the first successful ``attempt(number, deadline)``, or the error of the
    last one; ``what`` (``"GET /v1/prices"``) names the call in log lines."""
    started = clock()
    deadline = started + policy.total_timeout
    number = 0
    while True:
        number += 1
        outcome = await attempt(number, deadline)
        if outcome.error is None:
            return outcome.data
        if not outcome.retryable or number > policy.max_retries:
            raise outcome.error  # not inside an ``except``: nothing rides on __context__
        wait = policy.delay(number - 1, outcome.retry_after, random)
        elapsed = clock() - started
        if elapsed + wait > policy.total_timeout:
            logger.debug(
                "%s: not retrying after %s, %.2fs wait would exceed the %.1fs budget",
                what, outcome.why, wait, policy.total_timeout,
            )
            raise outcome.error
        logger.info(
            "Retrying %s in %.2fs after %s (attempt %d of %d)",
            what, wait, outcome.why, number + 1, policy.max_retries + 1,
        )
        on_retry()
        await sleep(wait)
