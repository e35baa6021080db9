"""Facts about Stripe's API, read from the data file shipped with the package.

The file is a machine-readable subset of Stripe's OpenAPI description (parameters, types,
enums, create-only fields, response fields, error codes, webhook events). Every layer that
needs a Stripe fact reads it here instead of restating it, so one file decides.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from reconciler import limits

API_VERSION = "2026-10-28.endive"


@cache
def api() -> dict[str, Any]:
    """The whole reference document."""
    text = resources.files("reconciler.data").joinpath("stripe-api-subset.json").read_text("utf-8")
    return json.loads(text)


@cache
def kind_facts(stripe_object: str) -> dict[str, Any]:
    """The reference entry of one Stripe object type (``price``, ``billing.meter``...).

    Placeholder fields that stand for a family (``<payment_method_type>`` with ``repeat_for``)
    are expanded into one field per member, and ``enum_ref`` is replaced by the enum it names,
    so callers see every real parameter name and every allowed value. Stripe's documented
    limits (:mod:`reconciler.limits`) are laid onto the specs; ``combinations`` holds, per
    operation, the rules about the request's top-level parameters.
    """
    facts = dict(api()["kinds"][stripe_object])
    facts["params"] = {op: limits.annotate(stripe_object, _resolve(_expand(facts, fields)))
                       for op, fields in facts["params"].items()}
    facts["combinations"] = {op: limits.request_combinations(stripe_object, fields)
                             for op, fields in facts["params"].items()}
    facts["response_fields"] = _resolve(_expand(facts, facts["response_fields"]))
    return facts


def _resolve(spec: Any) -> Any:
    if isinstance(spec, list):
        return [_resolve(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    out = {k: _resolve(v) for k, v in spec.items() if k not in ("enum_ref", "enum_count")}
    if "enum_ref" in spec:
        out["enum"] = list(api()[spec["enum_ref"]])
    return out


def _expand(facts: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        family = spec.get("repeat_for") if isinstance(spec, dict) else None
        if family is None:
            out[name] = spec
            continue
        skip = set(spec.get("not_in_response", ()))
        member = {k: v for k, v in spec.items() if k not in ("repeat_for", "not_in_response")}
        out.update({m: member for m in facts[family] if m not in skip})
    return out


@cache
def webhook_events() -> frozenset[str]:
    return frozenset(api()["webhook_enabled_events"])


@cache
def webhook_api_versions() -> tuple[str, ...]:
    return tuple(api()["webhook_api_versions"])


@cache
def error_codes() -> frozenset[str]:
    return frozenset(api()["error_codes"])


@cache
def currencies() -> tuple[str, ...]:
    """ISO 4217 currency codes, lowercase as Stripe writes them."""
    text = resources.files("reconciler.data").joinpath("currencies.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
