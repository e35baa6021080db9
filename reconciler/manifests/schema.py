"""The manifest JSON Schema (draft 2020-12), generated from the kind descriptions.

The schema is what editors use for completion and what ``validate`` checks types, enums and
unknown fields against. It is built from the same descriptions the planner reads, so the two
cannot disagree; ``schemas/manifest.schema.json`` is this module's output, committed, and a
test fails when it is stale. Regenerate with ``reconciler schema -o schemas/manifest.schema.json``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from reconciler import limits, reference
from reconciler.kinds import ENTRY_OPTIONS, MANIFEST_KINDS, Kind

from .tags import METADATA_MAX_KEYS, TAG_PREFIX

SCHEMA_ID = "urn:reconciler:manifest:v1"
MANIFEST_KEY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
_NON_NEGATIVE = {"minimum", "maximum", "preset"}
# Stripe's API reference types these fields as plain "integer" and states no upper bound; its
# typed SDKs hold them as signed 64-bit (stripe-java ``Long``, stripe-go ``int64``), so that
# range is the assumption here: a larger number could not reach Stripe intact.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def is_amount(name: str) -> bool:
    """Whether the integer field ``name`` is an amount in a currency's smallest unit (the
    custom_unit_amount bounds included): never negative, and where a decimal habit shows."""
    return name.endswith(("amount", "amount_off")) or name in _NON_NEGATIVE


_KEYWORDS = {"max_length": "maxLength", "max_items": "maxItems", "minimum": "minimum",
             "maximum": "maximum", "exclusive_minimum": "exclusiveMinimum", "pattern": "pattern"}
"""Stripe's documented limits (laid on the specs by :mod:`reconciler.limits`) as JSON Schema."""


