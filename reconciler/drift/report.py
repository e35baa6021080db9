"""Drift: where the live account has wandered from the manifests, as data.

Drift is computed by planning in a mode that refuses nothing (adopting, pruning and forcing
all considered, impossible changes reported instead of refused) and sorting the changes into
categories a person acts on differently:

- ``changed``: a managed object's fields differ from the manifests;
- ``missing``: a manifest entry has no live object (deleted, or archived out of view);
- ``archived``: a managed object was archived outside the tool;
- ``untagged``: a live object matches an entry but is not marked as managed (adopt it);
- ``orphaned``: an object this stack owns that no manifest describes any more;
- ``unmanaged``: (on request) a live object no manifest describes, with coverage per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import Manifest
from reconciler.plan import Action, Change, FieldDiff, LiveState, PlanOptions, build_plan
from reconciler.plan.ownership import owner

from .baseline import Baseline

CATEGORIES = ("changed", "missing", "archived", "untagged", "orphaned", "unmanaged")


@dataclass(frozen=True)
class DriftItem:
    category: str
    kind: str
    key: str | None
    live_id: str | None
    diffs: tuple[FieldDiff, ...] = ()
    accepted: bool = False  # listed in the baseline: known and accepted

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.key}" if self.key else f"{self.kind}:{self.live_id}"


@dataclass(frozen=True)
class DriftReport:
    account_id: str
    livemode: bool
    stack: str
    items: tuple[DriftItem, ...]
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> managed, total
    include_unmanaged: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def drifted(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if not i.accepted)

    @property
    def has_drift(self) -> bool:
        return bool(self.drifted)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CATEGORIES, 0)
        for item in self.drifted:
            counts[item.category] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": "1",
            "account": {"id": self.account_id, "livemode": self.livemode},
            "stack": self.stack,
            "drift": self.has_drift,
            "counts": self.counts(),
            "coverage": {k: {"managed": m, "total": t} for k, (m, t) in self.coverage.items()},
            "warnings": list(self.warnings),
            "items": [{
                "category": i.category, "kind": i.kind, "key": i.key, "live_id": i.live_id,
                "accepted": i.accepted,
                "diffs": [{"path": d.path, "old": d.old, "new": d.new} for d in i.diffs],
            } for i in self.items],
        }


def _category(change: Change) -> str | None:
    if change.action is Action.CREATE:
        return "missing"
    if change.action is Action.ADOPT:
        return "untagged"
    if change.action.removes:
        return "orphaned" if change.kind != "product_features" else "changed"
    if change.action is Action.UPDATE and [(d.path, d.old) for d in change.diffs] == [
            ("active", False)]:
        return "archived"
    if change.action in (Action.UPDATE, Action.REPLACE):
        return "changed"
    return None


def _unmanaged(live: LiveState, matched: set[str], stack: str
               ) -> tuple[list[DriftItem], dict[str, tuple[int, int]]]:
    items, coverage = [], {}
    for kind, objects in live.objects.items():
        built_in = MANIFEST_KINDS[kind].built_in
        current = [o for o in objects if o.get("active", True) is not False
                   and o.get("status") != "inactive" and not (built_in and built_in(o))
                   or o["id"] in matched]
        managed = [o for o in current if o["id"] in matched or owner(o)[0] == stack]
        coverage[kind] = (len(managed), len(current))
        items += [DriftItem("unmanaged", kind, None, o["id"]) for o in current
                  if o not in managed]
    return items, coverage


def detect(manifest: Manifest, live: LiveState, *, stack: str, include_unmanaged: bool = False,
           baseline: Baseline | None = None) -> DriftReport:
    """Compare without changing anything; nothing here raises for unsafe plans."""
    plan = build_plan(manifest, live, PlanOptions(stack=stack, prune=True, adopt=True,
                                                  force=True, strict=False))
    baseline = baseline or Baseline()
    items = []
    for change in plan.changes:
        category = _category(change)
        if category is None:
            continue
        if category == "orphaned":
            change = replace(change, diffs=())  # the removal's own diff says nothing new
        open_diffs = tuple(d for d in change.diffs
                           if not baseline.accepts_field(change.address, d.path))
        accepted = baseline.accepts_object(change.address) or (
            category == "changed" and not open_diffs)
        items.append(DriftItem(category, change.kind, change.key, change.live_id,
                               change.diffs if accepted else open_diffs, accepted))
    coverage: dict[str, tuple[int, int]] = {}
    if include_unmanaged:
        matched = {c.live_id for c in plan.changes if c.live_id}
        unmanaged, coverage = _unmanaged(live, matched, stack)
        items += [DriftItem(i.category, i.kind, i.key, i.live_id, i.diffs,
                            baseline.accepts_object(f"unmanaged:{i.kind}:{i.live_id}"))
                  for i in unmanaged]
    return DriftReport(live.account_id, live.livemode, stack, tuple(items), coverage,
                       include_unmanaged, plan.warnings)
