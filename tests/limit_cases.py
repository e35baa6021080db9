"""Boundary cases generated from reconciler/data/limits.json, shared by the emulator's and
validate's tests: for each enforced fact and rule, a value just inside the limit and one just
outside, as changes to a minimal valid request (or manifest entry) of the kind.

A change is a dotted path (``*`` is the currency ``eur`` of a currency_options map, ``[]`` the
first item of a list) and a value; :data:`DROP` removes the field. Objects a path passes through
are created with their required fields filled, so the only thing wrong is the limit itself.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import limits, reference

DROP = object()
Changes = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Case:
    kind: str  # Stripe object ("price")
    path: str  # the fact's path
    rule: str
    inside: Changes
    outside: Changes
    wire: tuple[str, ...]  # where the outside value is, as Stripe names it: param and field

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.path or '(request)'}:{self.rule}"


# A value for a parameter a combination names (valid on its own).
_SAMPLES: dict[str, Any] = {
    "unit_amount": 100, "unit_amount_decimal": "100.5", "flat_amount": 10,
    "flat_amount_decimal": "10.5", "amount_off": 100, "percent_off": 10,
    "transform_quantity": {"divide_by": 2, "round": "up"},
    "tiers": [{"up_to": "inf", "unit_amount": 1}],
    "minimum_amount": 1000, "minimum_amount_currency": "usd",
}
# What a case needs of the rest of the request: a coupon with an amount for amounts, a
# repeating one for its months, a tiered price for tiers.
_CONTEXT: dict[tuple[str, str], Changes] = {
    ("coupon", "amount_off"): (("percent_off", DROP), ("amount_off", 100), ("currency", "usd")),
    ("coupon", "currency_options"): (("percent_off", DROP), ("amount_off", 100),
                                     ("currency", "usd")),
    ("coupon", "duration_in_months"): (("duration", "repeating"),),
    ("price", "tiers"): (("unit_amount", DROP), ("billing_scheme", "tiered"),
                         ("tiers_mode", "volume")),
    ("price", "recurring"): (("recurring.interval", "month"),),
    ("price", "product_data"): (("product", DROP), ("product_data.name", "Inline product")),
    ("shipping_rate", "delivery_estimate"): (
        ("delivery_estimate.minimum.unit", "business_day"), ("delivery_estimate.minimum.value", 1),
        ("delivery_estimate.maximum.unit", "business_day"), ("delivery_estimate.maximum.value", 5)),
    ("product", "default_price_data"): (("default_price_data.currency", "usd"),
                                        ("default_price_data.unit_amount", 100),
                                        ("default_price_data.recurring.interval", "month")),
}


def _context(kind: str, path: str) -> Changes:
    return _CONTEXT.get((kind, path.split(".")[0].removesuffix("[]")), ())


def _concrete(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for part in path.split("."):
        if part == "*":
            parts.append("eur")
        elif part.endswith("[]"):
            parts += [part[:-2], 0]
        else:
            parts.append(part)
    return parts


def wire_name(path: str) -> str:
    """``marketing_features[].name`` → ``marketing_features[0][name]``."""
    first, *rest = _concrete(path)
    return str(first) + "".join(f"[{p}]" for p in rest)


def field_name(path: str) -> str:
    """The dotted field validate reports: ``marketing_features[0].name``."""
    out = ""
    for part in _concrete(path):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _items(fact: Mapping[str, Any], spec: Mapping[str, Any], n: int) -> list[Any]:
    item = spec.get("items", {})
    if item.get("type") == "object":
        return [{"name": f"Feature {i}"} for i in range(n)]
    return [f"https://example.com/image-{i}.png" for i in range(n)]


def _spec(kind: str, path: str) -> dict[str, Any]:
    create = reference.kind_facts(kind)["params"]["create"]
    node: Any = {"type": "object", "properties": create}
    for part in path.split("."):
        if part == "*":
            node = node["values"]
            continue
        node = node["properties"][part.removesuffix("[]")]
        if part.endswith("[]"):
            node = node["items"]
    return node


def _scalar_cases(kind: str, fact: dict[str, Any]) -> list[Case]:
    path, spec = fact["path"], _spec(kind, fact["path"])
    ctx, wire = _context(kind, path), (wire_name(path), field_name(path))
    out = []

    def case(rule: str, inside: Any, outside: Any, extra: Changes = ()) -> None:
        out.append(Case(kind, path, rule, (*ctx, *extra, (path, inside)),
                        (*ctx, *extra, (path, outside)), wire))

    number = spec.get("type") == "number"
    if "max_length" in fact:
        n = fact["max_length"]
        case("max_length", "A" * n, "A" * (n + 1))
    if "max_items" in fact:
        n = fact["max_items"]
        case("max_items", _items(fact, spec, n), _items(fact, spec, n + 1))
    if "minimum" in fact:
        m = fact["minimum"]
        case("minimum", m, m - (0.5 if number else 1))
    if "exclusive_minimum" in fact:
        m = fact["exclusive_minimum"]
        case("exclusive_minimum", m + (0.5 if number else 1), m)
    if "maximum" in fact:
        m = fact["maximum"]
        case("maximum", m, m + (0.5 if number else 1))
    if "pattern" in fact:
        case("pattern", fact["example_inside"], fact["example_outside"])
    if "maximum_by" in fact:
        bound = fact["maximum_by"]
        sibling = _join(path.rpartition(".")[0], bound["field"])
        for value, m in sorted(bound["values"].items()):
            case(f"maximum_by:{value}", m, m + 1, ((sibling, value),))
    return out


def _combination_cases(kind: str, fact: dict[str, Any]) -> list[Case]:
    path = fact["path"]
    ctx = _context(kind, path)
    where = path
    if "exclusive" in fact:
        first, second = fact["exclusive"]
        inside = (*ctx, *_holder(kind, where), (_join(where, first), DROP),
                  (_join(where, second), _SAMPLES[second]))
        outside = (*inside, (_join(where, first), _SAMPLES[first]))
        later = _join(where, second)
        return [Case(kind, path, "exclusive", inside, outside,
                     (wire_name(later), field_name(later)))]
    first, second = fact["together"]
    inside = (*ctx, (_join(where, first), _SAMPLES[first]),
              (_join(where, second), _SAMPLES[second]))
    outside = (*ctx, (_join(where, first), _SAMPLES[first]))
    return [Case(kind, path, "together", inside, outside,
                 (wire_name(_join(where, second)), field_name(_join(where, first))))]


def _holder(kind: str, where: str) -> Changes:
    """The object that holds a combination, created with its required fields (a tier needs
    ``up_to``)."""
    if not where:
        return ()
    spec = _spec(kind, where)
    return tuple((_join(where, name), _required(sub)) for name, sub in
                 spec.get("properties", {}).items() if sub.get("required"))


def _required(spec: Mapping[str, Any]) -> Any:
    if "anyOf" in spec:
        return "inf"
    if "enum" in spec:
        return spec["enum"][0]
    return {"integer": 1, "number": 1, "boolean": True}.get(spec.get("type", ""), "usd")


def cases(keep: Any = lambda kind, path: True) -> list[Case]:
    """Every boundary case of every enforced fact whose path ``keep`` accepts."""
    found = []
    for kind in reference.api()["kinds"]:
        for fact in limits.enforced(kind):
            if not keep(kind, fact["path"]):
                continue
            if any(rule in fact for rule in limits.COMBINATION_RULES):
                found += _combination_cases(kind, fact)
            else:
                found += _scalar_cases(kind, fact)
    return found


def apply(body: Mapping[str, Any], changes: Changes) -> dict[str, Any]:
    """``body`` with the changes made (a new dict)."""
    out = copy.deepcopy(dict(body))
    for path, value in changes:
        node: Any = out
        parts = _concrete(path)
        for part, nxt in itertools.pairwise(parts):
            if isinstance(node, list):
                while len(node) <= int(part):
                    node.append({})
                node = node[int(part)]
            else:
                node = node.setdefault(part, [] if isinstance(nxt, int) else {})
        last = parts[-1]
        if value is DROP:
            if isinstance(node, dict):
                node.pop(last, None)
        elif isinstance(node, list):
            while len(node) <= int(last):
                node.append({})
            node[int(last)] = copy.deepcopy(value)
        else:
            node[last] = copy.deepcopy(value)
    return out