def _limits(spec: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema keywords of the limits on one spec."""
    out = {keyword: spec[rule] for rule, keyword in _KEYWORDS.items() if rule in spec}
    if "pattern_text" in spec:
        out["$comment"] = spec["pattern_text"]  # validate's words for a value that does not match
    return out


def combination_schema(combinations: list[dict[str, Any]], props: dict[str, Any]
                       ) -> dict[str, Any]:
    """Rules about sibling fields: ``exclusive`` as ``not``/``required``, ``together`` as
    ``dependentRequired``, and a ``maximum_by`` bound (a limit that depends on a sibling's
    value) as one ``if``/``then`` per value."""
    out: dict[str, Any] = {}
    conditions: list[dict[str, Any]] = []
    for rule in combinations:
        if "exclusive" in rule:
            conditions.append({"not": {"required": list(rule["exclusive"])}})
        if "together" in rule:
            first, second = rule["together"]
            out.setdefault("dependentRequired", {}).update({first: [second], second: [first]})
    for name, spec in sorted(props.items()):
        bound = spec.get("maximum_by")
        for value, maximum in sorted((bound or {}).get("values", {}).items()):
            conditions.append({
                "if": {"properties": {bound["field"]: {"const": value}},
                       "required": [bound["field"]]},
                "then": {"properties": {name: {"maximum": maximum}}},
            })
    if conditions:
        out["allOf"] = conditions
    return out


def _param(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """JSON Schema for one reference parameter spec; ``name`` is its own field name."""
    out = _param_type(spec, name)
    return {**out, **_limits(spec)} if "type" in out else out


def _param_type(spec: dict[str, Any], name: str) -> dict[str, Any]:
    if "anyOf" in spec:
        return {"anyOf": [_param(alt, name) for alt in spec["anyOf"]]}
    type_name = spec.get("type", "any")
    if name == "currency" or name.endswith("_currency"):
        return {"$ref": "#/$defs/currency"}
    if type_name == "string":
        out: dict[str, Any] = {"type": "string"}
        if "enum" in spec:
            out["enum"] = list(spec["enum"])
        if spec.get("format") == "decimal":
            return {"type": ["string", "number"], "pattern": DECIMAL_PATTERN, "minimum": 0}
        return out
    if type_name == "integer":
        return {"type": "integer", "minimum": 0 if is_amount(name) else INT64_MIN,
                "maximum": INT64_MAX}
    if type_name == "number":
        return {"type": "number"}
    if type_name == "boolean":
        return {"type": "boolean"}
    if type_name == "array":
        return {"type": "array", "items": _param(spec.get("items", {}), name)}
    if type_name == "map":
        values = _param(spec.get("values", {}), name)
        if name == "metadata":
            return {"$ref": "#/$defs/metadata"}
        out = {"type": "object", "additionalProperties": values}
        if name == "currency_options":
            out["propertyNames"] = {"$ref": "#/$defs/currency"}
        return out
    if type_name == "object":
        props = spec.get("properties", {})
        out = {
            "type": "object",
            "properties": {k: _param(v, k) for k, v in sorted(props.items())},
            "additionalProperties": False,
        }
        required = sorted(k for k, v in props.items() if v.get("required"))
        if required:
            out["required"] = required
        return {**out, **combination_schema(spec.get("combinations", []), props)}
    return {}


def _apply_constraint(schema: dict[str, Any], path: str, extra: dict[str, Any]) -> None:
    node = schema
    for part in path.split("."):
        is_list = part.endswith("[]")
        node = node["properties"][part.removesuffix("[]")]
        if is_list:
            node = node["items"]
    node.update(extra)


def entry_schema(kind: Kind) -> dict[str, Any]:
    """The schema of one manifest entry of ``kind``."""
    properties: dict[str, Any] = {}
    references = {ref.path.removesuffix("[]"): ref for ref in kind.references}
    for name, spec in kind.manifest_params.items():
        prop = _param(spec, name)
        notes = []
        if name in references:
            notes.append(f"Manifest key of a `{references[name].kind}` entry.")
        if kind.forces_replacement(name):
            notes.append("Create-only: changing it replaces the object.")
        elif name in kind.update_only:
            notes.append("Set by an update after creation.")
        if notes:
            prop["description"] = " ".join(notes)
        properties[name] = prop
    for name, prop in {**kind.extra_fields, **ENTRY_OPTIONS}.items():
        properties[name] = dict(prop)
    schema: dict[str, Any] = {
        "type": "object",
        "description": kind.summary,
        "properties": properties,
        "additionalProperties": False,
    }
    schema.update(combination_schema(kind.facts["combinations"]["create"], kind.manifest_params))
    for path, extra in kind.constraints.items():
        _apply_constraint(schema, path, extra)
    if kind.required:
        schema["required"] = list(kind.required)
    return schema


def _metadata_schema() -> dict[str, Any]:
    rule = limits.api_rule("metadata")
    return {
        "description": f"Up to {METADATA_MAX_KEYS} string keys ({rule['max_key_length']} "
        f"characters) and values ({rule['max_value_length']}), counting the tags reconciler "
        f"adds (2 or more); keys starting with {TAG_PREFIX} are reserved for those tags.",
        "type": "object",
        "maxProperties": METADATA_MAX_KEYS,
        "propertyNames": {
            "maxLength": rule["max_key_length"],
            "pattern": f"^[^{re.escape(rule['forbidden_key_characters'])}]*$",
            "$comment": "Stripe refuses square brackets in metadata keys"},
        "additionalProperties": {"type": "string", "maxLength": rule["max_value_length"]},
    }


@cache
def manifest_schema() -> dict[str, Any]:
    """The whole manifest schema."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "reconciler manifest",
        "description": "Stripe configuration as code. Top-level keys are kinds; under each, "
        "entries are keyed by a manifest key. Field names are Stripe's API parameter names.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            name: {
                "description": kind.summary,
                "type": ["object", "null"],
                "propertyNames": {"pattern": MANIFEST_KEY_PATTERN, "maxLength": 200},
                "additionalProperties": {"$ref": f"#/$defs/{name}"},
            }
            for name, kind in MANIFEST_KINDS.items()
        },
        "$defs": {
            "currency": {
                "description": "Three-letter ISO currency code, lowercase.",
                "type": "string",
                "enum": list(reference.currencies()),
            },
            "metadata": _metadata_schema(),
            **{name: entry_schema(kind) for name, kind in MANIFEST_KINDS.items()},
        },
    }


def render() -> str:
    """The schema as the text committed in ``schemas/``."""
    return json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"
