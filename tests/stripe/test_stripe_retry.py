"""Retries: which failures are retried, how long the client waits, and when it gives up.

All on simulated time (FakeTime) with scripted MockTransport responses: no wall-clock sleeps.
"""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest
from stripe_fakes import FakeTime, Script, error_reply, fail, reply, run

from reconciler.stripe import (
    APIConnectionError,
    APIError,
    InvalidRequestError,
    RateLimitError,
    RetryPolicy,
    StripeError,
)
from reconciler.stripe.retry import parse_retry_after

OK = reply(200, {"id": "price_1", "object": "price"})


def _call(make_client, script: Script, method: str = "GET", path: str = "/v1/prices",
          **kw) -> dict:
    async def go() -> dict:
        async with make_client(script, **kw) as client:
            return await client.request(method, path, {"active": True} if method == "POST" else None)
    return run(go())


def _raises(make_client, script: Script, exc: type[StripeError], method: str = "GET",
            **kw) -> StripeError:
    with pytest.raises(exc) as info:
        _call(make_client, script, method, **kw)
    return info.value


# -- what is retried ----------------------------------------------------------------------


@pytest.mark.parametrize(("draw", "wait"), [(0.0, 3.0), (0.5, 3.375), (1.0, 3.75)])
def test_429_waits_at_least_retry_after(make_client, fake_time: FakeTime, draw: float,
                                        wait: float) -> None:
    script = Script(error_reply(429, "rate_limit", headers={"Retry-After": "3"}), OK)
    assert _call(make_client, script, random=lambda: draw)["id"] == "price_1"
    assert len(script.requests) == 2
    # backoff would be at most 0.5: Retry-After wins, plus up to 25% of it as jitter
    assert fake_time.sleeps == [wait]


def test_retry_after_is_a_minimum_not_a_cap(make_client, fake_time: FakeTime) -> None:
    script = Script(*[error_reply(429, headers={"Retry-After": "0.1"})] * 3, OK)
    _call(make_client, script)
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


def test_retry_after_http_date(make_client, fake_time: FakeTime) -> None:
    now = 1_900_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    script = Script(error_reply(503, headers={"Retry-After": date}), OK)
    _call(make_client, script, wall_clock=lambda: now)
    assert fake_time.sleeps == [8.0]  # 7 s, plus the most jitter: 25% of it, capped at 1 s
    assert parse_retry_after("garbage") is None and parse_retry_after("-5") == 0.0


def test_retry_after_waits_differ_across_callers_and_attempts(make_client,
                                                               fake_time: FakeTime) -> None:
    """Callers told the same Retry-After do not come back in lockstep, and a seed makes the
    spread reproducible."""
    def waits(seeds: range) -> list[float]:
        start = len(fake_time.sleeps)
        for seed in seeds:  # one caller per seed, three 429s each
            script = Script(*[error_reply(429, headers={"Retry-After": "2"})] * 3, OK)
            _call(make_client, script, random=random.Random(seed).random)
        return fake_time.sleeps[start:]

    first = waits(range(5))
    assert len(first) == 15 and len(set(first)) == 15
    assert all(2.0 <= w <= 2.5 for w in first)  # never early, at most 25% late
    assert waits(range(5)) == first


def test_retry_after_jitter_bounds() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, 2.0, lambda: 0.0) == 2.0
    assert policy.delay(0, 2.0, lambda: 1.0) == 2.5
    assert policy.delay(0, 60.0, lambda: 1.0) == 61.0  # the cap: 1 s, not 15
    assert policy.delay(3, 0.1, lambda: 1.0) == 4.0  # a longer backoff wins
    assert RetryPolicy(max_retry_after_jitter=2.0).delay(0, 60.0, lambda: 1.0) == 62.0
    assert RetryPolicy(retry_after_jitter=0).delay(0, 2.0, lambda: 1.0) == 2.0
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(retry_after_jitter=-0.1)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(make_client, status: int) -> None:
    script = Script(error_reply(status, type_="api_error"), OK)
    assert _call(make_client, script)["id"] == "price_1"
    assert len(script.requests) == 2


