"""Secrets never leak: not in logs (even at DEBUG), reprs, messages, chains or tracebacks."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import socket
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from stripe_fakes import KEY, WHSEC, FakeTime, run

from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.stripe import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RedactingFilter,
    RetryPolicy,
    StripeClient,
    StripeError,
    mask,
    redact,
    register_secret,
)

# -- the helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"key={KEY}", KEY),
        ("Authorization: Bearer rk_live_51AbCdEfGhIjKlMnOp", "rk_live_51AbCdEfGhIjKlMnOp"),
        (f"secret is {WHSEC}.", WHSEC),
        ("api_key_sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
        ("{'authorization': 'Bearer whatever-token-123'}", "whatever-token-123"),
        ("Authorization: Basic c2tfdGVzdF94eXo6", "c2tfdGVzdF94eXo6"),
        ("sk_prod_abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    ],
)
def test_redact_patterns(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_mask_shows_prefix_and_at_most_four_characters() -> None:
    assert mask(KEY) == "sk_test_\u2026WXYZ"
    assert mask(WHSEC) == "whsec_\u2026abcd"
    assert mask("sk_test_short") == "sk_test_\u2026"  # too short to show a tail
    assert mask(None) == "<none>"
    assert redact(f"using {KEY}") == "using sk_test_\u2026WXYZ"


def test_registered_secrets_are_redacted_literally() -> None:
    odd = "emulator-key-Zq93xK"
    assert odd in redact(f"x {odd}")
    register_secret(odd)
    assert odd not in redact(f"x {odd} y")


def test_filter_redacts_message_args_and_exceptions() -> None:
    log = logging.getLogger("tests.stripe.redaction.filter")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("key %s and %r", KEY, {"secret": WHSEC})
        try:
            raise RuntimeError(f"boom with {KEY}")
        except RuntimeError:
            log.exception("failed: %s", WHSEC)
        log.warning("stack", stack_info=True)
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "boom with" in out and "RuntimeError" in out and "failed:" in out
    assert KEY not in out and WHSEC not in out


def test_client_repr_masks_the_key() -> None:
    client = StripeClient(KEY, stripe_account="acct_123")
    try:
        for text in (repr(client), str(client), f"{client}", client.masked_key):
            assert KEY not in text
        assert "sk_test_\u2026WXYZ" in repr(client)
        assert "acct_123" in repr(client)
        with pytest.raises(TypeError):
            import pickle

            pickle.dumps(client)
    finally:
        run(client.aclose())


def test_key_validation_does_not_echo_the_key() -> None:
    with pytest.raises(ValueError) as info:
        StripeClient(KEY[:-3] + " \n" + KEY[-3:])
    assert KEY[:20] not in str(info.value)
    with pytest.raises(ValueError):
        StripeClient("")


# -- a failing run, end to end ------------------------------------------------------------


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """Everything logged anywhere (ours, httpx, httpcore) at DEBUG, with tracebacks."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(
        "%(levelname)s %(name)s %(message)s", validate=True))
    root = logging.getLogger()
    root.addHandler(handler)
    # other tests (the CLI's -v handling) may have set levels or propagation: pin them
    loggers = [root, *(logging.getLogger(n) for n in
                       ("reconciler", "reconciler.stripe", "httpx", "httpcore"))]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.propagate = True
        lg.disabled = False
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for lg, level, propagate, disabled in saved:
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled


def _hostile(request: httpx.Request) -> httpx.Response:
    """A server and network that echo secrets back wherever they can."""
    auth = request.headers.get("authorization", "")
    path = request.url.path
    if path == "/v1/account":
        return httpx.Response(401, headers={"Request-Id": "req_auth"}, json={"error": {
            "type": "invalid_request_error",
            "message": f"Invalid API Key provided: {auth.removeprefix('Bearer ')}"}})
    if path == "/v1/webhook_endpoints":
        return httpx.Response(400, headers={"Request-Id": "req_bad"}, json={"error": {
            "type": "invalid_request_error", "code": "parameter_invalid_string",
            "param": "description",
            "message": f"Invalid description {WHSEC} (sent with {auth})"}})
    if path == "/v1/broken":
        raise RuntimeError(f"transport bug with headers {dict(request.headers)}")
    raise httpx.ConnectError(
        f"could not connect to {request.url} with headers {dict(request.headers)}",
        request=request)


