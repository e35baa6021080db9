"""The emulator's responses against the official SDK's resource classes (tests/emulator/
sdk_shapes.py). The conformance tests hold every response to them; here, every kind with every
create parameter in one go, and both sides of the comparison."""

from __future__ import annotations

from typing import Any

import pytest
import sdk_shapes
from emulator_world import World

from reconciler import reference

KINDS = list(reference.api()["kinds"])


def test_every_kind_has_its_sdk_class() -> None:
    assert set(sdk_shapes.CLASSES) == set(KINDS)
    for kind, cls in sdk_shapes.CLASSES.items():
        assert cls.OBJECT_NAME == reference.api()["kinds"][kind]["object"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS)
def test_declared_fields_match_the_reference(kind: str) -> None:
    """The reference's response fields are the SDK's declared fields, no more, no fewer."""
    declared = set(sdk_shapes.fields(sdk_shapes.CLASSES[kind])) - {"deleted"}  # delete answers only
    assert set(reference.kind_facts(kind)["response_fields"]) == declared


def test_a_shipping_rate_currency_option_has_a_tax_behavior(world: World) -> None:
    rate = world.create("shipping_rate", {
        "display_name": "Standard", "type": "fixed_amount",
        "fixed_amount": {"amount": 500, "currency": "usd", "currency_options": {"eur": {"amount": 450}}}})
    assert rate["fixed_amount"]["currency_options"]["eur"]["tax_behavior"] == "unspecified"
    assert sdk_shapes.object_problems(rate, sdk_shapes.CLASSES["shipping_rate"], "rate") == []
    updated = world.api.ok(world.api.post(f"/v1/shipping_rates/{rate['id']}", {
        "fixed_amount": {"currency_options": {"gbp": {"amount": 400}}}}))
    assert updated["fixed_amount"]["currency_options"]["gbp"]["tax_behavior"] == "unspecified"


@pytest.mark.parametrize("change,found", [
    (lambda o: o["fixed_amount"]["currency_options"]["eur"].update(tax_behavior=None), "is null"),
    (lambda o: o.update(active="yes"), "active is str"),
    (lambda o: o.update(colour="blue"), "colour is not declared"),
    (lambda o: o.pop("livemode"), "livemode missing"),
    (lambda o: o.update(type="per_weight"), "not in"),
])
def test_the_comparison_sees_a_departure(change: Any, found: str) -> None:
    rate: dict[str, Any] = {
        "id": "shr_1", "object": "shipping_rate", "active": True, "created": 1,
        "delivery_estimate": None, "display_name": "Standard", "livemode": False,
        "metadata": {}, "tax_behavior": "unspecified", "tax_code": None, "type": "fixed_amount",
        "fixed_amount": {"amount": 500, "currency": "usd",
                         "currency_options": {"eur": {"amount": 450, "tax_behavior": "inclusive"}}},
    }
    cls = sdk_shapes.CLASSES["shipping_rate"]
    assert sdk_shapes.object_problems(rate, cls, "rate") == []
    change(rate)
    assert any(found in p for p in sdk_shapes.object_problems(rate, cls, "rate"))
