"""Bounds on one response: a total deadline per attempt and a cap on the body's size.

The streams here are in-process (httpx.MockTransport with an async body), so the tests take
real time only for the deadline itself; tests/hardening/test_hostile_server.py runs the same
failures through the command line against a real socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from stripe_fakes import run

from reconciler.stripe import APIConnectionError, APIError, RetryPolicy, StripeClient


class _Stream(httpx.AsyncByteStream):
    """A body of ``chunk`` repeated for ever, ``pause`` seconds apart; ``read`` counts what
    the client took."""

    def __init__(self, chunk: bytes, pause: float = 0.0) -> None:
        self.chunk, self.pause, self.read = chunk, pause, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.read += len(self.chunk)
            yield self.chunk
            await asyncio.sleep(self.pause)


def _serving(stream: _Stream, headers: dict[str, str] | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, headers=headers,
                                                              stream=stream))


def test_an_endless_body_stops_at_the_cap_and_is_not_retried(make_client) -> None:
    stream = _Stream(b"x" * 4096)
    client: StripeClient = make_client(_serving(stream), max_response_bytes=100_000)

    with pytest.raises(APIError) as caught:
        run(client.request("GET", "/v1/prices"))

    assert stream.read < 110_000  # stopped within a chunk of the cap
    assert client.requests_sent == 1  # the same server would send the same body
    assert str(caught.value) == (
        "Stripe failed GET /v1/prices: HTTP 200: the response from "
        "https://api.stripe.com/v1/prices is larger than 100,000 bytes; raise "
        "--max-response-bytes (or RECONCILER_MAX_RESPONSE_BYTES) if it is genuine")


def test_a_declared_length_over_the_cap_is_refused_unread(make_client) -> None:
    stream = _Stream(b"x")
    client: StripeClient = make_client(_serving(stream, {"Content-Length": "100001"}),
                                       max_response_bytes=100_000)

    with pytest.raises(APIError, match="larger than 100,000 bytes"):
        run(client.request("GET", "/v1/prices"))
    assert stream.read == 0


def test_a_body_at_the_cap_is_read(make_client) -> None:
    body = b'{"id": "prod_1"}'
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    client: StripeClient = make_client(transport, max_response_bytes=len(body))
    assert run(client.request("GET", "/v1/products/prod_1")) == {"id": "prod_1"}


def test_a_dripping_body_misses_the_deadline_and_is_retried(make_client) -> None:
    stream = _Stream(b" ", pause=0.05)  # every read is quick: httpx's read timeout never fires
    client: StripeClient = make_client(_serving(stream), request_timeout=0.3,
                                       retry=RetryPolicy(max_retries=1))

    with pytest.raises(APIConnectionError) as caught:
        run(client.request("GET", "/v1/account"))

    assert client.requests_sent == 2
    assert str(caught.value) == (
        "cannot reach Stripe at https://api.stripe.com for GET /v1/account: no complete response from "
        "https://api.stripe.com/v1/account within 0.3 s; raise --request-timeout (or "
        "RECONCILER_REQUEST_TIMEOUT) if the network is slow (after 2 attempts)")


def test_a_raised_request_timeout_raises_the_retry_budget() -> None:
    assert StripeClient("sk_test_x", request_timeout=100).retry_policy.total_timeout == 200
    assert StripeClient("sk_test_x").retry_policy.total_timeout == 60


@pytest.mark.parametrize("options", [{"request_timeout": 0}, {"max_response_bytes": 0}])
def test_limits_must_be_positive(options) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        StripeClient("sk_test_x", **options)
