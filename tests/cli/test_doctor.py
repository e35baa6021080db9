"""`reconciler doctor` against a served emulator: the exact missing permissions per key."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from catalogs import PRO_CATALOG as CATALOG
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.emulator import Emulator, serve_in_thread
from reconciler.permissions import parse_grants

KEYS = {
    "rk_test_readall": "all:read",
    "rk_test_nometers": "products:read,prices:read,coupons:read,promotion_codes:read,"
                        "tax_rates:read,shipping_rates:read,payment_method_configurations:read,"
                        "webhook_endpoints:read,features:read,account:read",
    "rk_test_catalogwrite": "products:write,prices:write",
}


@pytest.fixture
def url() -> Iterator[str]:
    grants = {key: parse_grants(perms) for key, perms in KEYS.items()}
    with serve_in_thread(Emulator(restricted_keys=grants)) as base:
        yield base


def doctor(url: str, key: str, tmp_path: Path, *args: str) -> Result:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(main, ["doctor", str(path), *args, "--api-base", url,
                                         "--api-key", key], catch_exceptions=False,
                                  env={"STRIPE_API_KEY": None, "STRIPE_API_BASE": None})


def missing(result: Result) -> dict[str, str]:
    return {row["resource"]: ",".join(f"{job}:{need}" for job, need in row["missing"].items())
            for row in json.loads(result.output)["resources"] if row["missing"]}


@pytest.mark.parametrize(("key", "expected", "can_run"), [
    ("rk_test_readall", {"products": "apply:write", "prices": "apply:write"},
     {"plan": True, "drift": True, "apply": False}),
    ("rk_test_nometers", {"products": "apply:write", "prices": "apply:write",
                          "meters": "export:read"},
     {"plan": True, "drift": True, "apply": False}),
    ("rk_test_catalogwrite", {name: "export:read" for name in (
        "features", "meters", "payment_method_configurations", "shipping_rates", "tax_rates",
        "webhook_endpoints", "coupons", "promotion_codes")},
     {"plan": True, "drift": True, "apply": True}),
])
def test_doctor_lists_the_exact_missing_permissions(url: str, tmp_path: Path, key: str,
                                                    expected: dict[str, str],
                                                    can_run: dict[str, bool]) -> None:
    result = doctor(url, key, tmp_path, "--format", "json")
    assert missing(result) == expected
    assert json.loads(result.output)["can_run"] == can_run
    assert result.exit_code == (0 if all(can_run.values()) else 1)


def test_doctor_text_and_exit_code_for_a_job(url: str, tmp_path: Path) -> None:
    planned = doctor(url, "rk_test_readall", tmp_path, "--for", "plan")
    assert planned.exit_code == 0
    assert ("apply: cannot run: the key lacks Write on Products (rak_product_write), Write on "
            "Prices (rak_plan_write)") in planned.output
    assert "  apply: products:write,prices:write" in planned.output
    table = [line.split() for line in planned.output.splitlines() if line.startswith("prices ")]
    assert table == [["prices", "read", "read", "write", "read", "read", "apply:write"]]
    assert doctor(url, "rk_test_readall", tmp_path, "--for", "apply").exit_code == 1
    unknown = doctor(url, "rk_test_catalogwrite", tmp_path, "--for", "apply")
    assert unknown.exit_code == 0
    assert "account: unknown (the key may not read it)" in unknown.output


@pytest.mark.parametrize(("job", "option"), [
    ("plan", "--prune"), ("apply", "--prune"), ("drift", "--include-unmanaged")])
def test_doctor_checks_the_reads_of_a_run_that_reads_every_kind(url: str, tmp_path: Path,
                                                                job: str, option: str) -> None:
    """The catalog key reads only products and prices, enough for the runs over this catalog
    but not for one that reads every kind (plan, apply --prune; drift --include-unmanaged)."""
    assert doctor(url, "rk_test_catalogwrite", tmp_path, "--for", job).exit_code == 0
    wide = doctor(url, "rk_test_catalogwrite", tmp_path, "--for", job, option)
    assert wide.exit_code == 1
    verdict = next(line for line in wide.output.splitlines() if line.startswith(f"{job}: "))
    assert verdict.startswith(f"{job}: cannot run: the key lacks "), verdict
    assert verdict.endswith(" and 4 more"), verdict  # 8 lacking: the first 4 named
    coupons = next(line for line in wide.output.splitlines() if line.startswith("coupons "))
    assert f"{job}:read" in coupons.split()[-1]  # the table has them all


@pytest.mark.parametrize(("job", "option"), [("drift", "--prune"),
                                             ("apply", "--include-unmanaged")])
def test_each_option_widens_only_the_runs_that_take_it(url: str, tmp_path: Path, job: str,
                                                       option: str) -> None:
    assert doctor(url, "rk_test_catalogwrite", tmp_path, "--for", job, option).exit_code == 0


@pytest.mark.parametrize(("options", "checked", "as_json"), [
    ((), "runs without --prune or --include-unmanaged",
     {"prune": False, "include_unmanaged": False}),
    (("--prune",), "plan and apply with --prune", {"prune": True, "include_unmanaged": False}),
    (("--prune", "--include-unmanaged"),
     "plan and apply with --prune; drift with --include-unmanaged",
     {"prune": True, "include_unmanaged": True}),
])
def test_the_report_says_which_runs_it_checked(url: str, tmp_path: Path,
                                               options: tuple[str, ...], checked: str,
                                               as_json: dict) -> None:
    """A diagnosis made without --prune does not hold for a pruning run: the report says."""
    text = doctor(url, "rk_test_catalogwrite", tmp_path, *options).output
    assert f"\nchecked for: {checked}\n" in text
    report = doctor(url, "rk_test_catalogwrite", tmp_path, *options, "--format", "json").output
    assert json.loads(report)["options"] == as_json