def _all_text(err: BaseException) -> str:
    """Every rendering of an exception a person or a log could see, chain included."""
    parts = [str(err), repr(err), "".join(traceback.format_exception(err))]
    parts.append("".join(traceback.TracebackException.from_exception(
        err, capture_locals=True).format()))
    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        parts += [str(node), repr(node), repr(getattr(node, "args", ""))]
        parts.append(repr(vars(node)) if hasattr(node, "__dict__") else "")
        node = node.__cause__ or node.__context__
    return "\n".join(parts)


def test_failing_run_leaks_nothing(debug_logs: io.StringIO, fake_time: FakeTime) -> None:
    errors: list[StripeError] = []

    async def go() -> str:
        async with StripeClient(KEY, transport=httpx.MockTransport(_hostile),
                                clock=fake_time.clock, sleep=fake_time.sleep,
                                rate_limit=math.inf) as client:
            for call in (
                client.account(),
                client.create("/v1/webhook_endpoints",
                              {"url": "https://example.com", "enabled_events": ["*"],
                               "description": "x"}),
                client.request("GET", "/v1/prices"),
                client.request("GET", "/v1/broken"),
            ):
                try:
                    await call
                except StripeError as err:
                    errors.append(err)
                    logging.getLogger("reconciler.stripe").exception("call failed")
                    logging.getLogger("reconciler.stripe").error("call failed: %s", err)
            return repr(client)

    client_repr = run(go())
    auth, bad, conn, broken = errors
    assert isinstance(auth, AuthenticationError) and auth.request_id == "req_auth"
    assert isinstance(bad, InvalidRequestError) and bad.param == "description"
    assert isinstance(conn, APIConnectionError) and conn.attempts == 5
    assert isinstance(broken, APIError) and "RuntimeError" in str(broken)
    logs = debug_logs.getvalue()
    # the run did log what it should: requests, statuses, request ids, retries
    assert "GET /v1/account -> 401 req_auth attempt=1" in logs
    assert "POST /v1/webhook_endpoints -> 400 req_bad" in logs
    assert "GET /v1/prices -> ConnectError attempt=5" in logs
    assert "Retrying GET /v1/prices" in logs
    everything = "\n".join([logs, client_repr, *(_all_text(e) for e in errors)])
    assert KEY not in everything
    assert WHSEC not in everything
    assert "Bearer sk_" not in everything
    for err in errors:
        assert err.__cause__ is None and err.__context__ is None


def test_connection_refused_over_a_real_socket(debug_logs: io.StringIO,
                                               fake_time: FakeTime) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go() -> None:
        async with StripeClient(KEY, api_base=f"http://127.0.0.1:{port}",
                                retry=RetryPolicy(max_retries=2), clock=fake_time.clock,
                                sleep=fake_time.sleep) as client:
            await client.create("/v1/products", {"name": "x", "metadata": {"s": WHSEC}})

    with pytest.raises(APIConnectionError) as info:
        run(go())
    err = info.value
    assert err.attempts == 3 and "ConnectError" in str(err)
    text = _all_text(err) + debug_logs.getvalue()
    assert KEY not in text and WHSEC not in text


def test_emulator_run_with_webhook_secret_and_bad_key(debug_logs: io.StringIO) -> None:
    """Against the emulator: a webhook's signing secret (in the create response) and a
    rejected key stay out of the debug log."""
    emu = Emulator()

    async def create_hook() -> str:
        async with StripeClient(KEY, api_base="http://emulator.test",
                                transport=emu.async_transport(), rate_limit=math.inf) as client:
            hook = await client.create("/v1/webhook_endpoints", {
                "url": "https://example.com/h", "enabled_events": ["price.created"]})
            return hook["secret"]

    async def bad_key() -> StripeError:
        async with StripeClient("sk_test_bad-key-" + "9" * 24, api_base="http://emulator.test",
                                transport=emu.async_transport()) as bad:
            try:
                await bad.account()
            except StripeError as err:
                return err
        raise AssertionError("the bad key was accepted")

    # (separate runs: the caller's own frames would otherwise hold the secret as a local)
    secret, err = run(create_hook()), run(bad_key())
    assert secret.startswith("whsec_")
    assert isinstance(err, AuthenticationError)
    text = debug_logs.getvalue() + _all_text(err)
    assert secret not in text
    assert "sk_test_bad-key-" + "9" * 24 not in text


# -- the canary: a recognisable key and signing secret through the emulator ---------------

CANARY_BAD_KEY = "sk_test_Canary-Rejected-Key-0123456789"  # malformed: the emulator answers 401


