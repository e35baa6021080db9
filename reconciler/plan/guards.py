"""Safety rules over a whole plan: the bulk guard (octoDNS-style thresholds) and the
remove-everything guard.

A plan that would archive, delete or replace more than a set share of a kind's managed
objects is more often a mistake (a wrong directory, a broken overlay) than an intent, so it
is refused with the numbers unless forced. The bulk guard looks at each kind from a minimum
count; a plan that leaves the stack with nothing at all is refused whatever the counts, since
a handful of objects spread over kinds is what a small catalog is.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from reconciler import plural

from .match import Matches
from .model import Change
from .problems import Problem

if TYPE_CHECKING:
    from .planner import PlanOptions


def check_guards(changes: list[Change], matches: dict[str, Matches], options: PlanOptions) -> list[Problem]:
    if options.force:
        return []
    destructive = Counter(c.kind for c in changes if c.action.destructive)
    problems = []
    for kind_name, count in sorted(destructive.items()):
        found = matches.get(kind_name)
        if found is None:
            continue
        managed = len(found.live) + len(found.orphans)
        if managed >= options.bulk_minimum and count > options.bulk_threshold * managed:
            problems.append(Problem(
                "bulk-guard", f"{kind_name}: the plan would archive, delete or replace {count} of "
                f"{managed} managed objects ({count / managed:.0%}, more than the "
                f"{options.bulk_threshold:.0%} allowed)", kind_name,
                "check the manifests, or pass --force"))
    return problems + _keeps_nothing(changes, matches, options.stack)


def _keeps_nothing(changes: list[Change], matches: dict[str, Matches], stack: str) -> list[Problem]:
    """The refusal of a prune that matches no entry to a live object and removes what the
    stack has: the mark of an empty or wrong manifest set, not of a catalog's end."""
    removed = Counter(c.kind for c in changes if c.action.removes)
    if not removed or any(found.live for found in matches.values()):
        return []
    total = plural.count(sum(removed.values()), "object")
    message = (f"the plan would remove {total} of stack '{stack}' (in "
               f"{plural.count(len(removed), 'kind')}) and keep none: no manifest entry "
               "matches an object the stack has")
    return [Problem("keeps-nothing", message,
                    hint="check the manifest paths (and --stack), or pass --force")]
