"""The request log: one entry per API request, in Python and at ``GET /_emulator/requests``."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from emulator_helpers import Api

from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.emulator.requestlog import CAPACITY, LoggedRequest, RequestLog


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_request_is_logged_with_its_clock_time_template_key_and_status() -> None:
    clock = FakeClock()
    emu = Emulator(clock=clock)
    api = Api(emu)
    product = api.ok(api.post("/v1/products", {"name": "P"}, **{"Idempotency-Key": "k-1"}))
    clock.now += 0.25
    replay = api.post("/v1/products", {"name": "P"}, **{"Idempotency-Key": "k-1"})
    clock.now += 0.25
    api.get(f"/v1/products/{product['id']}")
    api.post("/v1/products", {"name": "Q"}, **{"Idempotency-Key": "k-1"})  # key reused: 400
    api.get("/v1/nowhere")
    log = emu.request_log()
    assert [(e.at, e.method, e.path, e.idempotency_key, e.status, e.fault, e.replayed)
            for e in log] == [
        (100.0, "POST", "/v1/products", "k-1", 200, "none", False),
        (100.25, "POST", "/v1/products", "k-1", 200, "none", True),
        (100.5, "GET", "/v1/products/{id}", None, 200, "none", False),
        (100.5, "POST", "/v1/products", "k-1", 400, "none", False),
        (100.5, "GET", "/v1/nowhere", None, 404, "none", False),
    ]
    assert log[1].request_id == replay.headers["request-id"]
    assert all(e.request_id.startswith("req_") for e in log)
    with pytest.raises(dataclasses.FrozenInstanceError):
        log[0].status = 500  # type: ignore[misc]


def test_faults_are_logged_with_what_the_client_got() -> None:
    clock = FakeClock()
    emu = Emulator(faults=Faults(rate_limit=1), clock=clock)
    api = Api(emu)
    api.get("/v1/products")
    limited = api.get("/v1/products")  # the bucket of one is empty
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    clock.now += 1
    emu.set_faults(Faults(fail_rate=1.0))
    assert api.post("/v1/coupons", {"percent_off": 5}).status_code == 500
    emu.set_faults(Faults(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/coupons", {"percent_off": 5}, **{"Idempotency-Key": "drop-me"})
    emu.set_faults(Faults())
    again = api.post("/v1/coupons", {"percent_off": 5}, **{"Idempotency-Key": "drop-me"})
    assert again.headers["idempotent-replayed"] == "true"
    assert [(e.status, e.fault, e.replayed, e.idempotency_key) for e in emu.request_log()] == [
        (200, "none", False, None),
        (429, "rate_limit", False, None),
        (500, "server_error", False, None),
        (200, "drop", False, "drop-me"),  # committed; the client saw a closed connection
        (200, "none", True, "drop-me"),
    ]
    assert emu.request_counts() == {"GET /v1/products": 2, "POST /v1/coupons": 3}


@pytest.mark.parametrize(("seconds", "header"), [(1.0, "1"), (2, "2"), (0.05, "0.05"),
                                                  (0.125, "0.125"), (0, "0")])
def test_retry_after_of_a_rate_limited_answer_is_configurable(seconds: float, header: str) -> None:
    emu = Emulator(faults=Faults(rate_limit=1, retry_after=seconds), clock=FakeClock())
    api = Api(emu)
    api.get("/v1/products")
    limited = api.get("/v1/products")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == header
    assert limited.headers["stripe-should-retry"] == "true"


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_retry_after_must_be_a_finite_non_negative_number(bad: float) -> None:
    with pytest.raises(ValueError, match="retry_after"):
        Faults(retry_after=bad)


def test_retry_after_can_be_set_over_http(emu: Emulator) -> None:
    admin = Api(emu, key=None).http
    assert admin.post("/_emulator/faults", json={"retry_after": 0.05}).json()["retry_after"] == 0.05
    assert emu.faults.retry_after == 0.05
    assert admin.post("/_emulator/faults", json={"retry_after": -1}).status_code == 400


def test_http_view_keeps_counts_and_adds_the_log_on_request(emu: Emulator) -> None:
    admin = Api(emu, key=None).http
    api = Api(emu)
    for i in range(3):
        api.post("/v1/products", {"name": f"P{i}"}, **{"Idempotency-Key": f"k{i}"})
    admin.get("/_emulator/state")  # test controls are neither counted nor logged
    assert admin.get("/_emulator/requests").json() == {"counts": {"POST /v1/products": 3}}
    full = admin.get("/_emulator/requests", params={"log": "true"}).json()
    assert full["counts"] == {"POST /v1/products": 3}
    assert [e["idempotency_key"] for e in full["log"]] == ["k0", "k1", "k2"]
    assert full["log"] == [e.to_json() for e in emu.request_log()]
    assert set(full["log"][0]) == {"at", "method", "path", "idempotency_key", "status", "fault",
                                   "replayed", "request_id"}
    last = admin.get("/_emulator/requests", params={"log": "1", "limit": "2"}).json()["log"]
    assert [e["idempotency_key"] for e in last] == ["k1", "k2"]
    assert admin.get("/_emulator/requests?log=true&limit=0").json()["log"] == []
    assert len(admin.get("/_emulator/requests?log=true&limit=99").json()["log"]) == 3
    assert admin.get("/_emulator/requests?log=true&limit=-1").status_code == 400
    assert admin.get("/_emulator/requests?log=true&limit=x").status_code == 400
    assert admin.delete("/_emulator/requests").json() == {"counts": {}}
    assert admin.get("/_emulator/requests?log=true").json() == {"counts": {}, "log": []}


def test_log_is_cleared_with_the_counts_and_by_reset(emu: Emulator) -> None:
    api = Api(emu)
    api.get("/v1/products")
    emu.reset_request_counts()
    assert emu.request_log() == [] and emu.request_counts() == {}
    api.get("/v1/products")
    emu.reset()
    assert emu.request_log() == [] and emu.request_counts() == {}


def test_log_is_bounded_and_keeps_the_newest() -> None:
    log = RequestLog(capacity=3)
    for i in range(5):
        log.record(LoggedRequest(at=float(i), method="GET", path="/v1/products",
                                 idempotency_key=None, status=200, fault="none",
                                 replayed=False, request_id=f"req_{i}"))
    assert [e.request_id for e in log.entries()] == ["req_2", "req_3", "req_4"]
    assert log.counts() == {"GET /v1/products": 5}  # counts are not bounded
    assert CAPACITY == 100_000
    assert Emulator()._log._entries.maxlen == CAPACITY


def test_log_over_a_socket_records_the_drop_and_the_replay(emu: Emulator) -> None:
    emu.set_faults(Faults(drop_rate=1.0))
    auth = {"Authorization": "Bearer sk_test_123"}
    with serve_in_thread(emu) as url, httpx.Client(base_url=url, headers=auth) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/v1/products", data={"name": "P"}, headers={"Idempotency-Key": "s-1"})
        emu.set_faults(Faults())
        assert http.post("/v1/products", data={"name": "P"},
                         headers={"Idempotency-Key": "s-1"}).status_code == 200
        log = http.get("/_emulator/requests", params={"log": "true"}).json()["log"]
    assert [(e["fault"], e["replayed"], e["idempotency_key"]) for e in log] == [
        ("drop", False, "s-1"), ("none", True, "s-1")]
    assert log[0]["at"] <= log[1]["at"]
