"""Drift report outputs: text, JSON and Markdown (HTML lives in :mod:`.drift_html`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from reconciler.drift import CATEGORIES, DriftItem, DriftReport

from .values import show

TITLES = {
    "changed": "Changed outside the manifests",
    "missing": "Missing from Stripe",
    "archived": "Archived outside the tool",
    "untagged": "Matching an entry but not managed (adopt with `reconciler import`)",
    "orphaned": "Owned by this stack, no longer in the manifests",
    "unmanaged": "Not managed by any manifest",
}


HINTS = {
    "missing": "no live object: deleted in Stripe (apply re-creates it)",
    "orphaned": "owned by this stack, in no manifest (apply --prune removes it)",
    "untagged": "matches the entry but is not tagged (reconciler import adopts it)",
    "unmanaged": "in no manifest",
}
"""What an item without field differences is, and what fixes it."""


def summary(report: DriftReport) -> str:
    accepted = sum(1 for i in report.items if i.accepted)
    known = f" ({accepted} accepted in the baseline)" if accepted else ""
    if not report.has_drift:
        return f"No drift: the live account matches the manifests{known}."
    counts = report.counts()
    shown = [c for c in CATEGORIES if c != "unmanaged" or report.include_unmanaged]
    return "Drift: " + ", ".join(f"{counts[c]} {c}" for c in shown) + f"{known}."


def header(report: DriftReport) -> str:
    mode = "live" if report.livemode else "test"
    return f"account {report.account_id} ({mode} mode) · stack {report.stack}"


def diff_text(item: DriftItem) -> list[str]:
    return [f"{d.path}: manifest {show(d.new)}, live {show(d.old)}"
            + (" (accepted)" if d.path in item.accepted_paths and not item.accepted else "")
            for d in item.diffs]


def describe(item: DriftItem) -> str:
    """The object as a line: its address, then its live id (or what it is, if unmanaged)."""
    if item.key is None:
        return item.address + (f" {show(item.label)}" if item.label else "")
    return item.address + (f" ({item.live_id})" if item.live_id else "")


def coverage_share(managed: int, total: int) -> str:
    """``1/2 managed (50%)``; a kind without objects has nothing to cover, which is no
    share at all (not 100%)."""
    return f"{managed}/{total} managed ({managed / total:.0%})" if total else "no objects"


def coverage_lines(report: DriftReport) -> list[str]:
    return [f"{kind_name}: {coverage_share(managed, total)}"
            for kind_name, (managed, total) in sorted(report.coverage.items())]


def grouped(report: DriftReport) -> list[tuple[str, list[DriftItem]]]:
    return [(c, [i for i in report.items if i.category == c]) for c in CATEGORIES
            if any(i.category == c for i in report.items)]


def render_text(report: DriftReport, *, color: bool = False) -> str:
    lines = [f"reconciler drift for {header(report)}", ""]
    for category, items in grouped(report):
        lines.append(f"{TITLES[category]} ({len(items)}):")
        for item in items:
            accepted = "  [accepted in baseline]" if item.accepted else ""
            lines.append(f"  {describe(item)}{accepted}")
            lines += [f"      {line}" for line in diff_text(item)]
        lines.append("")
    if report.coverage:
        lines += ["Coverage:"] + [f"  {line}" for line in coverage_lines(report)] + [""]
    lines += [f"Warning: {w}" for w in report.warnings]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def render_json(report: DriftReport, *, color: bool = False) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"  # strict, as jsonout


def render_markdown(report: DriftReport, *, color: bool = False) -> str:
    # the heading names the report once: "Drift:" or "No drift:" after it would repeat it
    verdict = (summary(report).removeprefix("Drift: ") if report.has_drift
               else "none; " + summary(report).removeprefix("No drift: "))
    lines = [f"### reconciler drift: {verdict}", "", header(report), ""]
    for category, items in grouped(report):
        lines += [f"#### {TITLES[category]} ({len(items)})", "",
                  "| object | live id | difference |", "|---|---|---|"]
        for item in items:
            diffs = "<br>".join(f"`{_cell(line)}`" for line in diff_text(item)) or (
                f"_{HINTS[item.category]}_" if item.category in HINTS else "")
            note = " (accepted)" if item.accepted else ""
            label = f" {_cell(show(item.label))}" if item.label else ""
            lines.append(f"| `{item.address}`{note}{label} | {item.live_id or ''} | {diffs} |")
        lines.append("")
    if report.coverage:
        lines += ["#### Coverage", ""] + [f"- {line}" for line in coverage_lines(report)] + [""]
    if report.warnings:
        lines += ["#### Warnings", ""] + [f"- {_cell(w)}" for w in report.warnings] + [""]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _html(report: DriftReport, *, color: bool = False) -> str:
    from .drift_html import render_html

    return render_html(report)


DRIFT_FORMATS: dict[str, Callable[..., str]] = {
    "text": render_text, "json": render_json, "markdown": render_markdown, "html": _html}