def test_non_json_gateway_error_is_retried(make_client) -> None:
    script = Script(reply(502, content=b"<html>Bad gateway</html>"), OK)
    assert _call(make_client, script)["id"] == "price_1"


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError,
     httpx.ConnectTimeout, httpx.ReadTimeout, httpx.PoolTimeout],
)
def test_connection_errors_are_retried(make_client, exc: type[httpx.TransportError]) -> None:
    script = Script(fail(exc), fail(exc), OK)
    assert _call(make_client, script)["id"] == "price_1"
    assert len(script.requests) == 3


def test_local_configuration_errors_are_not_retried(make_client) -> None:
    script = Script(fail(httpx.UnsupportedProtocol), OK)
    err = _raises(make_client, script, APIConnectionError)
    assert len(script.requests) == 1 and "UnsupportedProtocol" in str(err)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409])
def test_client_errors_are_final(make_client, status: int) -> None:
    script = Script(error_reply(status), OK)
    with pytest.raises(StripeError):
        _call(make_client, script)
    assert len(script.requests) == 1


def test_400_rate_limit_code_is_retried(make_client) -> None:
    script = Script(error_reply(400, "rate_limit"), OK)
    _call(make_client, script)
    assert len(script.requests) == 2


# -- Stripe-Should-Retry ------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 409])
def test_should_retry_true_forces_a_retry(make_client, status: int) -> None:
    script = Script(error_reply(status, "lock_timeout", headers={"Stripe-Should-Retry": "true"}), OK)
    assert _call(make_client, script, method="POST")["id"] == "price_1"
    assert len(script.requests) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
def test_should_retry_false_forbids_a_retry(make_client, status: int) -> None:
    script = Script(error_reply(status, headers={"Stripe-Should-Retry": "false"}), OK)
    with pytest.raises(StripeError) as info:
        _call(make_client, script)
    assert len(script.requests) == 1
    assert info.value.http_status == status


def test_409_without_the_header_follows_no_retry(make_client) -> None:
    script = Script(error_reply(409, "idempotency_key_in_use", type_="idempotency_error"), OK)
    _raises(make_client, script, StripeError, method="POST")
    assert len(script.requests) == 1


# -- bounds -------------------------------------------------------------------------------


def test_attempts_are_bounded(make_client, fake_time: FakeTime) -> None:
    script = Script(error_reply(503, type_="api_error"))
    err = _raises(make_client, script, APIError)
    assert len(script.requests) == 5  # 1 + default 4 retries
    assert err.attempts == 5
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_custom_attempt_bound(make_client) -> None:
    script = Script(fail(httpx.ConnectError, "refused"))
    err = _raises(make_client, script, APIConnectionError, retry=RetryPolicy(max_retries=2))
    assert len(script.requests) == 3
    assert str(err) == ("cannot reach Stripe at https://api.stripe.com for GET /v1/prices: "
                        "ConnectError: refused (after 3 attempts)")


def test_no_retries_policy(make_client) -> None:
    script = Script(error_reply(500, type_="api_error"), OK)
    _raises(make_client, script, APIError, retry=RetryPolicy.none())
    assert len(script.requests) == 1


def test_rate_limit_error_after_retries(make_client) -> None:
    script = Script(error_reply(429, "rate_limit"))
    err = _raises(make_client, script, RateLimitError)
    assert len(script.requests) == 5 and err.code == "rate_limit"


def test_time_budget_bounds_the_retries(make_client, fake_time: FakeTime) -> None:
    script = Script(error_reply(503, type_="api_error"))
    _raises(make_client, script, APIError, retry=RetryPolicy(total_timeout=3.0))
    # waits 0.5 and 1.0 fit in 3 s; the next (2.0) would end at 3.5
    assert fake_time.sleeps == [0.5, 1.0]
    assert len(script.requests) == 3
    assert fake_time.now <= 3.0


