"""The account layer: what the live account holds, read once for every other layer.

Plan, apply's staleness check, drift, export and doctor read the account through this
interface only: one paginated list per kind (a kind's ``read`` hook may shape it), the
tool's control objects hidden, archived objects read on request (``archived_filter``), and
one notion of an object in use. See docs/architecture.md.
"""

from .live import (
    HIDES_ARCHIVED,
    LiveState,
    add_archived,
    in_use,
    list_inactive,
    list_kind,
    listing_parents,
    needed_kinds,
    read_for,
    read_live,
    referenced,
)

__all__ = ["HIDES_ARCHIVED", "LiveState", "add_archived", "in_use", "list_inactive",
           "list_kind", "listing_parents", "needed_kinds", "read_for", "read_live",
           "referenced"]
