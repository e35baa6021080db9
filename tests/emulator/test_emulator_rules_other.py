"""Stripe's rules for coupons, promotion codes, tax and shipping rates, payment method
configurations and webhook endpoints."""

from __future__ import annotations

import re
import time

import pytest
from emulator_helpers import Api, error_of

# -- coupons --------------------------------------------------------------------------------------


def test_coupon_defaults_and_ids(api: Api) -> None:
    coupon = api.create("/v1/coupons", percent_off=25.5)
    assert re.fullmatch(r"[A-Z0-9]{8}", coupon["id"])
    assert (coupon["duration"], coupon["valid"], coupon["times_redeemed"]) == ("once", True, 0)
    assert coupon["percent_off"] == 25.5 and coupon["amount_off"] is None
    custom = api.create("/v1/coupons", id="LAUNCH", amount_off=500, currency="eur")
    assert (custom["id"], custom["amount_off"], custom["currency"]) == ("LAUNCH", 500, "eur")
    error_of(api.post("/v1/coupons", {"id": "LAUNCH", "percent_off": 5}), 400,
             "resource_already_exists", "id")


@pytest.mark.parametrize(("params", "code", "param"), [
    ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "parameters_exclusive", "percent_off"),
    ({"duration": "forever"}, "parameter_missing", "percent_off"),
    ({"amount_off": 100}, "parameter_missing", "currency"),
    ({"percent_off": 10, "duration": "repeating"}, "parameter_missing", "duration_in_months"),
    ({"percent_off": 10, "duration": "once", "duration_in_months": 3}, None, "duration_in_months"),
    ({"percent_off": 10, "duration_in_months": 3}, None, "duration_in_months"),
    ({"percent_off": 150}, None, "percent_off"),
    ({"percent_off": 0}, None, "percent_off"),
    ({"percent_off": 10, "redeem_by": 1000}, None, "redeem_by"),
    ({"percent_off": 10, "applies_to": {"products": ["prod_missing"]}}, "resource_missing",
     "applies_to[products][0]"),
    ({"percent_off": 10, "currency_options": {"eur": {"amount_off": 5}}}, None, "currency_options"),
    ({"percent_off": "ten"}, None, "percent_off"),
])
def test_coupon_constraints(api: Api, params: dict, code: str | None, param: str) -> None:
    error_of(api.post("/v1/coupons", params), 400, code, param)
    assert api.ok(api.get("/v1/coupons"))["data"] == []


def test_repeating_coupon_and_updates(api: Api) -> None:
    coupon = api.create("/v1/coupons", percent_off=10, duration="repeating", duration_in_months=3)
    assert coupon["duration_in_months"] == 3
    updated = api.ok(api.post(f"/v1/coupons/{coupon['id']}", {"name": "Ten", "metadata": {"k": "v"}}))
    assert (updated["name"], updated["metadata"]) == ("Ten", {"k": "v"})
    amount = api.create("/v1/coupons", amount_off=100, currency="usd")
    options = api.ok(api.post(f"/v1/coupons/{amount['id']}", {
        "currency_options": {"eur": {"amount_off": 90}}, "expand": ["currency_options"]}))
    assert options["currency_options"] == {"eur": {"amount_off": 90}}
    assert "currency_options" not in api.ok(api.get(f"/v1/coupons/{amount['id']}"))
    assert api.ok(api.delete(f"/v1/coupons/{coupon['id']}")) == {
        "id": coupon["id"], "object": "coupon", "deleted": True}
    error_of(api.get(f"/v1/coupons/{coupon['id']}"), 404, "resource_missing", "id")


# -- promotion codes ------------------------------------------------------------------------------

@pytest.fixture
def coupon(api: Api) -> dict:
    return api.create("/v1/coupons", percent_off=20, redeem_by=int(time.time()) + 3600, max_redemptions=50)


def promo(api: Api, coupon: dict, **params: object) -> dict:
    return api.create("/v1/promotion_codes", promotion={"type": "coupon", "coupon": coupon["id"]}, **params)


