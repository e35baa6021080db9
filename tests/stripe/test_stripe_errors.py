"""The typed error hierarchy and how responses map onto it."""

from __future__ import annotations

import pickle

import pytest
from stripe_fakes import KEY, Script, error_reply, reply, run

from reconciler.stripe import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    StripeError,
    error_from_response,
)


def _body(type_: str = "invalid_request_error", code: str | None = None) -> dict:
    err = {"type": type_, "message": "m"}
    if code:
        err["code"] = code
    return {"error": err}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, _body(code="parameter_unknown"), InvalidRequestError),
        (400, _body(code="resource_missing"), NotFoundError),
        (404, _body(code="resource_missing"), NotFoundError),
        (404, _body(), NotFoundError),
        (400, _body("idempotency_error", "idempotency_key_in_use"), IdempotencyError),
        (409, _body("idempotency_error"), IdempotencyError),
        (401, _body(), AuthenticationError),
        (403, _body(), PermissionDeniedError),
        (429, _body(code="rate_limit"), RateLimitError),
        (400, _body(code="rate_limit"), RateLimitError),
        (429, None, RateLimitError),
        (402, _body("card_error"), APIError),
        (409, _body(code="lock_timeout"), APIError),
        (500, _body("api_error"), APIError),
        (503, None, APIError),
    ],
)
def test_status_mapping(status: int, body: dict | None, cls: type) -> None:
    err = error_from_response(status, body, request_id="req_1", method="GET", path="/v1/x")
    assert type(err) is cls
    assert isinstance(err, StripeError)
    assert err.http_status == status


def test_hierarchy() -> None:
    assert issubclass(NotFoundError, InvalidRequestError)
    assert not issubclass(PermissionDeniedError, PermissionError)  # does not shadow the builtin
    for cls in (AuthenticationError, PermissionDeniedError, InvalidRequestError, IdempotencyError,
                RateLimitError, APIError, APIConnectionError):
        assert issubclass(cls, StripeError)


def test_message_names_request_code_param_and_request_id() -> None:
    body = {"error": {"type": "invalid_request_error", "code": "parameter_unknown",
                      "param": "recurring[foo]",
                      "message": "Received unknown parameter: recurring[foo]"}}
    err = error_from_response(400, body, request_id="req_123", method="POST", path="/v1/prices")
    assert str(err) == (
        "Stripe rejected POST /v1/prices: parameter_unknown (param recurring[foo]): "
        "Received unknown parameter: recurring[foo] [req_123]"
    )
    assert (err.type, err.code, err.param, err.request_id) == (
        "invalid_request_error", "parameter_unknown", "recurring[foo]", "req_123")
    assert err.message == "Received unknown parameter: recurring[foo]"


def test_message_without_code_shows_status_and_type() -> None:
    err = error_from_response(401, {"error": {"type": "invalid_request_error",
                                              "message": "Invalid API Key provided"}},
                              method="GET", path="/v1/account")
    assert str(err) == ("Stripe rejected GET /v1/account: HTTP 401 invalid_request_error: "
                        "Invalid API Key provided")
    assert str(error_from_response(500, None, method="GET", path="/v1/x")).startswith(
        "Stripe failed GET /v1/x: HTTP 500")


def test_connection_error_message() -> None:
    err = APIConnectionError("ConnectError: refused", method="GET", path="/v1/prices", attempts=5)
    assert str(err) == "cannot reach Stripe for GET /v1/prices: ConnectError: refused (after 5 attempts)"
    assert err.http_status is None


@pytest.mark.parametrize("api_base,named", [
    ("https://api.stripe.com", "Stripe at https://api.stripe.com"),
    ("http://127.0.0.1:12111", "the API at http://127.0.0.1:12111 (is the emulator running?)"),
    ("http://localhost:12111/", "the API at http://localhost:12111 (is the emulator running?)"),
    ("http://[::1]:8080", "the API at http://[::1]:8080 (is the emulator running?)"),
    ("https://user:s3cret@proxy.example:8443", "the API at https://proxy.example:8443"),
])
def test_connection_error_names_the_server_it_tried(api_base, named) -> None:
    err = APIConnectionError("ConnectError: refused", method="GET", path="/v1/prices",
                             attempts=5, api_base=api_base)
    assert str(err) == f"cannot reach {named} for GET /v1/prices: ConnectError: refused (after 5 attempts)"
    assert "s3cret" not in str(err) and "s3cret" not in repr(err)
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


def test_errors_pickle() -> None:
    err = error_from_response(400, _body(code="parameter_missing"), request_id="req_9",
                              method="POST", path="/v1/prices")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is InvalidRequestError
    assert str(back) == str(err) and back.code == "parameter_missing"


def test_client_raises_typed_errors(make_client) -> None:
    async def go() -> list[StripeError]:
        script = Script(
            error_reply(400, "parameter_unknown", "Received unknown parameter: foo", param="foo"),
            error_reply(404, "resource_missing", "No such price: 'price_x'", param="id"),
            error_reply(401, message="Invalid API Key provided", request_id="req_a"),
            error_reply(403, message="restricted key", request_id="req_p"),
        )
        caught = []
        async with make_client(script, retry=RetryPolicy.none()) as client:
            for path in ("/v1/prices", "/v1/prices/price_x", "/v1/account", "/v1/coupons"):
                with pytest.raises(StripeError) as info:
                    await client.request("GET", path)
                caught.append(info.value)
        return caught

    bad, missing, auth, perm = run(go())
    assert type(bad) is InvalidRequestError and bad.param == "foo" and bad.code == "parameter_unknown"
    assert type(missing) is NotFoundError and missing.path == "/v1/prices/price_x"
    assert type(auth) is AuthenticationError and auth.request_id == "req_a"
    assert type(perm) is PermissionDeniedError
    for err in (bad, missing, auth, perm):
        assert err.__cause__ is None and err.__context__ is None
        assert KEY not in str(err) and KEY not in repr(err)


def test_success_with_non_json_body_is_an_api_error(make_client) -> None:
    async def go() -> None:
        async with make_client(Script(reply(200, content=b"<html>oops</html>"))) as client:
            await client.request("GET", "/v1/prices")

    with pytest.raises(APIError, match="not a JSON object"):
        run(go())
