"""Terraform-style text plan: ``+ create``, ``~ update``, ``-/+ replace``, ``old -> new``."""

from __future__ import annotations

import click

from reconciler.plan import Action, Plan

from .values import (
    detail_lines,
    digest_line,
    header,
    headline,
    legend,
    step_notes,
    summary_line,
    symbol,
)

COLOURS = {"+": "green", "~": "yellow", "*": "cyan", "-/+": "red", "+/-": "red", "-": "red"}


def render(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    def paint(text: str, sym: str, bold: bool = False) -> str:
        return click.style(text, fg=COLOURS.get(sym), bold=bold) if color else text

    lines = [f"reconciler plan for {header(plan)}", digest_line(plan)]
    if plan.livemode:
        lines.append(paint("!! LIVE MODE: these changes would affect real customers !!", "-",
                           bold=True))
    lines.append("")
    changes = plan.changes if verbose else plan.pending
    if not plan.has_changes:
        lines.append("No changes. The live account matches the manifests.")
    used = []
    for change in changes:
        sym = symbol(change)
        if change.action is not Action.NOOP and sym not in used:
            used.append(sym)
        lines.append(paint(f"  {headline(change)}", sym, bold=True))
        lines += [paint(f"      {line}", sym) for line in detail_lines(change)]
        lines += [f"      > {note}" for note in step_notes(change)]
    if plan.warnings:
        lines.append("")
        lines += [paint(f"Warning: {w}", "~") for w in plan.warnings]
    if used:
        lines.append("")
        lines.append(legend(used))
        lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"
