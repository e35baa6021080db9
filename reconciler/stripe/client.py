"""The one client every read and write to Stripe goes through.

Why async: plan reads every managed kind (eleven list endpoints, several pages each) and apply
runs independent changes concurrently. With ``httpx.AsyncClient`` those requests overlap on one
event loop and share one connection pool, one rate limiter and one concurrency bound, without
threads and without the locking a thread pool would need around the limiter. Callers outside
async code use ``asyncio.run``.

What the client does on every request:

* **Wire format**: form-encoded bodies and query strings in Stripe's bracket notation
  (:mod:`.encoding`), ``expand[i]=...`` for expansion, JSON responses.
* **Headers**: ``Authorization: Bearer <key>``, ``Stripe-Version`` pinned to
  :data:`reconciler.reference.API_VERSION` (overridable), ``Stripe-Account`` for Connect,
  ``User-Agent: reconciler/<version> python-httpx/<version>``, and an ``Idempotency-Key`` on
  every POST: the caller's (apply derives them from the plan) or a fresh uuid4, kept across
  that call's retries.
* **Politeness**: token buckets (:mod:`.ratelimit`), one global (23/s for test keys, 92/s
  for live keys) and one per endpoint (23/s, search 18.4/s), each 8% below Stripe's limit,
  and an ``asyncio.Semaphore`` bounding requests in flight, all shared by every call made
  through one client, i.e. by one run. A 429 holds its endpoint's queue for its
  ``Retry-After``.
* **Retries** (:mod:`.retry`): 429/5xx/connection errors with exponential backoff and full
  jitter, ``Stripe-Should-Retry`` honoured, ``Retry-After`` a floor with jitter above it,
  bounded in attempts and time.
* **Bounds**: each attempt has a total deadline (``request_timeout``), not only httpx's
  per-read timeouts, and its body is streamed and dropped past ``max_response_bytes``: a
  server that drips or never ends its answer costs a bounded time and memory.
* **Errors**: a typed hierarchy (:mod:`.errors`) carrying Stripe's type/code/param/message and
  the request id.
* **Secrets**: the key is masked in ``repr``; no exception raised here carries an httpx
  exception, request or header, in its message or in its ``__cause__``/``__context__``; log
  records (ours and httpx's) go through :class:`~.redaction.RedactingFilter`. Debug logs show
  method, path, status, request id, attempt and timing, never bodies or query strings (httpx's
  request lines lose theirs).

This module is the public surface; sending a call is in :mod:`.session`, paging in
:mod:`.pagination`, the account and key mode in :mod:`.account`. Clocks, sleep and randomness
are injectable so that tests run on simulated time.
"""

from __future__ import annotations

import asyncio
import math
import random as _random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from reconciler.reference import API_VERSION

from .account import Account, account_from_response, is_live_key
from .errors import PermissionDeniedError
from .pagination import PAGE_SIZE, paginate
from .partition import PARTITIONS, list_partitioned
from .ratelimit import DEFAULT_ENDPOINT_RATE, Budgets, TokenBucket, default_rate
from .redaction import mask, register_secret
from .retry import RetryPolicy
from .session import Session

__all__ = ["DEFAULT_API_BASE", "DEFAULT_MAX_RESPONSE_BYTES", "DEFAULT_REQUEST_TIMEOUT", "Account",
           "StripeClient", "is_live_key"]

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_TIMEOUT = 30.0
# One attempt's whole exchange. Stripe answers in well under a second; 30 s leaves room for a
# slow network and still lets a second attempt fit in the retry budget (60 s).
DEFAULT_REQUEST_TIMEOUT = 30.0
# A list page is 100 objects, a few hundred kB even with tiers and currency options expanded;
# 16 MiB is far above any Stripe answer and still small next to memory, requests in flight
# included.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_CONCURRENCY = 24
# Requests in flight: a long list keeps its endpoint's 23 pages a second in flight with two
# thirds of them at round trips up to about 700 ms (460 ms with the chains' headroom,
# :mod:`.partition`), the other lists go on beside it, and it stays under the emulator's
# assumed concurrency limit of a sandbox (25); the rate budgets, not this bound, set the pace.


