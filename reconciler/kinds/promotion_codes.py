"""Promotion codes: customer-facing codes for a coupon.

The `code` is unique among active codes (case-insensitively), so a replacement archives the
old code before creating the new one. Stripe has no DELETE: removal archives.
"""

from collections.abc import Mapping
from typing import Any

from .base import Finding, Identity, Kind, Reference, Removal, Replacement


def _minimum_amount(entry: Mapping[str, Any]) -> list[Finding]:
    restrictions = entry.get("restrictions")
    if isinstance(restrictions, Mapping) and ("minimum_amount" in restrictions) != (
        "minimum_amount_currency" in restrictions
    ):
        return [(("restrictions",),
                 "'minimum_amount' and 'minimum_amount_currency' must be given together")]
    return []


KIND = Kind(
    name="promotion_codes",
    stripe_object="promotion_code",
    summary="Promotion codes: customer-facing codes that redeem a coupon.",
    identity=Identity.METADATA,
    natural_key="code",
    natural_key_casefold=True,
    removal=Removal.ARCHIVE,
    replacement=Replacement.ARCHIVE_THEN_CREATE,
    references=(Reference("promotion.coupon", "coupons"),),
    constraints={
        "code": {"pattern": "^[a-zA-Z0-9-]+$"},
        "max_redemptions": {"minimum": 1},
    },
    checks=(_minimum_amount,),
    defaults={"restrictions.first_time_transaction": False},
)
