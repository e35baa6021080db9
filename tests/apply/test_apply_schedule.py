"""Which change an apply starts next: ready changes only (those whose needed kinds' earlier
changes have all finished), round robin by the endpoint of their first request, the kinds
others need first, and no endpoint beyond its share of the slots while another could use one."""

from __future__ import annotations

import asyncio
import math

from reconciler.apply import apply
from reconciler.apply.schedule import Schedule, endpoint_share
from reconciler.plan import Action, Change, Plan, Step
from reconciler.plan.phases import change_phase, removal_phase
from reconciler.stripe.ratelimit import (
    DEFAULT_ENDPOINT_RATE,
    Budgets,
    TokenBucket,
    default_rate,
)


def change(key: str, method: str, path: str, kind: str = "prices",
           action: Action = Action.CREATE) -> Change:
    phase = removal_phase(kind) if action.removes else change_phase(kind)
    return Change(kind=kind, key=key, action=action, actions=(action.value,),
                  steps=(Step(method, path),), phase=phase)


CREATES = [change(f"new{i}", "POST", "/v1/prices") for i in range(3)]
UPDATES = [change(f"old{i}", "POST", f"/v1/prices/price_{i}") for i in range(2)]
NO_STEPS = Change(kind="prices", key="noop", action=Action.CREATE, actions=("create",),
                  phase=change_phase("prices"))


def drain(schedule: Schedule[int]) -> list[str]:
    """The keys in the order handed out, one at a time, each finished at once."""
    keys = []
    while (item := schedule.next()) is not None:
        keys.append(item[1].key)
        schedule.finished(item[1])
    return keys


def test_round_robin_by_endpoint_each_in_plan_order() -> None:
    schedule = Schedule(enumerate([*CREATES, *UPDATES, NO_STEPS]), share=1)
    assert drain(schedule) == ["new0", "old0", "noop", "new1", "old1", "new2"]


def test_a_change_waits_only_for_the_earlier_changes_of_the_kinds_it_needs() -> None:
    product = change("prod", "POST", "/v1/products", "products")
    tax = change("vat", "POST", "/v1/tax_rates", "tax_rates")
    price = change("price", "POST", "/v1/prices")
    code = change("code", "POST", "/v1/promotion_codes", "promotion_codes")
    coupon = change("coupon", "POST", "/v1/coupons", "coupons")
    schedule = Schedule(enumerate([tax, product, coupon, price, code]), share=8)
    started = [schedule.next(), schedule.next()]
    assert {c.key for _, c in started if c} == {"prod", "vat"}
    assert schedule.next() is None  # the price and the coupon wait for the product
    schedule.finished(product)
    assert {schedule.next()[1].key, schedule.next()[1].key} == {"price", "coupon"}  # type: ignore[index]
    assert schedule.next() is None  # the promotion code waits for its coupon, not the tax rate
    schedule.finished(coupon)
    assert schedule.next()[1].key == "code"  # type: ignore[index]


def test_what_a_kind_needs_is_needed_transitively() -> None:
    """A promotion code needs its coupon, which needs products: with no coupon change in
    the plan, the promotion code still waits for the product changes."""
    product = change("prod", "POST", "/v1/products", "products")
    code = change("code", "POST", "/v1/promotion_codes", "promotion_codes")
    schedule = Schedule(enumerate([product, code]), share=8)
    assert schedule.next()[1] is product  # type: ignore[index]
    assert schedule.next() is None
    schedule.finished(product)
    assert schedule.next()[1] is code  # type: ignore[index]


def test_a_removal_waits_for_every_earlier_change() -> None:
    tax = change("vat", "POST", "/v1/tax_rates", "tax_rates")
    gone = change("old", "DELETE", "/v1/webhook_endpoints/we_1", "webhook_endpoints",
                  Action.DELETE)
    schedule = Schedule(enumerate([tax, gone]), share=8)
    assert schedule.next()[1] is tax  # type: ignore[index]
    assert schedule.next() is None
    schedule.finished(tax)
    assert schedule.next()[1] is gone  # type: ignore[index]


def test_the_kinds_others_need_go_first_up_to_their_share_of_the_slots() -> None:
    taxes = [change(f"vat{i}", "POST", "/v1/tax_rates", "tax_rates") for i in range(4)]
    products = [change(f"prod{i}", "POST", "/v1/products", "products") for i in range(4)]
    schedule = Schedule(enumerate([*taxes, *products]), share=2)
    keys = [item[1].key for item in iter(schedule.next, None)]  # none finishes
    # two products (their share), then the tax rates' share, then whatever is left
    assert keys[:4] == ["prod0", "prod1", "vat0", "vat1"]
    assert sorted(keys) == sorted(c.key for c in [*taxes, *products])


def test_an_endpoints_share_is_its_budgets_share_of_the_global_one() -> None:
    live = Budgets(TokenBucket(default_rate(True)), DEFAULT_ENDPOINT_RATE)
    assert endpoint_share(live, slots=40) == 10  # 23 of 92 per second
    assert endpoint_share(live, slots=2) == 1
    sandbox = Budgets(TokenBucket(default_rate(False)), DEFAULT_ENDPOINT_RATE)
    assert endpoint_share(sandbox, slots=8) == 8  # 23 of 23
    assert endpoint_share(Budgets(TokenBucket(math.inf), math.inf), slots=8) == 8


def test_apply_starts_round_robin() -> None:
    started: list[str] = []

    class Recorder:
        budgets = Budgets(TokenBucket(math.inf), math.inf)

        async def request(self, method: str, path: str, *args: object) -> dict[str, str]:
            started.append(f"{method} {path}")
            await asyncio.sleep(0)
            return {"id": "x"}

    plan = Plan(changes=[*CREATES, *UPDATES], account_id="acct_1", livemode=False,
                api_version="2025-01-01", stack="default", manifest_digest="d",
                live_fingerprint="f")
    asyncio.run(apply(plan, Recorder(), parallelism=1))  # type: ignore[arg-type]
    assert started[:4] == ["POST /v1/prices", "POST /v1/prices/price_0", "POST /v1/prices",
                           "POST /v1/prices/price_1"]
