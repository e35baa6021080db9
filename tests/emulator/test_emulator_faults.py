"""Faults on demand: reproducible from a seed, and each as a client would see it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from emulator_helpers import KEY, Api, encode, error_of

from reconciler.emulator import Emulator, Faults


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_sequence(seed: int) -> list[str]:
    """A fixed request sequence; what each request met, as a client sees it."""
    clock = FakeClock()
    emu = Emulator(faults=Faults(fail_rate=0.2, drop_rate=0.25, rate_limit=5, seed=seed), clock=clock)
    api = Api(emu)
    seen = []
    for i in range(60):
        clock.now += 0.15  # ~6.7 requests per second against a limit of 5
        try:
            if i % 3 == 0:
                response = api.get("/v1/products")
            else:
                response = api.post("/v1/products", {"name": f"P{i}"})
            error = response.json().get("error", {})
            seen.append(f"{response.status_code}:{error.get('code') or error.get('type', '')}")
        except httpx.RemoteProtocolError:
            seen.append("dropped")
    return seen


def test_same_seed_same_faults() -> None:
    first, second = run_sequence(seed=7), run_sequence(seed=7)
    assert first == second
    assert {"200:", "500:api_error", "429:rate_limit", "dropped"} <= set(first)
    assert run_sequence(seed=8) != first


def test_server_errors_write_nothing_and_ask_for_a_retry() -> None:
    emu = Emulator(faults=Faults(fail_rate=1.0))
    api = Api(emu)
    response = api.post("/v1/products", {"name": "Never"})
    error = error_of(response, 500, None)
    assert error["type"] == "api_error"
    assert response.headers["stripe-should-retry"] == "true"
    emu.set_faults(Faults())
    assert api.ok(api.get("/v1/products"))["data"] == []


def test_rate_limit_follows_the_injected_clock() -> None:
    clock = FakeClock()
    emu = Emulator(faults=Faults(rate_limit=3), clock=clock)
    api = Api(emu)
    statuses = [api.get("/v1/products").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = api.get("/v1/products")
    error = error_of(limited, 429, "rate_limit")
    assert error["type"] == "invalid_request_error"
    assert limited.headers["stripe-should-retry"] == "true"
    clock.now += 1 / 3
    assert [api.get("/v1/products").status_code for _ in range(2)] == [200, 429]
    clock.now += 10  # the bucket holds one second's worth, no more
    assert [api.get("/v1/products").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_dropped_write_is_committed_and_a_retry_replays_it() -> None:
    emu = Emulator(faults=Faults(drop_rate=1.0))
    api = Api(emu)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/products", {"name": "Stored"}, **{"Idempotency-Key": "retry-me"})
    assert api.get("/v1/products").status_code == 200  # reads are never dropped
    emu.set_faults(Faults())
    stored = api.ok(api.get("/v1/products"))["data"]
    assert [p["name"] for p in stored] == ["Stored"]
    retry = api.post("/v1/products", {"name": "Stored"}, **{"Idempotency-Key": "retry-me"})
    assert retry.headers["idempotent-replayed"] == "true" and retry.json()["id"] == stored[0]["id"]
    assert len(api.ok(api.get("/v1/products"))["data"]) == 1


def test_async_transport_overlaps_latency_and_drops_like_a_server() -> None:
    emu = Emulator(faults=Faults(latency_ms=100))

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=emu.async_transport(), base_url="https://api.stripe.com",
                                     headers={"Authorization": f"Bearer {KEY}"}) as client:
            started = time.monotonic()
            responses = await asyncio.gather(*[
                client.post("/v1/products", data=dict(encode({"name": f"P{i}"}))) for i in range(10)])
            assert time.monotonic() - started < 0.6  # ten 100 ms waits, overlapped
            emu.set_faults(Faults(drop_rate=1.0))
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/v1/coupons", data={"percent_off": "5"})
            return responses

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.json()["id"] for r in responses}) == 10
    emu.set_faults(Faults())
    assert len(Api(emu).ok(Api(emu).get("/v1/coupons"))["data"]) == 1


def test_sync_transport_sleeps_the_latency() -> None:
    api = Api(Emulator(faults=Faults(latency_ms=50)))
    started = time.monotonic()
    api.get("/v1/products")
    assert time.monotonic() - started >= 0.05


def test_faults_are_configurable_at_run_time_over_http(emu: Emulator) -> None:
    admin = Api(emu, key=None).http
    assert admin.get("/_emulator/faults").json() == {
        "latency_ms": 0, "rate_limit": None, "fail_rate": 0.0, "drop_rate": 0.0, "seed": 0,
        "retry_after": 1.0, "limits": "none"}
    changed = admin.post("/_emulator/faults", json={"fail_rate": 1.0, "seed": 3}).json()
    assert (changed["fail_rate"], changed["seed"], changed["drop_rate"]) == (1.0, 3, 0.0)
    assert emu.faults == Faults(fail_rate=1.0, seed=3)
    assert Api(emu).get("/v1/products").status_code == 500
    bad = admin.post("/_emulator/faults", json={"fail_rate": 2})
    assert bad.status_code == 400 and "fail_rate" in bad.json()["error"]["message"]
    assert admin.post("/_emulator/faults", json={"colour": 1}).status_code == 400
    admin.post("/_emulator/faults", json={"fail_rate": 0})
    assert Api(emu).get("/v1/products").status_code == 200


def test_request_counts_per_method_and_template(emu: Emulator) -> None:
    api = Api(emu)
    product = api.create("/v1/products", name="P")
    api.create("/v1/prices", product=product["id"], currency="usd", unit_amount=1)
    api.ok(api.post(f"/v1/products/{product['id']}", {"name": "Q"}))
    api.get(f"/v1/products/{product['id']}/features")
    api.get("/v1/products")
    api.get("/v1/products")
    api.delete("/v1/prices/price_x")
    assert emu.request_counts() == {
        "POST /v1/products": 1, "POST /v1/prices": 1, "POST /v1/products/{id}": 1,
        "GET /v1/products/{product}/features": 1, "GET /v1/products": 2,
        "DELETE /v1/prices/price_x": 1,
    }
    emu.set_faults(Faults(fail_rate=1.0))
    api.get("/v1/products")
    assert emu.request_counts()["GET /v1/products"] == 3  # faulted requests count too
    assert api.http.delete("/_emulator/requests").json() == {"counts": {}}
    assert emu.request_counts() == {}


def test_fault_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        Faults(fail_rate=1.5)
    with pytest.raises(ValueError):
        Faults(rate_limit=0)
    with pytest.raises(ValueError):
        Faults(latency_ms=-1)