def test_retry_after_beyond_the_budget_is_not_waited(make_client, fake_time: FakeTime) -> None:
    script = Script(error_reply(429, headers={"Retry-After": "120"}), OK)
    _raises(make_client, script, RateLimitError)
    assert fake_time.sleeps == [] and len(script.requests) == 1


def test_full_jitter_and_cap(make_client, fake_time: FakeTime) -> None:
    policy = RetryPolicy(max_retries=6, initial_delay=1.0, max_delay=5.0, total_timeout=1000)
    _raises(make_client, Script(error_reply(500)), APIError, retry=policy, random=lambda: 0.25)
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 1.25, 1.25, 1.25]


def test_jitter_draws_spread_between_zero_and_the_ceiling(make_client, fake_time: FakeTime) -> None:
    draws = iter([0.0, 0.999, 0.5, 0.1])
    _raises(make_client, Script(error_reply(500)), APIError, random=lambda: next(draws))
    assert fake_time.sleeps == pytest.approx([0.0, 0.999, 1.0, 0.4])


# -- idempotency --------------------------------------------------------------------------


def test_post_retries_reuse_one_idempotency_key(make_client) -> None:
    script = Script(fail(httpx.ReadError), error_reply(500), error_reply(429), OK)
    _call(make_client, script, method="POST")
    keys = [r.headers.get("Idempotency-Key") for r in script.requests]
    assert len(keys) == 4 and keys[0] and len(set(keys)) == 1
    assert len({r.content for r in script.requests}) == 1  # and the same body


def test_separate_posts_get_fresh_keys_and_callers_keys_are_kept(make_client) -> None:
    async def go(script: Script) -> None:
        async with make_client(script) as client:
            await client.create("/v1/prices", {"currency": "usd"})
            await client.create("/v1/prices", {"currency": "usd"})
            await client.update("/v1/prices", "price_1", {"nickname": "x"},
                                idempotency_key="plan-abc-change-7")
            await client.delete("/v1/coupons", "co_1")
            await client.retrieve("/v1/prices", "price_1")

    script = Script(OK)
    run(go(script))
    keys = [r.headers.get("Idempotency-Key") for r in script.requests]
    assert keys[0] and keys[1] and keys[0] != keys[1]
    assert keys[2] == "plan-abc-change-7"
    assert keys[3] is None and keys[4] is None  # DELETE and GET carry none


def test_caller_key_survives_retries(make_client) -> None:
    script = Script(fail(httpx.RemoteProtocolError), OK)

    async def go() -> None:
        async with make_client(script) as client:
            await client.create("/v1/prices", {"currency": "usd"}, idempotency_key="k-1")

    run(go())
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["k-1", "k-1"]


def test_counters(make_client) -> None:
    script = Script(error_reply(503), error_reply(503), OK)

    async def go() -> tuple[int, int]:
        async with make_client(script) as client:
            await client.request("GET", "/v1/prices")
            return client.requests_sent, client.retries

    assert run(go()) == (3, 2)


def test_invalid_request_is_raised_with_its_attempt_count(make_client) -> None:
    err = _raises(make_client, Script(error_reply(400, "parameter_missing")), InvalidRequestError)
    assert err.attempts == 1


def test_attempt_timeouts_are_cut_to_the_remaining_budget(make_client) -> None:
    script = Script(error_reply(503), error_reply(503), OK)
    policy = RetryPolicy(total_timeout=10.0, initial_delay=4.0, max_delay=4.0)
    _call(make_client, script, retry=policy, timeout=httpx.Timeout(30.0, connect=5.0))
    timeouts = [r.extensions["timeout"] for r in script.requests]
    assert timeouts[0] == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    assert timeouts[1] == {"connect": 5.0, "read": 6.0, "write": 6.0, "pool": 6.0}
    assert timeouts[2] == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}
