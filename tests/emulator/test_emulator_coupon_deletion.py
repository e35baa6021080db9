"""What deleting a coupon does to its promotion codes, as Stripe has it.

Deleting a coupon "means that new customers can't redeem the coupon", and "a promotion code is
only active if the coupon is also valid": the codes go inactive but stay (they have no DELETE).
A code belongs to the coupon object, not its id, so re-creating the id brings no code back, and
a code is reactivated only "when the coupon is still valid". Expanded, a code's coupon is
the one it was made for, deleted or not: what tells a planner that the coupon now under that id
is another one, also when both were created in the same second.
"""

from __future__ import annotations

import time
from typing import Any

from emulator_helpers import Api, error_of

from reconciler.emulator import Emulator


def promo(api: Api, coupon: str, **params: Any) -> dict[str, Any]:
    return api.create("/v1/promotion_codes", promotion={"type": "coupon", "coupon": coupon}, **params)


def codes(api: Api, **filters: Any) -> dict[str, bool]:
    """Promotion code id → active, for the codes a list with ``filters`` returns."""
    listed = api.ok(api.get("/v1/promotion_codes", {"limit": 100, **filters}))["data"]
    return {p["id"]: p["active"] for p in listed}


def refused(response: Any, why: str) -> None:
    error = error_of(response, 400, None, "active")
    assert error["type"] == "invalid_request_error"
    assert why in error["message"]


def test_deleting_a_coupon_deactivates_its_codes_in_that_account_only(emu: Emulator, api: Api) -> None:
    other_account = Api(emu, **{"Stripe-Account": "acct_1Other"})
    for each in (api, other_account):
        each.create("/v1/coupons", id="spring", percent_off=10)
    kept = api.create("/v1/coupons", id="summer", percent_off=5)["id"]
    first, second = promo(api, "spring", code="SPRING"), promo(api, "spring")
    paused = promo(api, "spring", active=False)
    summer = promo(api, kept, code="SUMMER")
    elsewhere = promo(other_account, "spring", code="SPRING")

    api.ok(api.delete("/v1/coupons/spring"))

    spring_codes = {first["id"]: False, second["id"]: False, paused["id"]: False}
    for code_id in spring_codes:
        retrieved = api.ok(api.get(f"/v1/promotion_codes/{code_id}"))
        assert retrieved["active"] is False and retrieved["promotion"]["coupon"] == "spring"
    assert codes(api, coupon="spring") == spring_codes
    assert codes(api, active=False) == spring_codes
    assert codes(api, active=True) == {summer["id"]: True}
    assert codes(other_account) == {elsewhere["id"]: True}


def test_a_coupon_recreated_under_the_same_id_does_not_bring_old_codes_back(api: Api) -> None:
    api.create("/v1/coupons", id="spring", percent_off=10)
    old = promo(api, "spring", code="SPRING")
    paused_before = promo(api, "spring", code="EARLY")
    api.ok(api.post(f"/v1/promotion_codes/{paused_before['id']}", {"active": False}))
    api.ok(api.delete("/v1/coupons/spring"))
    refused(api.post(f"/v1/promotion_codes/{old['id']}", {"active": True}), "deleted")

    api.create("/v1/coupons", id="spring", percent_off=15)
    assert codes(api, coupon="spring") == {paused_before["id"]: False, old["id"]: False}
    # bound to the deleted coupon, not to the id "spring": neither comes back
    for stale in (old, paused_before):
        refused(api.post(f"/v1/promotion_codes/{stale['id']}", {"active": True}), "'spring' has been deleted")
        assert api.ok(api.get(f"/v1/promotion_codes/{stale['id']}"))["active"] is False
    # the old code is inactive, so its code string is free for the new coupon
    new = promo(api, "spring", code="spring")
    assert new["active"] is True
    assert codes(api, code="SPRING", active=True) == {new["id"]: True}
    # a code of the new coupon deactivates and reactivates as before
    api.ok(api.post(f"/v1/promotion_codes/{new['id']}", {"active": False}))
    assert api.ok(api.post(f"/v1/promotion_codes/{new['id']}", {"active": True}))["active"] is True


def own_coupon(api: Api, code_id: str, *more: str) -> dict[str, Any]:
    """The coupon a code embeds, read once alone and once through the list."""
    expand = ["promotion.coupon", *more]
    alone = api.ok(api.get(f"/v1/promotion_codes/{code_id}", {"expand": expand}))
    listed = api.ok(api.get("/v1/promotion_codes", {"expand": [f"data.{e}" for e in expand]}))
    (same,) = [p for p in listed["data"] if p["id"] == code_id]
    assert same == alone
    return alone["promotion"]["coupon"]


def test_a_code_embeds_the_coupon_it_was_made_for_also_once_deleted_and_recreated() -> None:
    now = [1_800_000_000.0]
    api = Api(Emulator(wall_clock=lambda: now[0]))
    product = api.create("/v1/products", name="Mug")["id"]
    api.create("/v1/coupons", id="spring", percent_off=10, applies_to={"products": [product]})
    old = promo(api, "spring", code="SPRING")
    assert own_coupon(api, old["id"])["valid"] is True
    api.ok(api.post("/v1/coupons/spring", {"name": "Spring sale"}))  # a live coupon, not a copy
    assert own_coupon(api, old["id"])["name"] == "Spring sale"

    api.ok(api.delete("/v1/coupons/spring"))
    gone = own_coupon(api, old["id"], "promotion.coupon.applies_to")
    assert (gone["id"], gone["percent_off"], gone["name"], gone["valid"]) == (
        "spring", 10, "Spring sale", False)
    assert gone["applies_to"] == {"products": [product]}
    # re-created in the same second: same id and created, and still not the old code's coupon
    current = api.create("/v1/coupons", id="spring", percent_off=15)
    new = promo(api, "spring", code="SPRING")
    assert current["created"] == gone["created"]
    assert own_coupon(api, old["id"]) == {k: v for k, v in gone.items() if k != "applies_to"}
    assert own_coupon(api, new["id"]) == {**current, "valid": True}
    # the code itself shows the id, as before, and what it keeps is never shown
    shown = api.ok(api.post(f"/v1/promotion_codes/{old['id']}", {"metadata": {"k": "v"}}))
    assert shown["promotion"] == {"type": "coupon", "coupon": "spring"}
    assert set(shown) == set(new)


def test_a_code_is_not_reactivated_once_its_coupon_is_no_longer_valid() -> None:
    now = [time.time()]
    api = Api(Emulator(wall_clock=lambda: now[0]))
    coupon = api.create("/v1/coupons", percent_off=10, redeem_by=int(now[0]) + 60)
    code = promo(api, coupon["id"])
    api.ok(api.post(f"/v1/promotion_codes/{code['id']}", {"active": False}))
    assert api.ok(api.post(f"/v1/promotion_codes/{code['id']}", {"active": True}))["active"] is True
    api.ok(api.post(f"/v1/promotion_codes/{code['id']}", {"active": False}))

    now[0] += 120  # past redeem_by
    assert api.ok(api.get(f"/v1/coupons/{coupon['id']}"))["valid"] is False
    refused(api.post(f"/v1/promotion_codes/{code['id']}", {"active": True}), "no longer valid")
    assert api.ok(api.get(f"/v1/promotion_codes/{code['id']}"))["active"] is False
    # other updates of the code still work
    updated = api.ok(api.post(f"/v1/promotion_codes/{code['id']}", {"metadata": {"k": "v"}}))
    assert updated["metadata"] == {"k": "v"} and updated["active"] is False
