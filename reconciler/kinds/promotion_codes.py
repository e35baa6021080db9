"""Promotion codes: customer-facing codes for a coupon.

The `code` is unique among active codes (case-insensitively), so a replacement archives the
old code before creating the new one. Stripe has no DELETE: removal archives.
"""

from typing import Any

from .base import Finding, Kind, Link, Permission, Reference, Removal, Replacement
from .identity import Identity


def _above(value: Any, limit: Any) -> bool:
    """Whether both are integers and ``value`` is larger (other types are schema errors)."""
    numbers = [v for v in (value, limit) if isinstance(v, int) and not isinstance(v, bool)]
    return len(numbers) == 2 and value > limit


def _within_coupon(link: Link) -> list[Finding]:
    """Stripe refuses a code that promises more than its coupon: more redemptions than the
    coupon's max_redemptions, or an expiry after its redeem_by."""
    code, coupon = link.entry, link.target
    findings: list[Finding] = []
    if _above(code.get("max_redemptions"), coupon.get("max_redemptions")):
        findings.append((("max_redemptions",), (
            f"max_redemptions {code['max_redemptions']} is above the max_redemptions of "
            f"coupons '{link.target_key}' ({coupon['max_redemptions']})")))
    if _above(code.get("expires_at"), coupon.get("redeem_by")):
        findings.append((("expires_at",), (
            f"expires_at {code['expires_at']} is after the redeem_by of coupons "
            f"'{link.target_key}' ({coupon['redeem_by']})")))
    return findings


KIND = Kind(
    name="promotion_codes",
    permission=Permission("promotion_code", "Promotion codes"),
    stripe_object="promotion_code",
    summary="Promotion codes: customer-facing codes that redeem a coupon.",
    identity=Identity.field("code", casefold=True),
    hooks_module="promotion_codes",
    # https://docs.stripe.com/changelog/clover/2025-09-30/polymorphic-coupon
    moved={"coupon": ("promotion: {{type: coupon, coupon: {value}}}", "2025-09-30.clover")},
    removal=Removal.ARCHIVE,
    replacement=Replacement.ARCHIVE_THEN_CREATE,
    references=(Reference("promotion.coupon", "coupons", checks=(_within_coupon,)),),
    defaults={"restrictions.first_time_transaction": False},
)
