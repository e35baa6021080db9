"""API keys, modes, connected accounts, headers and idempotency keys."""

from __future__ import annotations

import base64

import pytest
from emulator_helpers import KEY, Api, error_of

from reconciler.emulator import Emulator
from reconciler.reference import API_VERSION


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Token sk_test_abc"])
def test_missing_key_is_401(emu: Emulator, authorization: str | None) -> None:
    api = Api(emu, key=None)
    headers = {"Authorization": authorization} if authorization else {}
    response = api.http.get("/v1/products", headers=headers)
    error = error_of(response, 401, None)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")


@pytest.mark.parametrize(("key", "shown"), [
    ("sk_test_51Habcdef-ghijklmnopqrstuvwxyz1234", "sk_test_****1234"),
    ("pk_test_51Habcdefghijklmnopqrstuvwxyz9876", "pk_test_****9876"),
    ("sk_prod_supersecretvalue", "****alue"),
    ("sk_test_", "sk_test_****"),
    ("short", "****"),
])
def test_invalid_key_is_401_and_never_echoed(emu: Emulator, key: str, shown: str) -> None:
    response = Api(emu, key=key).get("/v1/products")
    error = error_of(response, 401, None)
    assert error["message"] == f"Invalid API Key provided: {shown}"
    assert key not in response.text or key == "sk_test_"


def test_unknown_routes_still_need_a_key(emu: Emulator) -> None:
    error_of(Api(emu, key=None).get("/v1/nothing"), 401, None)
    error_of(Api(emu).get("/v1/nothing"), 404, None)


def test_live_and_restricted_keys(emu: Emulator) -> None:
    test, restricted = Api(emu), Api(emu, key="rk_test_restricted123")
    live = Api(emu, key="sk_live_abcdefghijkl")
    made = test.create("/v1/products", name="Test")
    assert made["livemode"] is False
    assert [p["id"] for p in restricted.ok(restricted.get("/v1/products"))["data"]] == [made["id"]]
    assert live.ok(live.get("/v1/products"))["data"] == []
    in_live = live.create("/v1/products", name="Live")
    assert in_live["livemode"] is True
    error_of(test.get(f"/v1/products/{in_live['id']}"), 404, "resource_missing", "id")
    assert live.ok(live.get("/v1/entitlements/features"))["data"] == []
    assert live.create("/v1/entitlements/features", name="F", lookup_key="f")["id"].startswith("feat_")


def test_basic_auth_like_curl(emu: Emulator) -> None:
    api = Api(emu, key=None)
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    assert api.http.get("/v1/products", headers={"Authorization": f"Basic {token}"}).status_code == 200


def test_connected_accounts_have_their_own_data(emu: Emulator) -> None:
    platform, connected = Api(emu), Api(emu, **{"Stripe-Account": "acct_1Connected"})
    platform.create("/v1/products", name="Platform")
    assert connected.ok(connected.get("/v1/products"))["data"] == []
    connected.create("/v1/products", name="Connected")
    assert [p["name"] for p in connected.ok(connected.get("/v1/products"))["data"]] == ["Connected"]
    assert connected.ok(connected.get("/v1/account"))["id"] == "acct_1Connected"
    account = platform.ok(platform.get("/v1/account"))
    assert account["id"].startswith("acct_") and account["id"] != "acct_1Connected"
    assert account["object"] == "account" and account["settings"]["dashboard"]["display_name"]
    assert platform.ok(platform.get("/v1/account"))["id"] == account["id"]
    assert Api(emu, key="sk_live_other").ok(Api(emu, key="sk_live_other").get("/v1/account"))["id"] == account["id"]
    bad = Api(emu, **{"Stripe-Account": "nope"})
    error_of(bad.get("/v1/products"), 403, "account_invalid")


def test_headers_on_every_response(emu: Emulator) -> None:
    api = Api(emu)
    ok = api.get("/v1/products")
    assert ok.headers["stripe-version"] == API_VERSION
    assert ok.headers["request-id"].startswith("req_")
    assert ok.headers["content-type"] == "application/json"
    pinned = api.http.get("/v1/products", headers={"Stripe-Version": "2024-06-20"})
    assert pinned.headers["stripe-version"] == "2024-06-20"
    for response in (api.get("/v1/nope"), Api(emu, key=None).get("/v1/products"),
                     api.get("/v1/products/prod_x")):
        assert response.headers["request-id"].startswith("req_")
    assert ok.headers["request-id"] != pinned.headers["request-id"]


def test_request_log_url_names_the_request(emu: Emulator) -> None:
    response = Api(emu).get("/v1/products/prod_x")
    assert response.json()["error"]["request_log_url"].endswith(
        f"/test/logs/{response.headers['request-id']}")


# -- idempotency ----------------------------------------------------------------------------------

def test_same_key_and_body_replays_the_response(emu: Emulator) -> None:
    api = Api(emu)
    first = api.post("/v1/products", {"name": "Once"}, **{"Idempotency-Key": "k1"})
    again = api.post("/v1/products", {"name": "Once"}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["original-request"] == first.headers["request-id"]
    assert "idempotent-replayed" not in first.headers
    assert len(api.ok(api.get("/v1/products"))["data"]) == 1


def test_same_key_with_other_request_is_an_idempotency_error(emu: Emulator) -> None:
    api = Api(emu)
    api.ok(api.post("/v1/products", {"name": "Once"}, **{"Idempotency-Key": "k1"}))
    error = error_of(api.post("/v1/products", {"name": "Twice"}, **{"Idempotency-Key": "k1"}), 400,
                     "idempotency_key_in_use")
    assert error["type"] == "idempotency_error"
    error_of(api.post("/v1/coupons", {"name": "Once", "percent_off": 1}, **{"Idempotency-Key": "k1"}),
             400, "idempotency_key_in_use")
    assert len(api.ok(api.get("/v1/products"))["data"]) == 1


def test_keys_are_scoped_per_account_and_mode(emu: Emulator) -> None:
    headers = {"Idempotency-Key": "shared"}
    for api in (Api(emu), Api(emu, key="sk_live_x1"), Api(emu, **{"Stripe-Account": "acct_9"})):
        response = api.post("/v1/products", {"name": "Scoped"}, **headers)
        assert response.status_code == 200 and "idempotent-replayed" not in response.headers


def test_validation_errors_are_not_saved_but_rule_errors_are(emu: Emulator) -> None:
    api = Api(emu)
    bad = api.post("/v1/products", {"nam": "typo"}, **{"Idempotency-Key": "fix-me"})
    error_of(bad, 400, "parameter_unknown", "nam")
    # the same key is still free: a corrected request under it runs
    assert api.post("/v1/products", {"nam": "typo"}, **{"Idempotency-Key": "fix-me"}).headers.get(
        "idempotent-replayed") is None
    product = api.create("/v1/products", name="Pro")
    api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=1, lookup_key="k")
    body = {"product": product["id"], "currency": "usd", "unit_amount": 2, "lookup_key": "k"}
    first = api.post("/v1/prices", body, **{"Idempotency-Key": "conflict"})
    error_of(first, 400, "resource_already_exists", "lookup_key")
    replay = api.post("/v1/prices", body, **{"Idempotency-Key": "conflict"})
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()


def test_get_requests_ignore_idempotency_keys(emu: Emulator) -> None:
    api = Api(emu)
    api.http.get("/v1/products", headers={"Idempotency-Key": "g"})
    assert "idempotent-replayed" not in api.http.get("/v1/products", headers={"Idempotency-Key": "g"}).headers
    assert api.post("/v1/products", {"name": "x"}, **{"Idempotency-Key": "g"}).status_code == 200
