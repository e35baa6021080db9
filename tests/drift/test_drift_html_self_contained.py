"""Issue #7: the HTML drift report is a single self-contained file.

The golden reports (and the live output, in test_drift_golden.py) load nothing from outside
the file; neither does a report whose data is hostile: a product named in the dashboard with
markup in it is shown as text, not obeyed. The checker itself is shown to catch each way a
page can fetch something, so a clean verdict means something.
"""

from __future__ import annotations

from html import escape

import pytest
from drift_helpers import GOLDEN, cli, converged, run, save_state, shown
from self_contained import external_resources

GOLDEN_HTML = sorted(GOLDEN.glob("*.html"))


def test_there_are_golden_html_reports():
    assert [p.name for p in GOLDEN_HTML] == ["accepted.html", "clean.html", "drift.html"]


@pytest.mark.parametrize("path", GOLDEN_HTML, ids=lambda p: p.name)
def test_a_golden_html_report_loads_nothing_from_outside(path):
    html = path.read_text("utf-8")
    assert external_resources(html) == []
    assert "<style>" in html  # its styles are inside the file


@pytest.mark.parametrize("fetches", [
    '<link rel="stylesheet" href="https://cdn.example/site.css">',
    '<link rel="preload" href="fonts/inter.woff2" as="font">',
    '<script src="//cdn.example/app.js"></script>',
    '<img src="http://example.com/logo.png" alt="">',
    '<img srcset="/logo@2x.png 2x" alt="">',
    '<iframe src="report-details.html"></iframe>',
    '<base href="https://example.com/">',
    '<meta http-equiv="refresh" content="0; url=https://example.com/">',
    '<style>@import url("theme.css");</style>',
    "<style>@import 'theme.css';</style>",
    '<style>@font-face{font-family:Inter;src:url(https://fonts.example/inter.woff2)}</style>',
    "<div style=\"background:url('/bg.png')\">x</div>",
])
def test_the_checker_catches_each_way_to_fetch(fetches):
    page = f"<!DOCTYPE html><html><head><title>t</title></head><body>{fetches}</body></html>"
    assert external_resources(page) != [], fetches


def test_the_checker_accepts_what_loads_nothing():
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{font:15px '
            'system-ui}.i{background:url(data:image/png;base64,iVBORw0KGgo=)}</style></head>'
            '<body><a href="#kind-prices">prices</a><a href="https://dashboard.stripe.com/">'
            'dashboard</a><img src="data:image/png;base64,iVBORw0KGgo=" alt="">'
            "<td>https://example.com/hook</td><td>@import and url(x) as text</td></body></html>")
    assert external_resources(page) == []


HOSTILE = ('<link rel="stylesheet" href="https://fonts.example/x.css">'
           '<img src="//cdn.example/pixel.png"><style>@import "https://x.example/a.css";</style>')


def test_markup_in_live_data_is_shown_as_text(tmp_path):
    emu, _, catalog = converged(tmp_path)
    run(emu, lambda c: c.create("/v1/products", {"name": HOSTILE}))
    state = save_state(emu, tmp_path / "state.json")
    result = cli("drift", str(catalog), "--include-unmanaged", "--format", "html", state=state)
    assert result.exit_code == 2, shown(result)
    assert escape(HOSTILE) in result.stdout
    assert external_resources(result.stdout) == []
