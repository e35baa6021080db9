"""What one attempt came back with, reduced to an :class:`~.retry.Outcome`.

Why a reduction: httpx exceptions and responses hold the request, and so its Authorization
header. An Outcome holds only decoded data or a ready :class:`~.errors.StripeError` built
from redacted text, plus what the retry loop needs (retryable or not, ``Retry-After``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from .errors import APIConnectionError, APIError, error_from_response
from .redaction import redact
from .retry import Outcome, RetryPolicy, parse_retry_after

__all__ = ["ResponseTooLarge", "failed_exchange", "over_deadline", "over_size", "read_capped",
           "response_outcome"]

# Transport errors that another attempt cannot fix: our own configuration or request is bad.
_FATAL_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def failed_exchange(exc: Exception, method: str, path: str, attempt: int,
                    api_base: str) -> Outcome:
    """An attempt that got no response from ``api_base``: a transport error (retried unless
    our own request is at fault) or a broken transport (reported, not retried)."""
    error_type = type(exc).__name__
    if isinstance(exc, httpx.TransportError):
        return Outcome(
            error=APIConnectionError(
                f"{error_type}: {redact(str(exc)) or 'no detail'}",
                method=method, path=path, attempts=attempt, api_base=api_base,
            ),
            retryable=not isinstance(exc, _FATAL_TRANSPORT),
            why=error_type,
        )
    return Outcome(
        error=APIError(
            f"the HTTP transport failed: {error_type}: {redact(str(exc))}",
            method=method, path=path, attempts=attempt,
        ),
        why=error_type,
    )


class ResponseTooLarge(Exception):
    """The body went past the size cap; raised by :func:`read_capped`."""


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The decoded body of a streamed response, refused as soon as it passes ``limit`` bytes.

    Why streamed: reading a body whole first trusts the server to end it; an endless body
    grows the process until the kernel kills it. A ``Content-Length`` above the cap is
    refused before anything is read; the count is of decoded bytes, so a compressed body
    cannot expand past it either.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def over_deadline(api_base: str, method: str, path: str, attempt: int, seconds: float
                  ) -> Outcome:
    """An attempt that got no complete response in time. Retried, like httpx's own timeouts:
    a slow answer may be a passing congestion, and the call's time budget bounds the
    retries."""
    return Outcome(
        error=APIConnectionError(
            f"no complete response from {api_base + path} within {seconds:g} s; "
            "raise --request-timeout (or RECONCILER_REQUEST_TIMEOUT) if the network is slow",
            method=method, path=path, attempts=attempt, api_base=api_base,
        ),
        retryable=True,
        why="deadline exceeded",
    )


def over_size(url: str, method: str, path: str, attempt: int, limit: int,
              status: int) -> Outcome:
    """A response body past the size cap. Not retried: the same server would send the same
    body, and each attempt would read up to the cap again."""
    return Outcome(
        error=APIError(
            f"the response from {url} is larger than {limit:,} bytes; raise "
            "--max-response-bytes (or RECONCILER_MAX_RESPONSE_BYTES) if it is genuine",
            http_status=status, method=method, path=path, attempts=attempt,
        ),
        why="response too large",
    )


def response_outcome(
    response: httpx.Response,
    body_bytes: bytes,
    method: str,
    path: str,
    attempt: int,
    policy: RetryPolicy,
    now_epoch: float,
) -> Outcome:
    """A response and its body: its JSON object on a 2xx, otherwise the typed error it describes, with
    whether ``policy`` retries it and how long ``Retry-After`` asks to wait (an HTTP date
    is read against ``now_epoch``)."""
    status = response.status_code
    request_id = response.headers.get("request-id")
    try:
        body: Any = json.loads(body_bytes)
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
