"""The baseline file: known, accepted drift stops counting (and is still shown, as accepted);
a malformed baseline is a usage error (exit 2) that says what is wrong."""

from __future__ import annotations

import json

import pytest
from drift_helpers import cli, converged, edit, run, save_state, shown

from reconciler.drift import Baseline, BaselineError


async def _drift(c):
    await edit(c, "prices", "pro-monthly", nickname="Pro (monthly)")
    await edit(c, "products", "pro", metadata={"tier": "3"})
    await edit(c, "tax_rates", "vat", active=False)
    await c.create("/v1/coupons", {"id": "summer", "percent_off": 15})


@pytest.fixture
def drifted(tmp_path):
    emu, _, catalog = converged(tmp_path)
    run(emu, _drift)
    return save_state(emu, tmp_path / "state.json"), catalog


def drift_with(tmp_path, drifted, text, *extra):
    state, catalog = drifted
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(text)
    return cli("drift", str(catalog), "--include-unmanaged", "--baseline", str(baseline),
               *extra, state=state)


ALL = """\
accept:
  - prices.pro-monthly:nickname
  - products.*:metadata.*
  - tax_rates.vat
  - unmanaged:coupons:*
"""


def test_accepted_field_object_and_unmanaged_patterns_stop_counting(tmp_path, drifted):
    state, catalog = drifted
    assert cli("drift", str(catalog), "--include-unmanaged", state=state).exit_code == 2
    result = drift_with(tmp_path, drifted, ALL)
    assert result.exit_code == 0, shown(result)
    out = result.stdout
    assert "  prices.pro-monthly (price_" in out and out.count("[accepted in baseline]") == 4
    assert out.endswith("No drift: the live account matches the manifests "
                        "(4 accepted in the baseline).\n")
    html = drift_with(tmp_path, drifted, ALL, "--format", "html").stdout
    assert html.count('<tr class="accepted">') == 4


@pytest.mark.parametrize("pattern, still", [
    ("prices.pro-monthly:nickname", {"products.pro", "tax_rates.vat", "coupons:summer"}),
    ("prices.*:*", {"products.pro", "tax_rates.vat", "coupons:summer"}),
    ("products.pro:metadata.tier", {"prices.pro-monthly", "tax_rates.vat", "coupons:summer"}),
    ("tax_rates.vat:active", {"prices.pro-monthly", "products.pro", "coupons:summer"}),
    ("tax_rates.*", {"prices.pro-monthly", "products.pro", "coupons:summer"}),
    ("unmanaged:coupons:summer", {"prices.pro-monthly", "products.pro", "tax_rates.vat"}),
    ("unmanaged:*:*", {"prices.pro-monthly", "products.pro", "tax_rates.vat"}),
    ("prices.pro-monthly:unit_amount", {"prices.pro-monthly", "products.pro", "tax_rates.vat",
                                        "coupons:summer"}),
])
def test_each_pattern_accepts_exactly_what_it_names(pattern, still, tmp_path, drifted):
    result = drift_with(tmp_path, drifted, f"accept:\n  - '{pattern}'\n", "--format", "json")
    assert result.exit_code == 2, shown(result)
    items = json.loads(result.stdout)["items"]
    open_items = {f"{i['kind']}.{i['key']}" if i["key"] else f"{i['kind']}:{i['live_id']}"
                  for i in items if not i["accepted"]}
    assert open_items == still


def test_an_empty_baseline_accepts_nothing(tmp_path, drifted):
    for text in ("", "accept: []\n", "# nothing yet\n"):
        assert drift_with(tmp_path, drifted, text).exit_code == 2


@pytest.mark.parametrize("text, message", [
    ("accept: [unclosed\n", "cannot read the baseline"),
    ("- prices.pro-monthly:nickname\n", "expected a mapping with 'accept': a list of patterns"),
    ("accept: prices.pro-monthly:nickname\n", "expected a mapping with 'accept'"),
    ("accept:\n  - {prices: nickname}\n", "expected a mapping with 'accept'"),
    ("accept: []\nignore: [x]\n", "unknown key ignore"),
    ("accept:\n  - price.pro-monthly:nickname\n", "unknown kind 'price'"),
    ("accept:\n  - unmanaged:coupon:*\n", "unknown kind 'coupon'"),
])
def test_a_malformed_baseline_is_a_usage_error(text, message, tmp_path, drifted):
    result = drift_with(tmp_path, drifted, text)
    assert result.exit_code == 1, shown(result)  # not 2, which means drift
    assert result.stdout == ""
    error = result.stderr.splitlines()[-1]
    assert error.startswith("Error: Invalid value for") and "--baseline" in error, shown(result)
    assert message in error, shown(result)
    with pytest.raises(BaselineError, match="baseline.yaml"):
        Baseline.load(tmp_path / "baseline.yaml")


def test_a_missing_baseline_file_is_a_usage_error(tmp_path, drifted):
    state, catalog = drifted
    result = cli("drift", str(catalog), "--baseline", str(tmp_path / "nope.yaml"), state=state)
    assert result.exit_code == 1 and "does not exist" in result.stderr, shown(result)
