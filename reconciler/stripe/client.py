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
* **Politeness**: a token bucket (:mod:`.ratelimit`; 20/s for test keys, 80/s for live keys)
  and an ``asyncio.Semaphore`` bounding requests in flight, both shared by all calls made
  through one client, i.e. by one run.
* **Retries** (:mod:`.retry`): 429/5xx/connection errors with exponential backoff and full
  jitter, ``Stripe-Should-Retry`` and ``Retry-After`` honoured, bounded in attempts and time.
* **Errors**: a typed hierarchy (:mod:`.errors`) carrying Stripe's type/code/param/message and
  the request id.
* **Secrets**: the key is masked in ``repr``; no exception raised here carries an httpx
  exception, request or header, in its message or in its ``__cause__``/``__context__``; log
  records (ours and httpx's) go through :class:`~.redaction.RedactingFilter`. Debug logs show
  method, path, status, request id, attempt and timing, never bodies or query strings (httpx's
  request lines lose theirs).

Clocks, sleep and randomness are injectable so that tests run on simulated time.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote, urlencode

import httpx

from reconciler import __version__
from reconciler.reference import API_VERSION

from .encoding import encode_pairs
from .errors import APIConnectionError, APIError, StripeError, error_from_response
from .ratelimit import TokenBucket, default_rate
from .redaction import install_filter, mask, redact, register_secret
from .retry import RetryPolicy, parse_retry_after

__all__ = ["DEFAULT_API_BASE", "Account", "StripeClient", "is_live_key"]

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_CONCURRENCY = 10
PAGE_SIZE = 100

logger = logging.getLogger("reconciler.stripe")
install_filter(logger)


class _NoQueryFilter(logging.Filter):
    """httpx logs each request's URL at INFO (``HTTP Request: GET https://...?query=...``),
    which an application showing every logger prints: drop the query string (parameter
    values, percent-encoded past :func:`redact`'s patterns)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(a.copy_with(query=None) if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _NoQueryFilter) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_NoQueryFilter())
install_filter(_httpx_logger)

_LIVE_PREFIXES = ("sk_live_", "rk_live_")
# Transport errors that another attempt cannot fix: our own configuration or request is bad.
_FATAL_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def is_live_key(api_key: str) -> bool:
    """Whether a key is a live-mode secret or restricted key (by its prefix)."""
    return api_key.startswith(_LIVE_PREFIXES)


@dataclass(frozen=True)
class Account:
    """The account a key talks to, as ``GET /v1/account`` reports it."""

    id: str
    livemode: bool
    display_name: str | None = None


class _Form:
    """Encoded parameters, with a repr that does not show them (they may hold secrets)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __repr__(self) -> str:
        return f"<{len(self.pairs)} form fields>"


class _Params(dict[str, Any]):
    """Parameters kept across pages, with a repr that does not show them."""

    def __repr__(self) -> str:
        return f"<{len(self)} parameters>"


@dataclass
class _Outcome:
    """One attempt, reduced to what the retry loop needs; holds no httpx object."""

    data: dict[str, Any] = field(default_factory=dict)
    error: StripeError | None = None
    retryable: bool = False
    retry_after: float | None = None
    why: str = ""


def _user_agent() -> str:
    return f"reconciler/{__version__} python-httpx/{httpx.__version__}"


class StripeClient:
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
    :param rate_limit: requests per second; None picks by key mode (20 test, 80 live);
        ``math.inf`` turns the limiter off.
    :param burst: token bucket size; default ``rate / 4``.
    :param max_concurrency: requests in flight at once.
    :param retry: a :class:`RetryPolicy`; ``RetryPolicy.none()`` disables retries.
    :param timeout: per-attempt httpx timeout (seconds or ``httpx.Timeout``).
    :param clock: monotonic seconds, for the rate limiter and the retry time budget.
    :param sleep: async sleep used for backoff and rate limiting.
    :param random: ``() -> float`` in [0, 1) for backoff jitter.
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
        burst: float | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
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
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.stripe_account = stripe_account
        self.stripe_version = stripe_version
        self.key_livemode = is_live_key(api_key)
        self.retry_policy = retry if retry is not None else RetryPolicy()
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._wall_clock = wall_clock
        rate = rate_limit if rate_limit is not None else default_rate(self.key_livemode)
        self.rate_limiter = TokenBucket(rate, burst, clock=clock, sleep=sleep)
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": _user_agent(), "Accept": "application/json"},
        )
        self._account: Account | None = None
        self.requests_sent = 0
        """HTTP attempts made (retries included)."""
        self.retries = 0
        """Attempts that were retries."""

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

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
    # The helpers (create/update/retrieve/delete) are plain functions returning the
    # coroutine of :meth:`request`, so no frame of theirs holding the parameters sits in a
    # traceback; ``await client.create(...)`` reads the same.

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
        form = _Form(encode_pairs(merged))
        # Parameters can hold secrets; drop the plain copies so that no frame of a traceback
        # shows them to a locals-capturing reporter (the encoded form has an opaque repr).
        del params, merged
        if method == "POST" and idempotency_key is None:
            idempotency_key = str(uuid.uuid4())
        return await self._call(method, path, form, idempotency_key)

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

    async def list_all(
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
        query = _Params(params or {})
        del params  # as in request(): no frame of a traceback shows the plain parameters
        if "ending_before" in query:
            raise ValueError("list_all pages forwards; ending_before is not supported")
        query.setdefault("limit", page_size)
        expand = list(expand or ())
        seen_cursor: str | None = None
        while True:
            page = await self.request("GET", path, query, expand=expand)
            data = page.get("data")
            if not isinstance(data, list):
                raise APIError(
                    "list response has no 'data' array", method="GET", path=path
                )
            for obj in data:
                yield obj
            if not page.get("has_more") or not data:
                return
            if page.get("object") == "search_result":
                next_page = page.get("next_page")
                if not next_page:
                    return
                query["page"] = next_page
                continue
            cursor = data[-1].get("id") if isinstance(data[-1], Mapping) else None
            if not isinstance(cursor, str) or cursor == seen_cursor:
                raise APIError(
                    "list pagination did not advance (missing or repeated cursor)",
                    method="GET",
                    path=path,
                )
            seen_cursor = cursor
            query["starting_after"] = cursor

    async def account(self, *, refresh: bool = False) -> Account:
        """The account behind the key (``GET /v1/account``), cached per client.

        ``livemode`` is true when the key is a live key or the response says so: for the
        live-mode guard, either signal is enough.
        """
        if self._account is not None and not refresh:
            return self._account
        data = await self.request("GET", "/v1/account")
        account_id = data.get("id")
        if not isinstance(account_id, str) or not account_id:
            raise APIError("account response has no id", method="GET", path="/v1/account")
        live = self.key_livemode or data.get("livemode") is True
        self._account = Account(id=account_id, livemode=live, display_name=_display_name(data))
        return self._account

    # -- machinery --------------------------------------------------------------------------

    def _headers(self, idempotency_key: str | None, has_body: bool) -> httpx.Headers:
        headers = httpx.Headers({"Authorization": f"Bearer {self._api_key}"})
        headers["Stripe-Version"] = self.stripe_version
        if self.stripe_account:
            headers["Stripe-Account"] = self.stripe_account
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if has_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers

    def _build(
        self,
        method: str,
        path: str,
        form: _Form,
        idempotency_key: str | None,
        remaining: float,
    ) -> httpx.Request:
        url = self.api_base + path
        timeout = self._attempt_timeout(remaining)
        if method == "POST":
            return self._http.build_request(
                method,
                url,
                content=urlencode(form.pairs).encode("ascii"),
                headers=self._headers(idempotency_key, True),
                timeout=timeout,
            )
        return self._http.build_request(
            method, url, params=list(form.pairs) or None,
            headers=self._headers(idempotency_key, False),
            timeout=timeout,
        )

    def _attempt_timeout(self, remaining: float) -> httpx.Timeout:
        """The configured timeout, each phase cut to what is left of the time budget."""
        t = self._timeout
        cap = max(remaining, 0.001)

        def cut(value: float | None) -> float:
            return cap if value is None else min(value, cap)

        return httpx.Timeout(connect=cut(t.connect), read=cut(t.read), write=cut(t.write),
                             pool=cut(t.pool))

    async def _call(
        self,
        method: str,
        path: str,
        form: _Form,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        policy = self.retry_policy
        started = self._clock()
        deadline = started + policy.total_timeout
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(method, path, form, idempotency_key, attempt, deadline)
            if outcome.error is None:
                return outcome.data
            if not outcome.retryable or attempt > policy.max_retries:
                raise outcome.error  # not inside an ``except``: nothing rides on __context__
            wait = max(policy.backoff(attempt - 1, self._random), outcome.retry_after or 0.0)
            elapsed = self._clock() - started
            if elapsed + wait > policy.total_timeout:
                logger.debug(
                    "%s %s: not retrying after %s, %.2fs wait would exceed the %.1fs budget",
                    method, path, outcome.why, wait, policy.total_timeout,
                )
                raise outcome.error
            logger.info(
                "Retrying %s %s in %.2fs after %s (attempt %d of %d)",
                method, path, wait, outcome.why, attempt + 1, policy.max_retries + 1,
            )
            self.retries += 1
            await self._sleep(wait)

    async def _attempt(
        self,
        method: str,
        path: str,
        form: _Form,
        idempotency_key: str | None,
        attempt: int,
        deadline: float,
    ) -> _Outcome:
        """One HTTP exchange under the concurrency bound and the rate limit.

        Whatever happens is reduced to an :class:`_Outcome` that holds the decoded body on
        success or a ready :class:`StripeError` (redacted text only) on failure. Exceptions
        from httpx (which hold the request and so its Authorization header) stay in this
        frame; the caller raises outside any ``except`` block, so they are not even in the
        ``__context__`` of what reaches the user, and the raw error body is in no frame of
        the traceback.
        """
        failure: _Outcome | None = None
        async with self._semaphore:
            await self.rate_limiter.acquire()
            remaining = deadline - self._clock()
            request = self._build(method, path, form, idempotency_key, remaining)
            self.requests_sent += 1
            t0 = time.perf_counter()
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                kind = type(exc).__name__
                failure = _Outcome(
                    error=APIConnectionError(
                        f"{kind}: {redact(str(exc)) or 'no detail'}",
                        method=method, path=path, attempts=attempt,
                    ),
                    retryable=not isinstance(exc, _FATAL_TRANSPORT),
                    why=kind,
                )
            except Exception as exc:  # a broken transport: report it, don't retry it
                kind = type(exc).__name__
                logger.debug("%s %s: the HTTP transport raised %s", method, path, kind,
                             exc_info=True)
                failure = _Outcome(
                    error=APIError(
                        f"the HTTP transport failed: {kind}: {redact(str(exc))}",
                        method=method, path=path, attempts=attempt,
                    ),
                    why=kind,
                )
            elapsed = time.perf_counter() - t0
        if failure is not None:
            logger.debug("%s %s -> %s attempt=%d %.3fs", method, path, failure.why, attempt,
                         elapsed)
            return failure
        status = response.status_code
        request_id = response.headers.get("request-id")
        logger.debug("%s %s -> %d %s attempt=%d %.3fs", method, path, status,
                     request_id or "-", attempt, elapsed)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if 200 <= status < 300:
            if isinstance(body, dict):
                return _Outcome(data=body)
            return _Outcome(
                error=APIError("response body is not a JSON object", http_status=status,
                               request_id=request_id, method=method, path=path,
                               attempts=attempt),
                why=f"HTTP {status}",
            )
        error = error_from_response(
            status, body, request_id=request_id, method=method, path=path, attempts=attempt,
            fallback_message="unexpected non-JSON response "
            f"({response.headers.get('content-type', 'no content type')})",
        )
        return _Outcome(
            error=error,
            retryable=self.retry_policy.retryable_status(status, response.headers, error.code),
            retry_after=parse_retry_after(response.headers.get("retry-after"),
                                          self._wall_clock()),
            why=f"HTTP {status}",
        )


def _display_name(data: Mapping[str, Any]) -> str | None:
    settings = data.get("settings")
    if isinstance(settings, Mapping):
        dashboard = settings.get("dashboard")
        if isinstance(dashboard, Mapping) and isinstance(dashboard.get("display_name"), str):
            return dashboard["display_name"] or None
    profile = data.get("business_profile")
    if isinstance(profile, Mapping) and isinstance(profile.get("name"), str):
        return profile["name"] or None
    name = data.get("display_name")
    return name if isinstance(name, str) and name else None
