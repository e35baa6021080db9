"""Coverage in every drift format: a kind without objects has nothing to cover, which reads
as such, never as 100% with a full bar."""

from __future__ import annotations

from reconciler.drift import DriftReport
from reconciler.render.drift import render_markdown, render_text
from reconciler.render.drift_html import render_html

REPORT = DriftReport("acct_1", False, "default", (), coverage={"coupons": (0, 0),
                                                               "prices": (1, 2)},
                     include_unmanaged=True, kinds=("coupons", "prices"))


def test_text_and_markdown_say_a_kind_has_no_objects():
    for rendered in (render_text(REPORT), render_markdown(REPORT)):
        assert "coupons: no objects" in rendered
        assert "prices: 1/2 managed (50%)" in rendered
        assert "0/0" not in rendered and "100%" not in rendered


def test_html_draws_no_bar_for_a_kind_without_objects():
    html = render_html(REPORT)
    coupons = html.split("<tr><td>coupons</td>")[1].split("</tr>")[0]
    assert "no objects" in coupons and "bar" not in coupons and "%" not in coupons
    prices = html.split("<tr><td>prices</td>")[1].split("</tr>")[0]
    assert 'style="width:50%"' in prices and ">50%<" in prices
    assert "coupons <span class=\"note\">no drift · no objects</span>" in html
