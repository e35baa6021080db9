"""Refusing a saved plan whose account has changed since it was made.

The account is read again the way the planner reads it: one paginated list per kind the plan
involves (with the same expands, and product features per product), never a GET per object,
so checking a plan of thousands of changes costs a few requests per kind. Every object a
change touches must still be listed with the digest the plan recorded, and no object may have
appeared that the plan's matching rules would match to an entry it creates (see
:mod:`.collisions`). Changes this same plan already started (per its journal) are exempt:
they differ because of us. So are objects that refer to an object a started change deletes:
the deletion changed them (deleting a coupon deactivates its promotion codes, and the code
then embeds a deleted coupon), whether the plan replaces them for it or archives them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reconciler.account import HIDES_ARCHIVED, LiveState, add_archived, read_live
from reconciler.digests import digest
from reconciler.kinds import KINDS
from reconciler.plan import Action, Change, Plan
from reconciler.stripe import UNKNOWN_ACCOUNT, Account, StripeClient

from .collisions import collisions, created_params


class WrongAccountError(Exception):
    """The key reaches another account, or the other mode, than the saved plan was made for."""


def _mode(livemode: bool) -> str:
    return "live" if livemode else "test"


def _check_account(plan: Plan, account_id: str, livemode: bool) -> None:
    """Refuse a plan made for another account, or for the other mode, than the key reaches.
    An account that could not be read (a key without it) is compared by mode only."""
    if UNKNOWN_ACCOUNT not in (account_id, plan.account_id) and account_id != plan.account_id:
        message = (f"the plan was made for account {plan.account_id} ({plan.mode} mode); this "
                   f"key reaches {account_id} ({_mode(livemode)} mode). Use the key (and "
                   "--stripe-account) the plan was made with; nothing was written")
        raise WrongAccountError(message)
    if livemode != plan.livemode:
        message = (f"this plan is for {plan.mode} mode; the key is a {_mode(livemode)}-mode "
                   "key. Use a key of the plan's mode; nothing was written")
        raise WrongAccountError(message)


class StalePlanError(Exception):
    def __init__(self, changed: list[str]):
        self.changed = changed
        super().__init__("the account changed since the plan was made: " + "; ".join(changed)
                         + ". Make a new plan.")


_CHILDREN = [name for name, kind in KINDS.items() if kind.parent]
"""Sub-resources, whose objects a LiveState keeps by parent (``attachments``)."""


def _by_id(live: LiveState) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object read, by (kind, id): a product and a coupon may share an id."""
    found = {(kind_name, o["id"]): o
             for kind_name, objects in live.objects.items() for o in objects}
    found.update({(child, a["id"]): a for child in _CHILDREN
                  for attached in live.attachments.values() for a in attached})
    return found


async def _read(client: StripeClient, touched: list[Change], creates: list[Change]
                ) -> LiveState:
    """The kinds of ``touched`` and ``creates``, and the feature attachments of the live
    products they are under. Archived prices and features, which Stripe lists only on
    request, are read too where a new entry may match one (the planner matched new entries
    against them) or a touched object is not among the current ones."""
    changes = touched + creates
    kinds = {c.kind for c in changes}
    products = {p for c in changes if (p := c.parent_id)}
    kinds |= {parent for c in changes if c.parent_id and (parent := KINDS[c.kind].parent)}
    live = await read_live(client, [k for k in KINDS if k in kinds], products)
    seen = _by_id(live)
    await add_archived(client, live, [
        kind for kind in HIDES_ARCHIVED
        if any(c.kind == kind.name and c.action is Action.CREATE for c in creates)
        or any(c.kind == kind.name and (kind.name, c.live_id) not in seen for c in touched)])
    return live


def _deleted(changes: list[Change]) -> set[tuple[str, str]]:
    """The objects, as (kind, id), that ``changes`` delete."""
    return {(c.kind, c.live_id) for c in changes
            if c.live_id and any(step.method == "DELETE" for step in c.steps)}


def _refers_to(kind_name: str, obj: dict[str, Any], objects: set[tuple[str, str]]) -> bool:
    """Whether a reference of the live ``obj`` names one of ``objects``."""
    return any((ref.kind, value) in objects for ref in KINDS[kind_name].references
               for _, value in ref.values(obj))


def _modified(touched: list[Change], live: LiveState, deleted: set[tuple[str, str]]
              ) -> list[str]:
    objects = _by_id(live)
    problems: list[str] = []
    for change in touched:
        obj = objects.get((change.kind, change.live_id or ""))
        if obj is None:
            problems.append(f"{change.address} ({change.live_id}) no longer exists")
        elif digest(obj) != change.live_digest and not _refers_to(change.kind, obj, deleted):
            problems.append(f"{change.address} ({change.live_id}) was modified")
    return problems


async def check_fresh(plan: Plan, client: StripeClient, exempt: Collection[int] = frozenset()) -> None:
    read = await client.readable_account()  # unknown (a 403): only the mode is compared
    account = read if isinstance(read, Account) else Account(UNKNOWN_ACCOUNT, client.key_livemode)
    _check_account(plan, account.id, account.livemode)
    unstarted = [c for i, c in enumerate(plan.changes) if i not in exempt and c.steps]
    deleted = _deleted([c for i, c in enumerate(plan.changes) if i in exempt])
    touched = [c for c in unstarted if c.live_id and c.live_digest]
    creates = [c for c in unstarted if created_params(c) is not None]
    if not (touched or creates):
        return
    live = await _read(client, touched, creates)
    known = {(c.kind, c.live_id) for c in plan.changes if c.live_id}
    changed = _modified(touched, live, deleted) + collisions(creates, plan.stack, live, known)
    if changed:
        raise StalePlanError(changed)
