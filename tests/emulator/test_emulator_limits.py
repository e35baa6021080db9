"""Stripe's documented limits (reconciler/data/limits.json) in the emulator: for every enforced
fact, a request just inside the limit is accepted and one just outside is refused with Stripe's
error shape, naming the parameter. The cases are generated from the data (tests/limit_cases.py).
"""

from __future__ import annotations

import pytest
from emulator_helpers import Api, error_of
from emulator_world import World
from limit_cases import Case, apply, cases

from reconciler import limits

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_just_inside_is_accepted_and_just_outside_refused(world: World, case: Case) -> None:
    base = world.base(case.kind)
    world.create(case.kind, apply(base, case.inside))
    response = world.api.post(world.path(case.kind), apply(base, case.outside))
    fact_codes = {f.get("error_code") for f in limits.enforced(case.kind) if f["path"] == case.path}
    error = response.json().get("error", {})
    assert error.get("code") in {None, "parameter_invalid_integer", "parameter_missing",
                                 *fact_codes}, error
    error_of(response, 400, error.get("code"), case.wire[0])


def test_every_kind_with_facts_has_cases() -> None:
    covered = {c.kind for c in CASES}
    assert covered == {k for k in limits.data()["kinds"] if limits.enforced(k)}


@pytest.mark.parametrize("n,ok", [(255, True), (256, False)])
def test_idempotency_keys_are_at_most_255_characters(world: World, n: int, ok: bool) -> None:
    response = world.api.post("/v1/products", {"name": "Keyed"}, **{"Idempotency-Key": "k" * n})
    if ok:
        world.api.ok(response)
    else:
        error_of(response, 400, None)


@pytest.mark.parametrize("depth,ok", [(4, True), (5, False)])
def test_expansions_are_at_most_four_levels_deep(world: World, depth: int, ok: bool) -> None:
    path = ".".join(["data", "product", "default_price", "product", "default_price"][:depth])
    response = world.api.get("/v1/prices", {"expand": [path]})
    if ok:
        world.api.ok(response)
    else:
        error_of(response, 400, None, "expand[0]")


@pytest.mark.parametrize("limit,ok", [(1, True), (100, True), (0, False), (101, False)])
def test_list_limit_is_1_to_100(api: Api, limit: int, ok: bool) -> None:
    response = api.get("/v1/products", {"limit": limit})
    if ok:
        api.ok(response)
    else:
        error_of(response, 400, "parameter_invalid_integer", "limit")
