"""A small typed hierarchy for everything that can go wrong talking to Stripe.

Mapping from a response (following Stripe's own SDKs, see the reference notes):

=================================  ===========================
response                           exception
=================================  ===========================
``type: idempotency_error``        :class:`IdempotencyError`
429, or ``code: rate_limit``       :class:`RateLimitError`
401                                :class:`AuthenticationError`
403                                :class:`PermissionDeniedError`
404, or ``code: resource_missing`` :class:`NotFoundError`
400 (and other 4xx but 402/409)    :class:`InvalidRequestError`
5xx, 402, 409, anything else       :class:`APIError`
no response after all retries      :class:`APIConnectionError`
=================================  ===========================

Every message is passed through :func:`~reconciler.stripe.redaction.redact`, and these
exceptions never carry the request, its headers or the underlying httpx exception.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .redaction import redact

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "IdempotencyError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StripeError",
    "error_from_response",
]


class StripeError(Exception):
    """Base of every error raised by the Stripe client.

    Attributes mirror Stripe's error object (``type``, ``code``, ``param``, ``message``,
    ``doc_url``) plus the HTTP status, the request id (``Request-Id`` header) and the request
    line (``method``, ``path``; the path never includes the query string).
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        http_status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        doc_url: str | None = None,
        attempts: int | None = None,
    ) -> None:
        self.message = redact(message) if message else None
        self.http_status = http_status
        self.type = type
        self.code = code
        self.param = redact(param) if param else None
        self.request_id = request_id
        self.method = method
        self.path = redact(path) if path else None
        self.doc_url = doc_url
        self.attempts = attempts
        super().__init__(self._render())

    def _verb(self) -> str:
        if self.http_status is not None and 400 <= self.http_status < 500:
            return "rejected"
        return "failed"

    def _render(self) -> str:
        where = f" {self.method} {self.path}" if self.method and self.path else ""
        head = f"Stripe {self._verb()}{where}"
        what: list[str] = []
        if self.code:
            what.append(self.code)
        else:
            if self.http_status is not None:
                what.append(f"HTTP {self.http_status}")
            if self.type:
                what.append(self.type)
        if self.param:
            what.append(f"(param {self.param})")
        text = head + (": " + " ".join(what) if what else "")
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" [{self.request_id}]"
        return text

    def __str__(self) -> str:
        return self._render()

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("http_status", "type", "code", "param", "request_id")
            if getattr(self, name) is not None
        )
        return f"{type(self).__name__}({self.message!r}{', ' if fields else ''}{fields})"

    def __reduce__(self) -> tuple[Any, ...]:  # picklable despite keyword-only fields
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[StripeError], message: str | None, state: dict[str, Any]) -> StripeError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class AuthenticationError(StripeError):
    """401: the API key is missing, malformed, revoked or for another account."""


class PermissionDeniedError(StripeError):
    """403: the key (e.g. a restricted ``rk_`` key) may not do this.

    Named so as not to shadow the builtin :class:`PermissionError`.
    """


class InvalidRequestError(StripeError):
    """400/404: the request was wrong (unknown or missing parameter, bad value...)."""


class NotFoundError(InvalidRequestError):
    """404, or ``resource_missing``: the object does not exist (in this mode and account)."""


class IdempotencyError(StripeError):
    """An Idempotency-Key was reused with different parameters (or is still in use)."""


class RateLimitError(StripeError):
    """429 (or ``code: rate_limit``) that persisted through every retry."""


class APIError(StripeError):
    """Stripe failed (5xx), or answered something this client cannot interpret."""


class APIConnectionError(StripeError):
    """No usable response: connection refused or dropped, timeouts... after every retry.

    The message names the server tried (``api_base``): with ``--api-base`` it is often a
    served emulator or a proxy, and "Stripe" would send the reader to the wrong place."""

    def __init__(self, message: str | None = None, *, api_base: str | None = None,
                 **fields: Any) -> None:
        self.api_base = api_base
        super().__init__(message, **fields)

    def _render(self) -> str:
        where = f" for {self.method} {self.path}" if self.method and self.path else ""
        server = server_name(self.api_base) if self.api_base else "Stripe"
        text = f"cannot reach {server}{where}"
        if self.message:
            text += f": {self.message}"
        if self.attempts:
            text += f" (after {self.attempts} attempt{'s' if self.attempts != 1 else ''})"
        return text


def server_name(api_base: str) -> str:
    """How a message names the server at ``api_base``: Stripe only on stripe.com; a local
    address is most likely an emulator that is not running. Any user:password in the URL is
    left out."""
    parts = urlsplit(api_base)
    host = (parts.hostname or "").lower()
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port number: the URL is shown without it
        port = ""
    shown = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}{port}"
    if host == "stripe.com" or host.endswith(".stripe.com"):
        return f"Stripe at {shown}"
    if host == "localhost" or host.endswith(".localhost") or _is_loopback(host):
        return f"the API at {shown} (is the emulator running?)"
    return f"the API at {shown}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an address
        return False


def _error_object(body: Any) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            return err
    return {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def error_from_response(
    status: int,
    body: Any,
    *,
    request_id: str | None = None,
    method: str | None = None,
    path: str | None = None,
    attempts: int | None = None,
    fallback_message: str = "unexpected response",
) -> StripeError:
    """The exception for an unsuccessful response with parsed JSON ``body`` (or None)."""
    err = _error_object(body)
    etype = _str_or_none(err.get("type"))
    code = _str_or_none(err.get("code"))
    message = _str_or_none(err.get("message"))
    if message is None:
        message = fallback_message if not err else "no message"
    cls: type[StripeError]
    if etype == "idempotency_error":
        cls = IdempotencyError
    elif status == 429 or code == "rate_limit":
        cls = RateLimitError
    elif status == 401:
        cls = AuthenticationError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404 or code == "resource_missing":
        cls = NotFoundError
    elif 400 <= status < 500 and status not in (402, 409):
        cls = InvalidRequestError
    else:
        cls = APIError
    return cls(
        message,
        http_status=status,
        type=etype,
        code=code,
        param=_str_or_none(err.get("param")),
        request_id=request_id,
        method=method,
        path=path,
        doc_url=_str_or_none(err.get("doc_url")),
        attempts=attempts,
    )
