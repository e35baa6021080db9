"""The drift Markdown, on small in-memory reports: the heading says "drift" once, and an
item without field differences says what it is and what fixes it."""

from __future__ import annotations

from reconciler.drift import DriftItem, DriftReport
from reconciler.render.drift import render_markdown


def report(*items: DriftItem) -> DriftReport:
    return DriftReport("acct_1", False, "default", items, kinds=("coupons",))


def test_the_heading_says_drift_once():
    drifted = render_markdown(report(DriftItem("missing", "coupons", "spring", None)))
    assert drifted.startswith("### reconciler drift: 0 changed, 1 missing, ")
    clean = render_markdown(report())
    assert clean.startswith("### reconciler drift: none; the live account matches the manifests.")
    for out in (drifted, clean):
        assert out.split("\n")[0].lower().count("drift") == 1


def test_a_missing_object_says_apply_re_creates_it():
    out = render_markdown(report(DriftItem("missing", "coupons", "spring", None),
                                 DriftItem("orphaned", "coupons", "loyal", "loyal")))
    assert "| `coupons.spring` |  | _no live object: deleted in Stripe (apply re-creates it)_ |" \
        in out
    assert "| `coupons.loyal` | loyal | _owned by this stack, in no manifest (apply --prune " \
        "removes it)_ |" in out
