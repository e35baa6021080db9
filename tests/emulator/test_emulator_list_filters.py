"""Every list filter the reference declares selects by its field, kind by kind.

For each filter (the parts of a hash filter such as ``recurring[interval]`` one by one) two
objects are made that differ in the filtered field; the filter must list the chosen one and
leave the other out. An ignored filter lists both; one that looks at the wrong field lists
neither. The cases are keyed by the reference's filters, so a filter added there without a
case here fails.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from emulator_helpers import Api
from emulator_world import World

from reconciler import reference
from reconciler.emulator import Emulator

Obj = dict[str, Any]
Then = Callable[[World, str, Obj], None]  # (world, kind, chosen object)
PAGING = {"limit", "starting_after", "ending_before", "expand"}


def declared_filters() -> list[tuple[str, str]]:
    found = []
    for kind in reference.api()["kinds"]:
        for name, spec in reference.kind_facts(kind)["params"].get("list", {}).items():
            if name in PAGING:
                continue
            if spec.get("type") == "object":
                found += [(kind, f"{name}.{part}") for part in spec["properties"]]
            else:
                found.append((kind, name))
    return found


def update(suffix: str = "", **params: Any) -> Then:
    """Change the chosen object through the API (``suffix`` names an action: ``/deactivate``)."""
    def then(world: World, kind: str, obj: Obj) -> None:
        world.api.ok(world.api.post(f"{world.path(kind)}/{obj['id']}{suffix}", params))
    return then


def stored(**fields: Any) -> Then:
    """Set fields no parameter sets (Stripe fills them), straight in the emulator's state."""
    def then(world: World, kind: str, obj: Obj) -> None:
        with world.api.emu.store.transaction() as state:
            bucket = state.bucket(state.platform, livemode=False)
            record = bucket.get(kind, obj["id"])
            assert record is not None
            bucket.put(kind, {**record["object"], **fields})
    return then


@dataclass(frozen=True)
class Case:
    value: Any  # the filter's value, or a function of the chosen object
    chosen: Mapping[str, Any] | Callable[[World], Mapping[str, Any]] = field(default_factory=dict)
    other: Mapping[str, Any] = field(default_factory=dict)
    then: Then | None = None  # what sets the chosen object apart after its create


def _new_coupon(world: World) -> Mapping[str, Any]:
    return {"promotion": {"type": "coupon",
                          "coupon": world.api.create("/v1/coupons", percent_off=7)["id"]}}


def _metered(world: World) -> Mapping[str, Any]:
    return {"recurring": {"interval": "month", "usage_type": "metered", "meter": world.meter}}


_CREATED = Case(lambda obj: obj["created"])  # the chosen object is made a second earlier
_MONTHLY = {"recurring": {"interval": "month"}}

CASES: dict[tuple[str, str], Case] = {
    ("product", "active"): Case(False, {"active": False}),
    ("product", "created"): _CREATED,
    ("product", "ids"): Case(lambda obj: [obj["id"]]),
    ("product", "shippable"): Case(True, {"type": "good", "shippable": True},
                                   {"type": "good", "shippable": False}),
    ("product", "type"): Case("good", {"type": "good"}, {"type": "service"}),
    ("product", "url"): Case("https://a.test/", {"url": "https://a.test/"}, {"url": "https://b.test/"}),
    ("price", "active"): Case(False, {"active": False}),
    ("price", "created"): _CREATED,
    ("price", "currency"): Case("eur", {"currency": "eur"}, {"currency": "usd"}),
    ("price", "lookup_keys"): Case(["a"], {"lookup_key": "a"}, {"lookup_key": "b"}),
    ("price", "product"): Case(lambda obj: obj["product"], lambda world: {
        "product": world.api.create("/v1/products", name="Another")["id"]}),
    ("price", "recurring.interval"): Case("month", _MONTHLY, {"recurring": {"interval": "year"}}),
    ("price", "recurring.meter"): Case(lambda obj: obj["recurring"]["meter"], _metered, _MONTHLY),
    ("price", "recurring.usage_type"): Case("metered", _metered, _MONTHLY),
    ("price", "type"): Case("recurring", _MONTHLY),
    ("coupon", "created"): _CREATED,
    ("promotion_code", "active"): Case(False, {"active": False}),
    ("promotion_code", "code"): Case("spring", {"code": "SPRING"}, {"code": "SUMMER"}),
    ("promotion_code", "coupon"): Case(lambda obj: obj["promotion"]["coupon"], _new_coupon),
    ("promotion_code", "created"): _CREATED,
    ("promotion_code", "customer"): Case("cus_a", {"customer": "cus_a"}, {"customer": "cus_b"}),
    ("promotion_code", "customer_account"): Case("acct_a", {"customer_account": "acct_a"},
                                                 {"customer_account": "acct_b"}),
    ("tax_rate", "active"): Case(False, {"active": False}),
    ("tax_rate", "created"): _CREATED,
    ("tax_rate", "inclusive"): Case(True, {"inclusive": True}, {"inclusive": False}),
    ("shipping_rate", "active"): Case(False, then=update(active=False)),
    ("shipping_rate", "created"): _CREATED,
    ("shipping_rate", "currency"): Case("eur", {"fixed_amount": {"amount": 500, "currency": "eur"}},
                                        {"fixed_amount": {"amount": 500, "currency": "usd"}}),
    ("payment_method_configuration", "active"): Case(False, then=update(active=False)),
    ("payment_method_configuration", "application"): Case("ca_a", then=stored(application="ca_a")),
    ("entitlements.feature", "archived"): Case(True, then=update(active=False)),
    ("entitlements.feature", "lookup_key"): Case("a", {"lookup_key": "a"}, {"lookup_key": "b"}),
    ("billing.meter", "status"): Case("inactive", then=update("/deactivate")),
}

FILTERS = declared_filters()


@pytest.fixture
def world() -> World:
    """A clock that moves a second per request, so every object has its own ``created``."""
    return World(Api(Emulator(wall_clock=itertools.count(int(time.time())).__next__)))


def nested(dotted: str, value: Any) -> dict[str, Any]:
    name, *parts = dotted.split(".")
    for part in reversed(parts):
        value = {part: value}
    return {name: value}


@pytest.mark.parametrize(("kind", "name"), FILTERS, ids=[f"{k}.{n}" for k, n in FILTERS])
def test_each_declared_list_filter_selects_by_its_field(world: World, kind: str, name: str) -> None:
    case = CASES[(kind, name)]
    chosen_params = case.chosen(world) if callable(case.chosen) else case.chosen
    chosen = world.create(kind, {**world.base(kind), **chosen_params})
    if case.then is not None:
        case.then(world, kind, chosen)
    other = world.create(kind, {**world.base(kind), **case.other})
    value = case.value(chosen) if callable(case.value) else case.value
    listed = world.api.ok(world.api.get(world.path(kind), {"limit": 100, **nested(name, value)}))
    ids = {obj["id"] for obj in listed["data"]}
    assert ids & {chosen["id"], other["id"]} == {chosen["id"]}


def test_every_case_is_a_declared_filter() -> None:
    assert set(CASES) == set(FILTERS)
