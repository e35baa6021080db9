"""Issue #7 acceptance: every kind of out-of-band change lands in the right drift category,
with the right fields, in every format, and `reconciler drift` exits 0 (clean), 2 (drift)
or 1 (error).

Each case starts from the catalog applied and converged, makes one change the way a person
would in the dashboard (through the API, without ownership tags), and checks the report
through the library and through the command line.
"""

from __future__ import annotations

import json
from html import escape

import pytest
from drift_helpers import (
    CATALOG,
    cli,
    converged,
    detach,
    drift_of,
    edit,
    find,
    remove,
    run,
    save_state,
    shown,
    summary_of,
    untag,
    write_catalog,
)

from reconciler.kinds import KINDS
from reconciler.manifests import load_valid
from reconciler.render.drift import TITLES


async def _meter_off(c):
    meter = await find(c, "meters", event_name="api_call")
    await c.request("POST", c.object_path(KINDS["meters"].path, meter["id"], "deactivate"))


async def _attach_extra(c):
    beta = await c.create("/v1/entitlements/features", {"name": "Beta", "lookup_key": "beta"})
    await c.create("/v1/products/pro/features", {"entitlement_feature": beta["id"]})


async def _untag_and_rename(c):
    await untag(c, "coupons", "spring")
    await c.update("/v1/coupons", "spring", {"name": "Spring!"})


