"""The drift report as one self-contained HTML file: inline styles, no scripts, no fetches."""

from __future__ import annotations

from html import escape

from reconciler.drift import DriftReport

from .drift import TITLES, coverage_lines, diff_text, header, summary

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1a1a1a}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.summary{padding:.75rem 1rem;border-radius:6px;background:#eef7ee;border:1px solid #9c9}
.summary.drift{background:#fff4e5;border-color:#f0b35b}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;
border-bottom:1px solid #eee;vertical-align:top}code{font-size:.9em}
.accepted{color:#777}.tag{font-size:.8em;padding:0 .4em;border-radius:3px;background:#eee}
"""


def render_html(report: DriftReport) -> str:
    state = "drift" if report.has_drift else "clean"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>reconciler drift report</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>reconciler drift report</h1>", f"<p>{escape(header(report))}</p>",
        f'<p class="summary {state}">{escape(summary(report))}</p>',
    ]
    kinds = sorted({i.kind for i in report.items})
    for kind in kinds:
        parts.append(f'<h2 id="{escape(kind)}">{escape(kind)}</h2>')
        parts.append("<table><tr><th>category</th><th>object</th><th>live id</th>"
                     "<th>difference</th></tr>")
        for item in (i for i in report.items if i.kind == kind):
            row_class = ' class="accepted"' if item.accepted else ""
            diffs = "<br>".join(f"<code>{escape(line)}</code>" for line in diff_text(item))
            accepted = ' <span class="tag">accepted</span>' if item.accepted else ""
            parts.append(
                f"<tr{row_class}><td title=\"{escape(TITLES[item.category])}\">"
                f"{escape(item.category)}</td><td><code>{escape(item.address)}</code>{accepted}"
                f"</td><td>{escape(item.live_id or '')}</td><td>{diffs}</td></tr>")
        parts.append("</table>")
    if report.coverage:
        parts.append("<h2>Coverage</h2><ul>")
        parts += [f"<li>{escape(line)}</li>" for line in coverage_lines(report)]
        parts.append("</ul>")
    if report.warnings:
        parts.append("<h2>Warnings</h2><ul>")
        parts += [f"<li>{escape(w)}</li>" for w in report.warnings]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
