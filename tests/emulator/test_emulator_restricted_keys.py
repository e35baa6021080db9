"""Restricted keys: registered grants, Stripe's 403 wording, Connect, the admin API and CLI."""

from __future__ import annotations

import re

import httpx
import pytest
from click.testing import CliRunner
from emulator_helpers import KEY, Api, error_of
from test_emulator_cli import start

from reconciler.cli import main
from reconciler.emulator import Emulator
from reconciler.permissions import parse_grants

RK = "rk_test_51Hrestrictedkey0001"


def restricted(perms: str) -> Api:
    emu = Emulator(restricted_keys={RK: parse_grants(perms)})
    Api(emu).create("/v1/products", name="Seeded")  # a secret key still does anything
    return Api(emu, key=RK)


def permission_message(response: httpx.Response, name: str) -> str:
    message: str = error_of(response, 403, None)["message"]
    assert re.fullmatch(
        r"The provided key 'rk_test_\*\*\*\*0001' does not have the required permissions "
        r"for this endpoint on account 'acct_\w+'\. Having the '" + name
        + r"' permission would allow this request to continue\.", message), message
    return message


def test_read_allows_lists_and_retrieves_but_not_writes() -> None:
    api = restricted("products:read")
    products = api.ok(api.get("/v1/products"))["data"]
    api.ok(api.get(f"/v1/products/{products[0]['id']}"))
    permission_message(api.post("/v1/products", {"name": "No"}), "rak_product_write")
    permission_message(api.delete(f"/v1/products/{products[0]['id']}"), "rak_product_write")


@pytest.mark.parametrize(("path", "name"), [
    ("/v1/prices", "rak_plan_read"),
    ("/v1/coupons", "rak_coupon_read"),
    ("/v1/promotion_codes", "rak_promotion_code_read"),
    ("/v1/tax_rates", "rak_tax_rate_read"),
    ("/v1/shipping_rates", "rak_shipping_rate_read"),
    ("/v1/payment_method_configurations", "rak_payment_method_configuration_read"),
    ("/v1/webhook_endpoints", "rak_webhook_read"),
    ("/v1/entitlements/features", "rak_entitlements_feature_read"),
    ("/v1/billing/meters", "rak_billing_meter_read"),
    ("/v1/account", "rak_accounts_kyc_basic_read"),
    ("/v1/products/prod_x/features", "rak_product_read"),
])
def test_unlisted_resources_are_none(path: str, name: str) -> None:
    permission_message(restricted("connect:read").get(path), name)


def test_write_includes_read_and_all_covers_every_resource() -> None:
    api = restricted("all:read,prices:write")
    product = api.ok(api.get("/v1/products"))["data"][0]
    api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=100)
    api.ok(api.get("/v1/account"))
    permission_message(api.post("/v1/coupons", {"percent_off": 5}), "rak_coupon_write")


def test_an_unregistered_restricted_key_acts_as_a_secret_key() -> None:
    api = Api(Emulator(restricted_keys={RK: parse_grants("")}), key="rk_test_someotherkey")
    api.create("/v1/products", name="Fine")


def test_stripe_account_needs_connect() -> None:
    api = restricted("all:write")
    response = api.http.get("/v1/products", headers={"Stripe-Account": "acct_1Connected"})
    assert error_of(response, 403, None)["message"] == (
        "You passed a restricted API key with the Stripe-Account header, but the restricted "
        "API key does not have any Connect permissions.")
    allowed = restricted("all:write,connect:read")
    response = allowed.http.get("/v1/products", headers={"Stripe-Account": "acct_1Connected"})
    assert response.status_code == 200


def test_admin_api_registers_lists_and_forgets_keys() -> None:
    emu = Emulator()
    admin = Api(emu, key=None)
    answer = admin.http.post("/_emulator/restricted_keys", json={RK: "prices:write"}).json()
    assert answer == {"restricted_keys": {"rk_test_****0001": "prices:write"}}
    permission_message(Api(emu, key=RK).get("/v1/products"), "rak_product_read")
    assert admin.http.get("/_emulator/restricted_keys").json() == answer
    admin.http.delete("/_emulator/restricted_keys")
    assert Api(emu, key=RK).get("/v1/products").status_code == 200
    bad = admin.http.post("/_emulator/restricted_keys", json={RK: "prices:delete"})
    assert "'prices:delete' is not RESOURCE:LEVEL" in error_of(bad, 400, None)["message"]


def test_serve_takes_restricted_keys() -> None:
    proc, url = start("--restricted-key", f"{RK}=products:read,account:read")
    try:
        headers = {"Authorization": f"Bearer {RK}"}
        assert httpx.get(f"{url}/v1/products", headers=headers).status_code == 200
        denied = httpx.post(f"{url}/v1/products", data={"name": "x"}, headers=headers)
        assert "'rak_product_write'" in denied.json()["error"]["message"]
        assert httpx.get(f"{url}/v1/products",
                         headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize(("value", "problem"), [
    ("sk_test_x=products:read", "KEY a restricted key"),
    (f"{RK}=products", "'products' is not RESOURCE:LEVEL"),
    (f"{RK}=customers:read", "unknown resource 'customers'"),
])
def test_serve_rejects_a_bad_restricted_key(value: str, problem: str) -> None:
    result = CliRunner().invoke(main, ["emulator", "serve", "--restricted-key", value])
    assert result.exit_code == 1  # a usage error (exit 2 means changes or drift)
    assert problem in result.output
    assert "sk_test_x" not in result.output
