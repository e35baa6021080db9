"""Writing ownership records (their format and reading: :mod:`reconciler.account.records`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from reconciler.account.records import (
    PRODUCTS,
    RECORD_NAME,
    RECORDED_KINDS,
    Referrers,
    chunked,
    foreign_use,
    ours,
    parse,
    record_id,
)
from reconciler.ownership import CONTROL, CONTROL_KEY_PREFIX
from reconciler.stripe import NotFoundError, StripeClient

from .model import Action, Plan

__all__ = ["RECORDED_KINDS", "RECORD_NAME", "Referrers", "chunked", "foreign_use", "ours",
           "owned_by_plan", "parse", "record_id", "write"]


def owned_by_plan(plan: Plan, created: Mapping[str, str]) -> dict[str, set[str]]:
    """The meters and configurations ``plan`` created, adopted or changed (ids by kind):
    what its stack owns once it is applied. ``created``: address -> id of new objects. A
    match left unchanged (a noop) proves nothing: its owner may be unknown (the planner lets
    such a match stand while nothing would change it), and recording it would take it."""
    ids: dict[str, set[str]] = {kind_name: set() for kind_name in RECORDED_KINDS}
    for change in plan.changes:
        if change.kind not in ids or change.action.removes or change.action is Action.NOOP:
            continue
        if change.action in (Action.CREATE, Action.REPLACE):
            if change.address in created:
                ids[change.kind].add(created[change.address])
        elif change.live_id:
            ids[change.kind].add(change.live_id)
    return ids


async def write(client: StripeClient, stack: str, ids: Mapping[str, set[str]]) -> None:
    """Add ``ids`` to the record of ``stack`` (created on first use); no write when it
    already holds them all."""
    try:
        obj: Mapping[str, Any] | None = await client.retrieve(PRODUCTS, record_id(stack))
    except NotFoundError:
        obj = None
    record = parse(obj) if obj is not None else None
    held = record[1] if record else {}
    union = {kind_name: set(held.get(kind_name, ())) | set(ids.get(kind_name, ()))
             for kind_name in RECORDED_KINDS}
    if obj is not None and union == {kind_name: set(held.get(kind_name, ()))
                                     for kind_name in RECORDED_KINDS}:
        return
    metadata: dict[str, str] = {CONTROL: "owned", "stack": stack, **chunked(union)}
    key = f"{CONTROL_KEY_PREFIX}owned-{uuid.uuid4().hex}"
    if obj is None:
        await client.create(PRODUCTS, {"id": record_id(stack), "name": RECORD_NAME,
                                       "active": False, "metadata": metadata},
                            idempotency_key=key)
        return
    stale = {k: "" for k in (obj.get("metadata") or {}) if k not in metadata}  # "" unsets
    await client.update(PRODUCTS, record_id(stack), {"metadata": {**stale, **metadata}},
                        idempotency_key=key)
