"""Markdown plan for pull-request comments and job summaries.

Summary and warnings first, details folded in ``<details>``. GitHub refuses comments over
65,535 characters, so a larger plan drops its details and, if still too large, lists only
as many changes as fit, replacements and removals first, saying what was left out.
"""

from __future__ import annotations

from collections import Counter

from reconciler.plan import Plan

from .values import (
    diff_line,
    header,
    headline,
    legend,
    step_notes,
    summary_line,
    symbol,
    visible_diffs,
)

LIMIT = 65_535
MARGIN = 512


def _table(plan: Plan, rows: int | None = None) -> list[str]:
    """The changes as a table, replacements and removals first, so that a table cut to
    ``rows`` still names every destructive change before any create or update."""
    if rows is None:
        ordered = shown = list(plan.pending)
    else:
        ordered = sorted(plan.pending, key=lambda c: not c.action.destructive)
        shown = ordered[:rows]
    lines = ["| | change | object | live id |", "|---|---|---|---|"]
    lines += [f"| `{symbol(c)}` | {c.action.value} | `{c.address}` | {c.live_id or ''} |"
              for c in shown]
    left = ordered[len(shown):]
    if left:
        counts = Counter(c.action.value for c in left)
        what = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        lines.append(f"| | … | {len(left)} more changes not shown ({what}) | |")
    return lines


def _details(plan: Plan) -> list[str]:
    lines = ["<details><summary>Details</summary>", "", "```diff"]
    for change in plan.pending:
        lines.append(headline(change))
        lines += [f"    {diff_line(change, d)}" for d in visible_diffs(change)]
        lines += [f"    > {note}" for note in step_notes(change)]
    return lines + ["", legend({symbol(c) for c in plan.pending}), "```", "", "</details>"]


def render(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    head = [f"### reconciler plan: {summary_line(plan).removeprefix('Plan: ')}", "",
            header(plan).replace(plan.account_id, f"`{plan.account_id}`"), ""]
    if plan.livemode:
        head += ["> [!CAUTION]", "> **LIVE MODE**: these changes affect real customers.", ""]
    if not plan.has_changes:
        return "\n".join(head + ["No changes. The live account matches the manifests."]) + "\n"
    if plan.warnings:
        head += ["> [!WARNING]"] + [f"> - {w}" for w in plan.warnings] + [""]
    full = "\n".join(head + _table(plan) + [""] + _details(plan)) + "\n"
    if len(full) <= LIMIT:
        return full
    note = ["", ("_Details omitted: the plan is too large for one comment; see the job log "
            "or the saved plan JSON._")]
    rows = len(plan.pending)
    while rows > 0:
        text = "\n".join(head + _table(plan, rows) + note) + "\n"
        if len(text) <= LIMIT - MARGIN:
            return text
        rows = rows * 3 // 4
    return "\n".join(head + _table(plan, 0) + note) + "\n"
