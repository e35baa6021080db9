"""Billing meters: identified by `event_name`; only `display_name` changes in place.

Event names are permanent in Stripe, and meters cannot be deleted: a forced replacement
deactivates the old meter. Meters carry no metadata, so prune never finds one to remove, and
an entry whose `event_name` changed would find no meter and silently create a second one:
its `display_name`, the label users keep, links it to the meter the old name left behind.
"""

from .base import Kind, Permission, Removal, Replacement
from .identity import Identity

KIND = Kind(
    name="meters",
    permission=Permission("billing_meter", "Billing meters"),
    stripe_object="billing.meter",
    summary="Billing meters: identified by event_name; never pruned, as they carry no metadata.",
    identity=Identity.field("event_name", label="display_name"),
    removal=Removal.DEACTIVATE,
    replacement=Replacement.REFUSE,
    replacement_note=(
        "meter event names and aggregation are permanent; deactivate this meter and add a new "
        "entry with a new event_name (or pass --force to deactivate and re-create)"
    ),
    defaults={"customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
              "value_settings": {"event_payload_key": "value"}},
)
