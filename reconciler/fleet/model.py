"""What a fleet run produces: per target a result or the error that stopped it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler import __version__
from reconciler.drift import DriftReport
from reconciler.plan import Plan

from .targets import Target

FORMAT = "reconciler-fleet-plan"
FORMAT_VERSION = "1"
COLUMNS = ("create", "update", "replace", "remove")
"""The per-target counts of the summary table (archive and delete are both a removal)."""


@dataclass(frozen=True)
class TargetPlan:
    target: Target
    plan: Plan | None = None
    error: str | None = None  # why there is no plan (not planned, refused, unreachable)
    data: dict[str, Any] | None = None  # the plan as saved, for apply's file checks

    def counts(self) -> dict[str, int]:
        summary = self.plan.summary() if self.plan else {}
        return {"create": summary.get("create", 0) + summary.get("adopt", 0),
                "update": summary.get("update", 0), "replace": summary.get("replace", 0),
                "remove": summary.get("archive", 0) + summary.get("delete", 0)}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.target.name, "target": self.target.to_dict()}
        if self.plan is not None:
            out.update(account=self.plan.account_id, mode=self.plan.mode,
                       summary=self.counts(), plan=self.plan.to_dict())
        else:
            out.update(account=self.target.account, error=self.error)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetPlan:
        target = Target.from_dict(data["target"])
        if "plan" not in data:
            return cls(target, error=data.get("error") or "no plan")
        return cls(target, Plan.from_dict(data["plan"]), data=data["plan"])


@dataclass(frozen=True)
class FleetPlan:
    """One reviewable plan across targets, saved as ``targets: [...]``."""

    targets: tuple[TargetPlan, ...]

    def __iter__(self) -> Iterator[TargetPlan]:
        return iter(self.targets)

    @property
    def failed(self) -> list[TargetPlan]:
        return [t for t in self.targets if t.plan is None]

    @property
    def has_changes(self) -> bool:
        return any(t.plan is not None and t.plan.has_changes for t in self.targets)

    def totals(self) -> dict[str, int]:
        return {c: sum(t.counts()[c] for t in self.targets) for c in COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "tool_version": __version__,
                "summary": {**self.totals(), "targets": len(self.targets),
                            "errors": len(self.failed)},
                "targets": [t.to_dict() for t in self.targets]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FleetPlan:
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} of format_version {FORMAT_VERSION}")
        return cls(tuple(TargetPlan.from_dict(t) for t in data["targets"]))

    @staticmethod
    def is_fleet(data: Any) -> bool:
        return isinstance(data, dict) and data.get("format") == FORMAT


@dataclass(frozen=True)
class TargetDrift:
    target: Target
    report: DriftReport | None = None
    error: str | None = None


@dataclass(frozen=True)
class FleetDrift:
    targets: tuple[TargetDrift, ...]

    @property
    def failed(self) -> list[TargetDrift]:
        return [t for t in self.targets if t.report is None]

    @property
    def drifted(self) -> list[TargetDrift]:
        return [t for t in self.targets if t.report is not None and t.report.has_drift]
