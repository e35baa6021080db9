"""Adoption only: the part of a plan that tags matching live objects as managed.

`reconciler import` uses it to bring an existing account under management without changing
anything else: each adopted object gets the tags its entry decides (ownership, and
``prevent_destroy`` when the entry states it, so prune cannot remove the object before the
next apply) and nothing more, so the next plan shows what still differs from the manifests.
The tags are the adoption's own diffs, computed by the planner's one rule for an entry's
tags. The records of a create (a webhook endpoint's ``connect``) are not written: Stripe
does not show those fields, and an object reconciler did not create is not known to have
been created with the entry's value; the plan says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reconciler.kinds import KINDS
from reconciler.ownership import TAG_PREFIX

from .model import Action, Plan
from .steps import update


def adoption_plan(plan: Plan, kinds: Iterable[str] | None = None) -> Plan:
    wanted = set(kinds) if kinds else None
    changes = []
    for change in plan.changes:
        if change.action is not Action.ADOPT or (wanted and change.kind not in wanted):
            continue
        assert change.live_id is not None  # an adoption always has its live object
        diffs = [d for d in change.diffs if d.path.startswith(f"metadata.{TAG_PREFIX}")]
        step = update(KINDS[change.kind], change.live_id, {}, diffs)
        changes.append(replace(change, diffs=tuple(diffs), steps=(step,)))
    return replace(plan, changes=tuple(changes), warnings=plan.warnings)
