"""Issue #7 acceptance: a messy account made in the dashboard comes under management without
a single destructive change.

export -> validate passes -> plan --adopt shows only `adopt` (and noop) -> apply -> plan is
empty (and drift finds nothing, every object managed) -> export again writes identical files. Through the library, with and without
archived objects, and once through the command line.

What `plan --adopt` does with archived entries (`--include-archived`): an entry that says
``active: false`` adopts the archived object it describes (by natural key, or by content for
kinds without one) and only tags it; it stays archived. Nothing is re-created or reactivated.
A deactivated meter is not exported (a manifest has no way to say a meter is deactivated).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from export_helpers import (
    cli,
    exported_entries,
    load_checked,
    messy_emulator,
    messy_state,
    run,
    same_tree,
    shown,
)

from reconciler.apply import apply
from reconciler.drift import detect
from reconciler.export import export
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.ownership import CONTROL_KEY_PREFIX
from reconciler.plan import (
    OWNER_KEY,
    OWNER_STACK,
    Action,
    Plan,
    PlanOptions,
    make_plan,
    read_for,
)
from reconciler.plan.records import RECORDED_KINDS

TAGS = {f"metadata.{OWNER_STACK}", f"metadata.{OWNER_KEY}"}


@pytest.fixture
def messy():
    return messy_emulator()


def assert_only_adoption(plan: Plan, docs) -> None:
    """Every change adopts (tags only) or is a noop, and every taggable entry is adopted."""
    actions = Counter(c.action for c in plan.changes)
    assert set(actions) <= {Action.ADOPT, Action.NOOP}, [
        (c.address, c.action.value, [(d.path, d.old, d.new) for d in c.diffs])
        for c in plan.changes if c.action not in (Action.ADOPT, Action.NOOP)]
    for change in plan.changes:
        if change.action is Action.ADOPT and KINDS[change.kind].has_metadata:
            assert {d.path for d in change.diffs} == TAGS, (change.address, change.diffs)
            assert all(d.old is None for d in change.diffs), change.address
            assert [s.method for s in change.steps] == ["POST"], change.address
        elif change.action is Action.ADOPT:  # recorded in the stack's ownership record
            assert change.kind in RECORDED_KINDS and not change.diffs and not change.steps
    adopted = {c.address for c in plan.changes if c.action is Action.ADOPT}
    default = {"payment_method_configurations.default"}  # the account's: no stack adopts it
    taggable = {f"{kind}.{key}" for kind, entries in docs.items() for key in entries
                if KINDS[kind].has_metadata or kind in RECORDED_KINDS} - default
    assert adopted == taggable, (sorted(taggable - adopted), sorted(adopted - taggable))
    assert not plan.warnings, plan.warnings


def round_trip(emu, tmp_path, *, include_archived: bool):
    first, second = tmp_path / "first", tmp_path / "second"
    run(emu, lambda c: export(c, first, include_archived=include_archived))
    manifest = load_checked(first)
    docs = exported_entries(first)

    plan = run(emu, lambda c: make_plan(manifest, c, PlanOptions(adopt=True)))
    assert_only_adoption(plan, docs)
    emu.reset_request_counts()
    result = run(emu, lambda c: apply(plan, c))
    assert result.ok, [(c.address, str(e)) for c, e in result.failed]
    writes = {f"{e.method} {e.path}" for e in emu.request_log() if e.method != "GET"
              and not (e.idempotency_key or "").startswith(CONTROL_KEY_PREFIX)}  # not records
    assert all(name.startswith("POST ") and name.endswith("}") for name in writes), writes

    again = run(emu, lambda c: make_plan(manifest, c, PlanOptions()))
    assert not again.has_changes, [(c.address, c.diffs) for c in again.pending]
    live = run(emu, lambda c: read_for(manifest, c))
    drift = detect(manifest, live, stack="default", include_unmanaged=True)
    assert drift.items == (), [(i.category, i.address) for i in drift.items]
    assert all(managed == total for managed, total in drift.coverage.values())
    run(emu, lambda c: export(c, second, include_archived=include_archived))
    assert same_tree(first, second) == []
    return docs


def test_the_messy_account_has_over_a_hundred_objects_of_every_kind():
    emu = messy_emulator()
    stored = Counter()
    for bucket in emu.state()["accounts"].values():
        for kind, table in bucket["objects"].items():
            stored[kind] += len(table)
    assert sum(stored.values()) >= 100, stored
    for kind in KINDS.values():
        assert stored[kind.stripe_object] >= 2, (kind.name, stored)


def test_round_trip_through_the_library(messy, tmp_path):
    docs = round_trip(messy, tmp_path, include_archived=False)
    assert set(docs) == set(MANIFEST_KINDS)
    prices = docs["prices"]
    assert prices["ent-seats"]["tiers"][-1]["up_to"] == "inf"  # graduated, with options
    assert set(prices["pro-monthly"]["currency_options"]) == {"eur", "gbp", "jpy"}
    assert prices["donation-usd-custom-once"]["custom_unit_amount"]["preset"] == 2500
    assert prices["api-calls"]["recurring"]["meter"] == "api-call"
    # exact duplicates become two entries, and adopt one object each
    assert prices["gift-card-usd-2500-once"] == prices["gift-card-usd-2500-once-2"]
    assert {c.get("duration", "once") for c in docs["coupons"].values()} == {
        "once", "forever", "repeating"}
    assert docs["coupons"]["pro-only-20"]["applies_to"] == {"products": ["pro", "enterprise"]}
    # readable keys: generated product ids give way to names; collisions in creation order
    assert docs["products"]["pro-2"]["id"].startswith("prod_")
    assert docs["shipping_rates"]["standard"]["fixed_amount"]["currency"] == "usd"
    assert docs["shipping_rates"]["standard-2"]["fixed_amount"]["currency"] == "eur"
    assert docs["webhook_endpoints"]["old-example-net-hook"]["disabled"] is True
    # only what is current, plus what current objects point at (kept archived)
    assert docs["products"]["retired-add-on"]["active"] is False
    assert docs["features"]["legacy-reports"]["active"] is False
    assert "legacy-reports" in docs["products"]["pro"]["features"]
    assert not any(e.get("active") is False for k, entries in docs.items() for e in
                   entries.values() if k not in ("products", "features"))
    assert "secret" not in json.dumps(docs)


def test_round_trip_with_archived_objects(messy, tmp_path):
    docs = round_trip(messy, tmp_path, include_archived=True)
    archived = sorted(f"{kind}.{key}" for kind, entries in docs.items()
                      for key, entry in entries.items() if entry.get("active") is False)
    assert archived == [
        "features.beta-ai", "features.legacy-reports",
        "prices.enterprise-usd-25000-week", "prices.legacy-basic-usd-5000-year",
        "prices.pro-usd-1900-month", "prices.sunset-plan-usd-100-month",
        "prices.team-old-usd-4900-month",
        "products.retired-add-on", "products.sunset-plan", "products.team-old",
        "promotion_codes.partner", "promotion_codes.proteam",
        "shipping_rates.overnight", "tax_rates.gst-10"]
    # adopted as they are: tagged, still archived, nothing re-created
    stored = [o["object"] for b in messy.state()["accounts"].values()
              for table in b["objects"].values() for o in table.values()]
    keys = {(o.get("metadata") or {}).get(OWNER_KEY): o for o in stored}
    for address in archived:
        obj = keys[address.split(".", 1)[1]]
        assert obj["active"] is False, address


@pytest.mark.slow
def test_round_trip_through_the_cli(tmp_path):
    state = tmp_path / "state.json"
    messy_state(state)
    out, again = tmp_path / "catalog", tmp_path / "again"

    exported = cli("export", "-o", str(out), state=state)
    assert exported.exit_code == 0, shown(exported)
    assert "wrote" in exported.stderr
    checked = cli("validate", str(out), state=state)
    assert checked.exit_code == 0, shown(checked)
    assert checked.stdout.startswith("valid:") and not checked.stderr, shown(checked)

    planned = cli("plan", str(out), "--adopt", "--format", "json", "--detailed-exitcode",
                  state=state)
    assert planned.exit_code == 2, shown(planned)
    plan = json.loads(planned.stdout)
    assert {c["action"] for c in plan["changes"]} == {"adopt"}, plan["summary"]
    assert plan["summary"]["adopt"] == len(plan["changes"]) > 80
    text = cli("plan", str(out), "--adopt", state=state)
    assert "0 to create, 0 to update, 0 to replace, 0 to archive/delete" in text.stdout, \
        shown(text)

    applied = cli("apply", str(out), "--adopt", "--auto-approve", state=state)
    assert applied.exit_code == 0, shown(applied)
    empty = cli("plan", str(out), "--detailed-exitcode", state=state)
    assert empty.exit_code == 0, shown(empty)
    assert cli("export", "-o", str(again), state=state).exit_code == 0
    assert same_tree(out, again) == []


def test_export_of_some_kinds_brings_what_they_reference(messy, tmp_path):
    out = tmp_path / "prices-only"
    written = run(messy, lambda c: export(c, out, kinds=["prices"]))
    assert sorted(p.name for p in written) == ["meters.yaml", "prices.yaml", "products.yaml"]
    load_checked(out)
    docs = exported_entries(out)
    assert "features" not in docs["products"]["pro"]  # not exported: not stated, not detached
    plan = run(messy, lambda c: make_plan(load_checked(out), c, PlanOptions(adopt=True)))
    assert_only_adoption(plan, docs)