@pytest.mark.parametrize("served", [False, True], ids=["in-process", "served"])
def test_canary_secrets_never_surface(served: bool, debug_logs: io.StringIO,
                                      caplog: pytest.LogCaptureFixture,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    """KEY and WHSEC go through succeeding, retried and failing calls at DEBUG, against the
    emulator in-process and on a socket, with faults on: neither they nor the webhook secret
    the emulator makes up shows in stdout/stderr, any logger's records or an exception."""
    emu = Emulator(faults=Faults(fail_rate=0.3, drop_rate=0.3, rate_limit=50, seed=5,
                                 retry_after=0.01))
    policy = RetryPolicy(max_retries=12, initial_delay=0.001, max_delay=0.005)
    errors: list[StripeError] = []
    made: list[str] = []

    def client(base: str, key: str = KEY, **kw: Any) -> StripeClient:
        transport = None if served else emu.async_transport()
        return StripeClient(key, api_base=base, transport=transport, rate_limit=math.inf,
                            retry=kw.pop("retry", policy), **kw)

    async def succeed(base: str) -> None:
        async with client(base) as stripe:
            product = await stripe.create("/v1/products", {"name": "Canary",
                                                           "metadata": {"signing": WHSEC}})
            hook = await stripe.create("/v1/webhook_endpoints", {
                "url": "https://example.com/hook", "enabled_events": ["price.created"],
                "description": f"signed with {WHSEC}"})
            made.append(hook["secret"])
            await stripe.update("/v1/products", product["id"], {"metadata": {"again": WHSEC}})
            await stripe.retrieve("/v1/products", product["id"])
            assert [p async for p in stripe.list_all("/v1/products")]
            found = [p async for p in stripe.list_all(  # the secret in a query string
                "/v1/products/search", {"query": f"metadata['signing']:'{WHSEC}'"})]
            assert [p["id"] for p in found] == [product["id"]]
            await stripe.account()

    async def search(stripe: StripeClient) -> None:
        async for _ in stripe.list_all("/v1/products/search",  # echoed in the 400
                                       {"query": f"metadata['signing']~'{WHSEC}' AND"}):
            pass

    async def fail(base: str) -> None:
        async with client(base) as stripe:
            for call in (
                lambda: stripe.create("/v1/coupons", {"percent_off": WHSEC}),  # echoed in 400
                lambda: search(stripe),
                lambda: stripe.retrieve("/v1/products", "prod_missing"),
            ):
                try:
                    await call()
                except StripeError as err:
                    errors.append(err)
                    logging.getLogger("reconciler.stripe").exception("call failed")
                    logging.getLogger("tests.canary").error("call failed: %r", err)
        async with client(base, key=CANARY_BAD_KEY) as rejected:
            try:
                await rejected.account()
            except StripeError as err:
                errors.append(err)
        emu.set_faults(Faults(drop_rate=1.0))
        async with client(base, retry=RetryPolicy(max_retries=1, initial_delay=0.001)) as stripe:
            try:
                await stripe.create("/v1/products", {"name": "Dropped",
                                                     "metadata": {"signing": WHSEC}})
            except StripeError as err:
                errors.append(err)

    with caplog.at_level(logging.DEBUG), contextlib.ExitStack() as stack:
        base = stack.enter_context(serve_in_thread(emu)) if served else "http://emulator.test"
        run(succeed(base))
        run(fail(base))
        print(f"calls done: {errors}")  # as a CLI would show them
        for err in errors:
            print(err, file=sys.stderr)
    out, err_out = capfd.readouterr()

    bad, bad_query, missing, rejected, dropped = errors
    assert isinstance(bad, InvalidRequestError) and bad.param == "percent_off"
    assert isinstance(bad_query, InvalidRequestError) and bad_query.param == "query"
    assert isinstance(missing, NotFoundError)
    assert isinstance(rejected, AuthenticationError)
    assert isinstance(dropped, APIConnectionError) and dropped.attempts == 2
    logs = debug_logs.getvalue()
    assert "Retrying" in logs and "-> 401" in logs and "-> 404" in logs  # it did log
    assert made and made[0].startswith("whsec_")
    records = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}"
        for r in caplog.records)
    assert len(caplog.records) > 20
    everything = "\n".join([out, err_out, logs, caplog.text, records,
                            *(_all_text(e) for e in errors)])
    for secret in (KEY, WHSEC, made[0], CANARY_BAD_KEY):
        assert secret not in everything
    assert "Bearer sk_" not in everything
