"""A reference to an object that comes back under the same id, as a new object.

Coupons (like products) have an id the user chooses, so a coupon deleted outside reconciler,
or deleted by the plan's own replacement, is created again under that id. What referred to
the deleted coupon does not come back with it. Stripe's API reference: deleting a coupon
means it can no longer be redeemed; "a promotion code is only active if the coupon is also
valid"; a promotion code can be reactivated only "when the coupon is still valid". A deleted
coupon's promotion codes are therefore out of use for good, and the re-created coupon needs
new ones: the create-only reference forces a replacement, as for any other target.

The replacement is right, but a diff from "spring" to the id the new coupon gets reads as if
the id changed: the change says why it is re-created, and that the old object goes first,
which frees its natural key (a promotion code's ``code`` is unique among active codes).

A coupon may also already be back (an apply cut short after re-creating it, or a hand-made
one): the code still names "spring", but its coupon is the deleted one, which the coupon it
embeds tells (see :mod:`reconciler.kinds.hooks.promotion_codes`, whose ``why_replaced``
says so): another ``created``, or no longer ``valid`` while the coupon now under that id is. Its reference differs from the entry's all the same, and forces the
replacement: Stripe would refuse to reactivate the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reconciler.kinds import KINDS, Kind, Replacement
from reconciler.manifests import Manifest

from .desired import is_ref
from .model import Action, Change, FieldDiff

if TYPE_CHECKING:
    from reconciler.kinds.hooks.base import Planning


def why(kind: Kind, live: dict[str, Any], diffs: list[FieldDiff], manifest: Manifest,
        changes: Sequence[Change], planning: Planning) -> str:
    """Why ``live`` is replaced when a reference of it forces that because its target comes
    back under the id ``live`` already names; empty when no reference is of that sort."""
    reasons = [reason for d in diffs if d.forces_replacement
               if (reason := planning.why_replaced(d) or _same_id(d, manifest, changes))]
    if not reasons:
        return ""
    what = kind.stripe_object.replace("_", " ")
    note = (f"{'; '.join(reasons)}; this {what} went out of use with the deleted one, so it is "
            "re-created")
    natural = kind.identity.natural_key
    if kind.replacement is Replacement.ARCHIVE_THEN_CREATE and natural in live:
        note += f" once the old one is archived, which frees its {natural} '{live[natural]}'"
    return note


def _same_id(d: FieldDiff, manifest: Manifest, changes: Sequence[Change]) -> str | None:
    """Why the target of ``d`` is a new object under the id the live reference names, or
    None when it is not."""
    if not is_ref(d.new):
        return None
    address = d.new["$ref"]
    name, key = address.split(".", 1)
    target = KINDS[name]
    entry = manifest.entries[name].get(key)
    if not target.identity.is_stripe_id or entry is None:
        return None
    if d.old != target.identity.of_entry(key, entry.spec):
        return None
    change = next((c for c in changes if c.address == address), None)
    obj = target.stripe_object.replace("_", " ")
    if change is not None and change.action is Action.CREATE:
        return (f"{address} was deleted outside reconciler and comes back under the same id "
                f"as a new {obj}")
    if change is not None and change.action is Action.REPLACE:
        return f"{address} is replaced: deleted, then created again under the same id"
    return None
