"""Payment method configurations: which payment methods checkout offers.

They carry no metadata, so they are matched by `name` (or the account's default
configuration) and never pruned. Stripe has no DELETE: a forced replacement archives the old
one. `parent` cannot change.
"""

from .base import Kind, Permission, Removal, Replacement
from .identity import Identity

KIND = Kind(
    name="payment_method_configurations",
    permission=Permission("payment_method_configuration", "Payment method configurations", known=False),
    stripe_object="payment_method_configuration",
    summary="Payment method configurations: matched by name; display preference per method.",
    identity=Identity.field("name", default_flag="is_default"),
    removal=Removal.ARCHIVE,
    replacement=Replacement.REFUSE,
    replacement_note="a configuration's parent cannot change; create a new entry instead",
    defaults={"*.display_preference.preference": "none"},
    export_name=lambda obj, _: "default",  # one without a name, which names it otherwise
)