CASES = {
    "field edit": (
        lambda c: edit(c, "prices", "pro-monthly", nickname="Pro (monthly)"),
        [("changed", "prices.pro-monthly", ["nickname"])]),
    "field edit of a list": (
        lambda c: edit(c, "webhook_endpoints", "hooks",
                       enabled_events=["invoice.paid", "invoice.voided"]),
        [("changed", "webhook_endpoints.hooks", ["enabled_events"])]),
    "metadata key added": (
        lambda c: edit(c, "products", "pro", metadata={"note": "vip"}),
        [("changed", "products.pro", ["metadata.note"])]),
    "metadata key changed": (
        lambda c: edit(c, "products", "pro", metadata={"tier": "3"}),
        [("changed", "products.pro", ["metadata.tier"])]),
    "metadata key removed": (
        lambda c: edit(c, "products", "pro", metadata={"owner": ""}),
        [("changed", "products.pro", ["metadata.owner"])]),
    "tax rate archived": (
        lambda c: edit(c, "tax_rates", "vat", active=False),
        [("archived", "tax_rates.vat", ["active"])]),
    "price archived": (
        lambda c: edit(c, "prices", "pro-yearly", active=False),
        [("archived", "prices.pro-yearly", ["active"])]),
    "product archived and edited": (
        lambda c: edit(c, "products", "basic", active=False, name="Basic (old)"),
        [("archived", "products.basic", ["name", "active"])]),
    "meter deactivated": (
        _meter_off,
        [("archived", "meters.calls", ["status"])]),
    "coupon deleted": (  # Stripe deactivates its promotion codes with it
        lambda c: remove(c, "coupons", "spring"),
        [("missing", "coupons.spring", []),
         ("archived", "promotion_codes.spring-code", ["active"])]),
    "webhook endpoint deleted": (
        lambda c: remove(c, "webhook_endpoints", "audit-hooks"),
        [("missing", "webhook_endpoints.audit-hooks", [])]),
    "product feature detached": (
        lambda c: detach(c, "pro", "audit_log"),
        [("changed", "product_features.pro/audit", ["attached"])]),
    "product feature attached": (
        _attach_extra,
        [("changed", "product_features.pro/beta", ["attached"])]),
    "ownership tags removed": (  # prevent_destroy's too: adopting writes them all again
        lambda c: untag(c, "shipping_rates", "standard"),
        [("untagged", "shipping_rates.standard", [])]),
    "prevent_destroy tag removed": (  # still managed, no longer protected
        lambda c: edit(c, "shipping_rates", "standard",
                       metadata={"reconciler_prevent_destroy": ""}),
        [("changed", "shipping_rates.standard", ["metadata.reconciler_prevent_destroy"])]),
    "ownership tags removed, then edited": (
        _untag_and_rename,
        [("untagged", "coupons.spring", ["name"])]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_out_of_band_change_is_reported_in_its_category(case, tmp_path):
    emu, manifest, path = converged(tmp_path)
    change, expected = CASES[case]
    run(emu, change)
    report = drift_of(emu, manifest)
    assert summary_of(report) == expected
    assert report.has_drift and all(report.counts()[category] == 1 for category, _, _ in expected)

    state = save_state(emu, tmp_path / "state.json")
    result = cli("drift", str(path), "--format", "json", state=state)
    assert result.exit_code == 2, shown(result)
    data = json.loads(result.stdout)
    assert [(i["category"], f"{i['kind']}.{i['key']}", [d["path"] for d in i["diffs"]])
            for i in data["items"]] == expected
    text = cli("drift", str(path), state=state)
    markdown = cli("drift", str(path), "--format", "markdown", state=state)
    html = cli("drift", str(path), "--format", "html", state=state)
    assert text.exit_code == markdown.exit_code == html.exit_code == 2
    for category, address, paths in expected:
        assert f"{TITLES[category]} (1):\n  {address}" in text.stdout, text.stdout
        section = markdown.stdout.split(f"#### {TITLES[category]} (1)")[1].split("####")[0]
        assert f"| `{address}` |" in section and all(f"`{p}: " in section for p in paths)
        assert (f'<span class="badge {category}" title="{escape(TITLES[category])}">{category}'
                f"</span></td><td><code>{escape(address)}</code>") in html.stdout


def test_field_diffs_read_manifest_against_live(tmp_path):
    emu, manifest, _ = converged(tmp_path)
    run(emu, lambda c: edit(c, "products", "pro", description="For small teams",
                            metadata={"tier": "3", "owner": "", "note": "vip"}))
    (item,) = drift_of(emu, manifest).items
    assert [(d.path, d.new, d.old) for d in item.diffs] == [
        ("description", "For teams", "For small teams"),
        ("metadata.note", None, "vip"),
        ("metadata.owner", "growth", None),
        ("metadata.tier", "2", "3"),
    ]
    assert item.live_id == "pro"


def test_an_orphan_is_an_owned_object_no_manifest_describes(tmp_path):
    emu, _, _ = converged(tmp_path)
    smaller = write_catalog(tmp_path / "smaller", CATALOG.replace(
        "  loyal:\n    percent_off: 5\n    duration: forever\n", ""))
    state = save_state(emu, tmp_path / "state.json")
    result = cli("drift", str(smaller), state=state)
    assert result.exit_code == 2, shown(result)
    assert "Owned by this stack, no longer in the manifests (1):\n  coupons.loyal (loyal)\n" \
        in result.stdout
    assert result.stdout.endswith("Drift: 0 changed, 0 missing, 0 archived, 0 untagged, "
                                  "1 orphaned.\n")
    other_stack = cli("drift", str(smaller), "--stack", "other", state=state)
    assert "orphaned" not in other_stack.stdout.split("Drift:")[0]


def test_coverage_counts_an_orphan_as_not_managed(tmp_path):
    """An orphan still carries this stack's tags, but no entry describes it: coverage does
    not count it as managed, and it is listed once, as orphaned."""
    emu, _, _ = converged(tmp_path)
    smaller = load_valid([write_catalog(tmp_path / "smaller", CATALOG.replace(
        "  loyal:\n    percent_off: 5\n    duration: forever\n", ""))])
    report = drift_of(emu, smaller, include_unmanaged=True)
    assert summary_of(report) == [("orphaned", "coupons.loyal", [])]
    assert report.coverage["coupons"] == (1, 2)


def test_a_protected_orphan_is_drift_not_only_a_warning(tmp_path):
    """An entry applied with prevent_destroy and then deleted leaves its object tagged
    protected: prune refuses to remove it, and drift still lists it as orphaned (exit 2)."""
    protected = CATALOG.replace("    percent_off: 5\n    duration: forever\n",
                                "    percent_off: 5\n    duration: forever\n"
                                "    prevent_destroy: true\n")
    assert protected != CATALOG
    emu, _, _ = converged(tmp_path, protected)
    smaller = write_catalog(tmp_path / "smaller", CATALOG.replace(
        "  loyal:\n    percent_off: 5\n    duration: forever\n", ""))
    state = save_state(emu, tmp_path / "state.json")
    result = cli("drift", str(smaller), state=state)
    assert result.exit_code == 2, shown(result)
    assert "coupons.loyal (loyal)\n" in result.stdout
    assert "cannot remove loyal: it was applied with prevent_destroy" in result.stdout
    assert result.stdout.endswith("1 orphaned.\n")


def test_unmanaged_objects_and_coverage_on_request(tmp_path):
    emu, manifest, path = converged(tmp_path)
    async def by_hand(c):
        await c.create("/v1/coupons", {"id": "summer", "percent_off": 15, "name": "Summer"})
        hook = await c.create("/v1/webhook_endpoints", {"url": "https://example.org/x",
                                                        "enabled_events": ["*"]})
        return hook["id"]

    hook = run(emu, by_hand)
    assert not drift_of(emu, manifest).has_drift  # not asked for: not drift
    report = drift_of(emu, manifest, include_unmanaged=True)
    assert summary_of(report) == [("unmanaged", f"webhook_endpoints:{hook}", []),
                                  ("unmanaged", "coupons:summer", [])]
    assert [i.label for i in report.items] == ["https://example.org/x", "Summer"]
    assert report.coverage["coupons"] == (2, 3)
    assert report.coverage["webhook_endpoints"] == (2, 3)
    assert report.coverage["prices"] == (3, 3)
    assert report.coverage["payment_method_configurations"] == (1, 1)  # Stripe's default: not

    state = save_state(emu, tmp_path / "state.json")
    clean = cli("drift", str(path), state=state)
    assert clean.exit_code == 0, shown(clean)
    result = cli("drift", str(path), "--include-unmanaged", state=state)
    assert result.exit_code == 2, shown(result)
    assert "  coupons: 2/3 managed (67%)\n" in result.stdout
    assert '  coupons:summer "Summer"\n' in result.stdout
    assert result.stdout.endswith("0 orphaned, 2 unmanaged.\n")


def test_no_drift_exits_0_and_says_so(tmp_path):
    emu, manifest, path = converged(tmp_path)
    assert drift_of(emu, manifest, include_unmanaged=True).items == ()
    state = save_state(emu, tmp_path / "state.json")
    for fmt in ("text", "json", "markdown", "html"):
        result = cli("drift", str(path), "--include-unmanaged", "--format", fmt, state=state)
        assert result.exit_code == 0, shown(result)
        assert "the live account matches the manifests" in result.stdout or (
            '"drift": false' in result.stdout)


def test_drift_changes_nothing(tmp_path):
    emu, _, path = converged(tmp_path)
    run(emu, lambda c: edit(c, "tax_rates", "vat", active=False))
    state = save_state(emu, tmp_path / "state.json")
    before = state.read_text()
    assert cli("drift", str(path), "--include-unmanaged", state=state).exit_code == 2
    assert state.read_text() == before


@pytest.mark.parametrize("text, message", [
    ("prices:\n  p: {product: nowhere, currency: usd, unit_amount: 1}\n", "nowhere"),
    ("products: [not, a, mapping]\n", "products"),
    ("products:\n  a: {name: A\n", "catalog.yaml"),
])
def test_a_bad_manifest_is_an_error_exit_1(text, message, tmp_path):
    emu, _, _ = converged(tmp_path)
    bad = write_catalog(tmp_path / "bad", text)
    state = save_state(emu, tmp_path / "state.json")
    result = cli("drift", str(bad), state=state)
    assert result.exit_code == 1, shown(result)
    assert message in result.stderr and result.stdout == ""
