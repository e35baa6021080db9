"""Fleet outputs: a summary table across targets, then a section per target rendered by the
single-account renderers. Targets without changes (or drift) are counted and named, first
few only, rather than given a section each."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from html import escape

from reconciler import plural
from reconciler.drift import CATEGORIES
from reconciler.fleet import FleetDrift, FleetPlan, TargetDrift, TargetPlan
from reconciler.fleet.model import COLUMNS

from . import FORMATS as PLAN_FORMATS
from .drift import DRIFT_FORMATS, summary
from .drift_html import STYLE, _section

NAMED = 10  # quiet targets named before "and N more"


def _quiet(names: Sequence[str], what: str) -> str:
    return f"{plural.count(len(names), 'target')} {what}: {plural.first(names, NAMED)}."


def _plan_row(t: TargetPlan) -> list[str]:
    counts = t.counts()
    mode = t.plan.mode if t.plan else ""
    account = t.plan.account_id if t.plan else t.target.account or ""
    return [t.target.name, account, mode, *(str(counts[c]) for c in COLUMNS),
            _one_line(t.error or "")]


def _one_line(text: str) -> str:
    first, _, rest = text.partition("\n")
    return first + (" (...)" if rest else "")


def _noisy(fleet: FleetPlan) -> list[TargetPlan]:
    return [t for t in fleet if t.plan is None or t.plan.has_changes]


def _headline(fleet: FleetPlan) -> str:
    changed = sum(1 for t in fleet if t.plan is not None and t.plan.has_changes)
    totals = fleet.totals()
    return (f"{plural.count(len(fleet.targets), 'target')}: {changed} with changes "
            f"({', '.join(f'{totals[c]} to {c}' for c in COLUMNS)}), "
            f"{plural.count(len(fleet.failed), 'error')}")


def _quiet_plans(fleet: FleetPlan) -> list[str]:
    quiet = [t.target.name for t in fleet if t.plan is not None and not t.plan.has_changes]
    return [_quiet(quiet, "without changes")] if quiet else []


def plan_text(fleet: FleetPlan, *, color: bool = False, verbose: bool = False) -> str:
    header = ["target", "account", "mode", *COLUMNS, "error"]
    rows = [_plan_row(t) for t in _noisy(fleet)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"reconciler fleet plan: {_headline(fleet)}.", ""]
    if rows:
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in [header, *rows]] + [""]
    lines += _quiet_plans(fleet)
    for t in _noisy(fleet):
        lines += ["", f"=== {t.target.name} ==="]
        if t.plan is None:
            lines.append(f"Error: {t.error}")
        else:
            lines.append(PLAN_FORMATS["text"](t.plan, color=color, verbose=verbose).rstrip("\n"))
    return "\n".join(lines) + "\n"


def plan_markdown(fleet: FleetPlan, *, color: bool = False, verbose: bool = False) -> str:
    lines = [f"## reconciler fleet plan: {_headline(fleet)}", "",
             "| target | account | mode | " + " | ".join(COLUMNS) + " | error |",
             "|---" * (4 + len(COLUMNS)) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in _plan_row(t)) + " |" for t in _noisy(fleet)]
    lines += [""] + _quiet_plans(fleet)
    for t in _noisy(fleet):
        lines += ["", f"### {t.target.name}", ""]
        lines.append(f"Error: {_cell(t.error or '')}" if t.plan is None else
                     PLAN_FORMATS["markdown"](t.plan, verbose=verbose).rstrip("\n"))
    return "\n".join(lines) + "\n"


def plan_json(fleet: FleetPlan, *, color: bool = False, verbose: bool = False) -> str:
    return json.dumps(fleet.to_dict(), indent=2, allow_nan=False) + "\n"


FLEET_PLAN_FORMATS: dict[str, Callable[..., str]] = {
    "text": plan_text, "markdown": plan_markdown, "json": plan_json}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- drift ------------------------------------------------------------------------------------

def _drift_row(t: TargetDrift) -> list[str]:
    if t.report is None:
        return [t.target.name, t.target.account or "", "error", *([""] * len(CATEGORIES)),
                _one_line(t.error or "")]
    counts = t.report.counts()
    verdict = "drift" if t.report.has_drift else "clean"
    return [t.target.name, t.report.account_id, verdict,
            *(str(counts[c]) for c in CATEGORIES), ""]


def _drift_headline(fleet: FleetDrift) -> str:
    return (f"{plural.count(len(fleet.targets), 'target')}: {len(fleet.drifted)} drifted, "
            f"{plural.count(len(fleet.failed), 'error')}")


def _drift_noisy(fleet: FleetDrift) -> list[TargetDrift]:
    return [t for t in fleet.targets if t.report is None or t.report.has_drift]


def _clean(fleet: FleetDrift) -> list[str]:
    clean = [t.target.name for t in fleet.targets
             if t.report is not None and not t.report.has_drift]
    return [_quiet(clean, "without drift")] if clean else []


def drift_text(fleet: FleetDrift, *, color: bool = False) -> str:
    header = ["target", "account", "state", *CATEGORIES, "error"]
    rows = [_drift_row(t) for t in _drift_noisy(fleet)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"reconciler fleet drift: {_drift_headline(fleet)}.", ""]
    if rows:
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in [header, *rows]] + [""]
    lines += _clean(fleet)
    for t in _drift_noisy(fleet):
        lines += ["", f"=== {t.target.name} ==="]
        lines.append(f"Error: {t.error}" if t.report is None else
                     DRIFT_FORMATS["text"](t.report).rstrip("\n"))
    return "\n".join(lines) + "\n"


def drift_markdown(fleet: FleetDrift, *, color: bool = False) -> str:
    lines = [f"## reconciler fleet drift: {_drift_headline(fleet)}", "",
             "| target | account | state | " + " | ".join(CATEGORIES) + " | error |",
             "|---" * (4 + len(CATEGORIES)) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in _drift_row(t)) + " |"
              for t in _drift_noisy(fleet)]
    lines += [""] + _clean(fleet)
    for t in _drift_noisy(fleet):
        lines += ["", f"### {t.target.name}", ""]
        lines.append(f"Error: {_cell(t.error or '')}" if t.report is None else
                     DRIFT_FORMATS["markdown"](t.report).rstrip("\n"))
    return "\n".join(lines) + "\n"


def drift_json(fleet: FleetDrift, *, color: bool = False) -> str:
    return json.dumps({
        "summary": {"targets": len(fleet.targets), "drifted": [t.target.name for t in
                                                                fleet.drifted],
                    "errors": [t.target.name for t in fleet.failed]},
        "targets": [{"name": t.target.name, "target": t.target.to_dict(),
                     **({"report": t.report.to_dict()} if t.report else {"error": t.error})}
                    for t in fleet.targets],
    }, indent=2, allow_nan=False) + "\n"


def drift_html(fleet: FleetDrift, *, color: bool = False) -> str:
    """One self-contained page: the fleet table, then per drifted or failed target its
    verdict and the single-account report's sections by kind."""
    header = ["target", "account", "state", *CATEGORIES, "error"]
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in _drift_row(t)) + "</tr>"
                   for t in _drift_noisy(fleet))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>reconciler fleet drift report</title>", f"<style>{STYLE}</style></head>",
             "<body><main>", "<h1>reconciler fleet drift report</h1>",
             f'<section class="card" id="summary"><p>{escape(_drift_headline(fleet))}</p>',
             "<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) +
             f"</tr></thead><tbody>{rows}</tbody></table>",
             *(f"<p>{escape(line)}</p>" for line in _clean(fleet)), "</section>"]
    for t in _drift_noisy(fleet):
        parts.append(f'<section class="card" id="target-{escape(t.target.name)}">'
                     f"<h2>{escape(t.target.name)}</h2>")
        if t.report is None:
            parts.append(f"<p>Error: {escape(t.error or '')}</p></section>")
            continue
        parts.append(f"<p>{escape(summary(t.report))}</p></section>")
        kinds = sorted({i.kind for i in t.report.items})
        parts += [_section(k, [i for i in t.report.items if i.kind == k],
                           t.report.coverage.get(k)) for k in kinds]
    parts.append("<footer>Generated by <code>reconciler drift</code>. Nothing was changed in "
                 "Stripe.</footer></main></body></html>")
    return "\n".join(parts) + "\n"


FLEET_DRIFT_FORMATS: dict[str, Callable[..., str]] = {
    "text": drift_text, "markdown": drift_markdown, "json": drift_json, "html": drift_html}
