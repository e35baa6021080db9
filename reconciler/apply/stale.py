"""Refusing a saved plan whose account has changed since it was made.

Every object a change touches is read again (one GET each, expanded like the plan's list
reads) and compared with the digest the plan recorded. Changes this same plan already
started (per its journal) are exempt: they differ because of us.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from reconciler.kinds import KINDS
from reconciler.plan import Change, Plan
from reconciler.plan.model import digest
from reconciler.plan.steps import object_path
from reconciler.stripe import NotFoundError, StripeClient


class StalePlanError(Exception):
    def __init__(self, changed: list[str]):
        self.changed = changed
        super().__init__("the account changed since the plan was made: " + "; ".join(changed)
                         + ". Make a new plan.")


async def _check(client: StripeClient, change: Change) -> str | None:
    kind = KINDS[change.kind]
    path = object_path(kind, change.live_id, _parent(change))
    try:
        live = await client.request("GET", path, expand=kind.retrieve_expand)
    except NotFoundError:
        return f"{change.address} ({change.live_id}) no longer exists"
    if digest(live) != change.live_digest:
        return f"{change.address} ({change.live_id}) was modified"
    return None


def _parent(change: Change) -> str | None:
    """Product feature steps carry their product's id in the path."""
    if not KINDS[change.kind].parent:
        return None
    return change.steps[0].path.split("/")[3]


async def check_fresh(plan: Plan, client: StripeClient, exempt: Collection[int] = frozenset()) -> None:
    account = await client.account()
    if account.id != plan.account_id or account.livemode != plan.livemode:
        raise StalePlanError([(f"the plan is for account {plan.account_id} ({plan.mode} mode), "
                              f"the key reaches {account.id}")])
    checks = [c for i, c in enumerate(plan.changes)
              if c.live_id and c.live_digest and i not in exempt and c.steps]
    problems = await asyncio.gather(*(_check(client, c) for c in checks))
    changed = [p for p in problems if p]
    if changed:
        raise StalePlanError(changed)
