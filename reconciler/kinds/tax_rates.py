"""Tax rates: percentage and inclusiveness are fixed at creation.

Changing either creates a new rate and archives the old one; existing subscriptions and
invoices keep the old rate. Stripe has no DELETE for tax rates.
"""

from .base import Kind, Permission, Removal, Replacement
from .identity import Identity

KIND = Kind(
    name="tax_rates",
    permission=Permission("tax_rate", "Tax rates"),
    stripe_object="tax_rate",
    summary="Tax rates: percentage and inclusive are immutable; changes create a new rate.",
    identity=Identity.tag(),
    removal=Removal.ARCHIVE,
    replacement=Replacement.CREATE_THEN_ARCHIVE,
    export_name=lambda obj, _: f"{obj.get('display_name')}-{obj.get('percentage')}",
)
