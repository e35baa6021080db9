"""Plans and drift reports are strict JSON: a NaN reaching them fails loudly instead of
being written as a bare ``NaN`` that JSON readers refuse."""

from __future__ import annotations

import pytest

from reconciler.cli.plan import save_plan
from reconciler.drift.report import DriftItem, DriftReport
from reconciler.plan import Action, Plan
from reconciler.plan.model import Change, FieldDiff, Step
from reconciler.render import jsonout
from reconciler.render.drift import render_json

NAN = float("nan")


def _plan() -> Plan:
    change = Change(kind="coupons", key="half", action=Action.CREATE, actions=("create",),
                    diffs=(FieldDiff("percent_off", None, NAN),),
                    steps=(Step("POST", "/v1/coupons", {"percent_off": NAN}, produces=True),))
    return Plan(account_id="acct_1", livemode=False, api_version="2026-10-28.endive",
                stack="default", manifest_digest="m", live_fingerprint="l", changes=(change,))


def test_plan_json_refuses_nan():
    with pytest.raises(ValueError, match="JSON compliant"):
        jsonout.render(_plan())


def test_saved_plan_refuses_nan_and_writes_nothing(tmp_path):
    out = tmp_path / "plan.json"
    with pytest.raises(ValueError, match="JSON compliant"):
        save_plan(_plan(), str(out))
    assert not out.exists()


def test_drift_json_refuses_nan():
    item = DriftItem("changed", "coupons", "half", "half", (FieldDiff("percent_off", 50, NAN),))
    report = DriftReport(account_id="acct_1", livemode=False, stack="default", items=(item,))
    with pytest.raises(ValueError, match="JSON compliant"):
        render_json(report)
