"""Coupons: keyed by their Stripe id; only name, metadata and currency options can change.

Any other change deletes the coupon and re-creates it under the same id (customers who
already applied it keep their discount; Stripe only stops new redemptions).
"""

from collections.abc import Mapping
from typing import Any

from .base import Finding, Kind, Permission, Reference, Removal, Replacement
from .identity import Identity


def _discount(entry: Mapping[str, Any]) -> list[Finding]:
    percent, amount = "percent_off" in entry, "amount_off" in entry
    if percent and amount:
        return []  # Stripe's documented exclusion (data/limits.json) is the schema's to report
    if not percent and not amount:
        return [((), "a coupon needs 'percent_off', or 'amount_off' with 'currency'")]
    if amount and "currency" not in entry:
        return [(("amount_off",), "'amount_off' needs 'currency'")]
    findings: list[Finding] = []
    if percent and "currency" in entry:
        findings.append((("currency",), "'currency' only applies to coupons with 'amount_off'"))
    if percent and "currency_options" in entry:
        findings.append((("currency_options",),
                         "'currency_options' only applies to coupons with 'amount_off'"))
    return findings


def _duration(entry: Mapping[str, Any]) -> list[Finding]:
    repeating = entry.get("duration") == "repeating"
    if repeating and "duration_in_months" not in entry:
        return [(("duration",), "duration 'repeating' needs 'duration_in_months'")]
    if not repeating and "duration_in_months" in entry:
        return [(("duration_in_months",), "'duration_in_months' requires duration: repeating")]
    return []


KIND = Kind(
    name="coupons",
    permission=Permission("coupon", "Coupons"),
    stripe_object="coupon",
    summary="Coupons: discounts keyed by their Stripe id; most fields force delete and re-create.",
    identity=Identity.stripe_id(),
    removal=Removal.DELETE,
    replacement=Replacement.DELETE_THEN_CREATE,
    references=(Reference("applies_to.products[]", "products"),),
    checks=(_discount, _duration),
    export_name=lambda obj, _: obj.get("name") or obj.get("id"),
    list_expand=("data.applies_to", "data.currency_options"),
    defaults={"duration": "once"},
)
