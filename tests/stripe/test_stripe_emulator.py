"""The client against the Stripe emulator: in-process transport and a real loopback socket."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal
from typing import Any

import pytest
from stripe_fakes import KEY, LIVE_KEY, FakeTime, run

from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.kinds import KINDS
from reconciler.stripe import (
    Account,
    APIConnectionError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RetryPolicy,
    StripeClient,
)


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


def client_for(emu: Emulator, fake_time: FakeTime | None = None, key: str = KEY,
               **kw: Any) -> StripeClient:
    kw.setdefault("rate_limit", math.inf)
    if fake_time is not None:
        kw.setdefault("clock", fake_time.clock)
        kw.setdefault("sleep", fake_time.sleep)
    return StripeClient(key, api_base="http://emulator.test", transport=emu.async_transport(),
                        **kw)


async def _all(client: StripeClient, path: str, **kw: Any) -> list[dict[str, Any]]:
    return [obj async for obj in client.list_all(path, **kw)]


# -- pagination ---------------------------------------------------------------------------


def test_list_all_pages_through_1000_objects(emu: Emulator) -> None:
    async def go() -> tuple[set[str], list[str]]:
        async with client_for(emu, max_concurrency=20) as client:
            created = await asyncio.gather(
                *(client.create("/v1/coupons", {"id": f"c{i:04d}", "percent_off": 5})
                  for i in range(1000))
            )
            emu.reset_request_counts()
            listed = await _all(client, "/v1/coupons")
            return {c["id"] for c in created}, [c["id"] for c in listed]

    created, listed = run(go())
    assert len(created) == 1000
    assert len(listed) == 1000 and set(listed) == created  # all, each exactly once
    assert emu.request_counts() == {"GET /v1/coupons": math.ceil(1000 / 100)}


def test_list_all_passes_filters_and_expansion(emu: Emulator) -> None:
    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with client_for(emu) as client:
            product = await client.create("/v1/products", {"name": "Tiered"})
            for i in range(3):
                await client.create("/v1/prices", {
                    "currency": "usd", "product": product["id"], "lookup_key": f"k{i}",
                    "billing_scheme": "tiered", "tiers_mode": "graduated",
                    "tiers": [{"up_to": 10, "unit_amount": 100}, {"up_to": "inf", "unit_amount": 50}],
                })
            plain = await _all(client, "/v1/prices", params={"lookup_keys": ["k0", "k2"]})
            expanded = await _all(client, "/v1/prices", params={"lookup_keys": ["k1"]},
                                  expand=KINDS["prices"].list_expand)
            return plain, expanded

    plain, expanded = run(go())
    assert sorted(p["lookup_key"] for p in plain) == ["k0", "k2"]
    assert all(p.get("tiers") is None for p in plain)  # only returned when expanded
    assert [t["up_to"] for t in expanded[0]["tiers"]] == [10, None]


def test_pagination_over_loopback(emu: Emulator) -> None:
    async def go(url: str) -> list[str]:
        async with client_for(emu) as seeder:  # in-process: the listing is what goes over HTTP
            await asyncio.gather(*(seeder.create("/v1/products", {"name": f"p{i}"})
                                   for i in range(250)))
        emu.reset_request_counts()
        async with StripeClient(KEY, api_base=url, rate_limit=math.inf) as client:
            return [p["id"] async for p in client.list_all("/v1/products")]

    with serve_in_thread(emu) as url:
        ids = run(go(url))
    assert len(ids) == len(set(ids)) == 250
    assert emu.request_counts() == {"GET /v1/products": 3}


# -- every kind ---------------------------------------------------------------------------


def _kind_cases(ids: dict[str, str]) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """Create params and update params (None: no update endpoint) for every kind.

    ``ids`` holds the ids created so far (kinds come in dependency order)."""
    ids = {"products": "", "coupons": "", "features": "", **ids}
    return {
        "features": ({"name": "SSO", "lookup_key": "sso", "metadata": {"tier": "pro"}},
                     {"name": "Single sign-on"}),
        "meters": ({"display_name": "API calls", "event_name": "api_call",
                    "default_aggregation": {"formula": "sum"},
                    "customer_mapping": {"event_payload_key": "customer", "type": "by_id"},
                    "value_settings": {"event_payload_key": "value"}},
                   {"display_name": "API requests"}),
        "products": ({"id": "prod_pro", "name": "Pro", "marketing_features": [{"name": "Fast"}]},
                     {"name": "Pro plan", "description": "The pro plan"}),
        "prices": ({"currency": "usd", "product": ids["products"], "unit_amount": 1500,
                    "recurring": {"interval": "month"}, "lookup_key": "pro-monthly"},
                   {"nickname": "Pro monthly", "metadata": {"owner": "reconciler"}}),
        "coupons": ({"id": "SAVE25", "percent_off": 25, "duration": "repeating",
                     "duration_in_months": 3}, {"name": "Save 25%"}),
        "promotion_codes": ({"promotion": {"type": "coupon", "coupon": ids["coupons"]},
                             "code": "WELCOME25"}, {"metadata": {"campaign": "spring"}}),
        "tax_rates": ({"display_name": "VAT", "inclusive": False, "percentage": 20.5,
                       "country": "DE"}, {"description": "German VAT"}),
        "shipping_rates": ({"display_name": "Ground", "type": "fixed_amount",
                            "fixed_amount": {"amount": 500, "currency": "usd"}},
                           {"metadata": {"zone": "domestic"}}),
        "payment_method_configurations": ({"name": "Checkout"}, {"name": "Checkout (EU)"}),
        "webhook_endpoints": ({"url": "https://example.com/hooks",
                               "enabled_events": ["price.created", "price.updated"]},
                              {"description": "catalog hooks"}),
        "product_features": ({"entitlement_feature": ids["features"]}, None),
    }


def test_create_update_list_every_kind(emu: Emulator) -> None:
    async def go() -> dict[str, Any]:
        ids: dict[str, str] = {}
        seen: dict[str, Any] = {}
        async with client_for(emu) as client:
            for name, kind in KINDS.items():  # dependency order
                create, update = _kind_cases(ids)[name]
                path = kind.path.replace("{product}", ids.get("products", ""))
                obj = await client.create(path, create)
                assert obj["object"] == kind.stripe_object
                ids[name] = obj["id"]
                fetched = await client.retrieve(path, obj["id"])
                assert fetched["id"] == obj["id"]
                if update is not None:
                    updated = await client.update(path, obj["id"], update)
                    for field, value in update.items():
                        if isinstance(value, dict):
                            assert value.items() <= updated[field].items()
                        else:
                            assert updated[field] == value
                listed = await _all(client, path, expand=kind.list_expand)
                mine = [o for o in listed if o["id"] == obj["id"]]
                assert len(mine) == 1, name
                seen[name] = mine[0]
                if update is not None:
                    for field, value in update.items():
                        assert (mine[0][field] == value if not isinstance(value, dict)
                                else value.items() <= mine[0][field].items())
            # deletes where Stripe has them
            await client.delete(KINDS["product_features"].path.replace("{product}", ids["products"]),
                                ids["product_features"])
            for name in ("coupons", "webhook_endpoints"):
                deleted = await client.delete(KINDS[name].path, ids[name])
                assert deleted["deleted"] is True
                with pytest.raises(NotFoundError):
                    await client.retrieve(KINDS[name].path, ids[name])
        return seen

    seen = run(go())
    assert set(seen) == set(KINDS)  # every kind was exercised


def test_meter_actions_and_object_path(emu: Emulator) -> None:
    async def go() -> tuple[str, str]:
        async with client_for(emu) as client:
            meter = await client.create("/v1/billing/meters", {
                "display_name": "Calls", "event_name": "calls",
                "default_aggregation": {"formula": "count"}})
            path = client.object_path("/v1/billing/meters", meter["id"], "deactivate")
            off = await client.request("POST", path)
            on = await client.request("POST", client.object_path("/v1/billing/meters",
                                                                 meter["id"], "reactivate"))
            return off["status"], on["status"]

    assert run(go()) == ("inactive", "active")


# -- nested shapes, round trip ------------------------------------------------------------


def test_nested_shapes_round_trip_through_the_emulator(emu: Emulator) -> None:
    tiers = [
        {"up_to": 1000, "flat_amount": 0, "unit_amount_decimal": Decimal("0.0000001")},
        {"up_to": 10**9, "unit_amount_decimal": 1e-7},
        {"up_to": "inf", "unit_amount": 1},
    ]

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with client_for(emu) as client:
            product = await client.create("/v1/products", {
                "name": "Round trip", "description": "to be cleared",
                "marketing_features": [{"name": "One"}, {"name": "Two"}],
                "package_dimensions": {"height": 1.5, "length": 2, "weight": Decimal("0.25"),
                                       "width": 10.0},
                "metadata": {"keep": "yes", "drop": "soon", "none": None},
            })
            out["product"] = await client.update("/v1/products", product["id"], {
                "description": "", "metadata": {"drop": ""}})
            price = await client.create("/v1/prices", {
                "currency": "usd", "product": product["id"], "billing_scheme": "tiered",
                "tiers_mode": "graduated", "tiers": tiers,
                "recurring": {"interval": "month", "interval_count": 3},
                "currency_options": {"eur": {"tiers": [{"up_to": 5, "unit_amount": 9},
                                                       {"up_to": "inf", "unit_amount": 8}]}},
            }, expand=["tiers", "currency_options"])
            out["price_create"] = price
            listed = await _all(client, "/v1/prices", params={"product": product["id"]},
                                expand=KINDS["prices"].list_expand)
            out["price_listed"] = listed[0]
            coupon = await client.create("/v1/coupons", {
                "amount_off": 500, "currency": "usd", "duration": "once",
                "currency_options": {"eur": {"amount_off": 450}, "gbp": {"amount_off": 400}},
                "applies_to": {"products": [product["id"]]},
            }, expand=["applies_to", "currency_options"])
            out["coupon"] = coupon
            out["promo"] = await client.create("/v1/promotion_codes", {
                "promotion": {"type": "coupon", "coupon": coupon["id"]},
                "restrictions": {"first_time_transaction": True,
                                 "currency_options": {"usd": {"minimum_amount": 2000}}},
            })
            out["tax"] = await client.create("/v1/tax_rates", {
                "display_name": "Sales tax", "inclusive": True, "percentage": Decimal("7.25")})
        return out

    out = run(go())
    product = out["product"]
    assert product["description"] in (None, "")  # "" cleared it
    assert product["metadata"] == {"keep": "yes"}  # metadata[drop]= removed one key
    assert [f["name"] for f in product["marketing_features"]] == ["One", "Two"]
    assert product["package_dimensions"] == {"height": 1.5, "length": 2, "weight": 0.25,
                                             "width": 10}
    for price in (out["price_create"], out["price_listed"]):
        assert [t["up_to"] for t in price["tiers"]] == [1000, 10**9, None]
        assert Decimal(price["tiers"][0]["unit_amount_decimal"]) == Decimal("0.0000001")
        assert Decimal(price["tiers"][1]["unit_amount_decimal"]) == Decimal("0.0000001")
        assert price["recurring"]["interval_count"] == 3
        assert [t["up_to"] for t in price["currency_options"]["eur"]["tiers"]] == [5, None]
    coupon = out["coupon"]
    assert coupon["applies_to"]["products"] == [out["product"]["id"]]
    assert coupon["currency_options"]["eur"]["amount_off"] == 450
    assert coupon["currency_options"]["gbp"]["amount_off"] == 400
    restrictions = out["promo"]["restrictions"]
    assert restrictions["first_time_transaction"] is True
    assert restrictions["currency_options"]["usd"]["minimum_amount"] == 2000
    assert out["tax"]["percentage"] == 7.25 and out["tax"]["inclusive"] is True


def test_unknown_nested_parameter_is_reported_with_its_param(emu: Emulator) -> None:
    async def go() -> None:
        async with client_for(emu) as client:
            product = await client.create("/v1/products", {"name": "x"})
            await client.create("/v1/prices", {"currency": "usd", "product": product["id"],
                                               "unit_amount": 5,
                                               "recurring": {"interval": "month", "foo": 1}})

    with pytest.raises(InvalidRequestError) as info:
        run(go())
    err = info.value
    assert err.param == "recurring[foo]" and err.code == "parameter_unknown"
    assert str(err).startswith("Stripe rejected POST /v1/prices: parameter_unknown "
                               "(param recurring[foo]): ")
    assert err.request_id and err.request_id.startswith("req_") and str(err).endswith(f"[{err.request_id}]")


# -- account ------------------------------------------------------------------------------


def test_account_detection(emu: Emulator) -> None:
    async def go(key: str) -> Account:
        async with client_for(emu, key=key) as client:
            first = await client.account()
            assert await client.account() is first  # cached for the run
            return first

    test = run(go(KEY))
    live = run(go(LIVE_KEY))
    assert test.id.startswith("acct_") and test.livemode is False
    assert live.livemode is True and live.id == test.id


def test_headers_reach_the_emulator(emu: Emulator) -> None:
    async def go() -> tuple[int, int]:
        async with client_for(emu, stripe_account="acct_connected1") as connected, \
                client_for(emu) as platform:
            await connected.create("/v1/products", {"name": "connected"})
            return (len(await _all(connected, "/v1/products")),
                    len(await _all(platform, "/v1/products")))

    assert run(go()) == (1, 0)  # Stripe-Account selects the connected account's own data


def test_bad_key_is_an_authentication_error(emu: Emulator) -> None:
    async def go() -> None:
        async with client_for(emu, key="sk_test_not-a-valid-key-0000") as client:
            await client.account()

    with pytest.raises(AuthenticationError) as info:
        run(go())
    assert info.value.http_status == 401


# -- faults -------------------------------------------------------------------------------


def test_seeded_server_errors_are_retried_to_success(emu: Emulator, fake_time: FakeTime) -> None:
    emu.set_faults(Faults(fail_rate=0.3, seed=7))

    async def go() -> list[str]:
        async with client_for(emu, fake_time, retry=RetryPolicy(max_retries=8)) as client:
            made = [await client.create("/v1/products", {"name": f"p{i}"}) for i in range(40)]
            emu.set_faults(Faults())
            listed = await _all(client, "/v1/products")
            assert client.retries > 0
            return [p["id"] for p in made] + ["|"] + [p["id"] for p in listed]

    ids = run(go())
    made, listed = ids[: ids.index("|")], ids[ids.index("|") + 1:]
    assert len(set(made)) == 40 and set(listed) == set(made)
    assert emu.request_counts()["POST /v1/products"] > 40  # some attempts failed with 500


def test_idempotent_create_under_drop_after_commit_yields_one_object(
        emu: Emulator, fake_time: FakeTime) -> None:
    emu.set_faults(Faults(drop_rate=0.5, seed=3))

    async def go() -> tuple[list[str], list[str]]:
        async with client_for(emu, fake_time, retry=RetryPolicy(max_retries=10)) as client:
            made = [await client.create("/v1/products", {"name": f"p{i}"},
                                        idempotency_key=f"plan-1-create-p{i}") for i in range(30)]
            emu.set_faults(Faults())
            listed = await _all(client, "/v1/products")
            return [p["id"] for p in made], [p["id"] for p in listed]

    made, listed = run(go())
    posts = emu.request_counts()["POST /v1/products"]
    assert posts > 30  # writes were committed and then dropped, and retried
    assert len(listed) == 30 and sorted(listed) == sorted(made)  # and never created twice


def test_drop_on_every_attempt_still_creates_once(emu: Emulator, fake_time: FakeTime) -> None:
    emu.set_faults(Faults(drop_rate=1.0))

    async def go() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with client_for(emu, fake_time) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.create("/v1/products", {"name": "once"}, idempotency_key="k-once")
            assert info.value.attempts == 5
            assert "RemoteProtocolError" in str(info.value)
            emu.set_faults(Faults())
            listed = await _all(client, "/v1/products")
            again = await client.create("/v1/products", {"name": "once"},
                                        idempotency_key="k-once")  # a re-run of the plan
            return listed, again

    listed, again = run(go())
    assert len(listed) == 1 and again["id"] == listed[0]["id"]


def test_emulated_rate_limit_is_absorbed(emu: Emulator, fake_time: FakeTime) -> None:
    """The emulator's own limiter (on its own fake clock) answers 429 + Stripe-Should-Retry;
    the client backs off on simulated time and gets through."""
    emu_time = FakeTime()
    emu = Emulator(clock=emu_time.clock)
    emu.set_faults(Faults(rate_limit=2))

    async def sleep(seconds: float) -> None:
        emu_time.now += seconds
        await fake_time.sleep(seconds)

    async def go() -> tuple[int, int]:
        async with client_for(emu, fake_time, sleep=sleep,
                              retry=RetryPolicy(max_retries=10, total_timeout=600)) as client:
            for i in range(6):
                await client.create("/v1/products", {"name": f"p{i}"})
            emu.set_faults(Faults())
            return client.retries, len(await _all(client, "/v1/products"))

    retries, count = run(go())
    assert retries > 0 and count == 6
    assert emu.request_counts()["POST /v1/products"] == 6 + retries


def test_drop_over_loopback_yields_one_object(emu: Emulator, fake_time: FakeTime) -> None:
    """A real socket closed after the write committed: httpx sees RemoteProtocolError."""
    emu.set_faults(Faults(drop_rate=0.5, seed=11))
    policy = RetryPolicy(max_retries=10)

    async def go(url: str) -> tuple[list[str], int]:
        async with StripeClient(KEY, api_base=url, rate_limit=math.inf, retry=policy,
                                clock=fake_time.clock, sleep=fake_time.sleep) as client:
            made = [(await client.create("/v1/products", {"name": f"p{i}"}))["id"]
                    for i in range(10)]
            emu.set_faults(Faults())
            listed = [p["id"] async for p in client.list_all("/v1/products")]
            assert sorted(listed) == sorted(made)
            return listed, client.retries

    with serve_in_thread(emu) as url:
        listed, retries = run(go(url))
    assert len(listed) == 10 and retries > 0
