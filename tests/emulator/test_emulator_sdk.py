"""The official stripe-python SDK against the emulator served on a loopback socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from emulator_helpers import KEY, Api

from reconciler import reference
from reconciler.emulator import Emulator, Faults, serve_in_thread


@pytest.fixture
def served(emu: Emulator) -> Iterator[str]:
    with serve_in_thread(emu, port=0) as url:
        yield url


@pytest.fixture
def client(served: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": served}, max_network_retries=0)


def test_serves_on_loopback_port_zero(served: str) -> None:
    host, port = served.removeprefix("http://").split(":")
    assert host == "127.0.0.1" and int(port) > 0
    response = httpx.get(f"{served}/v1/account", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200 and response.json()["object"] == "account"
    assert response.headers["request-id"].startswith("req_")


def test_products_prices_and_auto_paging(client: stripe.StripeClient) -> None:
    v1 = client.v1
    product = v1.products.create(params={"name": "Pro", "metadata": {"stack": "test"}})
    assert v1.products.retrieve(product.id).name == "Pro"
    assert v1.products.update(product.id, params={"name": "Pro 2"}).name == "Pro 2"
    price = v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 1500,
                                     "recurring": {"interval": "month"}, "lookup_key": "pro"})
    assert v1.prices.retrieve(price.id, params={"expand": ["product"]}).product.name == "Pro 2"
    assert v1.prices.update(price.id, params={"nickname": "Monthly"}).nickname == "Monthly"
    assert [p.id for p in v1.prices.list(params={"lookup_keys": ["pro"]}).data] == [price.id]
    v1.products.update(product.id, params={"default_price": price.id})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        v1.products.delete(product.id)
    assert caught.value.http_status == 400
    for i in range(250):
        v1.products.create(params={"name": f"Bulk {i}"})
    names = [p.name for p in v1.products.list(params={"limit": 100}).auto_paging_iter()]
    assert len(names) == 251 and len(set(names)) == 251
    bare = v1.products.create(params={"name": "Deletable"})
    assert v1.products.delete(bare.id).deleted is True
    archived = v1.prices.create(params={"product": product.id, "currency": "usd",
                                        "unit_amount": 1})
    assert v1.prices.update(archived.id, params={"active": False}).active is False


def test_every_other_kind_through_the_sdk(client: stripe.StripeClient) -> None:
    v1 = client.v1
    coupon = v1.coupons.create(params={"percent_off": 20, "duration": "repeating", "duration_in_months": 3})
    assert v1.coupons.retrieve(coupon.id).duration_in_months == 3
    assert v1.coupons.update(coupon.id, params={"name": "Twenty"}).name == "Twenty"
    promo = v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                              "code": "TWENTY"})
    assert v1.promotion_codes.retrieve(promo.id).code == "TWENTY"
    assert v1.promotion_codes.update(promo.id, params={"active": False}).active is False
    assert [p.id for p in v1.promotion_codes.list(params={"code": "twenty"}).data] == [promo.id]
    assert v1.coupons.delete(coupon.id).deleted is True

    rate = v1.tax_rates.create(params={"display_name": "VAT", "percentage": 19.5, "inclusive": False})
    assert v1.tax_rates.retrieve(rate.id).percentage == 19.5
    assert v1.tax_rates.update(rate.id, params={"active": False}).active is False
    assert [r.id for r in v1.tax_rates.list(params={"active": False}).data] == [rate.id]

    ship = v1.shipping_rates.create(params={"display_name": "Ground", "type": "fixed_amount",
                                            "fixed_amount": {"amount": 500, "currency": "usd"}})
    assert v1.shipping_rates.retrieve(ship.id).fixed_amount.amount == 500
    assert v1.shipping_rates.update(ship.id, params={"active": False}).active is False
    assert len(v1.shipping_rates.list().data) == 1

    pmc = v1.payment_method_configurations.create(params={"name": "Checkout",
                                                          "card": {"display_preference": {"preference": "on"}}})
    assert v1.payment_method_configurations.retrieve(pmc.id).card.display_preference.value == "on"
    assert v1.payment_method_configurations.update(pmc.id, params={"active": False}).active is False
    assert len(v1.payment_method_configurations.list().data) == 2  # with the default one

    hook = v1.webhook_endpoints.create(params={"url": "https://example.com/h",
                                               "enabled_events": ["price.created"]})
    assert hook.secret.startswith("whsec_")
    assert "secret" not in v1.webhook_endpoints.retrieve(hook.id).to_dict()
    assert v1.webhook_endpoints.update(hook.id, params={"disabled": True}).status == "disabled"
    assert [h.id for h in v1.webhook_endpoints.list().data] == [hook.id]
    assert v1.webhook_endpoints.delete(hook.id).deleted is True

    feature = v1.entitlements.features.create(params={"name": "SSO", "lookup_key": "sso"})
    assert v1.entitlements.features.retrieve(feature.id).lookup_key == "sso"
    assert v1.entitlements.features.update(feature.id, params={"name": "Single sign-on"}).name == "Single sign-on"
    product = v1.products.create(params={"name": "Team"})
    attached = v1.products.features.create(product.id, params={"entitlement_feature": feature.id})
    assert attached.entitlement_feature.lookup_key == "sso"
    assert v1.products.features.retrieve(product.id, attached.id).id == attached.id
    assert [f.id for f in v1.products.features.list(product.id).data] == [attached.id]
    assert v1.products.features.delete(product.id, attached.id).deleted is True
    assert v1.entitlements.features.update(feature.id, params={"active": False}).active is False
    assert v1.entitlements.features.list().data == []

    meter = v1.billing.meters.create(params={"display_name": "Calls", "event_name": "calls",
                                             "default_aggregation": {"formula": "sum"}})
    assert v1.billing.meters.retrieve(meter.id).event_name == "calls"
    assert v1.billing.meters.update(meter.id, params={"display_name": "API calls"}).display_name == "API calls"
    assert v1.billing.meters.deactivate(meter.id).status == "inactive"
    assert v1.billing.meters.reactivate(meter.id).status == "active"
    assert [m.id for m in v1.billing.meters.list().data] == [meter.id]
    assert client.v1.accounts.retrieve_current().object == "account"


def test_sdk_errors_are_typed(client: stripe.StripeClient, served: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(params={"currency": "usd", "unit_amount": 1, "product": "prod_nope"})
    assert (caught.value.code, caught.value.param, caught.value.http_status) == (
        "resource_missing", "product", 400)
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_bad-key", base_addresses={"api": served}).v1.products.list()
    key = "dup-key"
    client.v1.products.create(params={"name": "A"}, options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.products.create(params={"name": "B"}, options={"idempotency_key": key})


def test_sdk_retries_through_faults_and_creates_each_object_once(
        emu: Emulator, served: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "_sleep_time_seconds", lambda self, n, r=None: 0)
    emu.set_faults(Faults(fail_rate=0.2, drop_rate=0.3, seed=11))
    client = stripe.StripeClient(KEY, base_addresses={"api": served}, max_network_retries=20)
    made = [client.v1.products.create(params={"name": f"P{i}"}).id for i in range(30)]
    emu.set_faults(Faults())
    listed = [p.id for p in client.v1.products.list(params={"limit": 100}).auto_paging_iter()]
    assert sorted(listed) == sorted(made) and len(listed) == 30
    counts = emu.request_counts()
    assert counts["POST /v1/products"] > 30  # some were retried


def test_dropped_connection_on_the_socket(emu: Emulator, served: str) -> None:
    emu.set_faults(Faults(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{served}/v1/products", data={"name": "Kept"},
                   headers={"Authorization": f"Bearer {KEY}"})
    response = httpx.get(f"{served}/v1/products", headers={"Authorization": f"Bearer {KEY}"})
    assert [p["name"] for p in response.json()["data"]] == ["Kept"]


def test_threaded_server_overlaps_latency(emu: Emulator, served: str) -> None:
    emu.set_faults(Faults(latency_ms=200))
    results: list[int] = []

    def call() -> None:
        results.append(httpx.get(f"{served}/v1/products",
                                 headers={"Authorization": f"Bearer {KEY}"}).status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8
    assert time.monotonic() - started < 1.0  # 8 x 200 ms, overlapped


def test_server_binds_loopback_by_default(emu: Emulator) -> None:
    with serve_in_thread(emu) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.2)


MINIMAL_CREATE = {
    "product": lambda i, ctx: {"name": f"P{i}"},
    "price": lambda i, ctx: {"product": ctx["product"], "currency": "usd", "unit_amount": i + 1},
    "coupon": lambda i, ctx: {"percent_off": 5},
    "promotion_code": lambda i, ctx: {"promotion": {"type": "coupon", "coupon": ctx["coupon"]}},
    "tax_rate": lambda i, ctx: {"display_name": "VAT", "percentage": 20, "inclusive": False},
    "shipping_rate": lambda i, ctx: {"display_name": "Ground",
                                     "fixed_amount": {"amount": 500, "currency": "usd"}},
    "payment_method_configuration": lambda i, ctx: {"name": f"Config {i}"},
    "webhook_endpoint": lambda i, ctx: {"url": f"https://example.com/{i}", "enabled_events": ["*"]},
    "entitlements.feature": lambda i, ctx: {"name": "F", "lookup_key": f"feature-{i}"},
    "product_feature": lambda i, ctx: {"entitlement_feature": ctx["feature"](i)},
    "billing.meter": lambda i, ctx: {"display_name": "M", "event_name": f"event-{i}",
                                     "default_aggregation": {"formula": "sum"}},
}


def _sdk_list(client: stripe.StripeClient, kind: str, product: str) -> Any:
    v1 = client.v1
    params = {"limit": 100}
    return {
        "product": lambda: v1.products.list(params=params),
        "price": lambda: v1.prices.list(params=params),
        "coupon": lambda: v1.coupons.list(params=params),
        "promotion_code": lambda: v1.promotion_codes.list(params=params),
        "tax_rate": lambda: v1.tax_rates.list(params=params),
        "shipping_rate": lambda: v1.shipping_rates.list(params=params),
        "payment_method_configuration": lambda: v1.payment_method_configurations.list(params=params),
        "webhook_endpoint": lambda: v1.webhook_endpoints.list(params=params),
        "entitlements.feature": lambda: v1.entitlements.features.list(params=params),
        "product_feature": lambda: v1.products.features.list(product, params=params),
        "billing.meter": lambda: v1.billing.meters.list(params=params),
    }[kind]()


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(MINIMAL_CREATE))
def test_sdk_auto_pages_over_250_objects_of_each_kind(emu: Emulator, client: stripe.StripeClient,
                                                      kind: str) -> None:
    api = Api(emu)  # seed in-process (fast), read through the SDK over the socket
    ctx = {"product": api.create("/v1/products", name="Owner")["id"],
           "coupon": api.create("/v1/coupons", percent_off=5)["id"],
           "feature": lambda i: api.create("/v1/entitlements/features", name="F",
                                           lookup_key=f"attached-{i}")["id"]}
    path = reference.kind_facts(kind)["base_path"].replace("{product}", ctx["product"])
    made = {api.create(path, **MINIMAL_CREATE[kind](i, ctx))["id"] for i in range(250)}
    listed = [obj.id for obj in _sdk_list(client, kind, ctx["product"]).auto_paging_iter()]
    assert len(listed) == len(set(listed))
    assert made <= set(listed)
    assert len(set(listed) - made) <= 1  # the owner product, or the default configuration
