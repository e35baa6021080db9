"""Stripe's limiters as modelled by ``Faults(limits=...)``: the global budget per mode, each
endpoint's (method and route template), search's, the concurrency limit, and 429s in Stripe's
shape. A fake clock stands still unless a test moves it, so every bucket is exact."""

from __future__ import annotations

import contextlib

import pytest
from emulator_helpers import Api, error_of

from reconciler.cli.context import Settings
from reconciler.emulator import Emulator, Faults


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def limited(limits: str) -> tuple[Api, FakeClock]:
    clock = FakeClock()
    emu = Emulator(faults=Faults(limits=limits, retry_after=0.5), clock=clock)
    return Api(emu), clock


def statuses(responses: list) -> list[int]:
    return [r.status_code for r in responses]


def test_none_admits_everything_as_before() -> None:
    api, _ = limited("none")
    assert set(statuses([api.get("/v1/products") for _ in range(200)])) == {200}


def test_an_endpoint_allows_25_a_second_in_live_mode_and_others_go_on() -> None:
    api, clock = limited("live")
    made = [api.post("/v1/products", {"name": f"P{i}"}) for i in range(26)]
    assert statuses(made) == [200] * 25 + [429]
    # another endpoint is not refused: live mode's global budget is 100 a second
    assert api.get("/v1/products").status_code == 200
    clock.now += 1.0
    assert api.post("/v1/products", {"name": "later"}).status_code == 200


def test_one_route_template_is_one_endpoint_whatever_the_id() -> None:
    api, clock = limited("live")
    clock.now = 0.0
    ids = [api.ok(api.post("/v1/products", {"name": f"P{i}"}))["id"] for i in range(25)]
    clock.now += 1.0
    reads = [api.get(f"/v1/products/{product_id}") for product_id in ids]
    assert set(statuses(reads)) == {200}
    assert api.get(f"/v1/products/{ids[0]}").status_code == 429
    assert api.post(f"/v1/products/{ids[0]}", {"name": "x"}).status_code == 200


def test_the_sandbox_global_budget_is_25_a_second_across_endpoints() -> None:
    api, _ = limited("sandbox")
    spread = [api.get("/v1/products") for _ in range(13)] + [api.get("/v1/prices")
                                                             for _ in range(12)]
    assert set(statuses(spread)) == {200}
    assert api.get("/v1/coupons").status_code == 429


def test_search_allows_20_a_second() -> None:
    api, _ = limited("live")
    found = [api.get("/v1/prices/search", {"query": "active:'true'"}) for _ in range(21)]
    assert statuses(found) == [200] * 20 + [429]


def test_a_429_has_stripes_shape_and_asks_for_a_retry() -> None:
    api, _ = limited("sandbox")
    for _ in range(25):
        api.get("/v1/products")
    refused = api.get("/v1/products")
    error = error_of(refused, 429, "rate_limit")
    assert error["type"] == "invalid_request_error"
    assert refused.headers["stripe-should-retry"] == "true"
    assert refused.headers["retry-after"] == "0.5"
    log = api.emu.request_log()
    assert [e.fault for e in log[-2:]] == ["none", "rate_limit"]


def test_too_many_requests_in_flight_are_refused() -> None:
    api, _ = limited("sandbox")
    with contextlib.ExitStack() as stack:
        for _ in range(25):  # 25 requests waiting out their latency
            stack.enter_context(api.emu.in_flight("/v1/products"))
        refused = api.get("/v1/products")
    error = error_of(refused, 429, "rate_limit")
    assert "concurrent" in error["message"]
    assert api.emu.request_log()[-1].fault == "concurrency_limit"
    assert api.get("/v1/products").status_code == 200  # the others have answered


def test_changing_the_model_refills_the_buckets() -> None:
    api, _ = limited("sandbox")
    for _ in range(25):
        api.get("/v1/products")
    api.emu.set_faults(Faults(limits="live"))
    assert api.get("/v1/products").status_code == 200


def test_an_unknown_model_names_the_choices() -> None:
    with pytest.raises(ValueError, match="none, sandbox, live"):
        Faults(limits="production")


def test_the_embedded_emulator_takes_its_model_from_the_settings(tmp_path) -> None:
    settings = Settings(api_key=None, api_base=None, emulator=True,
                        emulator_state=str(tmp_path / "state.json"), stripe_account=None,
                        live=False, verbose=0, emulator_limits="live")
    client = settings.client()
    assert client._http._transport.emulator.faults.limits == "live"
