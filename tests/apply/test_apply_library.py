"""Acceptance: ``reconciler.apply.apply`` on a failure stops starting new changes, lets running
ones finish, and reports applied / failed (with Stripe's message) / not attempted exactly."""

from __future__ import annotations

import asyncio

import pytest
from apply_helpers import (
    KEY,
    LIVE_KEY,
    apply_plan,
    assert_exactly_once,
    client,
    failures,
    load,
    objects,
    plan_of,
    post_count,
    write_manifest,
)
from catalogs import LOOKUP_KEY, PRO_MONTHLY, SPRING_CODE

from reconciler.apply import LiveModeError, apply, idempotency_key
from reconciler.emulator import Emulator, Faults
from reconciler.plan import Action, PlanError
from reconciler.stripe import InvalidRequestError

CATALOG = """
features:
  sso: {name: SSO, lookup_key: sso}
tax_rates:
  vat: {display_name: VAT, percentage: 20, inclusive: false}
products:
  basic: {name: Basic}
  pro: {name: Pro, features: [sso], default_price: pro-monthly}
  team: {name: Team}
prices:
""" + PRO_MONTHLY + LOOKUP_KEY + SPRING_CODE

LATER = ["coupons.spring", "prices.pro-monthly", "product_features.pro/sso",
         "promotion_codes.spring-code"]


def _squat_product(emu: Emulator, product_id: str) -> None:
    """Someone creates a product with the id the plan is about to use (out of band)."""
    async def work() -> None:
        async with client(emu) as c:
            await c.request("POST", "/v1/products", {"id": product_id, "name": "Squatter"})
    asyncio.run(work())


def _addresses(changes) -> list[str]:
    return [c.address for c in changes]


@pytest.mark.parametrize("parallelism", [8, 1])
def test_failure_stops_new_changes_and_reports_exactly(tmp_path, parallelism):
    emu = Emulator()
    manifest = load(write_manifest(tmp_path, CATALOG))
    plan = plan_of(emu, manifest)
    assert {c.action for c in plan.pending} == {Action.CREATE}
    phases = sorted({c.phase for c in plan.pending})
    assert {c.address for c in plan.pending if c.phase == phases[-1]} == {
        "promotion_codes.spring-code"}
    _squat_product(emu, "pro")
    events: list[tuple[str, str]] = []

    result = apply_plan(emu, plan, parallelism=parallelism,
                        on_event=lambda event, change, _: events.append((event, change.address)))

    assert not result.ok
    (failed, error), = result.failed
    assert failed.address == "products.pro"
    assert isinstance(error, InvalidRequestError)
    assert error.code == "resource_already_exists"
    assert "A product with id 'pro' already exists." in str(error)
    assert error.message == "A product with id 'pro' already exists."

    before = ["features.sso", "tax_rates.vat", "products.basic"]
    if parallelism == 1:
        # one change at a time, the kind most others need first (products): what comes after
        # the failed product never starts, even the first phase's feature and tax rate
        assert _addresses(result.applied) == ["products.basic"]
        assert _addresses(result.not_attempted) == [
            "features.sso", "tax_rates.vat", "products.team", *LATER]
    else:
        # the phase's other changes were already running: they finish and are reported applied
        assert sorted(_addresses(result.applied)) == sorted([*before, "products.team"])
        assert _addresses(result.not_attempted) == LATER
    assert set(_addresses(result.applied)) | {"products.pro"} | set(
        _addresses(result.not_attempted)) == {c.address for c in plan.pending}
    assert set(result.created) == set(_addresses(result.applied))
    assert result.summary() == (f"{len(result.applied)} created, 0 updated, 0 replaced, "
                                "0 archived/deleted")

    # the events tell the same story: no change not attempted was ever started
    started = [a for e, a in events if e == "start"]
    assert not set(started) & set(_addresses(result.not_attempted))
    assert ("failed", "products.pro") in events
    assert sorted(a for e, a in events if e == "done") == sorted(_addresses(result.applied))

    # ... and so does the account: nothing of the later phases exists
    found = objects(emu)
    assert not found.get("coupon") and not found.get("price")
    assert not found.get("promotion_code") and not found.get("product_feature")
    products = {p["id"]: p for p in found["product"]}
    assert products["pro"]["name"] == "Squatter"
    assert ("team" in products) == (parallelism != 1)

    # the squatter is a conflict for a new plan; once it is gone, running again converges
    with pytest.raises(PlanError, match="products.pro: id 'pro' is held by pro"):
        plan_of(emu, manifest)

    async def remove_squatter() -> None:
        async with client(emu) as c:
            await c.request("DELETE", "/v1/products/pro")
    asyncio.run(remove_squatter())
    again = plan_of(emu, manifest)
    assert {c.address for c in again.pending} == {"products.pro", *(
        ["features.sso", "tax_rates.vat", "products.team"] if parallelism == 1 else []),
        *LATER}
    result = apply_plan(emu, again)
    assert result.ok, failures(result)
    assert not plan_of(emu, manifest).has_changes
    assert_exactly_once(emu, manifest)


