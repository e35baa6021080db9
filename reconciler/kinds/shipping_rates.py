"""Shipping rates: only currency options, tax behaviour and metadata change in place.

Everything else (name, amount, delivery estimate) forces a new rate; the old one is archived.
"""

from collections.abc import Mapping
from typing import Any

from .base import Finding, Kind, Permission, Removal, Replacement
from .identity import Identity


def _fixed_amount(entry: Mapping[str, Any]) -> list[Finding]:
    if entry.get("type", "fixed_amount") == "fixed_amount" and "fixed_amount" not in entry:
        return [((), "a shipping rate of type 'fixed_amount' needs 'fixed_amount'")]
    return []


KIND = Kind(
    name="shipping_rates",
    permission=Permission("shipping_rate", "Shipping rates", known=False),
    stripe_object="shipping_rate",
    summary="Shipping rates: mostly immutable; changes create a new rate.",
    identity=Identity.tag(),
    removal=Removal.ARCHIVE,
    replacement=Replacement.CREATE_THEN_ARCHIVE,
    checks=(_fixed_amount,),
    export_name=lambda obj, _: obj.get("display_name"),
    defaults={"type": "fixed_amount", "tax_behavior": "unspecified"},
)
