"""Objects that now stand where a saved plan would create one.

When the plan was made, no live object matched an entry it creates. If one does by the time
the plan is applied (another apply of the same manifests, a hand-made object, or this very
plan applied before on a runner whose journal is gone, after Stripe forgot its idempotency
keys), creating the entry anyway leaves two objects with one identity, or fails on a taken
id after other objects were already written. The rules are the planner's
(:func:`reconciler.plan.match.matched_by`); a product feature matches the attachment of the
same feature to the same product.

A replacement creates the entry's new object beside the one it replaces, and older objects
of the same entry (archived by earlier replacements) legitimately share its tag and
sometimes its natural key: for a replacement only objects in use count, and never an object
the plan itself touches.
"""

from __future__ import annotations

from typing import Any

from reconciler.account import in_use
from reconciler.kinds import KINDS, Kind
from reconciler.plan import Action, Change, LiveState
from reconciler.plan.match import matched_by


def created_params(change: Change) -> dict[str, Any] | None:
    """The parameters of the change's create request, if it makes a new object."""
    if change.action not in (Action.CREATE, Action.REPLACE):
        return None
    return next((step.params for step in change.steps if step.produces), None)


def collisions(changes: list[Change], stack: str, live: LiveState,
               known: set[tuple[str, str]]) -> list[str]:
    """What now matches each create of ``changes``; ``known`` are the objects the plan
    touches, as (kind, id): a product and a coupon may share an id."""
    problems: list[str] = []
    for change in changes:
        params = created_params(change)
        if params is None:
            continue
        kind = KINDS[change.kind]
        if kind.parent:
            target = kind.references[0].path  # what a sub-resource attaches (as its hooks read)
            attached = live.attachments.get(change.parent_id or "", [])
            for found in attached:
                if found[target]["id"] == params.get(target):
                    problems.append(f"{change.address} would be created, but {found['id']} "
                                    "now attaches that feature to that product")
            continue
        replacing = change.action is Action.REPLACE
        candidates = [o for o in live.objects.get(kind.name, [])
                      if (kind.name, o["id"]) not in known and (in_use(o) or not replacing)]
        problems += _matches(kind, change, params, stack, candidates)
    return problems


def _matches(kind: Kind, change: Change, params: dict[str, Any], stack: str,
             candidates: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for obj in candidates:
        how = matched_by(kind, change.key, params, stack, obj)
        if how == "tag":
            problems.append(f"{change.address} would be created, but {obj['id']} now carries "
                            f"its ownership tag (stack '{stack}')")
        elif how == "natural key":
            natural = kind.identity.natural_key or ""
            stated = params.get(natural) or kind.identity.of_entry(change.key, params)
            problems.append(f"{change.address} would be created, but {obj['id']} now holds "
                            f"its {natural} '{stated}'")
    return problems