def test_failure_in_a_multi_step_change_reports_that_change_failed(tmp_path):
    """A price whose lookup key was taken out of band after planning: its create is
    refused (not silently transferred), later phases are not attempted."""
    emu = Emulator()
    manifest = load(write_manifest(tmp_path, CATALOG))
    plan = plan_of(emu, manifest)
    price = next(c for c in plan.pending if c.address == "prices.pro-monthly")
    assert [s.path for s in price.steps] == ["/v1/prices", "/v1/products/{ref:products.pro}"]

    # a price with the lookup key appears out of band after planning: the create is refused
    async def squat() -> None:
        async with client(emu) as c:
            other = await c.request("POST", "/v1/products", {"name": "Other"})
            await c.request("POST", "/v1/prices", {
                "product": other["id"], "currency": "usd", "unit_amount": 1,
                "lookup_key": "pro_monthly"})
    asyncio.run(squat())
    result = apply_plan(emu, plan)
    (failed, error), = result.failed
    assert failed.address == "prices.pro-monthly"
    assert error.code == "resource_already_exists"
    assert "already uses the lookup key 'pro_monthly'" in error.message
    assert _addresses(result.not_attempted) == ["promotion_codes.spring-code"]
    # the coupon and the attachment share the price's phase (one dependency depth): they
    # were running when it failed, and finished
    assert {"coupons.spring", "product_features.pro/sso"} <= set(_addresses(result.applied))
    # the out-of-band price keeps its lookup key: apply does not take it over silently
    (holder,) = [p for p in objects(emu)["price"] if p["lookup_key"] == "pro_monthly"]
    assert holder["metadata"] == {}


def test_live_plan_refused_without_allow_live(tmp_path):
    emu = Emulator()
    manifest = load(write_manifest(tmp_path, CATALOG))

    async def work():
        async with client(emu, LIVE_KEY) as c:
            from reconciler.plan import PlanOptions, make_plan
            plan = await make_plan(manifest, c, PlanOptions())
            assert plan.livemode
            before = post_count(emu)
            with pytest.raises(LiveModeError, match="--live"):
                await apply(plan, c)
            assert post_count(emu) == before
            return await apply(plan, c, allow_live=True)

    result = asyncio.run(work())
    assert result.ok, failures(result)
    assert_exactly_once(emu, manifest, livemode=True)
    assert not objects(emu).get("product")  # test mode untouched


def test_same_plan_applied_twice_replays_instead_of_creating_twice(tmp_path):
    emu = Emulator()
    manifest = load(write_manifest(tmp_path, CATALOG))
    plan = plan_of(emu, manifest)
    first = apply_plan(emu, plan)
    assert first.ok, failures(first)
    second = apply_plan(emu, plan)  # e.g. the saved plan run again: every POST replays
    assert second.ok, failures(second)
    assert second.created == first.created
    assert_exactly_once(emu, manifest)
    assert idempotency_key(plan, 0, 0) != idempotency_key(plan, 0, 1)
    assert idempotency_key(plan, 0, 0) != idempotency_key(plan, 1, 0)