class ReadObserver(Protocol):
    def page(self, path: str, count: int) -> None: ...

    def done(self) -> None: ...


class StripeClient(Session):
    """Async Stripe API client.

    ``async with StripeClient(key) as stripe: ...`` or call :meth:`aclose` when done. One
    client serves one run on one event loop: its connection pool, rate limiter and
    concurrency bound are shared by every request made through it.

    :param api_key: secret (``sk_``) or restricted (``rk_``) key.
    :param api_base: scheme and host, e.g. an emulator's ``http://127.0.0.1:12111``.
    :param stripe_account: ``acct_...`` to act on a connected account (``Stripe-Account``).
    :param stripe_version: ``Stripe-Version`` header; pinned to the version the reference
        data describes.
    :param transport: an ``httpx.AsyncBaseTransport`` (tests mount the emulator in-process).
    :param rate_limit: global requests per second; None picks by key mode (23 test, 92
        live); ``math.inf`` turns the limiter off, the endpoint budgets too unless
        ``endpoint_rate_limit`` is given.
    :param endpoint_rate_limit: requests per second to any one endpoint (method and route);
        None: 23, 8% below Stripe's 25 (search endpoints get 20/25 of it); ``math.inf``
        turns the endpoint budgets off.
    :param burst: global token bucket size; default ``rate / 4``.
    :param rate_limiter: a global bucket shared with other clients (``rate_limit`` and
        ``burst`` are then unused): several connected accounts reached with one platform key
        share the platform's budget (see docs/fleet.md); endpoint budgets stay per client.
    :param max_concurrency: requests in flight at once.
    :param retry: a :class:`RetryPolicy`; ``RetryPolicy.none()`` disables retries.
    :param timeout: per-attempt httpx timeout (seconds or ``httpx.Timeout``): each phase
        (connect, each read, each write).
    :param request_timeout: total deadline of one attempt, from sending to the last byte of
        the body. Missed, the attempt is retried like a timeout; without a ``retry`` given,
        the call's budget grows to two such attempts when that is more than the default.
    :param max_response_bytes: the most a response body may hold (decoded); a longer one is
        an :class:`~.errors.APIError`, not retried.
    :param clock: monotonic seconds, for the rate limiter and the retry time budget.
    :param sleep: async sleep used for backoff and rate limiting.
    :param random: ``() -> float`` in [0, 1) for retry jitter; ``random.Random(seed).random``
        makes the waits reproducible.
    """

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        stripe_account: str | None = None,
        stripe_version: str = API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: float | None = None,
        endpoint_rate_limit: float | None = None,
        burst: float | None = None,
        rate_limiter: TokenBucket | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("a Stripe API key is required")
        api_key = api_key.strip()
        if any(c.isspace() or not c.isprintable() for c in api_key):
            raise ValueError("the Stripe API key contains whitespace or control characters")
        register_secret(api_key)
        self.key_livemode = is_live_key(api_key)
        rate = rate_limit if rate_limit is not None else default_rate(self.key_livemode)
        if endpoint_rate_limit is None:
            endpoint_rate_limit = math.inf if math.isinf(rate) else DEFAULT_ENDPOINT_RATE
        if retry is None:  # a raised --request-timeout must not be cut back by the budget
            retry = RetryPolicy(total_timeout=max(RetryPolicy.total_timeout, 2 * request_timeout))
        super().__init__(
            api_key, api_base=api_base, stripe_account=stripe_account,
            stripe_version=stripe_version, transport=transport,
            budgets=Budgets(rate_limiter or TokenBucket(rate, burst, clock=clock, sleep=sleep),
                            endpoint_rate_limit, clock=clock, sleep=sleep),
            max_concurrency=max_concurrency,
            retry=retry, timeout=timeout, request_timeout=request_timeout,
            max_response_bytes=max_response_bytes,
            clock=clock, sleep=sleep, random=random, wall_clock=wall_clock,
        )
        self._account: Account | None = None
        self.read_progress: ReadObserver | None = None
        """Told of every list page (the CLI shows long reads on stderr)."""

    # -- identity ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        acct = f", stripe_account={self.stripe_account!r}" if self.stripe_account else ""
        return (
            f"StripeClient(api_base={self.api_base!r}, api_key={mask(self._api_key)!r}"
            f"{acct}, stripe_version={self.stripe_version!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("StripeClient cannot be pickled (it holds a secret and open sockets)")

    @property
    def masked_key(self) -> str:
        return mask(self._api_key)

    # -- requests ---------------------------------------------------------------------------
    #
    # The helpers (create/update/retrieve/delete/list_all) are plain functions returning the
    # coroutine of :meth:`~.session.Session.request` (or paginate's iterator), so no frame of
    # theirs holding the parameters sits in a traceback; ``await client.create(...)`` reads
    # the same.

    def create(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        expand: Iterable[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """``POST path``: create an object."""
        return self.request("POST", path, params, idempotency_key, expand)

    def update(
        self,
        path: str,
        object_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        expand: Iterable[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """``POST path/{id}``: update an object in place (partial update)."""
        return self.request(
            "POST", self.object_path(path, object_id), params, idempotency_key, expand
        )

    def retrieve(
        self, path: str, object_id: str, *, expand: Iterable[str] | None = None
    ) -> Awaitable[dict[str, Any]]:
        """``GET path/{id}``."""
        return self.request("GET", self.object_path(path, object_id), None, None, expand)

    def delete(
        self, path: str, object_id: str, params: Mapping[str, Any] | None = None
    ) -> Awaitable[dict[str, Any]]:
        """``DELETE path/{id}`` (no Idempotency-Key: a repeated DELETE is harmless)."""
        return self.request("DELETE", self.object_path(path, object_id), params)

    @staticmethod
    def object_path(path: str, object_id: str, *suffix: str) -> str:
        """``path/{id}[/suffix...]`` with the id percent-encoded."""
        if not object_id:
            raise ValueError("an object id is required")
        return "/".join([path.rstrip("/"), quote(str(object_id), safe=""), *suffix])

    def list_all(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        expand: Iterable[str] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every object of a list endpoint, fetching pages of ``limit=100`` lazily.

        Pages are chained with ``starting_after`` (search endpoints: ``page``). Use
        ``expand=("data.tiers",)`` for fields a list only returns when expanded.
        """
        return paginate(self.request, path, params, expand=expand, page_size=page_size,
                        on_page=self._on_page(path))

    def list_partitioned(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        expand: Iterable[str] | None = None,
    ) -> Awaitable[list[dict[str, Any]]]:
        """Every object of a list endpoint that filters on ``created``, read in several
        chains of pages at once (:mod:`.partition`): for long lists. As many chains as keep
        the endpoint's budget busy (the global one, if lower), in at most two thirds of the
        requests in flight: the other kinds' lists go on beside it."""
        rate = min(self.budgets.endpoint("GET", path).rate, self.rate_limiter.rate)
        return list_partitioned(self.request, path, params, expand=expand, rate=rate,
                                partitions=self.list_chains, progress=self._on_page(path))

    @property
    def list_chains(self) -> int:
        """The most chains of pages one long list reads at once (:meth:`list_partitioned`)."""
        return min(PARTITIONS, max(1, 2 * self.max_concurrency // 3))

    def _on_page(self, path: str) -> Callable[[int], None] | None:
        """What tells :attr:`read_progress` of a page of ``path``, if anything listens."""
        observer = self.read_progress
        return None if observer is None else lambda count: observer.page(path, count)

    async def account(self, *, refresh: bool = False) -> Account:
        """The account behind the key (``GET /v1/account``), cached per client; see
        :func:`~.account.account_from_response` for how ``livemode`` is decided."""
        if self._account is None or refresh:
            data = await self.request("GET", "/v1/account")
            self._account = account_from_response(data, self.key_livemode)
        return self._account

    async def readable_account(self) -> Account | PermissionDeniedError:
        """:meth:`account`, or the 403 of a restricted key that may not read it: nothing
        needs the account but a check that it is the one planned for, so callers go on with
        the mode of the key (:attr:`key_livemode`) and say so."""
        try:
            return await self.account()
        except PermissionDeniedError as denied:
            return denied
