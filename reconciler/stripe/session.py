"""Sending API calls: the connection pool, rate limiter and concurrency bound of one run,
and each call's attempts and retries.

Why apart from :mod:`.client`: this is where the key goes onto requests and where httpx
exceptions (which hold the request, and so its Authorization header) are caught. Keeping
that in one small module makes it the place to check that nothing of the sort escapes:
every attempt is reduced (:mod:`.responses`) to an :class:`~.retry.Outcome` before the
retry loop or a caller sees it. :class:`~.client.StripeClient` adds the public helpers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from reconciler import __version__

from .encoding import encode_pairs
from .ratelimit import Budgets
from .responses import (
    ResponseTooLarge,
    failed_exchange,
    over_deadline,
    over_size,
    read_capped,
    response_outcome,
)
from .retry import Outcome, RetryPolicy, retrying

logger = logging.getLogger("reconciler.stripe")

EXCHANGE_SECONDS: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "reconciler_exchange_seconds", default=None)
"""How long the last HTTP exchange of the calling task took, without the waits for a budget
or a slot before it: the round trip a reader sizes its chains by (see partition.py), which
the time around a call would overstate once the endpoint's budget is what holds it back."""


class Form:
    """Encoded parameters, with a repr that does not show them (they may hold secrets)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __repr__(self) -> str:
        return f"<{len(self.pairs)} form fields>"


class Session:
    """Connection pool, rate limiter, concurrency bound and retry policy of one run, and the
    calls made through them. Parameters as :class:`~.client.StripeClient` documents them;
    the key is taken as already checked."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str,
        stripe_account: str | None,
        stripe_version: str,
        transport: httpx.AsyncBaseTransport | None,
        budgets: Budgets,
        max_concurrency: int,
        retry: RetryPolicy,
        timeout: float | httpx.Timeout,
        request_timeout: float,
        max_response_bytes: int,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        random: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if not request_timeout > 0 or max_response_bytes < 1:
            raise ValueError("request_timeout and max_response_bytes must be positive")
        self._api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.stripe_account = stripe_account
        self.stripe_version = stripe_version
        self.retry_policy = retry
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._wall_clock = wall_clock
        self.budgets = budgets
        self.rate_limiter = budgets.global_bucket
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.request_timeout = request_timeout
        self.max_response_bytes = max_response_bytes
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": f"reconciler/{__version__} python-httpx/{httpx.__version__}",
                     "Accept": "application/json"},
        )
        self.requests_sent = 0
        """HTTP attempts made (retries included)."""
        self.retries = 0
        """Attempts that were retries."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        expand: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Send one API call (with retries) and return the decoded JSON object.

        ``params`` go in the query string for GET and DELETE, in the form body for POST.
        ``expand`` is added as ``expand[i]``. POSTs always carry an Idempotency-Key.
        Raises a :class:`~.errors.StripeError` subclass on failure.
        """
        method = method.upper()
        if method not in ("GET", "POST", "DELETE"):
            raise ValueError(f"unsupported method {method!r}")
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        merged: dict[str, Any] = dict(params or {})
        if expand:
            extra = [e for e in expand if e]
            if extra:
                existing = list(merged.get("expand") or [])
                merged["expand"] = existing + [e for e in extra if e not in existing]
        form = Form(encode_pairs(merged))
        # Parameters can hold secrets; drop the plain copies so that no frame of a traceback
        # shows them to a locals-capturing reporter (the encoded form has an opaque repr).
        del params, merged
        if method == "POST" and idempotency_key is None:
            idempotency_key = str(uuid.uuid4())

        async def attempt(number: int, deadline: float) -> Outcome:
            return await self._attempt(method, path, form, idempotency_key, number, deadline)

        def count_retry() -> None:
            self.retries += 1

        return await retrying(attempt, self.retry_policy, f"{method} {path}", clock=self._clock,
                              sleep=self._sleep, random=self._random, on_retry=count_retry)

    def _build(
        self, method: str, path: str, form: Form, idempotency_key: str | None, remaining: float
    ) -> httpx.Request:
        headers = httpx.Headers({"Authorization": f"Bearer {self._api_key}"})
        headers["Stripe-Version"] = self.stripe_version
        if self.stripe_account:
            headers["Stripe-Account"] = self.stripe_account
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        url = self.api_base + path
        timeout = self._attempt_timeout(remaining)
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self._http.build_request(method, url, headers=headers, timeout=timeout,
                                            content=urlencode(form.pairs).encode("ascii"))
        return self._http.build_request(method, url, headers=headers, timeout=timeout,
                                        params=list(form.pairs) or None)

    def _attempt_timeout(self, remaining: float) -> httpx.Timeout:
        """The configured timeout, each phase cut to what is left of the time budget."""
        t = self._timeout
        cap = max(remaining, 0.001)

        def cut(value: float | None) -> float:
            return cap if value is None else min(value, cap)

        return httpx.Timeout(connect=cut(t.connect), read=cut(t.read), write=cut(t.write),
                             pool=cut(t.pool))

    async def _attempt(
        self,
        method: str,
        path: str,
        form: Form,
        idempotency_key: str | None,
        attempt: int,
        deadline: float,
    ) -> Outcome:
        """One HTTP exchange under the endpoint's budget, the concurrency bound and the
        global budget, in that order: a request waiting for its endpoint holds neither a
        slot nor a global token that requests to other endpoints could use.

        Exceptions from httpx (which hold the request and so its Authorization header) stay
        in this frame; the retry loop raises the Outcome's error outside any ``except``
        block, so they are not even in the ``__context__`` of what reaches the user, and the
        raw error body is in no frame of the traceback.
        """
        failure: Outcome | None = None
        body = b""
        endpoint = self.budgets.endpoint(method, path)
        await endpoint.acquire()
        async with self._semaphore:
            await self.rate_limiter.acquire()
            # The attempt's deadline: --request-timeout, cut to what is left of the call's
            # budget. httpx's own timeouts bound each read, not the exchange, so a server
            # dripping a byte at a time would otherwise hold the attempt for ever.
            limit = max(min(self.request_timeout, deadline - self._clock()), 0.001)
            request = self._build(method, path, form, idempotency_key, limit)
            self.requests_sent += 1
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(limit):
                    response = await self._http.send(request, stream=True)
                    try:
                        body = await read_capped(response, self.max_response_bytes)
                    finally:
                        await response.aclose()
            except TimeoutError:
                failure = over_deadline(self.api_base, method, path, attempt,
                                        self.request_timeout)
            except ResponseTooLarge:
                failure = over_size(self.api_base + path, method, path, attempt,
                                    self.max_response_bytes, response.status_code)
            except httpx.TransportError as exc:
                failure = failed_exchange(exc, method, path, attempt, self.api_base)
            except Exception as exc:  # a broken transport: report it, don't retry it
                logger.debug("%s %s: the HTTP transport raised %s", method, path,
                             type(exc).__name__, exc_info=True)
                failure = failed_exchange(exc, method, path, attempt, self.api_base)
            elapsed = time.perf_counter() - t0
            EXCHANGE_SECONDS.set(elapsed)
        if failure is not None:
            logger.debug("%s %s -> %s attempt=%d %.3fs", method, path, failure.why, attempt,
                         elapsed)
            return failure
        logger.debug("%s %s -> %d %s attempt=%d %.3fs", method, path, response.status_code,
                     response.headers.get("request-id") or "-", attempt, elapsed)
        outcome = response_outcome(response, body, method, path, attempt, self.retry_policy,
                                   self._wall_clock())
        if response.status_code == 429:  # the endpoint's queue waits with this call
            endpoint.hold(outcome.retry_after or 1 / endpoint.rate)
        return outcome
