"""Conformance with the reference data, kind by kind, parameter by parameter.

For every kind: each create parameter is accepted with a valid value generated from its
specification; each create-only parameter is refused on update with ``parameter_unknown``;
unknown parameters are refused; and every response field of the reference is present, with
the documented type and nullability. Every constraint a parameter specification states is one
the emulator enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import sdk_shapes
from emulator_helpers import error_of
from emulator_world import EXPAND_ONLY, World

from reconciler import limits, reference

KINDS = list(reference.api()["kinds"])

# "Only returned at creation" (the spec's description of the webhook signing secret).
CREATE_RESPONSE_ONLY = {"webhook_endpoint": ["secret"]}


def _amount_coupon(p: dict[str, Any]) -> None:
    p.pop("percent_off", None)
    p.setdefault("amount_off", 500)
    p.setdefault("currency", "usd")


def _tiered(p: dict[str, Any]) -> None:
    p.pop("unit_amount", None)
    p.update(billing_scheme="tiered", tiers_mode="graduated",
             tiers=p.get("tiers") or [{"up_to": "inf", "unit_amount": 100}])


# Stripe's cross-parameter rules that a lone parameter must respect to be valid.
ADJUST: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
    ("price", "tiers"): _tiered,
    ("price", "tiers_mode"): _tiered,
    ("price", "unit_amount_decimal"): lambda p: p.pop("unit_amount"),
    ("price", "custom_unit_amount"): lambda p: p.pop("unit_amount"),
    ("price", "product_data"): lambda p: p.pop("product"),
    ("product", "default_price_data"): lambda p: p["default_price_data"].pop("custom_unit_amount"),
    ("coupon", "amount_off"): _amount_coupon,
    ("coupon", "currency_options"): _amount_coupon,
    ("coupon", "duration_in_months"): lambda p: p.update(duration="repeating"),
}


def problems(value: Any, spec: Mapping[str, Any], where: str) -> list[str]:
    """Every way ``value`` departs from a response specification: absent, null, wrong type."""
    if value is None:
        return [] if spec.get("nullable") else [f"{where} is null"]
    if spec.get("expandable") and isinstance(value, (str, dict)):
        return []
    kind = spec.get("type")
    expected = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
                "object": dict, "array": list, "map": dict}.get(kind)
    if expected and (not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))):
        return [f"{where} is {type(value).__name__}, not {kind}"]
    if "enum" in spec and value not in spec["enum"]:
        return [f"{where}={value!r} not in {spec['enum']}"]
    found: list[str] = []
    if kind == "object":
        for name, sub in spec.get("properties", {}).items():
            if name not in value:
                found.append(f"{where}.{name} missing")
            else:
                found += problems(value[name], sub, f"{where}.{name}")
    elif kind == "array":
        for i, item in enumerate(value):
            found += problems(item, spec.get("items", {}), f"{where}[{i}]")
    elif kind == "map":
        for key, item in value.items():
            found += problems(item, spec.get("values", {}), f"{where}[{key}]")
    return found


def check_response(kind: str, obj: Mapping[str, Any], created: bool = True) -> None:
    fields = dict(reference.kind_facts(kind)["response_fields"])
    if not created:
        for name in CREATE_RESPONSE_ONLY.get(kind, []):
            assert name not in obj
            del fields[name]
    assert problems(obj, {"type": "object", "properties": fields}, kind) == []
    assert sdk_shapes.object_problems(obj, sdk_shapes.CLASSES[kind], kind) == []
    assert obj["object"] == reference.api()["kinds"][kind]["object"]
    assert obj["livemode"] is False


CREATE_PARAMS = [
    (kind, name)
    for kind in KINDS
    for name in reference.kind_facts(kind)["params"]["create"]
    if name != "expand"
]


@pytest.mark.parametrize(("kind", "name"), CREATE_PARAMS, ids=[f"{k}.{n}" for k, n in CREATE_PARAMS])
def test_every_create_parameter_is_accepted(world: World, kind: str, name: str) -> None:
    params = world.base(kind)
    spec = reference.kind_facts(kind)["params"]["create"][name]
    params[name] = world.sample(kind, name, spec)
    ADJUST.get((kind, name), lambda p: None)(params)
    obj = world.create(kind, params)
    check_response(kind, obj)
    fields = reference.kind_facts(kind)["response_fields"]
    value = params[name]
    scalar = name in fields and fields[name].get("type") in ("string", "integer", "number", "boolean")
    if scalar and not fields[name].get("expandable"):
        assert obj[name] == value


@pytest.mark.parametrize("kind", KINDS)
def test_every_response_field_is_present_on_create_retrieve_and_list(world: World, kind: str) -> None:
    created = world.create(kind, world.base(kind))
    check_response(kind, created)
    path = world.path(kind)
    expand = EXPAND_ONLY.get(kind, [])
    retrieved = world.api.ok(world.api.get(f"{path}/{created['id']}", {"expand": expand} if expand else {}))
    check_response(kind, retrieved, created=False)
    item_expand = {"expand": [f"data.{f}" for f in expand]} if expand else {}
    listed = world.api.ok(world.api.get(path, {"limit": 100, **item_expand}))
    assert created["id"] in [o["id"] for o in listed["data"]]
    for obj in listed["data"]:
        check_response(kind, obj, created=False)


def _create_only(kind: str) -> list[tuple[str, str]]:
    facts = reference.kind_facts(kind)
    if "update" not in facts["params"]:
        return []
    return [(kind, p) for p in facts["create_only_params"] + facts["create_only_nested_paths"]]


CREATE_ONLY = [pair for kind in KINDS for pair in _create_only(kind)]


@pytest.mark.parametrize(("kind", "dotted"), CREATE_ONLY, ids=[f"{k}.{p}" for k, p in CREATE_ONLY])
def test_every_create_only_parameter_is_refused_on_update(world: World, kind: str, dotted: str) -> None:
    obj = world.create(kind, world.base(kind))
    create = reference.kind_facts(kind)["params"]["create"]
    top, *rest = dotted.split(".")
    spec = create[top]
    for part in rest:
        spec = spec["properties"][part]
    value: Any = world.sample(kind, dotted.rsplit(".", 1)[-1], spec)
    for part in reversed(rest):
        value = {part: value}
    response = world.api.post(f"{world.path(kind)}/{obj['id']}", {top: value})
    wire = top + "".join(f"[{p}]" for p in rest)
    error = error_of(response, 400, "parameter_unknown", wire)
    assert "created" in error["message"]
    # nothing changed
    again = world.api.ok(world.api.get(f"{world.path(kind)}/{obj['id']}"))
    assert again == {k: v for k, v in obj.items() if k not in ("secret", *EXPAND_ONLY.get(kind, []))}


def test_product_features_have_no_update_endpoint(world: World) -> None:
    obj = world.create("product_feature", world.base("product_feature"))
    response = world.api.post(f"{world.path('product_feature')}/{obj['id']}", {})
    error = error_of(response, 404, None)
    assert error["message"].startswith("Unrecognized request URL (POST: ")


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_parameters_are_refused_by_name(world: World, kind: str) -> None:
    path = world.path(kind)
    params = {**world.base(kind), "colour": "blue"}
    error = error_of(world.api.post(path, params), 400, "parameter_unknown", "colour")
    assert "colour" in error["message"]
    nested = next((n for n, s in reference.kind_facts(kind)["params"]["create"].items()
                   if s.get("type") == "object"), None)
    if nested is not None:
        params = world.base(kind)
        params[nested] = {**(params.get(nested) or {}), "colour": "blue"}
        error_of(world.api.post(path, params), 400, "parameter_unknown", f"{nested}[colour]")
    error_of(world.api.get(path, {"colour": "blue"}), 400, "parameter_unknown", "colour")
    assert world.api.ok(world.api.get(path))["data"] is not None


# What params.coerce acts on in a parameter specification, Stripe's documented limits
# (reconciler/limits.py, data/limits.json) included; a constraint the data starts to state
# (another rule, another format) fails here until params.py enforces it and it is added below.
ENFORCED_KEYWORDS = {"type", "properties", "items", "values", "anyOf", "enum", "required",
                     "emptyable", "format", *limits.SCALAR_RULES, "pattern_text", "error_code",
                     "combinations"}
ENFORCED_FORMATS = {"decimal"}


def _constraints(spec: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for keyword, value in spec.items():
        yield keyword, value
        if keyword == "properties":
            for sub in value.values():
                yield from _constraints(sub)
        elif keyword in ("items", "values"):
            yield from _constraints(value)
        elif keyword == "anyOf":
            for alternative in value:
                yield from _constraints(alternative)


def test_every_parameter_constraint_of_the_reference_is_enforced() -> None:
    stated = [pair for kind in KINDS for op in reference.kind_facts(kind)["params"].values()
              for spec in op.values() for pair in _constraints(spec)]
    assert {keyword for keyword, _ in stated} <= ENFORCED_KEYWORDS
    assert {value for keyword, value in stated if keyword == "format"} <= ENFORCED_FORMATS
