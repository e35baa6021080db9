"""Moved to :mod:`reconciler.account`; these names stay importable from here."""

from reconciler.account import (
    HIDES_ARCHIVED,
    LiveState,
    add_archived,
    in_use,
    list_inactive,
    list_kind,
    listing_parents,
    needed_kinds,
    pinned,
    read_for,
    read_live,
    referenced_ids,
)

__all__ = ["HIDES_ARCHIVED", "LiveState", "add_archived", "in_use", "list_inactive",
           "list_kind", "listing_parents", "needed_kinds", "pinned", "read_for", "read_live",
           "referenced_ids"]
