"""The example catalogs in examples/ are valid, through the library and through the CLI."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.manifests import Variables, load, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODELINE = "# yaml-language-server: $schema="
SCHEMA = (Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json").resolve()

# (example directory, --env); every example is checked in test mode, and live where it has
# an overlay.
CASES = [("saas", None), ("shop", None), ("usage-based", None), ("usage-based", "live")]
NO_VARIABLES = Variables({}, {})  # defaults only: the machine's environment must not matter


def _ids(case):
    name, env = case
    return f"{name}-{env}" if env else name


def test_every_example_directory_is_covered():
    dirs = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert dirs == sorted({name for name, _ in CASES})


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_example_validates_through_the_library(case):
    name, env = case
    manifest, issues = load([EXAMPLES / name], env=env, variables=NO_VARIABLES)
    assert [str(i) for i in issues + validate(manifest)] == []
    assert len(manifest.files) >= 3
    assert len(manifest) >= 8


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_example_validates_through_the_cli(case):
    name, env = case
    args = ["validate", str(EXAMPLES / name)] + (["--env", env] if env else [])
    result = CliRunner().invoke(main, args, env={"API_HOST": None, "FREE_REQUESTS": None})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ")


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: str(
    p.relative_to(EXAMPLES)))
def test_every_file_starts_with_a_modeline_to_the_schema(path):
    first = path.read_text("utf-8").splitlines()[0]
    assert first.startswith(MODELINE), first
    assert (path.parent / first.removeprefix(MODELINE)).resolve() == SCHEMA


def test_saas_catalog_content():
    manifest, _ = load([EXAMPLES / "saas"], variables=NO_VARIABLES)
    prices = manifest.entries["prices"]
    currencies = {p.fields["currency"] for p in prices.values()}
    currencies |= {c for p in prices.values() for c in p.fields.get("currency_options", {})}
    assert currencies == {"usd", "eur"}
    assert {p.fields["recurring"]["interval"] for p in prices.values()} == {"month", "year"}
    assert all("lookup_key" in p.fields for p in prices.values())
    products = manifest.entries["products"]
    assert all("default_price" in p.fields for p in products.values())
    assert any(p.fields.get("features") for p in products.values())
    durations = {c.fields.get("duration") for c in manifest.entries["coupons"].values()}
    assert durations == {"forever", "once", "repeating"}
    assert manifest.entries["promotion_codes"]


def test_usage_based_interpolation_and_live_overlay():
    base, _ = load([EXAMPLES / "usage-based"], variables=NO_VARIABLES)
    hook = base.get("webhook_endpoints", "billing")
    assert hook.fields["url"] == "https://api.example.com/webhooks/stripe"
    graduated = base.get("prices", "api-requests-graduated").fields
    assert graduated["tiers"][0]["up_to"] == 10000
    assert graduated["tiers"][-1]["up_to"] == "inf"
    assert graduated["recurring"] == {"interval": "month", "usage_type": "metered",
                                      "meter": "api-requests"}

    live, issues = load([EXAMPLES / "usage-based"], env="live",
                        variables=Variables({"API_HOST": "api.acme.com",
                                             "FREE_REQUESTS": "50000"}, {}))
    assert issues == [] and validate(live) == []
    hook = live.get("webhook_endpoints", "billing")
    assert hook.fields["url"] == "https://api.acme.com/webhooks/stripe"
    assert "charge.dispute.created" in hook.fields["enabled_events"]
    assert hook.locate(("enabled_events",)).file.endswith("overlays/live/live.yaml")
    assert live.get("meters", "api-requests").options == {"prevent_destroy": True}
    assert live.get("prices", "api-requests-graduated").fields["tiers"][0]["up_to"] == 50000


def test_shop_catalog_content():
    manifest, _ = load([EXAMPLES / "shop"], variables=NO_VARIABLES)
    assert {t.fields["inclusive"] for t in manifest.entries["tax_rates"].values()} == {True, False}
    assert all(p.fields.get("type") == "good" for k, p in manifest.entries["products"].items()
               if k != "gift-card")
    assert manifest.entries["payment_method_configurations"]["storefront"].fields["card"] == {
        "display_preference": {"preference": "on"}}
    assert {w.fields["api_version"] for w in manifest.entries["webhook_endpoints"].values()} == {
        "2026-10-28.endive"}
