"""List envelopes, cursor paging, ordering and the documented filters."""

from __future__ import annotations

import itertools

import pytest
from emulator_helpers import Api, error_of

from reconciler.emulator import Emulator


@pytest.fixture
def frozen() -> Api:
    """An emulator whose wall clock stands still: every object shares one `created` second."""
    return Api(Emulator(wall_clock=lambda: 1_700_000_000))


def make_products(api: Api, n: int) -> list[str]:
    return [api.create("/v1/products", name=f"P{i}")["id"] for i in range(n)]


def test_envelope_default_limit_and_newest_first(frozen: Api) -> None:
    ids = make_products(frozen, 12)
    page = frozen.ok(frozen.get("/v1/products"))
    assert set(page) == {"object", "data", "has_more", "url"}
    assert (page["object"], page["url"], page["has_more"]) == ("list", "/v1/products", True)
    assert [p["id"] for p in page["data"]] == ids[::-1][:10]
    assert {p["created"] for p in page["data"]} == {1_700_000_000}


def test_cursor_paging_in_both_directions(frozen: Api) -> None:
    ids = make_products(frozen, 7)[::-1]  # newest first
    first = frozen.ok(frozen.get("/v1/products", {"limit": 3}))
    assert [p["id"] for p in first["data"]] == ids[:3] and first["has_more"] is True
    second = frozen.ok(frozen.get("/v1/products", {"limit": 3, "starting_after": ids[2]}))
    assert [p["id"] for p in second["data"]] == ids[3:6] and second["has_more"] is True
    last = frozen.ok(frozen.get("/v1/products", {"limit": 3, "starting_after": ids[5]}))
    assert [p["id"] for p in last["data"]] == ids[6:] and last["has_more"] is False
    back = frozen.ok(frozen.get("/v1/products", {"limit": 2, "ending_before": ids[4]}))
    assert [p["id"] for p in back["data"]] == ids[2:4] and back["has_more"] is True
    top = frozen.ok(frozen.get("/v1/products", {"limit": 5, "ending_before": ids[2]}))
    assert [p["id"] for p in top["data"]] == ids[:2] and top["has_more"] is False


