"""Acceptance: a saved plan that would create an object which now exists is refused.

The objects a saved plan creates did not exist when it was made. If one of them exists by the
time the plan is applied (the manifests were applied another way meanwhile, an object was made
by hand, or the plan itself was applied before on another runner, without its journal, after
Stripe forgot its idempotency keys), creating it again would leave two objects under one
ownership tag, or fail on a taken id after other objects were written. The plan is refused
before anything is written, naming each entry and the object now standing in its place.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest
from apply_helpers import (
    apply_plan,
    assert_exactly_once,
    call,
    census,
    client,
    example,
    forget_idempotency_keys,
    load,
    objects,
    plan_of,
    reconciler,
    show,
    write_count,
    write_manifest,
)
from catalogs import CALLS_METER, LOOKUP_KEY, PRO_MONTHLY, SPRING_CODE

from reconciler.apply import Journal, StalePlanError, apply, check_fresh
from reconciler.emulator import Emulator, serve_in_thread
from reconciler.plan import OWNER_KEY, OWNER_STACK, Change, Plan

REFUSED = "the account changed since the plan was made"


def _refusal(emu: Emulator, plan: Plan, exempt: frozenset[int] = frozenset()) -> str | None:
    async def work() -> str | None:
        async with client(emu) as c:
            try:
                await check_fresh(plan, c, exempt)
            except StalePlanError as exc:
                return str(exc)
            return None
    return asyncio.run(work())



# -- through the command line ------------------------------------------------------------------

@pytest.mark.slow
def test_stale_plan_of_creates_is_refused_when_the_manifests_were_applied_meanwhile(tmp_path):
    """`plan -o` on an empty account, then part of the manifests is applied another way:
    applying the saved plan would create the tax rates, shipping rates and webhook
    endpoints a second time under the same tags (and then fail on the taken product ids)."""
    emu = Emulator()
    part = tmp_path / "part"
    part.mkdir()
    for name in ("tax.yaml", "shipping.yaml", "checkout.yaml"):
        shutil.copy(example("shop") / name, part / name)
    with serve_in_thread(emu) as base:
        made = reconciler("plan", str(example("shop")), "-o", "plan.json", cwd=tmp_path,
                          base=base)
        assert made.returncode == 0, show(made)
        other = reconciler("apply", str(part), "--auto-approve", cwd=tmp_path, base=base)
        assert other.returncode == 0, show(other)
        before, writes = objects(emu), write_count(emu)
        proc = reconciler("apply", "plan.json", cwd=tmp_path, base=base)
    assert proc.returncode == 1, show(proc)
    assert REFUSED in proc.stderr and "Make a new plan." in proc.stderr
    tagged = [o for kind in ("tax_rate", "shipping_rate", "webhook_endpoint")
              for o in before[kind]]
    assert len(tagged) == 8
    for obj in tagged:
        address = f"{obj['object']}s.{obj['metadata'][OWNER_KEY]}"
        assert (f"{address} would be created, but {obj['id']} now carries its ownership tag "
                "(stack 'default')") in proc.stderr, show(proc)
    (config,) = [p for p in before["payment_method_configuration"] if not p["is_default"]]
    assert (f"payment_method_configurations.storefront would be created, but {config['id']} "
            "now holds its name 'Storefront checkout'") in proc.stderr
    assert "products." not in proc.stderr and "prices." not in proc.stderr  # still free
    assert write_count(emu) == writes, "a refused plan wrote something"
    assert objects(emu) == before


@pytest.mark.slow
def test_saved_plan_applied_again_without_its_journal_creates_nothing_twice(tmp_path):
    """CI applies the reviewed plan on one runner; a re-run on another runner downloads the
    same plan without the journal, a day later, when Stripe no longer replays the keys."""
    emu = Emulator()
    with serve_in_thread(emu) as base:
        made = reconciler("plan", str(example("shop")), "-o", "plan.json", cwd=tmp_path,
                          base=base)
        assert made.returncode == 0, show(made)
        first = reconciler("apply", "plan.json", cwd=tmp_path, base=base)
        assert first.returncode == 0, show(first)
        (tmp_path / "plan.json.journal").unlink()
        forget_idempotency_keys(emu)
        writes = write_count(emu)
        again = reconciler("apply", "plan.json", cwd=tmp_path, base=base)
    assert again.returncode == 1, show(again)
    assert REFUSED in again.stderr
    assert "products.mug would be created, but mug now carries its ownership tag" in again.stderr
    assert write_count(emu) == writes
    assert_exactly_once(emu, load(example("shop")))


# -- each rule the planner matches by --------------------------------------------------------

CATALOG = """
features:
  sso: {name: SSO, lookup_key: sso}
