"""The hooks every kind has: they add nothing.

Modelled on octoDNS's provider hooks (``_process_desired_zone``, ``_include_change``,
``_extra_changes``): the engine calls each hook at a fixed point, and a kind overrides only
the ones it needs. :class:`Planning` is made once per plan, so a kind may keep what it
learns across its entries (the default-price relation of prices); :class:`Hooks` holds what
does not depend on a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.account import LiveState, list_kind
from reconciler.kinds import Kind
from reconciler.plan.context import PlanContext
from reconciler.plan.model import Change, FieldDiff, Step
from reconciler.plan.problems import Problem
from reconciler.stripe import StripeClient


class Planning:
    """A kind's part in one plan; every hook here leaves the plan as the engine makes it."""

    def __init__(self, kind: Kind, plan: PlanContext):
        self.kind = kind
        self.plan = plan

    def changes(self, phase: int) -> list[Change]:
        """A sub-resource's changes (it has no entries of its own to plan)."""
        return []

    def then(self, key: str, replaced: dict[str, Any] | None = None) -> list[Step]:
        """Steps to run once the new object of entry ``key`` exists (``replaced``: the live
        object it replaces)."""
        return []

    def waits(self, key: str, replaced: dict[str, Any]) -> bool:
        """Whether the replacement of ``replaced`` must wait until the other changes of
        its kind's depth have finished (it runs before the next depth's)."""
        return False

    def conflict(self, key: str, params: dict[str, Any], live: dict[str, Any],
                 diffs: Sequence[FieldDiff]) -> Problem | None:
        """Why the update of ``live`` cannot be planned, or None."""
        return None

    def diffs(self, live: dict[str, Any], diffs: list[FieldDiff]) -> list[FieldDiff]:
        """The diffs of ``live``, with what the field comparison cannot see."""
        return diffs

    def why_replaced(self, diff: FieldDiff) -> str | None:
        """Why ``diff`` forces a replacement when old and new read the same, or None."""
        return None

    def settle(self, changes: list[Change], ids: Mapping[tuple[str, str], Any]) -> list[Change]:
        """``changes`` once this kind's entries are planned (``ids``: the objects that exist
        and stay, by (kind, key))."""
        return changes

    def retired(self, obj: dict[str, Any]) -> bool:
        """Whether an object no entry describes is left alone rather than removed."""
        return False

    def release(self, obj: dict[str, Any], key: str, successor: dict[str, Any] | None
                ) -> tuple[list[Step], list[Problem]]:
        """Steps that let ``obj`` be removed, and the problems that forbid it."""
        return [], []


class Hooks:
    """A kind's hooks outside a plan."""

    planning: type[Planning] = Planning

    async def read(self, kind: Kind, client: StripeClient, state: LiveState,
                   control: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every live object of ``kind``; the tool's control objects go to ``control``."""
        return await list_kind(client, kind, control=control)


HOOKS = Hooks()

__all__ = ["HOOKS", "Hooks", "PlanContext", "Planning"]
