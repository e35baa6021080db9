"""The Plan: immutable data, saved as versioned JSON and rendered by separate modules.

A plan is an ordered list of changes. Each change says what happens to one object (kind,
manifest key, action, field diffs) and how: the exact API requests (steps) the applier
sends, in order. Steps may name objects that do not exist yet through references
(``{"$ref": "prices.pro"}`` in params, ``{ref:products.pro}`` in paths) resolved at apply
time, so a saved plan is applied exactly as reviewed.

A saved plan also carries the manifests it was planned from (``manifest``), so ``apply`` can
plan them again and refuse steps they do not imply, and the digest of what a reviewer sees
(``reviewed_digest``), so the approved plan and the applied one can be matched.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from reconciler.digests import canonical, digest

from .problems import Problem

__all__ = ["FORMAT_VERSION", "SELF", "Action", "Change", "FieldDiff", "OutdatedPlanError", "Plan",
           "Step", "canonical", "digest"]

FORMAT_VERSION = "4"  # 2: the manifests and the reviewed digest are embedded; 3: parents;
# 4: phases by dependency depth (reconciler/plan/phases.py), no longer one per kind
SELF = "{self}"  # in a step path: the id this change's create step produced


class OutdatedPlanError(ValueError):
    """A saved plan of an earlier format: its phases (and maybe more) mean something else
    to this version, so it is refused as such, not as an edited plan."""


class Action(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    ARCHIVE = "archive"
    DELETE = "delete"
    ADOPT = "adopt"
    NOOP = "noop"

    @property
    def removes(self) -> bool:
        return self in (Action.ARCHIVE, Action.DELETE)

    @property
    def destructive(self) -> bool:
        return self in (Action.ARCHIVE, Action.DELETE, Action.REPLACE)


@dataclass(frozen=True)
class FieldDiff:
    path: str  # dotted; list items as [i]: "recurring.interval", "tiers[0].up_to"
    old: Any
    new: Any
    forces_replacement: bool = False


@dataclass(frozen=True)
class Step:
    """One API request of a change."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    produces: bool = False  # the response's id is the change's new object id
    note: str = ""


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    action: Action
    actions: tuple[str, ...]  # Terraform's convention, in execution order
    live_id: str | None = None
    diffs: tuple[FieldDiff, ...] = ()
    steps: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = ()
    live_digest: str | None = None  # of the live object as read, for staleness checks
    phase: int = 0  # a change waits for earlier phases' changes of the kinds it needs (apply/schedule.py)
    note: str = ""  # why: an adopted object matched its entry, or the change is needed
    # a sub-resource's parent (a product feature's product): its manifest key, and its live
    # id (None while this plan creates it); saved only where set
    parent_key: str | None = None
    parent_id: str | None = None

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.key}"


@dataclass(frozen=True)
class Plan:
    account_id: str
    livemode: bool
    api_version: str
    stack: str
    manifest_digest: str
    live_fingerprint: str
    changes: tuple[Change, ...]
    options: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    tool_version: str = ""
    problems: tuple[Problem, ...] = ()  # what a strict plan would refuse (non-strict plans only)
    manifest: dict[str, Any] = field(default_factory=dict)  # Manifest.as_document() planned

    @cached_property
    def reviewed_digest(self) -> str:
        """Identifies what a reviewer approves: the account, mode, stack, options, the
        manifests' digest, the warnings and every pending change whole (diffs, notes,
        warnings and the requests it sends), so that an approved digest binds the exact
        requests too, whatever else (a journal beside the file) could be forged."""
        return digest({
            "account": self.account_id, "livemode": self.livemode, "stack": self.stack,
            "options": self.options, "manifest_digest": self.manifest_digest,
            "warnings": list(self.warnings),
            "changes": [_change_dict(c) for c in self.pending],
        })

    @property
    def mode(self) -> str:
        return "live" if self.livemode else "test"

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes that do something (noops left out)."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action if a is not Action.NOOP}
        for change in self.pending:
            counts[change.action.value] += 1
        return counts

    @cached_property
    def fingerprint(self) -> str:
        """Identifies this exact plan: the basis of the applier's idempotency keys.

        Computed once: the applier derives a key from it for every step, and hashing the
        whole plan per step made applying N changes cost O(N^2)."""
        return digest(self.to_dict(include_noops=True))

    def to_dict(self, *, include_noops: bool = False) -> dict[str, Any]:
        changes = self.changes if include_noops else self.pending
        return {
            "format_version": FORMAT_VERSION,
            "tool_version": self.tool_version,
            "account": {"id": self.account_id, "livemode": self.livemode},
            "mode": self.mode,
            "api_version": self.api_version,
            "stack": self.stack,
            "manifest_digest": self.manifest_digest,
            "reviewed_digest": self.reviewed_digest,
            "live_fingerprint": self.live_fingerprint,
            "options": self.options,
            "summary": self.summary(),
            "warnings": list(self.warnings),
            "changes": [_change_dict(c) for c in changes],
            **({"problems": [p.as_dict() for p in self.problems]} if self.problems else {}),
            "manifest": self.manifest,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        version = data.get("format_version")
        if isinstance(version, str) and version.isdigit() and int(version) < int(FORMAT_VERSION):
            raise OutdatedPlanError(
                f"it was saved by an earlier version of reconciler (plan format_version "
                f"{version!r}; this one writes {FORMAT_VERSION!r} and runs changes in other "
                "phases), so its changes cannot be verified: make a new plan with this one")
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported plan format_version {data.get('format_version')!r}"
                             f" (this reconciler writes {FORMAT_VERSION!r})")
        livemode = data["account"]["livemode"]
        if data.get("mode") != ("live" if livemode is True else "test"):
            raise ValueError(f"its mode {data.get('mode')!r} contradicts its account's "
                             f"livemode {livemode!r}")
        return cls(
            account_id=data["account"]["id"],
            livemode=livemode,
            api_version=data["api_version"],
            stack=data["stack"],
            manifest_digest=data["manifest_digest"],
            live_fingerprint=data["live_fingerprint"],
            options=data.get("options", {}),
            warnings=tuple(data.get("warnings", ())),
            tool_version=data.get("tool_version", ""),
            problems=tuple(Problem.from_dict(p) for p in data.get("problems", ())),
            changes=tuple(_change_from(c) for c in data["changes"]),
            manifest=data["manifest"],
        )


def _change_dict(change: Change) -> dict[str, Any]:
    out = asdict(change)
    for name in _PARENT:
        if out[name] is None:
            del out[name]
    out["address"] = change.address
    out["action"] = change.action.value
    out["actions"] = list(change.actions)
    return out


_PARENT = ("parent_key", "parent_id")


def _change_from(data: dict[str, Any]) -> Change:
    return Change(
        kind=data["kind"], key=data["key"], action=Action(data["action"]),
        actions=tuple(data["actions"]), live_id=data.get("live_id"),
        diffs=tuple(FieldDiff(**d) for d in data.get("diffs", ())),
        steps=tuple(Step(**s) for s in data.get("steps", ())),
        warnings=tuple(data.get("warnings", ())), live_digest=data.get("live_digest"),
        phase=data.get("phase", 0), note=data.get("note", ""),
        **{name: data[name] for name in _PARENT if name in data},
    )
