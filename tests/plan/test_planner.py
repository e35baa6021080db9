"""The planner against the emulator: identity, ownership, actions, replacement, guards."""

from __future__ import annotations

import textwrap

import pytest
from catalogs import CALLS_METER, PRO_MONTHLY

from reconciler.apply import apply
from reconciler.emulator import Emulator
from reconciler.manifests import load_valid
from reconciler.ownership import is_control
from reconciler.plan import Action, PlanError, PlanOptions, make_plan
from reconciler.render import text

BASE = """
features:
  sso: {name: SSO, lookup_key: sso}
meters:
""" + CALLS_METER + """products:
  pro:
    name: Pro
    features: [sso]
    default_price: pro-monthly
prices:
""" + PRO_MONTHLY + """    lookup_key: pro_monthly
    nickname: Pro monthly
    metadata: {team: growth}
coupons:
  spring:
    percent_off: 10
    duration: once
promotion_codes:
  spring-code:
    code: SPRING
    promotion: {type: coupon, coupon: spring}
tax_rates:
  vat:
    display_name: VAT
    percentage: 20
    inclusive: false
webhook_endpoints:
  hooks:
    url: https://example.com/hooks
    enabled_events: [invoice.paid]
    api_version: 2026-10-28.endive
"""


def manifest(tmp_path, text, name="catalog.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_valid([path])


def plan(stripe, m, **options):
    return stripe(lambda c: make_plan(m, c, PlanOptions(**options)))


def converge(stripe, m, **options):
    """Plan and apply; the applied plan, after checking that a new plan is empty."""
    p = plan(stripe, m, **options)
    result = stripe(lambda c: apply(p, c))
    assert result.ok, [(c.address, str(e)) for c, e in result.failed]
    again = plan(stripe, m, **options)
    assert not again.has_changes, [(c.address, c.diffs) for c in again.pending]
    return p


def by_address(p):
    return {c.address: c for c in p.pending}


def live(stripe, path, **params):
    """The catalog objects at ``path``; the tool's control products (ownership records)
    are left out, as every reader of the account leaves them."""
    async def read(c):
        return [o async for o in c.list_all(path, params) if not is_control(o)]
    return stripe(read)


def test_everything_is_created_in_dependency_order_then_nothing_changes(stripe, tmp_path):
    p = converge(stripe, manifest(tmp_path, BASE))
    order = [c.address for c in p.pending]
    assert order.index("features.sso") < order.index("products.pro")
    assert order.index("products.pro") < order.index("prices.pro-monthly")
    assert order.index("prices.pro-monthly") < order.index("product_features.pro/sso")
    assert order.index("coupons.spring") < order.index("promotion_codes.spring-code")
    assert {c.action for c in p.pending} == {Action.CREATE}
    product = live(stripe, "/v1/products")[0]
    price = live(stripe, "/v1/prices")[0]
    assert product["default_price"] == price["id"]
    assert product["metadata"] == {"reconciler_stack": "default", "reconciler_key": "pro"}


def test_update_in_place_names_only_the_changed_field(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    changed = manifest(tmp_path, BASE.replace("nickname: Pro monthly", "nickname: Pro (monthly)"))
    p = plan(stripe, changed)
    assert [(c.address, c.action) for c in p.pending] == [("prices.pro-monthly", Action.UPDATE)]
    (diff,) = p.pending[0].diffs
    assert (diff.path, diff.old, diff.new, diff.forces_replacement) == (
        "nickname", "Pro monthly", "Pro (monthly)", False)
    assert p.pending[0].steps[0].params == {"nickname": "Pro (monthly)"}
    converge(stripe, changed)


def test_metadata_key_removed_from_manifest_is_removed(stripe, tmp_path):
    """An entry that states metadata manages the whole map."""
    two = BASE.replace("metadata: {team: growth}", "metadata: {team: growth, tier: pro}")
    converge(stripe, manifest(tmp_path, two))
    changed = manifest(tmp_path, BASE.replace("metadata: {team: growth}", "metadata: {tier: pro}"))
    p = plan(stripe, changed)
    (change,) = p.pending
    assert [(d.path, d.old, d.new) for d in change.diffs] == [("metadata.team", "growth", None)]
    assert change.steps[0].params == {"metadata": {"team": ""}}
    converge(stripe, changed)
    assert "team" not in live(stripe, "/v1/prices")[0]["metadata"]
    empty = manifest(tmp_path, BASE.replace("metadata: {team: growth}", "metadata: {}"))
    (change,) = plan(stripe, empty).pending
    assert [(d.path, d.old, d.new) for d in change.diffs] == [("metadata.tier", "pro", None)]


def test_metadata_an_entry_does_not_state_is_left_to_other_systems(stripe, tmp_path):
    """Diffs compare only what the manifest states: without `metadata`, the keys another
    system sets stay, and only the tool's own tags are managed."""
    converge(stripe, manifest(tmp_path, BASE))
    (price,) = live(stripe, "/v1/prices")
    stripe(lambda c: c.update("/v1/products", "pro", {"metadata": {"crm_id": "42"}}))
    stripe(lambda c: c.update("/v1/prices", price["id"], {"metadata": {"sync": "ok"}}))
    unstated = BASE.replace("    metadata: {team: growth}\n", "")
    assert not plan(stripe, manifest(tmp_path, unstated)).has_changes
    assert live(stripe, "/v1/products")[0]["metadata"]["crm_id"] == "42"
    assert {"team": "growth", "sync": "ok"}.items() <= live(stripe, "/v1/prices")[0][
        "metadata"].items()
    guarded = unstated.replace("  pro:\n    name: Pro\n",
                               "  pro:\n    name: Pro\n    prevent_destroy: true\n")
    (tagging,) = plan(stripe, manifest(tmp_path, guarded)).pending
    assert [(d.path, d.old, d.new) for d in tagging.diffs] == [
        ("metadata.reconciler_prevent_destroy", None, "true")]
    converge(stripe, manifest(tmp_path, guarded))
    (untagging,) = plan(stripe, manifest(tmp_path, unstated)).pending
    assert [(d.path, d.old, d.new) for d in untagging.diffs] == [
        ("metadata.reconciler_prevent_destroy", "true", None)]


def test_price_amount_change_replaces_and_moves_lookup_key_and_default(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    old = live(stripe, "/v1/prices")[0]
    changed = manifest(tmp_path, BASE.replace("unit_amount: 1500", "unit_amount: 1800"))
    p = plan(stripe, changed)
    (change,) = p.pending
    assert change.action is Action.REPLACE and change.actions == ("create", "delete")
    assert [(d.path, d.forces_replacement) for d in change.diffs] == [("unit_amount", True)]
    assert [s.note for s in change.steps] == [
        "create price", "make it the default price of products.pro",
        f"archive price {old['id']}"]
    assert change.steps[0].params["transfer_lookup_key"] is True
    converge(stripe, changed)
    (new,) = live(stripe, "/v1/prices")
    assert new["id"] != old["id"] and new["lookup_key"] == "pro_monthly"
    assert live(stripe, "/v1/products")[0]["default_price"] == new["id"]
    (archived,) = live(stripe, "/v1/prices", active="false")
    assert archived["id"] == old["id"] and archived["lookup_key"] is None


def test_coupon_change_deletes_and_recreates_under_the_same_id(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    changed = manifest(tmp_path, BASE.replace("percent_off: 10", "percent_off: 15"))
    p = plan(stripe, changed)
    kinds = {c.address: c for c in p.pending}
    coupon = kinds["coupons.spring"]
    assert coupon.action is Action.REPLACE and coupon.actions == ("delete", "create")
    assert [s.method for s in coupon.steps] == ["DELETE", "POST"]
    # the promotion code belongs to the deleted coupon: it is re-created too, and says why
    code = kinds["promotion_codes.spring-code"]
    assert code.action is Action.REPLACE
    assert _forcing(code) == [("promotion.coupon", "spring", {"$ref": "coupons.spring"})]
    assert code.note.startswith("coupons.spring is replaced: deleted, then created again under "
                                "the same id; this promotion code went out of use with the "
                                "deleted one, so it is re-created")
    converge(stripe, changed)
    (coupon_live,) = live(stripe, "/v1/coupons")
    assert coupon_live["id"] == "spring" and coupon_live["percent_off"] == 15


def _forcing(change):
    return [(d.path, d.old, d.new) for d in change.diffs if d.forces_replacement]


def test_coupon_deleted_outside_reconciler_comes_back_with_new_promotion_codes(stripe, tmp_path):
    """Stripe takes a deleted coupon's promotion codes out of use for good ("a promotion code
    is only active if the coupon is also valid", and only a code whose coupon is still valid
    can be reactivated), so the re-created coupon gets new ones. The plan says why, and
    archives the old code first, which frees its code string."""
    m = manifest(tmp_path, BASE)
    converge(stripe, m)
    (old,) = live(stripe, "/v1/promotion_codes")
    stripe(lambda c: c.request("DELETE", "/v1/coupons/spring"))
    (deactivated,) = live(stripe, "/v1/promotion_codes")
    assert deactivated["active"] is False  # with its coupon, as Stripe does

    p = plan(stripe, m)
    kinds = by_address(p)
    assert set(kinds) == {"coupons.spring", "promotion_codes.spring-code"}
    assert kinds["coupons.spring"].action is Action.CREATE
    code = kinds["promotion_codes.spring-code"]
    assert (code.action, code.actions, code.live_id) == (Action.REPLACE, ("delete", "create"),
                                                         old["id"])
    assert _forcing(code) == [("promotion.coupon", "spring", {"$ref": "coupons.spring"})]
    why = ("coupons.spring was deleted outside reconciler and comes back under the same id as a "
           "new coupon; this promotion code went out of use with the deleted one, so it is "
           "re-created once the old one is archived, which frees its code 'SPRING'")
    assert code.note == why
    assert [s.note for s in code.steps] == [f"archive promotion_code {old['id']}",
                                            "create promotion_code"]
    shown = text.render(p)
    assert f"promotion_codes.spring-code ({old['id']})   # {why}" in shown

    converge(stripe, m)
    codes = {c["id"]: c for c in live(stripe, "/v1/promotion_codes")}
    (new,) = [c for c in codes.values() if c["active"]]
    assert (new["code"], new["promotion"]["coupon"]) == ("SPRING", "spring")
    assert codes[old["id"]]["active"] is False
    assert [c["id"] for c in live(stripe, "/v1/coupons")] == ["spring"]


class _Crash(Exception):
    pass


def _ticking() -> Emulator:
    """An emulator whose clock moves a second per request: no two objects share ``created``."""
    now = [1_800_000_000.0]

    def clock() -> float:
        now[0] += 1
        return now[0]
    return Emulator(wall_clock=clock)


def _frozen() -> Emulator:
    """An emulator whose clock stands still: every object has the same ``created``."""
    return Emulator(wall_clock=lambda: 1_800_000_000.0)


@pytest.mark.parametrize("emulator", [_frozen(), _ticking()], ids=["same-second", "seconds-apart"])
def test_promotion_code_of_a_coupon_already_recreated_is_recreated_not_reactivated(
        stripe, tmp_path):
    """An apply cut short after replacing a coupon (deleted, then created again under its id)
    leaves its promotion code inactive and bound to the deleted coupon, which Stripe will not
    reactivate. The next plan keeps the coupon and re-creates the code, saying why: the code
    embeds its own coupon, which is not the one now live (a later ``created``, or, within
    one second, a deleted coupon is no longer ``valid``)."""
    converge(stripe, manifest(tmp_path, BASE))
    (old,) = live(stripe, "/v1/promotion_codes")
    changed = manifest(tmp_path, BASE.replace("percent_off: 10", "percent_off: 15"))

    def crash_before_the_code(event, change, detail):
        if event == "start" and change.kind == "promotion_codes":
            raise _Crash

    first = plan(stripe, changed)
    with pytest.raises(_Crash):
        stripe(lambda c: apply(first, c, on_event=crash_before_the_code))
    (coupon,) = live(stripe, "/v1/coupons")
    assert coupon["percent_off"] == 15
    (code,) = live(stripe, "/v1/promotion_codes")
    assert code["active"] is False and code["promotion"]["coupon"] == "spring"

    p = plan(stripe, changed)
    (change,) = p.pending
    assert (change.address, change.action, change.live_id) == (
        "promotion_codes.spring-code", Action.REPLACE, old["id"])
    assert [(d.path, d.old, d.new, d.forces_replacement) for d in change.diffs] == [
        ("active", False, True, False), ("promotion.coupon", "spring", "spring", True)]
    assert change.note == (
        "the coupon 'spring' it was made for was deleted; the coupon now under that id is "
        "another one; this promotion code went out of use with the deleted one, so it is "
        "re-created once the old one is archived, which frees its code 'SPRING'")
    assert f"# {change.note}" in text.render(p)
    converge(stripe, changed)
    codes = {c["id"]: c for c in live(stripe, "/v1/promotion_codes")}
    (new,) = [c for c in codes.values() if c["active"]]
    assert new["code"] == "SPRING" and codes[old["id"]]["active"] is False


@pytest.mark.parametrize("emulator", [_frozen(), _ticking()], ids=["same-second", "seconds-apart"])
def test_promotion_code_deactivated_by_hand_is_reactivated(stripe, tmp_path):
    """A code whose own coupon is live comes back in place: only a code of a deleted coupon
    is re-created."""
    m = manifest(tmp_path, BASE)
    converge(stripe, m)
    (code,) = live(stripe, "/v1/promotion_codes")
    stripe(lambda c: c.update("/v1/promotion_codes", code["id"], {"active": False}))
    (change,) = plan(stripe, m).pending
    assert (change.action, [(d.path, d.old, d.new) for d in change.diffs]) == (
        Action.UPDATE, [("active", False, True)])
    converge(stripe, m)
    assert [c["id"] for c in live(stripe, "/v1/promotion_codes", active="true")] == [code["id"]]


def test_webhook_api_version_change_recreates_with_a_warning(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    changed = manifest(tmp_path, BASE.replace("2026-10-28.endive", "2025-09-30.clover"))
    p = plan(stripe, changed)
    (change,) = p.pending
    assert change.action is Action.REPLACE and change.actions == ("create", "delete")
    assert any("NEW signing secret" in w for w in p.warnings)
    converge(stripe, changed)


def test_webhook_connect_change_recreates_by_the_tag_recorded_at_create(stripe, tmp_path):
    """Stripe never shows ``connect``: the create records it in a tag, and a change to it
    re-creates the endpoint (new signing secret) instead of planning nothing."""
    converge(stripe, manifest(tmp_path, BASE))
    (hook,) = live(stripe, "/v1/webhook_endpoints")
    assert hook["metadata"]["reconciler_connect"] == "false"
    connect = BASE.replace("enabled_events: [invoice.paid]",
                           "enabled_events: [invoice.paid]\n    connect: true")
    p = plan(stripe, manifest(tmp_path, connect))
    (change,) = p.pending
    assert (change.address, change.action) == ("webhook_endpoints.hooks", Action.REPLACE)
    assert [(d.path, d.old, d.new, d.forces_replacement) for d in change.diffs] == [
        ("connect", False, True, True)]
    assert change.steps[0].params["metadata"]["reconciler_connect"] == "true"
    assert any("NEW signing secret" in w for w in p.warnings)
    converge(stripe, manifest(tmp_path, connect))
    (hook,) = live(stripe, "/v1/webhook_endpoints")
    assert hook["metadata"]["reconciler_connect"] == "true"
    # a manifest that leaves connect out does not compare it; one that states false does
    assert not plan(stripe, manifest(tmp_path, BASE)).has_changes
    back = connect.replace("connect: true", "connect: false")
    assert [d.path for d in plan(stripe, manifest(tmp_path, back)).pending[0].diffs] == [
        "connect"]


def test_webhook_connect_of_an_endpoint_reconciler_did_not_create_is_not_guessed(
        stripe, tmp_path):
    stripe(lambda c: c.create("/v1/webhook_endpoints", {
        "url": "https://example.com/hooks", "enabled_events": ["invoice.paid"],
        "api_version": "2026-10-28.endive", "connect": True}))
    hooks = ("webhook_endpoints:\n  hooks:\n    url: https://example.com/hooks\n"
             "    enabled_events: [invoice.paid]\n    api_version: 2026-10-28.endive\n")
    stated = hooks + "    connect: true\n"
    p = plan(stripe, manifest(tmp_path, stated), adopt=True)
    (change,) = p.pending
    assert change.action is Action.ADOPT
    assert "connect" not in [d.path for d in change.diffs]
    (warning,) = p.warnings
    assert warning.startswith("webhook_endpoints.hooks: connect cannot be verified: Stripe "
                              "does not show it, and we_")
    assert "'reconciler_connect' tag" in warning
    converge(stripe, manifest(tmp_path, stated), adopt=True)
    assert plan(stripe, manifest(tmp_path, stated)).warnings == p.warnings
    assert not plan(stripe, manifest(tmp_path, hooks)).warnings  # connect not stated
    ignoring = stated + "    ignore_changes: [connect]\n"
    assert not plan(stripe, manifest(tmp_path, ignoring)).warnings


def test_tax_rate_percentage_change_creates_new_and_archives_old(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    changed = manifest(tmp_path, BASE.replace("percentage: 20", "percentage: 21"))
    (change,) = plan(stripe, changed).pending
    assert change.action is Action.REPLACE
    assert [s.note.split()[0] for s in change.steps] == ["create", "archive"]
    converge(stripe, changed)
    rates = live(stripe, "/v1/tax_rates")
    assert sorted((r["percentage"], r["active"]) for r in rates) == [(20, False), (21, True)]


def test_meter_replacement_is_refused_unless_forced(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    changed = manifest(tmp_path, BASE.replace("formula: sum", "formula: count"))
    with pytest.raises(PlanError) as err:
        plan(stripe, changed)
    assert "meters.calls: cannot change default_aggregation.formula" in str(err.value)
    assert "event names" in str(err.value)
    forced = plan(stripe, changed, force=True)
    (change,) = forced.pending
    assert change.action is Action.REPLACE
    assert change.steps[0].path.endswith("/deactivate")


def test_meter_event_name_change_is_refused_naming_the_meter_it_left_behind(stripe, tmp_path):
    """Meters carry no tags and match by event name: a new event name finds nothing. The
    display name finds the meter the old name may have left behind, only to say so: the plan
    refuses, and --force creates the new meter and leaves the old one active."""
    converge(stripe, manifest(tmp_path, BASE))
    (old,) = live(stripe, "/v1/billing/meters")
    renamed = manifest(tmp_path, BASE.replace("event_name: api_call", "event_name: api_request"))
    with pytest.raises(PlanError) as err:
        plan(stripe, renamed)
    (problem,) = err.value.problems
    assert problem == (
        f"meters.calls: no live meter has event_name 'api_request', but {old['id']} has the "
        "display_name 'API calls' with event_name 'api_call'; a meter's event_name is "
        f"permanent: if {old['id']} is this entry's, put its event_name back, or deactivate "
        "it yourself and plan again; if it is another meter, give the entry another "
        f"display_name. --force creates the new meter and leaves {old['id']} active")
    forced = plan(stripe, renamed, force=True)
    (change,) = forced.pending
    assert (change.action, change.live_id) == (Action.CREATE, None)
    assert [s.note for s in change.steps] == ["create billing.meter"]
    assert any(w.startswith("meters.calls: ") and f"{old['id']} stays active" in w
               and "deactivate it yourself" in w for w in forced.warnings)
    converge(stripe, renamed, force=True)
    meters = {m["event_name"]: m["status"] for m in live(stripe, "/v1/billing/meters")}
    assert meters == {"api_call": "active", "api_request": "active"}


def test_meter_made_by_hand_with_a_new_entrys_display_name_is_never_deactivated(
        stripe, tmp_path):
    """A display name is no ownership: a hand-made meter that shares it (one live meter, or
    one left active when another is deactivated) is named, never deactivated, even forced."""
    for event in ("made_elsewhere", "made_by_hand"):
        stripe(lambda c, e=event: c.create("/v1/billing/meters", {
            "display_name": "API calls", "event_name": e,
            "default_aggregation": {"formula": "sum"}}))
    m = manifest(tmp_path, BASE)
    assert by_address(plan(stripe, m))["meters.calls"].action is Action.CREATE
    first, second = live(stripe, "/v1/billing/meters")
    stripe(lambda c: c.request("POST", f"/v1/billing/meters/{first['id']}/deactivate"))
    with pytest.raises(PlanError) as err:
        plan(stripe, m)
    assert f"but {second['id']} has the display_name 'API calls'" in str(err.value)
    forced = by_address(plan(stripe, m, force=True))
    assert [c.action for c in forced.values()] == [Action.CREATE] * len(forced)
    converge(stripe, m, force=True)
    meters = {m["event_name"]: m["status"] for m in live(stripe, "/v1/billing/meters")}
    assert meters == {first["event_name"]: "inactive", second["event_name"]: "active",
                      "api_call": "active"}


def test_unmanaged_object_on_a_natural_key_is_a_conflict_unless_adopted(stripe, tmp_path):
    stripe(lambda c: c.create("/v1/products", {"id": "pro", "name": "Pro (dashboard)"}))
    m = manifest(tmp_path, BASE)
    with pytest.raises(PlanError) as err:
        plan(stripe, m)
    assert ("products.pro: id 'pro' is held by pro, which reconciler does not manage; "
            "adopt it with --adopt") in str(err.value)
    p = plan(stripe, m, adopt=True)
    adopt = by_address(p)["products.pro"]
    assert adopt.action is Action.ADOPT
    assert {d.path for d in adopt.diffs} >= {"name", "metadata.reconciler_key"}
    converge(stripe, m, adopt=True)
    assert plan(stripe, m).has_changes is False


UNMANAGED = {  # a new entry, and the same object made elsewhere (no ownership tags)
    "prices.pro-yearly": (
        ("prices:\n  pro-yearly: {product: pro, currency: usd, unit_amount: 15000,"
        " recurring: {interval: year}, lookup_key: pro_yearly}\n"),
        "/v1/prices", {"product": "pro", "currency": "usd", "unit_amount": 15000,
                       "recurring": {"interval": "year"}, "lookup_key": "pro_yearly"},
        "lookup_key 'pro_yearly'"),
    "features.audit": (
        "features:\n  audit: {name: Audit log, lookup_key: audit}\n",
        "/v1/entitlements/features", {"name": "Audit log", "lookup_key": "audit"},
        "lookup_key 'audit'"),
    "promotion_codes.summer-code": (
        ("promotion_codes:\n  summer-code:\n"
        "    {code: SUMMER, promotion: {type: coupon, coupon: spring}}\n"),
        "/v1/promotion_codes", {"code": "summer", "promotion": {"type": "coupon",
                                                               "coupon": "spring"}},
        "code 'SUMMER'"),
    "coupons.summer": (
        "coupons:\n  summer: {percent_off: 5, duration: once}\n",
        "/v1/coupons", {"id": "summer", "percent_off": 5, "duration": "once"},
        "id 'summer'"),
}


@pytest.mark.parametrize("address", sorted(UNMANAGED))
def test_a_new_entry_whose_natural_key_is_held_by_an_unmanaged_object(stripe, tmp_path,
                                                                       address):
    """Each natural key an entry can collide on: the plan fails naming the entry and the
    object; --adopt adopts the object instead of creating a second one."""
    extra, path, params, what = UNMANAGED[address]
    converge(stripe, manifest(tmp_path, BASE))
    made = stripe(lambda c: c.create(path, params))
    (tmp_path / "extra.yaml").write_text(extra)
    both = load_valid([tmp_path / "catalog.yaml", tmp_path / "extra.yaml"])
    with pytest.raises(PlanError) as err:
        plan(stripe, both)
    assert err.value.problems == [
        (f"{address}: {what} is held by {made['id']}, which reconciler does not manage; adopt "
        "it with --adopt (or `reconciler import`), or change the manifest")]
    (adopt,) = plan(stripe, both, adopt=True).pending
    assert (adopt.address, adopt.action, adopt.live_id) == (address, Action.ADOPT, made["id"])
    assert adopt.note == f"matched by {what}"
    converge(stripe, both, adopt=True)
    assert not plan(stripe, both).has_changes
    key = address.split(".", 1)[1]
    tagged = [o["id"] for o in live(stripe, path) if o["metadata"].get("reconciler_key") == key]
    assert tagged == [made["id"]]  # adopted, and no second object created


def test_object_owned_by_another_stack_is_never_taken(stripe, tmp_path):
    m = manifest(tmp_path, "coupons:\n  spring: {percent_off: 10}\n")
    converge(stripe, m, stack="billing")
    with pytest.raises(PlanError) as err:
        plan(stripe, m, stack="growth", adopt=True)
    assert "managed by stack 'billing'" in str(err.value)


def test_prune_is_opt_in_and_only_touches_this_stack(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    stripe(lambda c: c.create("/v1/tax_rates", {"display_name": "Manual", "percentage": 5,
                                                "inclusive": False}))
    smaller = manifest(tmp_path, BASE.split("tax_rates:")[0])
    p = plan(stripe, smaller)
    assert not p.has_changes  # the kinds that left the manifests are read only with --prune
    pruned = plan(stripe, smaller, prune=True)
    actions = {c.address: c.action for c in pruned.pending}
    assert actions == {"webhook_endpoints.hooks": Action.DELETE,
                       "tax_rates.vat": Action.ARCHIVE}
    converge(stripe, smaller, prune=True)
    rates = {r["display_name"]: r["active"] for r in live(stripe, "/v1/tax_rates")}
    assert rates == {"VAT": False, "Manual": True}


def test_products_with_prices_are_archived_not_deleted(stripe, tmp_path):
    extra = BASE.replace("products:\n", "products:\n  lonely: {name: Lonely}\n")
    converge(stripe, manifest(tmp_path, extra))
    no_products = manifest(tmp_path, "features:\n  sso: {name: SSO, lookup_key: sso}\n")
    p = plan(stripe, no_products, prune=True, force=True)
    actions = {c.address: c.action for c in p.pending}
    assert actions["products.lonely"] is Action.DELETE
    assert actions["products.pro"] is Action.ARCHIVE
    order = [c.address for c in p.pending]
    assert order.index("promotion_codes.spring-code") < order.index("coupons.spring")
    converge(stripe, no_products, prune=True, force=True)


def test_pruning_a_product_archives_its_default_price(stripe, tmp_path):
    """Stripe refuses to archive a product's default price, so the pruned product's default
    is unset first; left active, the price stayed tagged and a re-plan saw nothing to do."""
    converge(stripe, manifest(tmp_path, BASE))
    only_features = manifest(tmp_path, "features:\n  sso: {name: SSO, lookup_key: sso}\n")
    p = plan(stripe, only_features, prune=True, force=True)
    (price,) = live(stripe, "/v1/prices")
    archive = by_address(p)["prices.pro-monthly"]
    assert archive.action is Action.ARCHIVE
    assert [(s.path, s.params) for s in archive.steps] == [
        ("/v1/products/pro", {"default_price": ""}),
        (f"/v1/prices/{price['id']}", {"active": False})]
    assert "> unset the default price of pro, which is pruned" in text.render(p)
    order = [c.address for c in p.pending]
    assert order.index("prices.pro-monthly") < order.index("products.pro")
    converge(stripe, only_features, prune=True, force=True)
    assert live(stripe, "/v1/prices", active="false")[0]["active"] is False


def test_prune_archives_the_default_price_of_an_archived_product(stripe, tmp_path):
    """What an earlier prune left (the product archived, its default price active) is
    finished by the next one."""
    converge(stripe, manifest(tmp_path, BASE))
    stripe(lambda c: c.update("/v1/products", "pro", {"active": False}))
    only_features = manifest(tmp_path, "features:\n  sso: {name: SSO, lookup_key: sso}\n")
    p = plan(stripe, only_features, prune=True, force=True)
    assert by_address(p)["prices.pro-monthly"].steps[0].params == {"default_price": ""}
    assert "products.pro" not in by_address(p)
    converge(stripe, only_features, prune=True, force=True)


def test_prevent_destroy_refuses_a_replacement(stripe, tmp_path):
    guarded = BASE.replace("    lookup_key: pro_monthly\n",
                           "    lookup_key: pro_monthly\n    prevent_destroy: true\n")
    converge(stripe, manifest(tmp_path, guarded))
    with pytest.raises(PlanError) as err:
        plan(stripe, manifest(tmp_path, guarded.replace("unit_amount: 1500", "unit_amount: 9")))
    assert "prices.pro-monthly: changing unit_amount would replace" in str(err.value)
    assert "prevent_destroy" in str(err.value)


def test_prevent_destroy_outlives_the_entry_and_refuses_its_removal(stripe, tmp_path):
    """The option is tagged on the object, so deleting the entry and pruning cannot remove
    it: the option is taken off (and applied) first, then the entry goes."""
    guarded = BASE.replace("    inclusive: false\n",
                           "    inclusive: false\n    prevent_destroy: true\n")
    adding = plan(stripe, manifest(tmp_path, guarded))
    assert by_address(adding)["tax_rates.vat"].steps[0].params["metadata"][
        "reconciler_prevent_destroy"] == "true"
    converge(stripe, manifest(tmp_path, guarded))
    without_vat = manifest(tmp_path, BASE.split("tax_rates:")[0] + BASE.split("false\n")[1])
    assert not plan(stripe, without_vat).has_changes  # not pruning: nothing to refuse
    with pytest.raises(PlanError) as err:
        plan(stripe, without_vat, prune=True)
    (rate,) = live(stripe, "/v1/tax_rates")
    assert err.value.problems == [
        (f"tax_rates.vat: cannot remove {rate['id']}: it was applied with prevent_destroy "
        "(metadata reconciler_prevent_destroy); to remove it, put the entry back without "
        "prevent_destroy and apply, then delete it")]
    (release,) = plan(stripe, manifest(tmp_path, BASE)).pending
    assert [(d.path, d.old, d.new) for d in release.diffs] == [
        ("metadata.reconciler_prevent_destroy", "true", None)]
    converge(stripe, manifest(tmp_path, BASE))
    (removal,) = plan(stripe, without_vat, prune=True).pending
    assert (removal.address, removal.action) == ("tax_rates.vat", Action.ARCHIVE)
    # an object applied before the option existed on it is tagged by the next plan
    (tagging,) = plan(stripe, manifest(tmp_path, guarded)).pending
    assert [(d.path, d.old, d.new) for d in tagging.diffs] == [
        ("metadata.reconciler_prevent_destroy", None, "true")]


def test_ignore_changes_leaves_a_field_to_others(stripe, tmp_path):
    ignoring = BASE.replace("    nickname: Pro monthly\n",
                            "    nickname: Pro monthly\n    ignore_changes: [nickname]\n")
    converge(stripe, manifest(tmp_path, ignoring))
    price = live(stripe, "/v1/prices")[0]
    stripe(lambda c: c.update("/v1/prices", price["id"], {"nickname": "set elsewhere"}))
    assert not plan(stripe, manifest(tmp_path, ignoring)).has_changes
    assert plan(stripe, manifest(tmp_path, BASE)).has_changes


def test_bulk_guard(stripe, tmp_path):
    rates = "tax_rates:\n" + "".join(
        f"  r{i}: {{display_name: R{i}, percentage: {i + 1}, inclusive: false}}\n"
        for i in range(10))
    converge(stripe, manifest(tmp_path, rates))
    fewer = manifest(tmp_path, "tax_rates:\n" + "".join(rates.splitlines(True)[1:7]))
    with pytest.raises(PlanError) as err:
        plan(stripe, fewer, prune=True)
    assert ("tax_rates: the plan would archive, delete or replace 4 of 10 managed objects "
            "(40%, more than the 30% allowed)") in str(err.value)
    assert len(plan(stripe, fewer, prune=True, force=True).pending) == 4
    assert len(plan(stripe, fewer, prune=True, bulk_threshold=0.5).pending) == 4


def test_prune_of_everything_the_stack_owns_needs_force(stripe, tmp_path):
    """Below the bulk guard's minimum per kind, a prune that keeps nothing is still refused."""
    converge(stripe, manifest(tmp_path, BASE))
    nothing = manifest(tmp_path, "products: {}\n")
    with pytest.raises(PlanError) as err:
        plan(stripe, nothing, prune=True)
    removals = plan(stripe, nothing, prune=True, force=True).pending
    kinds = len({c.kind for c in removals})
    assert err.value.problems == [
        f"the plan would remove {len(removals)} objects of stack 'default' (in {kinds} kinds) "
        "and keep none: no manifest entry matches an object the stack has; check the manifest "
        "paths (and --stack), or pass --force"]
    assert len(removals) > 3 and all(c.action.removes for c in removals)
    features_only = manifest(tmp_path, BASE.split("meters:")[0])
    assert plan(stripe, features_only, prune=True).pending  # something is kept: no refusal


def test_archived_managed_object_is_reactivated(stripe, tmp_path):
    m = manifest(tmp_path, BASE)
    converge(stripe, m)
    stripe(lambda c: c.update("/v1/products", "pro", {"active": False}))
    (change,) = plan(stripe, m).pending
    assert change.address == "products.pro" and change.action is Action.UPDATE
    assert [(d.path, d.old, d.new) for d in change.diffs] == [("active", False, True)]


def test_interrupted_replacement_is_finished_not_repeated(stripe, tmp_path):
    m = manifest(tmp_path, BASE)
    converge(stripe, m)
    old = live(stripe, "/v1/prices")[0]
    # a crash after the replacement price was created, before the old one was archived
    changed = manifest(tmp_path, BASE.replace("unit_amount: 1500", "unit_amount: 1800"))
    p = plan(stripe, changed)
    create = p.pending[0].steps[0]
    stripe(lambda c: c.create("/v1/prices", create.params))
    resumed = plan(stripe, changed)
    actions = {(c.address, c.action, c.live_id) for c in resumed.pending}
    assert ("prices.pro-monthly", Action.ARCHIVE, old["id"]) in actions
    assert not any(c.action is Action.CREATE for c in resumed.pending)
    converge(stripe, changed)
    assert len(live(stripe, "/v1/prices")) == 1


def _copy(stripe, path, obj, fields):
    """A second live object with ``obj``'s fields and tags: the copy is the newer one."""
    return stripe(lambda c: c.create(path, {f: obj[f] for f in (*fields, "metadata")}))


def test_a_tagged_copy_is_archived_and_the_original_kept(stripe, tmp_path):
    """Two objects tagged with one key and the same fields: the oldest is kept, and the
    removal of the copy says which one is kept and why."""
    converge(stripe, manifest(tmp_path, BASE))
    (original,) = live(stripe, "/v1/tax_rates")
    copy = _copy(stripe, "/v1/tax_rates", original, ("display_name", "percentage", "inclusive"))
    (change,) = plan(stripe, manifest(tmp_path, BASE)).pending
    assert (change.action, change.live_id) == (Action.ARCHIVE, copy["id"])
    assert change.note == f"a duplicate of {original['id']}, which is kept: the oldest"


def test_of_two_tagged_prices_the_products_default_is_kept(stripe, tmp_path):
    text = BASE.replace("    lookup_key: pro_monthly\n", "").replace(
        "    default_price: pro-monthly\n", "")
    converge(stripe, manifest(tmp_path, text))
    (first,) = live(stripe, "/v1/prices")
    second = _copy(stripe, "/v1/prices", first,
                   ("product", "currency", "unit_amount", "recurring", "nickname"))
    stripe(lambda c: c.update("/v1/products", "pro", {"default_price": second["id"]}))
    p = plan(stripe, manifest(tmp_path, text))
    archive = by_address(p)["prices.pro-monthly"]
    assert (archive.action, archive.live_id) == (Action.ARCHIVE, first["id"])
    assert archive.note.endswith("is kept: it is in use (another live object refers to it)")


@pytest.mark.parametrize("protect", ["entry", "tag"])
def test_a_protected_duplicate_is_not_archived(stripe, tmp_path, protect):
    """Twins are removed without --prune, but never one that prevent_destroy protects."""
    text = BASE.replace("    inclusive: false\n", "    inclusive: false\n"
                        "    prevent_destroy: true\n") if protect == "entry" else BASE
    converge(stripe, manifest(tmp_path, text))
    (original,) = live(stripe, "/v1/tax_rates")
    copy = _copy(stripe, "/v1/tax_rates", original, ("display_name", "percentage", "inclusive"))
    tag = "" if protect == "entry" else "true"  # the copy of a protected entry's is untagged
    stripe(lambda c: c.update("/v1/tax_rates", copy["id"], {
        "metadata": {"reconciler_prevent_destroy": tag}}))
    with pytest.raises(PlanError) as err:
        plan(stripe, manifest(tmp_path, text))
    (problem,) = err.value.problems
    assert problem.startswith(f"tax_rates.vat: cannot remove {copy['id']}, a duplicate of "
                              f"{original['id']}, which is kept: ")
    assert problem.split("; ")[1].startswith(
        "it was applied with prevent_destroy" if protect == "tag"
        else "the entry has prevent_destroy")


def test_feature_attachments_follow_the_product_list(stripe, tmp_path):
    converge(stripe, manifest(tmp_path, BASE))
    more = BASE.replace("features:\n  sso: {name: SSO, lookup_key: sso}\n",
                        "features:\n  sso: {name: SSO, lookup_key: sso}\n"
                        "  audit: {name: Audit log, lookup_key: audit}\n")
    swapped = more.replace("features: [sso]", "features: [audit]")
    p = plan(stripe, manifest(tmp_path, swapped))
    actions = {c.address: c.action for c in p.pending}
    assert actions == {"features.audit": Action.CREATE,
                       "product_features.pro/audit": Action.CREATE,
                       "product_features.pro/sso": Action.DELETE}
    converge(stripe, manifest(tmp_path, swapped))
    attached = live(stripe, "/v1/products/pro/features")
    assert [a["entitlement_feature"]["lookup_key"] for a in attached] == ["audit"]
