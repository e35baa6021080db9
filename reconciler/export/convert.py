"""Turning a live Stripe object into a manifest entry.

Only what a manifest may state is kept (the kind's parameters, shaped like the parameter
spec); Stripe's defaults, nulls, empty containers, read-only fields and the tool's tags are
dropped; a ``*_decimal`` twin of an integer amount is dropped; ids of other objects become
their manifest keys. The tags are not the user's metadata but say what the entry said: an
object made with ``prevent_destroy`` gets the option back, and a create-only field Stripe
never shows (a webhook endpoint's ``connect``) is read from its record, so that the plan of
the export is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from reconciler.kinds import Kind
from reconciler.ownership import TAG_PREFIX, protected, recorded

KeyOf = Mapping[str, Mapping[str, str]]  # kind -> live id -> manifest key


def _shape(value: Any, spec: Mapping[str, Any]) -> Any:
    """``value`` cut down to what the parameter ``spec`` accepts."""
    if value is None:
        return None
    type_name = spec.get("type")
    if type_name == "object" and isinstance(value, dict):
        props = spec.get("properties", {})
        return _prune(_without_decimal_twins(
            {k: _shape(value.get(k), props[k]) for k in props if k in value}))
    if type_name == "map" and isinstance(value, dict):
        return _prune({k: _shape(v, spec.get("values", {})) for k, v in value.items()})
    if type_name == "array" and isinstance(value, list):
        return [_shape(v, spec.get("items", {})) for v in value] or None
    return value


def _without_decimal_twins(fields: dict[str, Any]) -> dict[str, Any]:
    """Stripe returns ``unit_amount_decimal`` beside ``unit_amount``; a manifest gives one."""
    return {k: v for k, v in fields.items()
            if not (k.endswith("_decimal") and fields.get(k.removesuffix("_decimal")) is not None)}


def _prune(mapping: dict[str, Any]) -> dict[str, Any] | None:
    out = {k: v for k, v in mapping.items() if v is not None and v != {} and v != []}
    return out or None


def _drop_defaults(fields: dict[str, Any], defaults: Mapping[str, Any], prefix: str = "") -> None:
    for name in list(fields):
        path = f"{prefix}{name}"
        value = fields[name]
        if any(fnmatchcase(path, p) and value == d for p, d in defaults.items()):
            del fields[name]
        elif isinstance(value, dict):
            _drop_defaults(value, defaults, f"{path}.")
            if not value:
                del fields[name]


def _reference_keys(kind: Kind, fields: dict[str, Any], key_of: KeyOf) -> None:
    for reference in kind.references:
        if reference.tool_field:
            continue
        for path, live_id in reference.values(fields):
            target: Any = fields
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = key_of.get(reference.kind, {}).get(live_id, live_id)


def to_entry(kind: Kind, obj: dict[str, Any], key: str, key_of: KeyOf) -> dict[str, Any]:
    """The manifest fields describing ``obj``."""
    view = {**kind.live_view(obj), **recorded(kind, obj)}
    fields: dict[str, Any] = {}
    for name, spec in kind.manifest_params.items():
        if name in view:  # what Stripe shows, normalize_live derives (disabled) or a tag records
            fields[name] = _shape(view[name], spec)
    fields = _without_decimal_twins({k: v for k, v in fields.items() if v is not None})
    metadata = {k: v for k, v in (fields.pop("metadata", None) or {}).items()
                if not k.startswith(TAG_PREFIX)}
    if metadata:
        fields["metadata"] = metadata
    if protected(obj):
        fields["prevent_destroy"] = True
    if kind.identity.is_stripe_id:
        fields.pop("id", None)
        if obj["id"] != key:
            fields["id"] = obj["id"]
    if fields.get("active") is True:
        del fields["active"]
    options = fields.get("currency_options")
    if isinstance(options, dict):  # Stripe lists the object's own currency among its options
        options.pop(view.get("currency"), None)
        if not options:
            del fields["currency_options"]
    _drop_defaults(fields, {**kind.defaults, **kind.recorded})
    _reference_keys(kind, fields, key_of)
    return dict(sorted(fields.items()))