meters:
""" + CALLS_METER + """products:
  pro: {name: Pro}
prices:
""" + PRO_MONTHLY + LOOKUP_KEY + SPRING_CODE + """payment_method_configurations:
  checkout: {name: Checkout}
tax_rates:
  vat: {display_name: VAT, percentage: 20, inclusive: false}
"""


def _meanwhile(emu: Emulator, rule: str) -> tuple[str, str]:
    """Make, by hand, an object the plan's rules match to one entry the plan creates;
    returns (that entry's address, how the refusal names the object)."""
    if rule == "product id":
        made = call(emu, "POST", "/v1/products", {"id": "pro", "name": "By hand"})
        return "products.pro", f"{made['id']} now holds its id 'pro'"
    if rule == "coupon id":
        made = call(emu, "POST", "/v1/coupons", {"id": "spring", "percent_off": 5})
        return "coupons.spring", f"{made['id']} now holds its id 'spring'"
    if rule == "price lookup_key":
        product = call(emu, "POST", "/v1/products", {"name": "Other"})
        made = call(emu, "POST", "/v1/prices", {"product": product["id"], "currency": "usd",
                                                 "unit_amount": 900, "lookup_key": "pro_monthly"})
        return "prices.pro-monthly", f"{made['id']} now holds its lookup_key 'pro_monthly'"
    if rule == "archived price lookup_key":
        product = call(emu, "POST", "/v1/products", {"name": "Other"})
        made = call(emu, "POST", "/v1/prices", {"product": product["id"], "currency": "usd",
                                                 "unit_amount": 900, "lookup_key": "pro_monthly"})
        call(emu, "POST", f"/v1/prices/{made['id']}", {"active": False})
        return "prices.pro-monthly", f"{made['id']} now holds its lookup_key 'pro_monthly'"
    if rule == "feature lookup_key":
        made = call(emu, "POST", "/v1/entitlements/features",
                     {"name": "Single sign-on", "lookup_key": "sso"})
        return "features.sso", f"{made['id']} now holds its lookup_key 'sso'"
    if rule == "meter event_name":
        made = call(emu, "POST", "/v1/billing/meters", {
            "display_name": "Calls", "event_name": "api_call",
            "default_aggregation": {"formula": "count"}})
        return "meters.calls", f"{made['id']} now holds its event_name 'api_call'"
    if rule == "promotion code":
        call(emu, "POST", "/v1/coupons", {"id": "other", "percent_off": 5})
        made = call(emu, "POST", "/v1/promotion_codes", {
            "code": "spring", "promotion": {"type": "coupon", "coupon": "other"}})
        return "promotion_codes.spring-code", f"{made['id']} now holds its code 'SPRING'"
    if rule == "configuration name":
        made = call(emu, "POST", "/v1/payment_method_configurations", {"name": "Checkout"})
        return ("payment_method_configurations.checkout",
                f"{made['id']} now holds its name 'Checkout'")
    assert rule == "ownership tag"
    made = call(emu, "POST", "/v1/tax_rates", {
        "display_name": "VAT", "percentage": 20, "inclusive": False,
        "metadata": {OWNER_STACK: "default", OWNER_KEY: "vat"}})
    return "tax_rates.vat", f"{made['id']} now carries its ownership tag (stack 'default')"


@pytest.mark.parametrize("rule", [
    "product id", "coupon id", "price lookup_key", "archived price lookup_key",
    "feature lookup_key", "meter event_name", "promotion code", "configuration name",
    "ownership tag"])
def test_create_refused_when_an_object_now_matches_its_entry(tmp_path, rule):
    emu = Emulator()
    plan = plan_of(emu, load(write_manifest(tmp_path, CATALOG)))
    assert _refusal(emu, plan) is None
    address, holder = _meanwhile(emu, rule)
    refusal = _refusal(emu, plan)
    assert refusal is not None and refusal.startswith(REFUSED)
    assert f"{address} would be created, but {holder}" in refusal
    # only that entry: the others are still free
    assert refusal.count(" would be created, but ") == 1, refusal
    # an entry the journal records as started is this plan's own doing
    started = frozenset(i for i, c in enumerate(plan.changes) if c.address == address)
    assert _refusal(emu, plan, started) is None


def test_attaching_a_feature_refused_when_it_was_attached_meanwhile(tmp_path):
    emu = Emulator()
    assert apply_plan(emu, plan_of(emu, load(write_manifest(tmp_path / "v1", """
        features:
          sso: {name: SSO, lookup_key: sso}
        products:
          pro: {name: Pro}
        """)))).ok
    plan = plan_of(emu, load(write_manifest(tmp_path / "v2", """
        features:
          sso: {name: SSO, lookup_key: sso}
        products:
          pro: {name: Pro, features: [sso]}
        """)))
    assert [c.address for c in plan.pending] == ["product_features.pro/sso"]
    feature = objects(emu)["entitlements.feature"][0]["id"]
    attached = call(emu, "POST", "/v1/products/pro/features", {"entitlement_feature": feature})
    refusal = _refusal(emu, plan)
    assert refusal is not None
    assert (f"product_features.pro/sso would be created, but {attached['id']} now attaches "
            "that feature to that product") in refusal


def test_an_object_the_plan_touches_hides_no_other_kind_with_its_id(tmp_path):
    """The plan updates product `spring` and creates coupon `spring`; a coupon `spring` made
    meanwhile is refused although the plan touches an object with that id."""
    emu = Emulator()
    assert apply_plan(emu, plan_of(emu, load(write_manifest(
        tmp_path / "v1", "products:\n  spring: {name: Spring}\n")))).ok
    plan = plan_of(emu, load(write_manifest(tmp_path / "v2", """
        products:
          spring: {name: Spring range}
        coupons:
          spring: {percent_off: 10, duration: once}
        """)))
    assert [(c.address, c.action.value) for c in plan.pending] == [
        ("products.spring", "update"), ("coupons.spring", "create")]
    call(emu, "POST", "/v1/coupons", {"id": "spring", "percent_off": 5})
    assert "coupons.spring would be created, but spring now holds its id 'spring'" in (
        _refusal(emu, plan) or "")


def test_replacements_are_not_refused_for_the_objects_they_replace(tmp_path):
    """A replacement creates a new object with the tag, lookup key or code of the one it
    replaces, and earlier replacements left archived objects with the same tag and code:
    none of them stands in the new object's place."""
    emu = Emulator()
    catalog = CATALOG
    for amount, percent in ((1500, 10), (1700, 12), (1900, 14)):
        catalog = catalog.replace(f"unit_amount: {amount}", f"unit_amount: {amount + 200}")
        catalog = catalog.replace(f"percent_off: {percent}", f"percent_off: {percent + 2}")
        plan = plan_of(emu, load(write_manifest(tmp_path / str(amount), catalog)))
        if amount > 1500:
            assert {"prices.pro-monthly", "coupons.spring", "promotion_codes.spring-code"} <= {
                c.address for c in plan.pending if c.action.value == "replace"}
        assert _refusal(emu, plan) is None
        assert apply_plan(emu, plan).ok
    counts = census(emu)
    assert counts["prices"]["default:pro-monthly"] == 3
    assert counts["promotion_codes"]["default:spring-code"] == 3


# -- how the account is read again -----------------------------------------------------------

def _catalog(products: int, name: str, features: str) -> str:
    lines = ["features:", "  sso: {name: SSO, lookup_key: sso}",
             "  audit: {name: Audit log, lookup_key: audit}", "products:"]
    lines += [f"  p{i}: {{name: {name} {i}}}" for i in range(1, products)]
    lines += [f"  p0: {{name: {name} 0, features: [{features}]}}", "prices:",
              ("  p0-monthly: {product: p0, currency: usd, unit_amount: 900, nickname: "
               f"{name}, recurring: {{interval: month}}}}")]
    return "\n".join(lines) + "\n"


def test_account_is_read_again_with_lists_not_a_get_per_object(tmp_path):
    """A saved plan of 150 product updates, a price update and a detached feature is checked
    with one paginated list per kind (two pages of products) and the one product's features,
    whatever the number of changes; and a change made meanwhile is still found."""
    emu = Emulator()
    assert apply_plan(emu, plan_of(emu, load(write_manifest(
        tmp_path / "v1", _catalog(150, "Old", "sso, audit"))))).ok
    plan = plan_of(emu, load(write_manifest(tmp_path / "v2", _catalog(150, "New", "sso"))))
    assert len(plan.pending) == 152 and {c.kind for c in plan.pending} == {
        "products", "prices", "product_features"}
    emu.reset_request_counts()
    assert _refusal(emu, plan) is None
    assert emu.request_counts() == {"GET /v1/account": 1, "GET /v1/products": 2,
                                    "GET /v1/prices": 1, "GET /v1/products/{product}/features": 1}

    call(emu, "POST", "/v1/products/p42", {"description": "Edited by hand"})
    price = next(c.live_id for c in plan.pending if c.kind == "prices")
    call(emu, "POST", f"/v1/prices/{price}", {"active": False})  # listed only on request
    detached = next(c for c in plan.pending if c.kind == "product_features")
    call(emu, "DELETE", f"/v1/products/p0/features/{detached.live_id}")
    refusal = _refusal(emu, plan)
    assert refusal is not None
    assert "products.p42 (p42) was modified" in refusal
    assert f"prices.p0-monthly ({price}) was modified" in refusal
    assert f"{detached.address} ({detached.live_id}) no longer exists" in refusal
    assert refusal.count(" was modified") == 2, refusal


# -- what a resumed plan did itself ------------------------------------------------------------

class _Crash(Exception):
    pass


def _resume_after_the_coupon(tmp_path, v2: str) -> None:
    """Apply CATALOG, then a plan to ``v2`` that replaces the coupon and then does something
    to its promotion code; crash before the code; resume the saved plan."""
    emu = Emulator()
    assert apply_plan(emu, plan_of(emu, load(write_manifest(tmp_path / "v1", CATALOG)))).ok
    manifest = load(write_manifest(tmp_path / "v2", v2))
    plan = plan_of(emu, manifest, prune=True)
    code = next(c for c in plan.pending if c.kind == "promotion_codes")
    assert plan.pending[0].address == "coupons.spring" and code.live_id
    journal = tmp_path / "plan.json.journal"

    def crash_before_the_code(event: str, change: Change, detail: str) -> None:
        if event == "start" and change.kind == "promotion_codes":
            raise _Crash

    async def run(on_event=None):
        async with client(emu) as c:
            return await apply(plan, c, journal=Journal(journal, plan.fingerprint),
                               on_event=on_event)

    with pytest.raises(_Crash):
        asyncio.run(run(crash_before_the_code))
    assert call(emu, "GET", f"/v1/promotion_codes/{code.live_id}")["active"] is False
    started = frozenset(Journal(journal, plan.fingerprint).touched)
    assert started == {plan.changes.index(plan.pending[0])}
    assert _refusal(emu, plan, started) is None
    assert f"{code.address} ({code.live_id}) was modified" in (_refusal(emu, plan) or "")
    assert asyncio.run(run()).ok
    assert not plan_of(emu, manifest, prune=True).has_changes


def test_resumed_plan_is_not_refused_for_what_its_own_replacement_did(tmp_path):
    """The saved plan replaces a coupon (delete, create) and then its promotion code, which
    refers to the new coupon. It crashes after the coupon. Deleting a coupon deactivates its
    promotion codes (as Stripe does), so the code no longer has the plan's digest, because
    of this plan: resuming is not refused, and converges."""
    v2 = CATALOG.replace("percent_off: 10", "percent_off: 15")
    _resume_after_the_coupon(tmp_path, v2)


def test_resumed_plan_is_not_refused_for_a_code_it_archives_after_deleting_its_coupon(tmp_path):
    """The same when the code left the manifests (pruned: archived, in the removal phase,
    after the coupon's replacement) and its change names the coupon nowhere: its object
    refers to the coupon the started change deleted."""
    v2 = CATALOG.replace("percent_off: 10", "percent_off: 15").replace(
        "promotion_codes:\n  spring-code:\n    code: SPRING\n"
        "    promotion: {type: coupon, coupon: spring}\n", "")
    assert "promotion_codes" not in v2
    _resume_after_the_coupon(tmp_path, v2)
