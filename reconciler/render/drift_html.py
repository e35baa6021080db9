"""The drift report as one self-contained HTML file: inline styles, no scripts, no fetches.

A header with the account and the verdict, a summary (counts per category, a table of
contents by kind), then one section per kind compared, coverage and warnings.
"""

from __future__ import annotations

from html import escape

from reconciler.drift import CATEGORIES, DriftItem, DriftReport

from .drift import HINTS, TITLES, coverage_lines, coverage_share, diff_text, header, summary

STYLE = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#f6f7f9;color:#1f2328}
main{max-width:75rem;margin:0 auto;padding:2rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:0 0 .75rem}
.meta{color:#59636e;margin:0 0 1.25rem}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:1rem 1.25rem;
margin:0 0 1.25rem}
.verdict{font-weight:600;padding:.75rem 1rem;border-radius:6px;margin:0 0 1rem;
background:#dafbe1;border:1px solid #4ac26b}
.verdict.drift{background:#fff8c5;border-color:#d4a72c}
.counts{display:flex;flex-wrap:wrap;gap:.75rem;margin:0;padding:0;list-style:none}
.counts li{flex:1 1 9rem;border:1px solid #d1d9e0;border-radius:6px;padding:.5rem .75rem}
.counts b{display:block;font-size:1.5rem;line-height:1.2}
.counts .zero{color:#8c959f}
nav ul{margin:.75rem 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:.4rem}
nav a{display:inline-block;padding:.15rem .6rem;border-radius:999px;background:#eef1f4;
color:#1f2328;text-decoration:none;font-size:.9em}
nav a.has{background:#fff1e5;color:#953800}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{text-align:left;padding:.45rem .6rem;border-top:1px solid #e6e9ed;vertical-align:top;
overflow-wrap:anywhere}
th{font-size:.8em;text-transform:uppercase;letter-spacing:.04em;color:#59636e;
border-top:none}
col.category{width:7.5rem}col.object{width:30%}col.live{width:18.5rem}
code{font:.86em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
td.diffs code{display:block;white-space:pre-wrap}
.badge{display:inline-block;font-size:.8em;font-weight:600;padding:.05rem .5rem;
border-radius:999px;border:1px solid transparent}
.changed{background:#fff8c5;color:#7d4e00;border-color:#d4a72c}
.missing{background:#ffebe9;color:#a40e26;border-color:#ff8182}
.archived{background:#eef1f4;color:#424a53;border-color:#afb8c1}
.untagged{background:#ddf4ff;color:#0a3069;border-color:#54aeff}
.orphaned{background:#fbefff;color:#6e40c9;border-color:#c297ff}
.unmanaged{background:#f6f8fa;color:#59636e;border-color:#d1d9e0}
tr.accepted td{color:#8c959f}tr.accepted .badge{opacity:.55}
.note{font-size:.8em;color:#59636e;font-style:italic}
.clean{color:#1a7f37;margin:0}
.bar{height:.5rem;background:#eef1f4;border-radius:999px;overflow:hidden;min-width:6rem}
.bar span{display:block;height:100%;background:#2da44e}
td.num{text-align:right;font-variant-numeric:tabular-nums;width:7rem}
footer{color:#8c959f;font-size:.85em}
"""


def _item_row(item: DriftItem) -> str:
    cls = ' class="accepted"' if item.accepted else ""
    note = ' <span class="note">accepted in baseline</span>' if item.accepted else ""
    what = f"<br><span class=\"note\">{escape(item.label)}</span>" if item.label else ""
    diffs = "".join(f"<code>{escape(line)}</code>" for line in diff_text(item)) or (
        f'<span class="note">{HINTS[item.category]}</span>' if item.category in HINTS else "")
    return (f"<tr{cls}><td><span class=\"badge {item.category}\" "
            f"title=\"{escape(TITLES[item.category])}\">{item.category}</span></td>"
            f"<td><code>{escape(item.address)}</code>{note}{what}</td>"
            f"<td><code>{escape(item.live_id or '')}</code></td>"
            f"<td class=\"diffs\">{diffs}</td></tr>")


def _section(kind_name: str, items: list[DriftItem], coverage: tuple[int, int] | None) -> str:
    open_items = [i for i in items if not i.accepted]
    count = f"{len(open_items)} drifted" if open_items else "no drift"
    if coverage is not None:
        count += f" · {coverage_share(*coverage)}"
    parts = [f'<section class="card kind" id="kind-{escape(kind_name)}">',
             f"<h2>{escape(kind_name)} <span class=\"note\">{count}</span></h2>"]
    if items:
        parts += [('<table><colgroup><col class="category"><col class="object">'
                   '<col class="live"><col></colgroup>'),
                  ("<tr><th>category</th><th>object</th><th>live id</th>"
                   "<th>difference (manifest vs live)</th></tr>")]
        parts += [_item_row(i) for i in items]
        parts.append("</table>")
    else:
        parts.append('<p class="clean">Matches the manifests.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _coverage(report: DriftReport) -> str:
    rows = []
    for (kind_name, (managed, total)), line in zip(sorted(report.coverage.items()),
                                                   coverage_lines(report)):
        if not total:  # nothing to cover: no bar, no share
            rows.append(f"<tr><td>{escape(kind_name)}</td><td class=\"num\">0 / 0</td>"
                        '<td><span class="note">no objects</span></td><td class="num"></td></tr>')
            continue
        share = managed / total
        rows.append(f"<tr><td>{escape(kind_name)}</td><td class=\"num\">{managed} / {total}</td>"
                    f"<td><div class=\"bar\" title=\"{escape(line)}\"><span style=\"width:"
                    f"{share:.0%}\"></span></div></td><td class=\"num\">{share:.0%}</td></tr>")
    return ('<section class="card" id="coverage"><h2>Coverage</h2><table>'
            "<tr><th>kind</th><th>managed / total</th><th></th><th>share</th></tr>"
            + "".join(rows) + "</table></section>")


def render_html(report: DriftReport) -> str:
    state = "drift" if report.has_drift else "clean"
    counts = report.counts()
    shown = [c for c in CATEGORIES if c != "unmanaged" or report.include_unmanaged]
    kinds = sorted(set(report.kinds) | {i.kind for i in report.items})
    by_kind = {k: [i for i in report.items if i.kind == k] for k in kinds}
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>reconciler drift report</title>", f"<style>{STYLE}</style></head><body><main>",
        "<h1>reconciler drift report</h1>", f'<p class="meta">{escape(header(report))}</p>',
        '<section class="card" id="summary">',
        f'<p class="verdict {state}">{escape(summary(report))}</p>',
        '<ul class="counts">',
    ]
    for category in shown:
        zero = ' class="zero"' if not counts[category] else ""
        parts.append(f'<li{zero} title="{escape(TITLES[category])}"><b>{counts[category]}</b>'
                     f'<span class="badge {category}">{category}</span></li>')
    parts.append("</ul>")
    if kinds:
        links = []
        for k in kinds:
            drifted = sum(1 for i in by_kind[k] if not i.accepted)
            has = ' class="has"' if drifted else ""
            links.append(f'<li><a href="#kind-{escape(k)}"{has}>{escape(k)} ({drifted})</a></li>')
        parts.append("<nav><ul>" + "".join(links) + "</ul></nav>")
    parts.append("</section>")
    parts += [_section(k, by_kind[k], report.coverage.get(k)) for k in kinds]
    if report.coverage:
        parts.append(_coverage(report))
    if report.warnings:
        parts.append('<section class="card" id="warnings"><h2>Warnings</h2><ul>')
        parts += [f"<li>{escape(w)}</li>" for w in report.warnings]
        parts.append("</ul></section>")
    parts.append("<footer>Generated by <code>reconciler drift</code>. Nothing was changed in "
                 "Stripe.</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
