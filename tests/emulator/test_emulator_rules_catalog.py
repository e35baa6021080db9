"""Stripe's rules for products, prices, features, product features and meters."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, error_of


@pytest.fixture
def product(api: Api) -> dict:
    return api.create("/v1/products", name="Pro")


def price(api: Api, product: dict, **params: object) -> dict:
    return api.create("/v1/prices", product=product["id"], currency="usd",
                      **{"unit_amount": 1500, **params})


# -- products -------------------------------------------------------------------------------------

def test_product_defaults_and_custom_id(api: Api) -> None:
    obj = api.create("/v1/products", id="pro-plan", name="Pro")
    assert (obj["id"], obj["type"], obj["active"], obj["images"]) == ("pro-plan", "service", True, [])
    assert obj["created"] == obj["updated"]
    error_of(api.post("/v1/products", {"id": "pro-plan", "name": "Again"}), 400,
             "resource_already_exists", "id")
    assert api.create("/v1/products", name="Generated")["id"].startswith("prod_")


def test_product_delete_is_refused_while_it_has_prices(api: Api, product: dict) -> None:
    p = price(api, product)
    api.ok(api.post(f"/v1/prices/{p['id']}", {"active": False}))  # archived prices still count
    error = error_of(api.delete(f"/v1/products/{product['id']}"), 400, None)
    assert "prices" in error["message"]
    assert api.ok(api.get(f"/v1/products/{product['id']}"))["id"] == product["id"]


def test_product_delete_without_prices_removes_it_and_its_features(api: Api, product: dict) -> None:
    feature = api.create("/v1/entitlements/features", name="SSO", lookup_key="sso")
    api.create(f"/v1/products/{product['id']}/features", entitlement_feature=feature["id"])
    deleted = api.ok(api.delete(f"/v1/products/{product['id']}"))
    assert deleted == {"id": product["id"], "object": "product", "deleted": True}
    error_of(api.get(f"/v1/products/{product['id']}"), 404, "resource_missing", "id")
    error_of(api.get(f"/v1/products/{product['id']}/features"), 404, "resource_missing", "product")
    assert api.emu.state()["accounts"][f"{api.emu.state()['platform']}:test"]["objects"].get(
        "product_feature") == {}


def test_default_price_data_creates_the_default_price(api: Api) -> None:
    obj = api.create("/v1/products", name="Pro", default_price_data={
        "currency": "eur", "unit_amount": 900, "recurring": {"interval": "year"}})
    p = api.ok(api.get(f"/v1/prices/{obj['default_price']}"))
    assert (p["product"], p["currency"], p["unit_amount"], p["type"]) == (obj["id"], "eur", 900, "recurring")
    error_of(api.post("/v1/products", {"name": "X", "default_price_data": {"currency": "eur"}}),
             400, "parameter_missing", "default_price_data[unit_amount]")


def test_default_price_must_be_an_existing_price_of_the_product(api: Api, product: dict) -> None:
    other = api.create("/v1/products", name="Other")
    foreign = price(api, other)
    error_of(api.post(f"/v1/products/{product['id']}", {"default_price": "price_nope"}), 400,
             "resource_missing", "default_price")
    error_of(api.post(f"/v1/products/{product['id']}", {"default_price": foreign["id"]}), 400,
             None, "default_price")
    own = price(api, product)
    assert api.ok(api.post(f"/v1/products/{product['id']}", {"default_price": own["id"]}))[
        "default_price"] == own["id"]


def test_archiving_the_default_price_is_refused(api: Api, product: dict) -> None:
    first, second = price(api, product), price(api, product, unit_amount=2500)
    api.ok(api.post(f"/v1/products/{product['id']}", {"default_price": first["id"]}))
    error_of(api.post(f"/v1/prices/{first['id']}", {"active": False}), 400, None, "active")
    api.ok(api.post(f"/v1/products/{product['id']}", {"default_price": second["id"]}))
    assert api.ok(api.post(f"/v1/prices/{first['id']}", {"active": False}))["active"] is False


def test_unsetting_the_default_price_lets_it_be_archived(api: Api, product: dict) -> None:
    only = price(api, product)
    api.ok(api.post(f"/v1/products/{product['id']}", {"default_price": only["id"]}))
    unset = api.ok(api.post(f"/v1/products/{product['id']}", {"default_price": ""}))
    assert unset["default_price"] is None
    assert api.ok(api.post(f"/v1/prices/{only['id']}", {"active": False}))["active"] is False


def test_service_only_fields_are_refused_on_goods(api: Api) -> None:
    error_of(api.post("/v1/products", {"name": "Mug", "type": "good", "unit_label": "mug"}), 400,
             None, "unit_label")
    good = api.create("/v1/products", name="Mug", type="good")
    error_of(api.post(f"/v1/products/{good['id']}", {"statement_descriptor": "MUG"}), 400, None,
             "statement_descriptor")


def test_emptyable_fields_clear_and_metadata_merges(api: Api) -> None:
    obj = api.create("/v1/products", name="Pro", description="Best", images=["https://x/1.png"],
                     metadata={"a": "1", "b": "2"})
    updated = api.ok(api.post(f"/v1/products/{obj['id']}", {
        "description": None, "images": None, "metadata": {"a": None, "c": "3"}}))
    assert (updated["description"], updated["images"]) == (None, [])
    assert updated["metadata"] == {"b": "2", "c": "3"}
    assert api.ok(api.post(f"/v1/products/{obj['id']}", {"metadata": None}))["metadata"] == {}
    error_of(api.post(f"/v1/products/{obj['id']}", {"name": None}), 400,
             "parameter_invalid_empty", "name")


# -- prices ---------------------------------------------------------------------------------------

def test_price_derived_fields(api: Api, product: dict) -> None:
    one_time = price(api, product)
    assert (one_time["type"], one_time["billing_scheme"], one_time["tax_behavior"]) == (
        "one_time", "per_unit", "unspecified")
    assert (one_time["unit_amount"], one_time["unit_amount_decimal"]) == (1500, "1500")
    monthly = price(api, product, recurring={"interval": "month"})
    assert monthly["type"] == "recurring"
    assert monthly["recurring"] == {"interval": "month", "interval_count": 1, "meter": None,
                                    "trial_period_days": None, "usage_type": "licensed"}
    fractional = api.create("/v1/prices", product=product["id"], currency="USD",
                            unit_amount_decimal="12.50")
    assert (fractional["currency"], fractional["unit_amount"], fractional["unit_amount_decimal"]) == (
        "usd", None, "12.5")


def test_price_needs_an_existing_product_and_an_amount(api: Api, product: dict) -> None:
    error_of(api.post("/v1/prices", {"product": "prod_missing", "currency": "usd", "unit_amount": 1}),
             400, "resource_missing", "product")
    error_of(api.post("/v1/prices", {"currency": "usd", "unit_amount": 1}), 400,
             "parameter_missing", "product")
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "usd"}), 400,
             "parameter_missing", "unit_amount")
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 1,
                                     "unit_amount_decimal": "1"}), 400, "parameters_exclusive",
             "unit_amount_decimal")
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "usd",
                                     "billing_scheme": "tiered", "tiers_mode": "volume"}), 400,
             "parameter_missing", "tiers")
    error_of(api.post("/v1/prices", {"product": product["id"], "unit_amount": 1}), 400,
             "parameter_missing", "currency")


def test_price_product_data_creates_the_product(api: Api) -> None:
    p = api.create("/v1/prices", currency="usd", unit_amount=100,
                   product_data={"name": "Inline", "id": "inline-product"})
    assert p["product"] == "inline-product"
    assert api.ok(api.get("/v1/products/inline-product"))["name"] == "Inline"


def test_price_parameter_types(api: Api, product: dict) -> None:
    base = {"product": product["id"], "currency": "usd"}
    error_of(api.post("/v1/prices", {**base, "unit_amount": "12.5"}), 400,
             "parameter_invalid_integer", "unit_amount")
    error_of(api.post("/v1/prices", {**base, "unit_amount": 1, "recurring": {"interval": "fortnight"}}),
             400, None, "recurring[interval]")
    error_of(api.post("/v1/prices", {**base, "unit_amount": 1, "active": "yes"}), 400, None, "active")
    error_of(api.post("/v1/prices", {**base, "unit_amount": 1, "currency": "xyz"}), 400, None, "currency")
    error_of(api.post("/v1/prices", {**base, "unit_amount": 1, "recurring": "month"}), 400, None,
             "recurring")
    error_of(api.post("/v1/prices", {**base, "unit_amount": 1, "recurring": {"interval_count": 2}}),
             400, "parameter_missing", "recurring[interval]")


def test_lookup_keys_are_unique_unless_transferred(api: Api, product: dict) -> None:
    first = price(api, product, lookup_key="pro_monthly")
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 2,
                                     "lookup_key": "pro_monthly"}), 400, "resource_already_exists",
             "lookup_key")
    second = price(api, product, unit_amount=2000, lookup_key="pro_monthly", transfer_lookup_key=True)
    assert second["lookup_key"] == "pro_monthly"
    assert api.ok(api.get(f"/v1/prices/{first['id']}"))["lookup_key"] is None
    listed = api.ok(api.get("/v1/prices", {"lookup_keys": ["pro_monthly"]}))["data"]
    assert [p["id"] for p in listed] == [second["id"]]
    # on update too
    error_of(api.post(f"/v1/prices/{first['id']}", {"lookup_key": "pro_monthly"}), 400,
             "resource_already_exists", "lookup_key")
    moved = api.ok(api.post(f"/v1/prices/{first['id']}", {"lookup_key": "pro_monthly",
                                                           "transfer_lookup_key": True}))
    assert moved["lookup_key"] == "pro_monthly"
    assert api.ok(api.get(f"/v1/prices/{second['id']}"))["lookup_key"] is None


def test_tax_behavior_is_one_way(api: Api, product: dict) -> None:
    p = price(api, product)
    assert api.ok(api.post(f"/v1/prices/{p['id']}", {"tax_behavior": "inclusive"}))["tax_behavior"] == "inclusive"
    assert api.ok(api.post(f"/v1/prices/{p['id']}", {"tax_behavior": "inclusive"}))["tax_behavior"] == "inclusive"
    error_of(api.post(f"/v1/prices/{p['id']}", {"tax_behavior": "exclusive"}), 400, None, "tax_behavior")
    error_of(api.post(f"/v1/prices/{p['id']}", {"tax_behavior": "unspecified"}), 400, None, "tax_behavior")


def test_price_lists_show_active_prices_unless_asked(api: Api, product: dict) -> None:
    live, archived = price(api, product), price(api, product, unit_amount=1)
    api.ok(api.post(f"/v1/prices/{archived['id']}", {"active": False}))
    ids = lambda params: [p["id"] for p in api.ok(api.get("/v1/prices", params))["data"]]
    assert ids({}) == [live["id"]]
    assert ids({"active": True}) == [live["id"]]
    assert ids({"active": False}) == [archived["id"]]


def test_price_list_filters(api: Api, product: dict) -> None:
    other = api.create("/v1/products", name="Other")
    usd_month = price(api, product, recurring={"interval": "month"})
    eur_once = api.create("/v1/prices", product=other["id"], currency="eur", unit_amount=5)
    ids = lambda params: [p["id"] for p in api.ok(api.get("/v1/prices", params))["data"]]
    assert ids({"currency": "eur"}) == [eur_once["id"]]
    assert ids({"product": product["id"]}) == [usd_month["id"]]
    assert ids({"type": "recurring"}) == [usd_month["id"]]
    assert ids({"recurring": {"interval": "month"}}) == [usd_month["id"]]
    assert ids({"recurring": {"interval": "year"}}) == []
    error_of(api.get("/v1/prices", {"type": "weekly"}), 400, None, "type")


def test_tiers_and_currency_options_only_when_expanded(api: Api, product: dict) -> None:
    tiered = api.create("/v1/prices", product=product["id"], currency="usd", billing_scheme="tiered",
                        tiers_mode="graduated", currency_options={"eur": {"unit_amount": 90}},
                        tiers=[{"up_to": 10, "unit_amount": 100}, {"up_to": "inf", "flat_amount": 5}])
    assert "tiers" not in tiered and "currency_options" not in tiered
    full = api.ok(api.get(f"/v1/prices/{tiered['id']}", {"expand": ["tiers", "currency_options"]}))
    assert [t["up_to"] for t in full["tiers"]] == [10, None]
    assert full["tiers"][0]["unit_amount_decimal"] == "100"
    assert full["currency_options"]["eur"]["unit_amount"] == 90
    assert set(full["currency_options"]) == {"usd", "eur"}
    listed = api.ok(api.get("/v1/prices", {"expand": ["data.tiers"]}))["data"][0]
    assert len(listed["tiers"]) == 2 and "currency_options" not in listed
    error_of(api.get("/v1/prices", {"expand": ["tiers"]}), 400, None, "expand")
    error_of(api.get(f"/v1/prices/{tiered['id']}", {"expand": ["nickname"]}), 400, None, "expand")


def test_expanding_product_and_default_price(api: Api, product: dict) -> None:
    p = price(api, product)
    api.ok(api.post(f"/v1/products/{product['id']}", {"default_price": p["id"]}))
    got = api.ok(api.get(f"/v1/prices/{p['id']}", {"expand": ["product.default_price"]}))
    assert got["product"]["object"] == "product"
    assert got["product"]["default_price"]["id"] == p["id"]
    prod = api.ok(api.post(f"/v1/products/{product['id']}", {"name": "Pro 2", "expand": ["default_price"]}))
    assert prod["default_price"]["unit_amount"] == 1500


def test_price_for_a_deactivated_meter_is_refused(api: Api, product: dict) -> None:
    meter = api.create("/v1/billing/meters", display_name="API calls", event_name="api_call",
                       default_aggregation={"formula": "sum"})
    recurring = {"interval": "month", "usage_type": "metered", "meter": meter["id"]}
    assert price(api, product, recurring=recurring)["recurring"]["meter"] == meter["id"]
    api.ok(api.post(f"/v1/billing/meters/{meter['id']}/deactivate"))
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 1,
                                     "recurring": recurring}), 400, None, "recurring[meter]")
    error_of(api.post("/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 1,
                                     "recurring": {**recurring, "meter": "mtr_nope"}}), 400,
             "resource_missing", "recurring[meter]")


def test_prices_cannot_be_deleted(api: Api, product: dict) -> None:
    p = price(api, product)
    error = error_of(api.delete(f"/v1/prices/{p['id']}"), 404, None)
    assert error["message"].startswith("Unrecognized request URL (DELETE: /v1/prices/")
    error_of(api.get("/v1/prices/price_missing"), 404, "resource_missing", "id")


# -- features and product features ----------------------------------------------------------------

def test_feature_lookup_keys_are_unique(api: Api) -> None:
    feature = api.create("/v1/entitlements/features", name="SSO", lookup_key="sso")
    assert feature["id"].startswith("feat_test_") and feature["active"] is True
    error_of(api.post("/v1/entitlements/features", {"name": "Other", "lookup_key": "sso"}), 400,
             "resource_already_exists", "lookup_key")
    error_of(api.post("/v1/entitlements/features", {"name": "Other"}), 400, "parameter_missing",
             "lookup_key")


def test_inactive_features_are_hidden_unless_archived(api: Api) -> None:
    kept = api.create("/v1/entitlements/features", name="A", lookup_key="a")
    gone = api.create("/v1/entitlements/features", name="B", lookup_key="b")
    api.ok(api.post(f"/v1/entitlements/features/{gone['id']}", {"active": False}))
    ids = lambda params: [f["id"] for f in api.ok(api.get("/v1/entitlements/features", params))["data"]]
    assert ids({}) == [kept["id"]]
    assert ids({"archived": True}) == [gone["id"]]
    assert ids({"archived": False}) == [kept["id"]]
    assert ids({"lookup_key": "a"}) == [kept["id"]]
    assert api.ok(api.get(f"/v1/entitlements/features/{gone['id']}"))["active"] is False


def test_product_features(api: Api, product: dict) -> None:
    feature = api.create("/v1/entitlements/features", name="SSO", lookup_key="sso")
    base = f"/v1/products/{product['id']}/features"
    attached = api.create(base, entitlement_feature=feature["id"])
    assert attached["id"].startswith("prodft_")
    assert attached["entitlement_feature"] == feature
    error_of(api.post(base, {"entitlement_feature": feature["id"]}), 400, "resource_already_exists",
             "entitlement_feature")
    error_of(api.post(base, {"entitlement_feature": "feat_missing"}), 400, "resource_missing",
             "entitlement_feature")
    archived = api.create("/v1/entitlements/features", name="Old", lookup_key="old")
    api.ok(api.post(f"/v1/entitlements/features/{archived['id']}", {"active": False}))
    error_of(api.post(base, {"entitlement_feature": archived["id"]}), 400, None, "entitlement_feature")
    error_of(api.post("/v1/products/prod_missing/features", {"entitlement_feature": feature["id"]}),
             404, "resource_missing", "product")
    other = api.create("/v1/products", name="Other")
    error_of(api.get(f"/v1/products/{other['id']}/features/{attached['id']}"), 404,
             "resource_missing", "id")
    assert [f["id"] for f in api.ok(api.get(base))["data"]] == [attached["id"]]
    assert api.ok(api.delete(f"{base}/{attached['id']}")) == {
        "id": attached["id"], "object": "product_feature", "deleted": True}
    assert api.ok(api.get(base))["data"] == []


# -- meters ---------------------------------------------------------------------------------------

def test_meter_status_changes_only_through_deactivate_and_reactivate(api: Api) -> None:
    meter = api.create("/v1/billing/meters", display_name="Calls", event_name="calls",
                       default_aggregation={"formula": "count"})
    assert meter["id"].startswith("mtr_test_")
    assert (meter["status"], meter["status_transitions"]) == ("active", {"deactivated_at": None})
    assert meter["customer_mapping"] == {"event_payload_key": "stripe_customer_id", "type": "by_id"}
    path = f"/v1/billing/meters/{meter['id']}"
    error_of(api.post(path, {"status": "inactive"}), 400, "parameter_unknown", "status")
    off = api.ok(api.post(f"{path}/deactivate"))
    assert off["status"] == "inactive" and isinstance(off["status_transitions"]["deactivated_at"], int)
    assert [m["id"] for m in api.ok(api.get("/v1/billing/meters", {"status": "inactive"}))["data"]] == [meter["id"]]
    assert api.ok(api.get("/v1/billing/meters", {"status": "active"}))["data"] == []
    on = api.ok(api.post(f"{path}/reactivate"))
    assert (on["status"], on["status_transitions"]["deactivated_at"]) == ("active", None)
    assert api.ok(api.post(path, {"display_name": "API calls"}))["display_name"] == "API calls"
    error_of(api.delete(path), 404, None)
    error_of(api.post("/v1/billing/meters/mtr_missing/deactivate"), 404, "resource_missing", "id")
    error_of(api.get(f"{path}/event_summaries", {"customer": "cus_1", "start_time": 1}), 400,
             "parameter_missing", "end_time")
    summaries = api.ok(api.get(f"{path}/event_summaries", {"customer": "cus_1", "start_time": 1,
                                                           "end_time": 2}))
    assert summaries == {"object": "list", "data": [], "has_more": False,
                         "url": f"{path}/event_summaries"}
