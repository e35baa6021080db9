"""Stripe's metadata limits on every kind that has metadata: at most 50 keys, keys of at most 40
characters without square brackets, values of at most 500; on update, the merged keys count.

Stripe answers a 400 ``invalid_request_error`` with ``param`` ``metadata`` and no code.
"""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import error_of
from emulator_world import World

from reconciler import reference


def _takes_metadata(op: str) -> list[str]:
    return [k for k in reference.api()["kinds"]
            if "metadata" in reference.kind_facts(k)["params"].get(op, {})]


CREATE = _takes_metadata("create")
UPDATE = _takes_metadata("update")


def keys(n: int, prefix: str = "k") -> dict[str, str]:
    return {f"{prefix}{i}": "v" for i in range(n)}


AT_THE_LIMITS = {"50 keys": keys(50), "40-character key": {"k" * 40: "v"},
                 "500-character value": {"k": "v" * 500}}
BEYOND = {  # metadata, the start of Stripe's message
    "51 keys": (keys(51), "Metadata can have up to 50 keys, but you've set 51."),
    "41-character key": ({"k" * 41: "v"}, f"Invalid key: {'k' * 41} must be a string under 40 characters"),
    "square bracket": ({"a[b": "v"}, "Invalid key: a[b must not contain square brackets"),
    "501-character value": ({"k": "v" * 501}, f"Invalid val: {'v' * 501} must be a string under 500"),
}


def refused(response: Any, message: str, param: str = "metadata") -> None:
    assert error_of(response, 400, None, param)["message"].startswith(message)


def listed(world: World, kind: str) -> list[str]:
    return [o["id"] for o in world.api.ok(world.api.get(world.path(kind), {"limit": 100}))["data"]]


@pytest.mark.parametrize("kind", CREATE)
@pytest.mark.parametrize("metadata", list(AT_THE_LIMITS.values()), ids=list(AT_THE_LIMITS))
def test_metadata_at_the_limits_is_accepted(world: World, kind: str, metadata: dict[str, str]) -> None:
    assert world.create(kind, {**world.base(kind), "metadata": metadata})["metadata"] == metadata


@pytest.mark.parametrize("kind", CREATE)
@pytest.mark.parametrize(("metadata", "message"), list(BEYOND.values()), ids=list(BEYOND))
def test_metadata_beyond_the_limits_is_refused_on_create(world: World, kind: str,
                                                         metadata: dict[str, str], message: str) -> None:
    params = {**world.base(kind), "metadata": metadata}
    before = listed(world, kind)
    refused(world.api.post(world.path(kind), params), message)
    assert listed(world, kind) == before


@pytest.mark.parametrize("kind", UPDATE)
@pytest.mark.parametrize(("metadata", "message"), list(BEYOND.values()), ids=list(BEYOND))
def test_metadata_beyond_the_limits_is_refused_on_update(world: World, kind: str,
                                                         metadata: dict[str, str], message: str) -> None:
    made = world.create(kind, {**world.base(kind), "metadata": {"kept": "yes"}})
    url = f"{world.path(kind)}/{made['id']}"
    refused(world.api.post(url, {"metadata": metadata}), message)
    assert world.api.ok(world.api.get(url))["metadata"] == {"kept": "yes"}


@pytest.mark.parametrize("kind", UPDATE)
def test_the_merged_keys_count_on_update(world: World, kind: str) -> None:
    made = world.create(kind, {**world.base(kind), "metadata": keys(30)})
    url = f"{world.path(kind)}/{made['id']}"
    refused(world.api.post(url, {"metadata": keys(21, "n")}),
            "Metadata can have up to 50 keys, but you've set 51.")
    assert len(world.api.ok(world.api.post(url, {"metadata": keys(20, "n")}))["metadata"]) == 50
    swapped = world.api.ok(world.api.post(url, {"metadata": {"k0": None, "n20": "v"}}))["metadata"]
    assert len(swapped) == 50 and "k0" not in swapped  # a removed key makes room
    refused(world.api.post(url, {"metadata": {"n21": "v"}}), "Metadata can have up to 50 keys")
    assert world.api.ok(world.api.post(url, {"metadata": None}))["metadata"] == {}


@pytest.mark.parametrize(("kind", "params", "param"), [
    ("product", {"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 100,
                                                       "metadata": keys(51)}},
     "default_price_data[metadata]"),
    ("price", {"currency": "usd", "unit_amount": 100,
               "product_data": {"name": "Mug", "metadata": keys(51)}},
     "product_data[metadata]"),
])
def test_nested_metadata_has_the_same_limits(world: World, kind: str, params: dict[str, Any],
                                             param: str) -> None:
    before = listed(world, "product")
    refused(world.api.post(world.path(kind), params), "Metadata can have up to 50 keys", param)
    assert listed(world, "product") == before
