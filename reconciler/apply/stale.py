"""Refusing a saved plan whose account has changed since it was made.

Every object a change touches is read again (one GET each, expanded like the plan's list
reads) and compared with the digest the plan recorded; and no object may have appeared that
the plan's matching rules would match to an entry it creates (see :mod:`.collisions`), read
with one list per kind. Changes this same plan already started (per its journal) are exempt:
they differ because of us.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from reconciler.kinds import KINDS
from reconciler.plan import Change, LiveState, Plan, read_live
from reconciler.plan.live import INACTIVE_LISTS, list_inactive
from reconciler.plan.model import digest
from reconciler.plan.steps import object_path
from reconciler.stripe import NotFoundError, StripeClient

from .collisions import collisions, created_params, parent_id


class StalePlanError(Exception):
    def __init__(self, changed: list[str]):
        self.changed = changed
        super().__init__("the account changed since the plan was made: " + "; ".join(changed)
                         + ". Make a new plan.")


async def _check(client: StripeClient, change: Change) -> str | None:
    kind = KINDS[change.kind]
    path = object_path(kind, change.live_id, parent_id(change))
    try:
        live = await client.request("GET", path, expand=kind.retrieve_expand)
    except NotFoundError:
        return f"{change.address} ({change.live_id}) no longer exists"
    if digest(live) != change.live_digest:
        return f"{change.address} ({change.live_id}) was modified"
    return None


async def _read(client: StripeClient, creates: list[Change]) -> LiveState:
    """One list per kind the plan creates, and the feature attachments of the live products
    it attaches features to; archived prices and features, which Stripe lists only on
    request, too: the planner matched new entries against them."""
    kinds = {c.kind for c in creates}
    products = {p for c in creates if (p := parent_id(c))}
    if products:
        kinds.add("products")
    live = await read_live(client, [k for k in KINDS if k in kinds], products)
    hidden = [KINDS[k] for k in INACTIVE_LISTS if k in kinds]
    for kind, extra in zip(hidden, await asyncio.gather(*(list_inactive(client, k)
                                                          for k in hidden))):
        live.objects[kind.name] += extra
    return live


async def check_fresh(plan: Plan, client: StripeClient, exempt: Collection[int] = frozenset()) -> None:
    account = await client.account()
    if account.id != plan.account_id or account.livemode != plan.livemode:
        raise StalePlanError([(f"the plan is for account {plan.account_id} ({plan.mode} mode), "
                              f"the key reaches {account.id}")])
    unstarted = [c for i, c in enumerate(plan.changes) if i not in exempt and c.steps]
    checks = [c for c in unstarted if c.live_id and c.live_digest]
    creates = [c for c in unstarted if created_params(c) is not None]
    known = {c.live_id for c in plan.changes if c.live_id}
    problems, live = await asyncio.gather(asyncio.gather(*(_check(client, c) for c in checks)),
                                          _read(client, creates))
    changed = [p for p in problems if p] + collisions(creates, plan.stack, live, known)
    if changed:
        raise StalePlanError(changed)
