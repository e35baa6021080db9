"""Least privilege through the CLI against a served emulator: runs read only the kinds they
need, and a key that may not read the account still plans and applies."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from catalogs import CALLS_METER
from catalogs import PRO_CATALOG as CATALOG
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.emulator import Emulator, serve_in_thread
from reconciler.permissions import parse_grants

SECRET = "sk_test_restrictedsuite"
READ_ALL = "rk_test_readall"
NO_METERS = "rk_test_nometers"
CATALOG_WRITE = "rk_test_catalogwrite"
WRITE_PRODUCTS_ONLY = "rk_test_productsonly"
KEYS = {
    READ_ALL: "all:read",
    NO_METERS: ("products:read,prices:read,coupons:read,promotion_codes:read,tax_rates:read,"
                "shipping_rates:read,payment_method_configurations:read,webhook_endpoints:read,"
                "features:read,account:read"),
    CATALOG_WRITE: "products:write,prices:write",
    WRITE_PRODUCTS_ONLY: "products:write,prices:read",
}
METERS = "meters:\n" + CALLS_METER


@pytest.fixture
def url() -> Iterator[str]:
    grants = {key: parse_grants(perms) for key, perms in KEYS.items()}
    with serve_in_thread(Emulator(restricted_keys=grants)) as base:
        yield base


def cli(url: str, key: str, *args: str) -> Result:
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(
            main, [*args, "--api-base", url, "--api-key", key],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None},
            catch_exceptions=False)


def catalog(tmp_path: Path, text: str = CATALOG) -> str:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return str(path)


def requested(url: str) -> set[str]:
    return set(httpx.get(f"{url}/_emulator/requests").json()["counts"])


def test_a_read_key_plans_drifts_and_exports(url: str, tmp_path: Path) -> None:
    path = catalog(tmp_path)
    assert cli(url, SECRET, "apply", path, "--auto-approve").exit_code == 0
    httpx.delete(f"{url}/_emulator/requests")
    planned = cli(url, READ_ALL, "plan", path, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "Warning" not in planned.output
    assert requested(url) == {"GET /v1/account", "GET /v1/products", "GET /v1/prices"}
    assert cli(url, READ_ALL, "drift", path).exit_code == 0
    exported = cli(url, READ_ALL, "export", "-o", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output


def test_prune_and_unmanaged_read_every_kind(url: str, tmp_path: Path) -> None:
    path = catalog(tmp_path)
    assert cli(url, READ_ALL, "plan", path, "--prune").exit_code == 0
    assert "GET /v1/billing/meters" in requested(url)
    httpx.delete(f"{url}/_emulator/requests")
    assert cli(url, READ_ALL, "drift", path, "--include-unmanaged").exit_code == 2
    assert "GET /v1/webhook_endpoints" in requested(url)


def test_a_key_without_meters_is_enough_for_a_catalog_without_meters(url: str,
                                                                   tmp_path: Path) -> None:
    path = catalog(tmp_path)
    assert cli(url, SECRET, "apply", path, "--auto-approve").exit_code == 0
    planned = cli(url, NO_METERS, "plan", path, "--detailed-exitcode")
    assert (planned.exit_code, "Warning" in planned.output) == (0, False), planned.output
    assert cli(url, NO_METERS, "drift", path).exit_code == 0
    with_meters = cli(url, NO_METERS, "plan", catalog(tmp_path, CATALOG + METERS))
    assert with_meters.exit_code == 1
    errors = [line for line in with_meters.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, with_meters.output
    assert re.fullmatch(
        r"Error: Stripe refused GET /v1/billing/meters: the key lacks the "
        r"'rak_billing_meter_read' permission, needed to read meters; give the key Read on "
        r"Billing meters \[req_\w+\]", errors[0]), errors[0]


def test_a_read_key_stops_apply_at_the_first_write(url: str, tmp_path: Path) -> None:
    applied = cli(url, READ_ALL, "apply", catalog(tmp_path), "--auto-approve")
    assert applied.exit_code == 1
    errors = [line for line in applied.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, applied.output
    # the first write is the apply lock's, itself a product (apply/lock.py)
    assert errors[0].startswith(
        "Error: the apply lock (a product kept in the account): Stripe refused POST "
        "/v1/products: the key lacks the 'rak_product_write' permission, needed to create "
        "products; give the key Write on Products [req_")
    assert "Nothing was changed by this run." in applied.output


def test_a_key_that_cannot_write_a_kind_stops_apply_at_its_first_write(url: str,
                                                                       tmp_path: Path) -> None:
    applied = cli(url, WRITE_PRODUCTS_ONLY, "apply", catalog(tmp_path), "--auto-approve")
    assert applied.exit_code == 1
    errors = [line for line in applied.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, applied.output
    assert errors[0].startswith(
        "Error: prices.pro-monthly: Stripe refused POST /v1/prices: the key lacks the "
        "'rak_plan_write' permission, needed to create prices; give the key Write on "
        "Prices [req_"), errors[0]
    assert "Applied (1): products.pro" in applied.output


def test_refusals_for_one_permission_are_explained_once(url: str, tmp_path: Path) -> None:
    two = CATALOG + "  pro-yearly: {product: pro, currency: usd, unit_amount: 15000, " \
        "recurring: {interval: year}}\n"
    products_only = "rk_test_productsonly"
    httpx.post(f"{url}/_emulator/restricted_keys", json={products_only: "products:write,prices:read"})
    applied = cli(url, products_only, "apply", catalog(tmp_path, two), "--auto-approve")
    errors = [line for line in applied.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, applied.output
    assert errors[0].startswith("Error: prices.pro-monthly, prices.pro-yearly: Stripe refused "
                                "POST /v1/prices: the key lacks the 'rak_plan_write' permission")
    assert "give the key Write on Prices" in errors[0]
    assert "Applied (1): products.pro" in applied.output


def test_a_key_that_may_not_read_the_account_plans_and_applies(url: str,
                                                                tmp_path: Path) -> None:
    path = catalog(tmp_path)
    saved = str(tmp_path / "plan.json")
    planned = cli(url, CATALOG_WRITE, "plan", path, "-o", saved)
    assert planned.exit_code == 0, planned.output
    assert ("the key may not read the account (rak_accounts_kyc_basic_read): the account is "
            "recorded as unknown and the mode (test) taken from the key") in planned.output
    assert "account unknown (test mode)" in planned.output
    applied = cli(url, CATALOG_WRITE, "apply", saved)
    assert applied.exit_code == 0, applied.output
    again = cli(url, CATALOG_WRITE, "plan", path, "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_an_unknown_account_still_refuses_a_stale_plan(url: str, tmp_path: Path) -> None:
    path = catalog(tmp_path)
    assert cli(url, SECRET, "apply", path, "--auto-approve").exit_code == 0
    changed = catalog(tmp_path, CATALOG.replace("{name: Pro}", "{name: Pro plan}"))
    saved = str(tmp_path / "plan.json")
    assert cli(url, CATALOG_WRITE, "plan", changed, "-o", saved).exit_code == 0
    headers = {"Authorization": f"Bearer {SECRET}"}
    product = httpx.get(f"{url}/v1/products", headers=headers).json()["data"][0]
    httpx.post(f"{url}/v1/products/{product['id']}", data={"name": "By hand"}, headers=headers)
    refused = cli(url, CATALOG_WRITE, "apply", saved)
    assert refused.exit_code == 1
    assert f"products.pro ({product['id']}) was modified" in refused.output
    assert "the plan is for account" not in refused.output
