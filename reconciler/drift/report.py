"""Drift: where the live account has wandered from the manifests, as data.

Drift is computed by planning in a mode that refuses nothing (adopting, pruning and forcing
all considered, impossible changes reported instead of refused) and sorting the changes into
categories a person acts on differently:

- ``changed``: a managed object's fields differ from the manifests (a product's features
  attached or detached included);
- ``missing``: a manifest entry has no live object (deleted);
- ``archived``: a managed object was archived (or a meter deactivated) outside the tool;
- ``untagged``: a live object matches an entry but is not marked as managed (adopt it);
- ``orphaned``: an object this stack owns that no manifest describes any more;
- ``unmanaged``: (on request) a live object no manifest describes, with coverage per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.account import in_use
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.manifests import Manifest
from reconciler.ownership import TAG_PREFIX
from reconciler.plan import Action, Change, FieldDiff, LiveState, PlanOptions, build_plan
from reconciler.plan.desired import is_ref

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
    accepted_paths: frozenset[str] = frozenset()  # diffs the baseline accepts field by field
    label: str | None = None  # what an unmanaged object is to a person: its name, url, code

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
    kinds: tuple[str, ...] = ()  # the kinds compared (the manifests'), in dependency order

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
            "coverage": {k: {"managed": m, "total": t}
                         for k, (m, t) in sorted(self.coverage.items())},
            "warnings": list(self.warnings),
            "items": [{
                "category": i.category, "kind": i.kind, "key": i.key, "live_id": i.live_id,
                "label": i.label, "accepted": i.accepted,
                "diffs": [{"path": d.path, "manifest": d.new, "live": d.old,
                           "accepted": i.accepted or d.path in i.accepted_paths}
                          for d in i.diffs],
            } for i in self.items],
        }


def _category(change: Change, live: dict[str, Any] | None, missing: set[str]) -> str | None:
    if parent := KINDS[change.kind].parent:  # part of its parent, unless that is missing
        address = f"{parent}.{change.parent_key}"
        return "missing" if address in missing else "changed"
    if change.action is Action.CREATE:
        return "missing"
    if change.action is Action.ADOPT:
        return "untagged"
    if change.action.removes:
        return "orphaned"
    if any(d.path == "active" and d.old is False for d in change.diffs) or (
            live is not None and live.get("status") == "inactive"):
        return "archived"
    if change.action in (Action.UPDATE, Action.REPLACE):
        return "changed"
    return None


def _diffs(change: Change, category: str, live: dict[str, Any] | None) -> tuple[FieldDiff, ...]:
    """What a person needs to see: the fields that differ, not the plan's mechanics. The
    tool's tags of an untagged object are what adopting it writes, whichever survived; on a
    managed object a tag that differs (``prevent_destroy`` set or cleared by hand) is drift."""
    if KINDS[change.kind].parent:
        attached = change.action is Action.DELETE
        return (FieldDiff("attached", attached, not attached),)
    if category in ("missing", "orphaned"):
        return ()  # the whole object: its fields say nothing new
    diffs = tuple(d for d in change.diffs
                  if not is_ref(d.new)  # follows from another entry's drift, reported there
                  and not (category == "untagged" and d.path.startswith(_TAGS)))
    if live is not None and live.get("status") == "inactive":  # meters: no `active` field
        diffs = (FieldDiff("status", "inactive", "active"), *diffs)
    return diffs


_TAGS = f"metadata.{TAG_PREFIX}"


def _label(obj: dict[str, Any]) -> str | None:
    for name in ("name", "display_name", "nickname", "url", "code", "lookup_key", "event_name"):
        if obj.get(name):
            return str(obj[name])
    return None


def _unmanaged(live: LiveState, matched: set[str], reported: set[str]
               ) -> tuple[list[DriftItem], dict[str, tuple[int, int]]]:
    """The live objects no entry matches, and the coverage per kind: (matched by an entry,
    current). An orphaned object still carries this stack's tags, but no entry describes
    it: it is not managed, and is reported as orphaned, not again as unmanaged."""
    items, coverage = [], {}
    for kind_name, objects in live.objects.items():
        kind = MANIFEST_KINDS[kind_name]
        current = [o for o in objects if in_use(o) and not kind.built_in(o)
                   or o["id"] in matched]
        managed = [o for o in current if o["id"] in matched]
        coverage[kind_name] = (len(managed), len(current))
        items += [DriftItem("unmanaged", kind_name, None, o["id"], label=_label(o))
                  for o in current if o not in managed and o["id"] not in reported]
    return items, coverage


def detect(manifest: Manifest, live: LiveState, *, stack: str, include_unmanaged: bool = False,
           baseline: Baseline | None = None) -> DriftReport:
    """Compare without changing anything; nothing here raises for unsafe plans."""
    plan = build_plan(manifest, live, PlanOptions(stack=stack, prune=True, adopt=True,
                                                  force=True, strict=False))
    baseline = baseline or Baseline()
    by_id = {o["id"]: o for objects in live.objects.values() for o in objects}
    missing = {c.address for c in plan.changes if c.action is Action.CREATE}
    items = []
    for change in plan.changes:
        obj = by_id.get(change.live_id) if change.live_id else None
        category = _category(change, obj, missing)
        if category is None:
            continue
        diffs = _diffs(change, category, obj)
        if category == "changed" and not diffs:
            continue  # only consequences of drift reported elsewhere
        accepted_paths = frozenset(d.path for d in diffs
                                   if baseline.accepts_field(change.address, d.path))
        accepted = baseline.accepts_object(change.address) or (
            category in ("changed", "archived") and {d.path for d in diffs} == accepted_paths)
        items.append(DriftItem(category, change.kind, change.key, change.live_id, diffs,
                               accepted, accepted_paths))
    coverage: dict[str, tuple[int, int]] = {}
    if include_unmanaged:
        matched = {c.live_id for c in plan.changes if c.live_id and not c.action.removes}
        reported = {i.live_id for i in items if i.live_id}
        unmanaged, coverage = _unmanaged(live, matched, reported)
        items += [replace(i, accepted=baseline.accepts_object(f"unmanaged:{i.kind}:{i.live_id}"))
                  for i in unmanaged]
    apply_notes = {w if w.startswith(c.address) else f"{c.address}: {w}"
                   for c in plan.changes if c.steps for w in c.warnings}  # e.g. new secrets
    warnings = plan.problems + tuple(w for w in plan.warnings if w not in apply_notes)
    kinds = tuple(k for k, kind in KINDS.items() if manifest.entries.get(k) or any(
        i.kind == k for i in items) or (kind.parent and any(
            kind.listed_in in e.spec for e in manifest.entries[kind.parent].values())))
    return DriftReport(live.account_id, live.livemode, stack, tuple(items), coverage,
                       include_unmanaged, warnings, kinds)