def test_dropped_responses_are_retried_under_the_same_key(tmp_path):
    """Every write is committed and then its connection dropped, once in a while: the
    client's retry replays the stored answer, so nothing is created twice."""
    emu = Emulator(faults=Faults(drop_rate=0.5, seed=3))
    manifest = load(write_manifest(tmp_path, CATALOG))
    plan = plan_of(emu, manifest)
    result = apply_plan(emu, plan)
    assert result.ok, failures(result)
    emu.set_faults(Faults())
    assert not plan_of(emu, manifest).has_changes
    assert_exactly_once(emu, manifest)
    assert KEY  # the suite's test key reaches the test-mode account


def test_saved_plan_run_again_does_not_repeat_a_finished_delete(tmp_path):
    """A coupon replacement is DELETE then POST under the same id. Running the same saved
    plan again (after a crash, or twice) must not send the DELETE again: it has no
    idempotency key, so it would remove the re-created coupon while the POST only replays."""
    from reconciler.apply import Journal

    emu = Emulator()
    manifest = load(write_manifest(tmp_path / "v1", CATALOG))
    assert apply_plan(emu, plan_of(emu, manifest)).ok
    changed = load(write_manifest(tmp_path / "v2", CATALOG.replace("percent_off: 10",
                                                                  "percent_off: 15")))
    plan = plan_of(emu, changed)
    coupon = next(c for c in plan.pending if c.address == "coupons.spring")
    assert coupon.action is Action.REPLACE
    assert [s.method for s in coupon.steps] == ["DELETE", "POST"]
    journal_path = tmp_path / "plan.json.journal"
    for _ in range(2):  # the second run reads the first run's journal
        result = apply_plan(emu, plan, journal=Journal(journal_path, plan.fingerprint))
        assert result.ok, failures(result)
    (live,) = objects(emu)["coupon"]
    assert (live["id"], live["percent_off"]) == ("spring", 15)
    assert not plan_of(emu, changed).has_changes


LOOKUP = """
products:
  p: {name: P}
prices:
  a: {product: p, currency: usd, unit_amount: 500, lookup_key: one}
  b: {product: p, currency: usd, unit_amount: 700, lookup_key: two}
"""


def test_moving_to_a_lookup_key_held_out_of_band_is_a_conflict(tmp_path):
    """A price whose manifest moves it to a lookup key that an unmanaged price holds would
    take it over silently (transfer_lookup_key): the plan refuses instead."""
    emu = Emulator()
    assert apply_plan(emu, plan_of(emu, load(write_manifest(tmp_path / "a", LOOKUP)))).ok

    async def squat():
        async with client(emu) as c:
            other = await c.request("POST", "/v1/products", {"name": "Other"})
            return await c.request("POST", "/v1/prices", {
                "product": other["id"], "currency": "usd", "unit_amount": 1,
                "lookup_key": "three"})
    holder = asyncio.run(squat())
    moved = load(write_manifest(tmp_path / "b", LOOKUP.replace("lookup_key: two",
                                                               "lookup_key: three")))
    with pytest.raises(PlanError) as refused:
        plan_of(emu, moved)
    assert refused.value.problems == [
        (f"prices.b: lookup_key 'three' is held by {holder['id']}, which reconciler does not "
         "manage; one lookup key cannot have two owners")]
    (still,) = [p for p in objects(emu)["price"] if p["lookup_key"] == "three"]
    assert still["id"] == holder["id"]


def test_swapping_lookup_keys_between_own_prices_applies(tmp_path):
    emu = Emulator()
    assert apply_plan(emu, plan_of(emu, load(write_manifest(tmp_path / "a", LOOKUP)))).ok
    swapped = load(write_manifest(tmp_path / "b", LOOKUP.replace("one", "x").replace(
        "two", "one").replace("x", "two")))
    plan = plan_of(emu, swapped)
    assert {c.address: c.action for c in plan.pending} == {"prices.a": Action.UPDATE,
                                                           "prices.b": Action.UPDATE}
    result = apply_plan(emu, plan, parallelism=1)
    assert result.ok, failures(result)
    keys = {p["metadata"]["reconciler_key"]: p["lookup_key"] for p in objects(emu)["price"]}
    assert keys == {"a": "two", "b": "one"}
    assert not plan_of(emu, swapped).has_changes