def test_promotion_code_needs_an_existing_coupon(api: Api, coupon: dict) -> None:
    error_of(api.post("/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": "NOPE"}}),
             400, "resource_missing", "promotion[coupon]")
    error_of(api.post("/v1/promotion_codes", {"promotion": {"type": "coupon"}}), 400,
             "parameter_missing", "promotion[coupon]")
    error_of(api.post("/v1/promotion_codes", {}), 400, "parameter_missing", "promotion")
    error_of(api.post("/v1/promotion_codes", {"coupon": coupon["id"]}), 400, "parameter_unknown", "coupon")
    made = promo(api, coupon)
    assert made["id"].startswith("promo_") and re.fullmatch(r"[A-Z0-9]{8}", made["code"])
    assert made["promotion"] == {"coupon": coupon["id"], "type": "coupon"}
    assert made["restrictions"]["first_time_transaction"] is False
    expanded = api.ok(api.get(f"/v1/promotion_codes/{made['id']}", {"expand": ["promotion.coupon"]}))
    assert expanded["promotion"]["coupon"]["percent_off"] == 20


def test_promotion_codes_are_unique_among_active_codes_case_insensitively(api: Api, coupon: dict) -> None:
    first = promo(api, coupon, code="SUMMER")
    error_of(api.post("/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": coupon["id"]},
                                              "code": "summer"}), 400, "resource_already_exists", "code")
    api.ok(api.post(f"/v1/promotion_codes/{first['id']}", {"active": False}))
    second = promo(api, coupon, code="summer")
    error_of(api.post(f"/v1/promotion_codes/{first['id']}", {"active": True}), 400,
             "resource_already_exists", "code")
    inactive = promo(api, coupon, code="Summer", active=False)
    assert inactive["active"] is False
    listed = api.ok(api.get("/v1/promotion_codes", {"code": "SUMMER"}))["data"]
    assert [p["id"] for p in listed] == [inactive["id"], second["id"], first["id"]]
    active = api.ok(api.get("/v1/promotion_codes", {"code": "SUMMER", "active": True}))["data"]
    assert [p["id"] for p in active] == [second["id"]]
    other = api.create("/v1/coupons", percent_off=1)
    promo(api, other, code="OTHER")
    by_coupon = api.ok(api.get("/v1/promotion_codes", {"coupon": other["id"]}))["data"]
    assert [p["code"] for p in by_coupon] == ["OTHER"]


def test_promotion_code_limits(api: Api, coupon: dict) -> None:
    error_of(api.post("/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": coupon["id"]},
                                              "code": "NO SPACES"}), 400, "invalid_characters", "code")
    error_of(api.post("/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": coupon["id"]},
                                              "expires_at": coupon["redeem_by"] + 60}), 400, None,
             "expires_at")
    error_of(api.post("/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": coupon["id"]},
                                              "max_redemptions": 51}), 400, None, "max_redemptions")
    made = promo(api, coupon, restrictions={"minimum_amount": 1000, "minimum_amount_currency": "usd"})
    updated = api.ok(api.post(f"/v1/promotion_codes/{made['id']}", {
        "restrictions": {"currency_options": {"eur": {"minimum_amount": 900}}}}))
    assert updated["restrictions"]["minimum_amount"] == 1000
    assert updated["restrictions"]["currency_options"] == {"eur": {"minimum_amount": 900}}


# -- tax rates, shipping rates --------------------------------------------------------------------

def test_tax_rates(api: Api) -> None:
    rate = api.create("/v1/tax_rates", display_name="VAT", percentage=19, inclusive=False)
    assert rate["id"].startswith("txr_") and rate["percentage"] == 19 and rate["active"] is True
    error_of(api.post("/v1/tax_rates", {"display_name": "VAT", "percentage": 19}), 400,
             "parameter_missing", "inclusive")
    error_of(api.post("/v1/tax_rates", {"display_name": "X", "percentage": 101, "inclusive": True}),
             400, None, "percentage")
    api.ok(api.post(f"/v1/tax_rates/{rate['id']}", {"active": False}))
    assert api.ok(api.get("/v1/tax_rates", {"active": True}))["data"] == []
    assert [r["id"] for r in api.ok(api.get("/v1/tax_rates", {"inclusive": False}))["data"]] == [rate["id"]]


