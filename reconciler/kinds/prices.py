"""Prices: amounts are immutable, so changing one means a new price.

The replacement is created first, takes over the lookup key (`transfer_lookup_key`) and any
product `default_price`, and only then is the old price archived. Stripe has no DELETE for
prices. `tiers` and `currency_options` are only returned when expanded.
"""

from collections.abc import Mapping
from typing import Any

from .base import Finding, Kind, Permission, Reference, Removal, Replacement
from .identity import Identity

_AMOUNT_FIELDS = ("unit_amount", "unit_amount_decimal", "custom_unit_amount")


def _billing_scheme(entry: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    tiered = entry.get("billing_scheme") == "tiered"
    if tiered:
        if "tiers" not in entry:
            findings.append((("billing_scheme",), "billing_scheme 'tiered' needs 'tiers'"))
        if "tiers_mode" not in entry:
            findings.append((("billing_scheme",), "billing_scheme 'tiered' needs 'tiers_mode'"))
        findings += [
            ((name,), (f"'{name}' cannot be combined with billing_scheme 'tiered'; "
                       "put amounts in the tiers"))
            for name in _AMOUNT_FIELDS
            if name in entry
        ]
    else:
        for name in ("tiers", "tiers_mode"):
            if name in entry:
                findings.append(((name,), f"'{name}' requires billing_scheme: tiered"))
        given = [name for name in _AMOUNT_FIELDS if name in entry]
        if not given:
            findings.append(((), ("a price needs one of unit_amount, unit_amount_decimal or "
                                  "custom_unit_amount (or billing_scheme: tiered with tiers)")))
        elif "custom_unit_amount" in given and len(given) > 1:
            # unit_amount with unit_amount_decimal is Stripe's documented exclusion
            # (data/limits.json), which the schema reports
            findings.append((("custom_unit_amount",),
                             f"'{given[0]}' and 'custom_unit_amount' are mutually exclusive"))
    return findings


def _tiers(entry: Mapping[str, Any]) -> list[Finding]:
    tiers = entry.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        return []
    findings: list[Finding] = []
    previous = 0
    for i, tier in enumerate(tiers):
        up_to = tier.get("up_to") if isinstance(tier, Mapping) else None
        last = i == len(tiers) - 1
        if up_to == "inf" and not last:
            findings.append((("tiers", i, "up_to"), "only the last tier may have up_to: inf"))
        elif isinstance(up_to, int) and not isinstance(up_to, bool):  # others: schema errors
            if last:
                findings.append((("tiers", i, "up_to"), "the last tier must have up_to: inf"))
            elif up_to <= previous:
                findings.append((("tiers", i, "up_to"),
                                 f"tier bounds must increase: {up_to} follows {previous}"))
            previous = up_to
    return findings


def _metered(entry: Mapping[str, Any]) -> list[Finding]:
    """Since API version 2025-03-31.basil a metered price reads its usage from a meter."""
    recurring = entry.get("recurring")
    if not isinstance(recurring, Mapping):
        return []
    metered = recurring.get("usage_type") == "metered"
    if "meter" in recurring and not metered:
        return [(("recurring", "meter"), "recurring.meter requires recurring.usage_type: metered")]
    if metered and "meter" not in recurring:
        message = ("a metered price needs recurring.meter: the manifest key of the meter "
                   "that records its usage")
        return [(("recurring", "usage_type"), message)]
    return []


def _inf_tiers(tiers: Any) -> Any:
    if not isinstance(tiers, list):
        return tiers
    return [{**t, "up_to": "inf"} if isinstance(t, dict) and t.get("up_to") is None else t
            for t in tiers]


def _custom(amount: Any) -> Any:
    return dict(amount, enabled=True) if isinstance(amount, dict) else amount


def _normalize(live: dict[str, Any]) -> dict[str, Any]:
    """Stripe writes the open-ended last tier as ``up_to: null`` where manifests write
    ``inf``, and shows a custom amount without the ``enabled: true`` that created it."""
    out = dict(live, tiers=_inf_tiers(live.get("tiers")),
               custom_unit_amount=_custom(live.get("custom_unit_amount")))
    options = live.get("currency_options")
    if isinstance(options, dict):
        out["currency_options"] = {
            cur: dict(opt, tiers=_inf_tiers(opt.get("tiers")),
                      custom_unit_amount=_custom(opt.get("custom_unit_amount")))
            if isinstance(opt, dict) else opt
            for cur, opt in options.items()
        }
    return out


def _amount(price: Mapping[str, Any]) -> str:
    for name in ("unit_amount", "unit_amount_decimal"):
        if price.get(name) is not None:
            return str(price[name])
    return "custom" if price.get("custom_unit_amount") else price.get("billing_scheme") or "price"


def _export_name(price: dict[str, Any], key_of: Mapping[str, Mapping[str, str]]) -> str:
    """Without a lookup key (which names it first): its product's key, currency, amount and
    interval."""
    interval = (price.get("recurring") or {}).get("interval", "once")
    product = key_of.get("products", {}).get(str(price.get("product")), "price")
    return f"{product}-{price.get('currency')}-{_amount(price)}-{interval}"


def _tax_behavior_is_one_way(path: str, old: Any, new: Any) -> bool:
    """Once inclusive or exclusive, Stripe refuses to change a price's tax_behavior."""
    return path == "tax_behavior" and old not in (None, "unspecified") and old != new


KIND = Kind(
    name="prices",
    permission=Permission("plan", "Prices"),
    stripe_object="price",
    summary="Prices of products: amounts and intervals are immutable; changes create a new price.",
    identity=Identity.field("lookup_key"),
    hooks_module="prices",
    removal=Removal.ARCHIVE,
    replacement=Replacement.CREATE_THEN_ARCHIVE,
    references=(
        Reference("product", "products", pins=True),
        Reference("recurring.meter", "meters"),
    ),
    hidden_params=frozenset({"product_data", "transfer_lookup_key"}),
    extra_required=("product",),
    checks=(_billing_scheme, _tiers, _metered),
    list_expand=("data.tiers", "data.currency_options"),
    archived_filter={"active": "false"},
    normalize_live=_normalize,
    replaces_when=_tax_behavior_is_one_way,
    export_name=_export_name,
    defaults={"billing_scheme": "per_unit", "tax_behavior": "unspecified",
              "recurring.interval_count": 1, "recurring.usage_type": "licensed",
              "currency_options.*.tax_behavior": "unspecified"},
)