def test_walking_all_pages_sees_every_object_once(api: Api) -> None:
    ids = set(make_products(api, 23))
    seen: list[str] = []
    after = None
    for _ in itertools.count():
        params = {"limit": 5, **({"starting_after": after} if after else {})}
        page = api.ok(api.get("/v1/products", params))
        seen += [p["id"] for p in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert len(seen) == len(ids) and set(seen) == ids


class _Counted(dict):
    """A stored record that counts the reads of its fields."""

    reads = 0

    def __getitem__(self, key: str) -> object:
        _Counted.reads += 1
        return super().__getitem__(key)


def test_a_page_after_a_cursor_skips_the_newer_records_by_bisection(frozen: Api) -> None:
    """The 900th page of 100,000 prices read past 90,000 records before its own."""
    ids = make_products(frozen, 300)
    bucket = next(iter(frozen.emu.store._data["accounts"].values()))["objects"]["product"]
    newer = ids[101:]
    for object_id in newer:
        bucket[object_id] = _Counted(bucket[object_id])
    _Counted.reads = 0  # the class counts for every test: not another test's reads
    page = frozen.ok(frozen.get("/v1/products", {"limit": 5, "starting_after": ids[100]}))
    assert [p["id"] for p in page["data"]] == ids[99:94:-1]
    assert _Counted.reads <= 2 * len(newer).bit_length()  # the bisection's probes, not 199


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_limit_out_of_range(api: Api, limit: int) -> None:
    error_of(api.get("/v1/products", {"limit": limit}), 400, "parameter_invalid_integer", "limit")


def test_unknown_cursor(api: Api) -> None:
    error_of(api.get("/v1/products", {"starting_after": "prod_nope"}), 400, "resource_missing",
             "starting_after")
    error_of(api.get("/v1/coupons", {"ending_before": "NOPE"}), 400, "resource_missing", "ending_before")


def test_created_filters() -> None:
    now = iter(range(1_000, 2_000, 10))
    api = Api(Emulator(wall_clock=lambda: next(now)))
    ids = make_products(api, 5)  # created 1000 (+ seeding), ...
    created = {p["id"]: p["created"] for p in api.ok(api.get("/v1/products"))["data"]}
    middle = created[ids[2]]
    ids_where = lambda params: [p["id"] for p in api.ok(api.get("/v1/products", params))["data"]]
    assert ids_where({"created": middle}) == [ids[2]]
    assert ids_where({"created": {"gte": middle}}) == ids[2:][::-1]
    assert ids_where({"created": {"gt": middle}}) == ids[3:][::-1]
    assert ids_where({"created": {"lt": middle, "gte": created[ids[1]]}}) == [ids[1]]
    assert ids_where({"created": {"lte": middle}}) == ids[:3][::-1]
    error_of(api.get("/v1/products", {"created": {"after": 1}}), 400, "parameter_unknown",
             "created[after]")


def test_a_created_range_is_found_by_bisection() -> None:
    """A partitioned read's range of a few seconds in 100,000 prices read past all the
    newer ones to find it, and all the older ones to say it had no more."""
    now = [1_000]
    api = Api(Emulator(wall_clock=lambda: now[0]))
    ids, created = [], {}
    for i in range(300):
        now[0] += 10
        made = api.create("/v1/products", name=f"P{i}")
        ids.append(made["id"])
        created[made["id"]] = made["created"]
    bucket = next(iter(api.emu.store._data["accounts"].values()))["objects"]["product"]
    api.get("/v1/products", {"created": {"lt": 0}})  # the store learns the order once
    inside = ids[250:260]
    for object_id in ids:
        if object_id not in inside:
            bucket[object_id] = _Counted(bucket[object_id])
    _Counted.reads = 0
    first, last = created[inside[0]], created[inside[-1]]
    page = api.ok(api.get("/v1/products", {"created": {"gte": first, "lte": last}}))
    assert [p["id"] for p in page["data"]] == inside[::-1] and page["has_more"] is False
    assert _Counted.reads <= 4 * len(ids).bit_length()  # the bisections' probes


@pytest.mark.parametrize("clock", [[5, 6, 6, 8, 9, 9, 12], [5, 9, 6, 6, 12, 8, 9]])
def test_created_filters_hold_when_the_clock_went_back(clock: list[int]) -> None:
    """Seconds in creation order or not (a clock set back, maybe after the store learnt
    the order): the same objects either way, after each object created."""
    now = [1_000]
    api = Api(Emulator(wall_clock=lambda: now[0]))
    made: list[dict] = []
    for i, second in enumerate(clock):
        now[0] = 1_000 + second
        made.append(api.create("/v1/products", name=f"P{i}"))
        for low, width in itertools.product(range(1_004, 1_014), range(1, 5)):
            query = {"created": {"gte": low, "lt": low + width}, "limit": 2}
            expected = [p["id"] for p in reversed(made) if low <= p["created"] < low + width]
            found, page = [], api.ok(api.get("/v1/products", query))
            while True:
                found += [p["id"] for p in page["data"]]
                if not page["has_more"]:
                    break
                page = api.ok(api.get("/v1/products", {**query, "starting_after": found[-1]}))
            assert found == expected, (second, low, width)


def test_product_ids_filter_keeps_list_order_and_refuses_cursors(api: Api) -> None:
    """What the per-filter test (test_emulator_list_filters.py) does not show: order, refusals."""
    mug = api.create("/v1/products", name="Mug", type="good", shippable=True)
    plan = api.create("/v1/products", name="Plan")
    old = api.create("/v1/products", name="Old", active=False)
    ids_where = lambda params: [p["id"] for p in api.ok(api.get("/v1/products", params))["data"]]
    assert ids_where({"ids": [mug["id"], old["id"]]}) == [old["id"], mug["id"]]
    error_of(api.get("/v1/products", {"ids": [mug["id"]], "starting_after": plan["id"]}), 400, None, "ids")
    error_of(api.get("/v1/products", {"shippable": "maybe"}), 400, None, "shippable")
    error_of(api.get("/v1/products", {"lookup_keys": ["x"]}), 400, "parameter_unknown", "lookup_keys")


def test_search_subset(api: Api) -> None:
    pro = api.create("/v1/products", name="Pro plan", metadata={"tier": "gold"})
    api.create("/v1/products", name="Basic", active=False)
    found = lambda q: [p["id"] for p in api.ok(api.get("/v1/products/search", {"query": q}))["data"]]
    assert found("name:'pro plan'") == [pro["id"]]
    assert found("name~'pro' AND active:'true'") == [pro["id"]]
    assert found("metadata['tier']:'gold'") == [pro["id"]]
    assert len(found("active:'true' OR active:'false'")) == 2
    assert found("-name:'Basic'") == [pro["id"]]
    page = api.ok(api.get("/v1/products/search", {"query": "created>0", "limit": 1,
                                                  "expand": ["total_count"]}))
    assert (page["object"], page["has_more"], page["total_count"]) == ("search_result", True, 2)
    rest = api.ok(api.get("/v1/products/search", {"query": "created>0", "page": page["next_page"]}))
    assert len(rest["data"]) == 1 and rest["next_page"] is None
    error_of(api.get("/v1/products/search", {"query": "name:'a' AND active:'true' OR x:'y'"}), 400,
             None, "query")
    error_of(api.get("/v1/products/search", {"query": "colour:'red'"}), 400, None, "query")
    error_of(api.get("/v1/products/search", {}), 400, "parameter_missing", "query")
