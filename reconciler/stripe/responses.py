"""What one attempt came back with, reduced to an :class:`~.retry.Outcome`.

Why a reduction: httpx exceptions and responses hold the request, and so its Authorization
header. An Outcome holds only decoded data or a ready :class:`~.errors.StripeError` built
from redacted text, plus what the retry loop needs (retryable or not, ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

import httpx

from .errors import APIConnectionError, APIError, error_from_response
from .redaction import redact
from .retry import Outcome, RetryPolicy, parse_retry_after

__all__ = ["failed_exchange", "response_outcome"]

# Transport errors that another attempt cannot fix: our own configuration or request is bad.
_FATAL_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def failed_exchange(exc: Exception, method: str, path: str, attempt: int,
                    api_base: str) -> Outcome:
    """An attempt that got no response from ``api_base``: a transport error (retried unless
    our own request is at fault) or a broken transport (reported, not retried)."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TransportError):
        return Outcome(
            error=APIConnectionError(
                f"{kind}: {redact(str(exc)) or 'no detail'}",
                method=method, path=path, attempts=attempt, api_base=api_base,
            ),
            retryable=not isinstance(exc, _FATAL_TRANSPORT),
            why=kind,
        )
    return Outcome(
        error=APIError(
            f"the HTTP transport failed: {kind}: {redact(str(exc))}",
            method=method, path=path, attempts=attempt,
        ),
        why=kind,
    )


def response_outcome(
    response: httpx.Response,
    method: str,
    path: str,
    attempt: int,
    policy: RetryPolicy,
    now_epoch: float,
) -> Outcome:
    """A response: its JSON object on a 2xx, otherwise the typed error it describes, with
    whether ``policy`` retries it and how long ``Retry-After`` asks to wait (an HTTP date
    is read against ``now_epoch``)."""
    status = response.status_code
    request_id = response.headers.get("request-id")
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if 200 <= status < 300:
        if isinstance(body, dict):
            return Outcome(data=body)
        return Outcome(
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
    return Outcome(
        error=error,
        retryable=policy.retryable_status(status, response.headers, error.code),
        retry_after=parse_retry_after(response.headers.get("retry-after"), now_epoch),
        why=f"HTTP {status}",
    )
