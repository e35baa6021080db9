"""The committed JSON Schema is generated from the kind descriptions and stays current."""

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests.schema import manifest_schema, render

SCHEMA_FILE = Path(__file__).parents[2] / "schemas" / "manifest.schema.json"


def test_committed_schema_is_up_to_date():
    assert SCHEMA_FILE.read_text() == render(), (
        "schemas/manifest.schema.json is stale: run "
        "`reconciler schema -o schemas/manifest.schema.json`")


def test_schema_is_valid_draft_2020_12():
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_kind_and_field_is_in_the_schema():
    schema = manifest_schema()
    assert set(schema["properties"]) == set(MANIFEST_KINDS)
    for name, kind in MANIFEST_KINDS.items():
        props = schema["$defs"][name]["properties"]
        assert set(kind.manifest_params) <= set(props)
        assert {"prevent_destroy", "ignore_changes"} <= set(props)
        assert schema["$defs"][name]["additionalProperties"] is False


def test_schema_carries_the_facts():
    defs = manifest_schema()["$defs"]
    price = defs["prices"]["properties"]
    assert price["recurring"]["properties"]["interval"]["enum"] == ["day", "month", "week", "year"]
    assert price["unit_amount"] == {
        "type": "integer", "minimum": 0, "maximum": 2**63 - 1,
        "description": "Create-only: changing it replaces the object."}
    assert "usd" in defs["currency"]["enum"] and "USD" not in defs["currency"]["enum"]
    assert defs["coupons"]["properties"]["percent_off"]["maximum"] == 100
    assert "required" in defs["features"] and "lookup_key" in defs["features"]["required"]
    assert "product" in defs["prices"]["required"]


def _integer_fields(node: object, path: str = "") -> list[tuple[str, dict]]:
    if isinstance(node, list):
        return [f for i, item in enumerate(node) for f in _integer_fields(item, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return []
    here = [(path, node)] if node.get("type") == "integer" else []
    return here + [f for k, v in node.items() for f in _integer_fields(v, f"{path}.{k}")]


def test_every_integer_field_is_bounded_to_64_bits():
    fields = _integer_fields(manifest_schema()["$defs"])
    assert len(fields) > 20
    for path, spec in fields:
        assert -(2**63) <= spec["minimum"] and spec["maximum"] == 2**63 - 1, path


def test_committed_manifest_reference_is_up_to_date():
    from reconciler.manifests.reference_doc import render as render_reference

    committed = SCHEMA_FILE.parents[1] / "docs" / "manifest-reference.md"
    assert committed.read_text() == render_reference(), (
        "docs/manifest-reference.md is stale: run "
        "`reconciler schema --format markdown -o docs/manifest-reference.md`")


def test_reference_covers_every_kind_and_field():
    from reconciler.manifests.reference_doc import render as render_reference

    text = render_reference()
    for name, kind in MANIFEST_KINDS.items():
        assert f"## `{name}`" in text
        for field in list(kind.manifest_params)[:10]:
            assert field in text, (name, field)
    assert "| `unit_amount` | integer |  | forces replacement |" in text
