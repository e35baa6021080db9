"""Turn coerced parameters into response objects, using the reference ``response_fields``.

An object starts as :func:`blank` of its response specification, so every field Stripe
documents is present (``null`` where nullable, empty lists and maps, nested objects filled
the same way). Parameters with the same name as a response field are then laid over it with
:func:`shape`, and updates go through :func:`merge` (maps such as metadata merge key by key,
``None`` clears). Per-kind modules only add what the data cannot say (defaults, derived
fields).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .params import decimal_string

Spec = Mapping[str, Any]


def blank(spec: Spec) -> Any:
    """The value of a field nobody set: null if nullable, else an empty value of its type.

    Maps are the exception: Stripe writes an unset map as ``{}`` even where the spec allows
    null (``metadata``, ``restrictions.currency_options``), and the SDKs expect a mapping there.
    """
    kind = spec.get("type")
    if kind == "map":
        return {}
    if spec.get("nullable"):
        return None
    if kind == "object":
        return {name: blank(sub) for name, sub in spec.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    return None  # a non-nullable string has no honest empty value: kind defaults supply it


def shape(value: Any, spec: Spec) -> Any:
    """A parameter value written the way the response field holds it."""
    if value is None:
        return blank(spec)
    kind = spec.get("type")
    if kind == "object" and isinstance(value, Mapping) and "properties" in spec:
        props = spec["properties"]
        return {n: shape(value[n], s) if n in value else blank(s) for n, s in props.items()}
    if kind == "array" and isinstance(value, list):
        return [shape(item, spec.get("items", {})) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        values = spec.get("values", {})
        return {k: shape(v, values) for k, v in value.items() if v is not None}
    if kind == "integer" and value == "inf":  # tiers[n][up_to]=inf is returned as null
        return None
    return copy.deepcopy(value)


def merge(current: Any, value: Any, spec: Spec) -> Any:
    """An update of one field: objects and maps merge key by key, ``None`` clears."""
    if value is None:
        return blank(spec)
    kind = spec.get("type")
    if kind == "map" and isinstance(value, Mapping):
        out = dict(current or {})
        for key, item in value.items():
            if item is None:
                out.pop(key, None)
            else:
                out[key] = merge(out.get(key), item, spec.get("values", {}))
        return out
    if kind == "object" and isinstance(value, Mapping) and isinstance(current, Mapping):
        props = spec.get("properties", {})
        return {**current, **{k: merge(current.get(k), v, props[k]) for k, v in value.items() if k in props}}
    return shape(value, spec)


def pair_decimals(value: Any, spec: Spec) -> None:
    """Fill each ``x`` / ``x_decimal`` pair from whichever was given, as Stripe does.

    ``unit_amount=1500`` also reads back as ``unit_amount_decimal="1500"``; a decimal with no
    fractional part also sets the integer field. Applies wherever the pair occurs (prices,
    tiers, currency options).
    """
    kind = spec.get("type")
    if kind == "array" and isinstance(value, list):
        for item in value:
            pair_decimals(item, spec.get("items", {}))
    elif kind == "map" and isinstance(value, dict):
        for item in value.values():
            pair_decimals(item, spec.get("values", {}))
    elif kind == "object" and isinstance(value, dict):
        props = spec.get("properties", {})
        for name, sub in props.items():
            pair_decimals(value.get(name), sub)
            if f"{name}_decimal" not in props or name not in value:
                continue
            whole, decimal = value[name], value.get(f"{name}_decimal")
            if whole is not None and decimal is None:
                value[f"{name}_decimal"] = decimal_string(whole)
            elif decimal is not None and whole is None and Decimal(decimal) % 1 == 0:
                value[name] = int(Decimal(decimal))


def object_spec(fields: Mapping[str, Spec]) -> dict[str, Any]:
    """A kind's response fields as one object specification."""
    return {"type": "object", "properties": dict(fields)}