def test_shipping_rates(api: Api) -> None:
    error_of(api.post("/v1/shipping_rates", {"display_name": "Ground"}), 400, "parameter_missing",
             "fixed_amount")
    error_of(api.post("/v1/shipping_rates", {"display_name": "Ground", "active": False,
                                             "fixed_amount": {"amount": 1, "currency": "usd"}}),
             400, "parameter_unknown", "active")
    rate = api.create("/v1/shipping_rates", display_name="Ground",
                      fixed_amount={"amount": 500, "currency": "usd"})
    assert (rate["type"], rate["tax_behavior"], rate["active"]) == ("fixed_amount", "unspecified", True)
    assert rate["fixed_amount"] == {"amount": 500, "currency": "usd", "currency_options": {}}
    updated = api.ok(api.post(f"/v1/shipping_rates/{rate['id']}", {
        "fixed_amount": {"currency_options": {"eur": {"amount": 450}}}, "active": False}))
    assert updated["fixed_amount"]["amount"] == 500
    assert updated["fixed_amount"]["currency_options"]["eur"]["amount"] == 450
    assert updated["active"] is False


# -- payment method configurations ----------------------------------------------------------------

def test_accounts_start_with_a_default_payment_method_configuration(api: Api) -> None:
    listed = api.ok(api.get("/v1/payment_method_configurations"))["data"]
    assert len(listed) == 1
    default = listed[0]
    assert default["is_default"] is True and default["id"].startswith("pmc_")
    assert default["card"]["display_preference"] == {"overridable": None, "preference": "none", "value": "on"}
    assert default["ideal"]["display_preference"]["value"] == "off"
    updated = api.ok(api.post(f"/v1/payment_method_configurations/{default['id']}", {
        "card": {"display_preference": {"preference": "off"}},
        "ideal": {"display_preference": {"preference": "on"}}}))
    assert updated["card"]["display_preference"]["value"] == "off"
    assert updated["ideal"]["display_preference"] == {"overridable": None, "preference": "on", "value": "on"}
    child = api.create("/v1/payment_method_configurations", name="Checkout")
    assert child["is_default"] is False and child["name"] == "Checkout"
    error_of(api.post("/v1/payment_method_configurations", {"metadata": {"a": "b"}}), 400,
             "parameter_unknown", "metadata")


# -- webhook endpoints ----------------------------------------------------------------------------

def test_webhook_secret_only_in_the_create_response(api: Api) -> None:
    made = api.create("/v1/webhook_endpoints", url="https://example.com/hook",
                      enabled_events=["price.created", "product.updated"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9]{32}", made["secret"])
    assert (made["status"], made["api_version"], made["application"]) == ("enabled", None, None)
    assert "secret" not in api.ok(api.get(f"/v1/webhook_endpoints/{made['id']}"))
    assert "secret" not in api.ok(api.get("/v1/webhook_endpoints"))["data"][0]
    assert "secret" not in api.ok(api.post(f"/v1/webhook_endpoints/{made['id']}", {"description": "x"}))


def test_webhook_updates_and_validation(api: Api) -> None:
    made = api.create("/v1/webhook_endpoints", url="https://example.com/hook", enabled_events=["*"],
                      api_version="2024-06-20")
    assert made["api_version"] == "2024-06-20"
    path = f"/v1/webhook_endpoints/{made['id']}"
    assert api.ok(api.post(path, {"disabled": True}))["status"] == "disabled"
    assert api.ok(api.post(path, {"disabled": False}))["status"] == "enabled"
    error_of(api.post(path, {"url": "not a url"}), 400, "url_invalid", "url")
    error_of(api.post(path, {"enabled_events": ["price.exploded"]}), 400, None, "enabled_events[0]")
    error_of(api.post("/v1/webhook_endpoints", {"url": "https://x.test", "enabled_events": ["*"],
                                                "api_version": "1999-01-01"}), 400, None, "api_version")
    assert api.ok(api.delete(path)) == {"id": made["id"], "object": "webhook_endpoint", "deleted": True}
    error_of(api.get(path), 404, "resource_missing", "id")
