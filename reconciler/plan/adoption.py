"""Adoption only: the part of a plan that tags matching live objects as managed.

`reconciler import` uses it to bring an existing account under management without changing
anything else: each adopted object gets the stack's ownership tags and nothing more, so the
next plan shows what still differs from the manifests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reconciler.kinds import KINDS

from .model import Action, FieldDiff, Plan
from .ownership import tags
from .steps import update


def adoption_plan(plan: Plan, kinds: Iterable[str] | None = None) -> Plan:
    wanted = set(kinds) if kinds else None
    changes = []
    for change in plan.changes:
        if change.action is not Action.ADOPT or (wanted and change.kind not in wanted):
            continue
        assert change.live_id is not None  # an adoption always has its live object
        labels = tags(plan.stack, change.key)
        diffs = [FieldDiff(f"metadata.{k}", None, v) for k, v in labels.items()]
        step = update(KINDS[change.kind], change.live_id, {}, diffs)
        changes.append(replace(change, diffs=tuple(diffs), steps=(step,)))
    return replace(plan, changes=tuple(changes), warnings=plan.warnings)
