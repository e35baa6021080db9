"""Safety rules over a whole plan: the bulk guard (octoDNS-style thresholds).

A plan that would archive, delete or replace more than a set share of a kind's managed
objects is more often a mistake (a wrong directory, a broken overlay) than an intent, so it
is refused with the numbers unless forced.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .match import Matches
from .model import Change

if TYPE_CHECKING:
    from .planner import PlanOptions


def check_guards(changes: list[Change], matches: dict[str, Matches], options: PlanOptions) -> list[str]:
    if options.force:
        return []
    destructive = Counter(c.kind for c in changes if c.action.destructive)
    problems = []
    for kind, count in sorted(destructive.items()):
        found = matches.get(kind)
        if found is None:
            continue
        managed = len(found.live) + len(found.orphans)
        if managed >= options.bulk_minimum and count > options.bulk_threshold * managed:
            problems.append(
                f"{kind}: the plan would archive, delete or replace {count} of {managed} "
                f"managed objects ({count / managed:.0%}, more than the "
                f"{options.bulk_threshold:.0%} allowed); check the manifests, or pass --force")
    return problems
