"""Entitlement features: identified by their `lookup_key`, which Stripe makes permanent.

They cannot be deleted; removal deactivates them (inactive features vanish from lists unless
`archived=true` is asked for).
"""

from .base import Kind, Permission, Removal, Replacement
from .identity import Identity

KIND = Kind(
    name="features",
    permission=Permission("entitlements_feature", "Entitlement features", known=False),
    stripe_object="entitlements.feature",
    summary="Entitlement features: identified by their permanent lookup_key.",
    identity=Identity.field("lookup_key"),
    removal=Removal.ARCHIVE,
    archived_filter={"archived": "true"},
    replacement=Replacement.REFUSE,
    replacement_note="a feature's lookup_key is its identity; a new lookup_key is a new feature",
)
