"""Both sides of the contract suite's comparison, offline: a snapshot recorded from the
emulator in the test itself, then compared (equal, and departing), the normalisation, and the
refusal of a live key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from contract_snapshots import Normaliser, Snapshot, diff
from contract_target import SANDBOX_ENV, emulator_target, sandbox_key
from test_contract import scenario_apply_example


def _snapshot(path: Path, name: str, recording: bool) -> Snapshot:
    return Snapshot(path, name, "emulator", Normaliser("contract"), recording=recording)


@pytest.mark.slow
def test_a_snapshot_recorded_from_the_emulator_is_met_by_a_second_run(tmp_path: Path) -> None:
    path = tmp_path / "snapshots.json"
    for recording in (True, False):
        with emulator_target(tmp_path / str(recording)) as target:
            snapshot = _snapshot(path, "apply-shop", recording)
            scenario_apply_example("shop")(target, snapshot)
            snapshot.finish()
    recorded = json.loads(path.read_text())["apply-shop"]
    assert recorded["recorded-against"] == "emulator"
    assert recorded["recorded-content"]["applied"]["products"]


@pytest.mark.slow
def test_a_departure_from_the_snapshot_fails_and_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "snapshots.json"
    with emulator_target(tmp_path / "record") as target:
        snapshot = _snapshot(path, "apply-shop", True)
        scenario_apply_example("shop")(target, snapshot)
        snapshot.finish()
    document = json.loads(path.read_text())
    document["apply-shop"]["recorded-content"]["applied"]["products"][0]["name"] = "Other"
    path.write_text(json.dumps(document))
    with emulator_target(tmp_path / "compare") as target:
        snapshot = _snapshot(path, "apply-shop", False)
        scenario_apply_example("shop")(target, snapshot)
        with pytest.raises(AssertionError, match=r"applied\.products\[0\]\.name: 'Other'"):
            snapshot.finish()


def test_a_missing_snapshot_says_how_to_record_it(tmp_path: Path) -> None:
    snapshot = _snapshot(tmp_path / "none.json", "x", False)
    snapshot.match("seen", {"a": 1})
    with pytest.raises(AssertionError, match="RECONCILER_SNAPSHOT_UPDATE=1"):
        snapshot.finish()


def test_normalisation_keeps_relations_and_masks_what_changes_per_run() -> None:
    normalise = Normaliser("contract-1a2b")
    seen = normalise({
        "id": "prod_Ab3dEf6hIj", "object": "payment_method_configuration",
        "default_price": "price_9xYzAbCdEf", "created": 1767225600, "expires_at": 1767225601,
        "secret": "whsec_abcdef123456", "usage_type": "licensed", "interval_count": 3,
        "metadata": {"reconciler_stack": "contract-1a2b", "reconciler_key": "pro"},
        "related": ["prod_Ab3dEf6hIj", "prod_Zz9yXxWwVv"],
        "message": "refused [req_V8JPa4ZFzniViX]",
    })
    assert seen == {
        "id": "<prod:1>", "object": "payment_method_configuration",
        "default_price": "<price:1>", "created": "<timestamp>", "expires_at": "<timestamp>",
        "secret": "<secret>", "usage_type": "licensed", "interval_count": 3,
        "metadata": {"reconciler_stack": "<stack>", "reconciler_key": "pro"},
        "related": ["<prod:1>", "<prod:2>"], "message": "refused [<request-id>]",
    }


def test_diff_reports_missing_extra_and_changed_values_and_honours_skips() -> None:
    expected = {"a": 1, "b": {"c": [1, 2]}, "gone": True}
    actual = {"a": 2, "b": {"c": [1, 2]}, "new": True}
    assert diff(expected, actual, "") == ["a: 1 != 2", "gone: missing", "new: not in the snapshot"]
    assert diff(expected, actual, "", skip=("a", "gone", "new")) == []


def test_a_live_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SANDBOX_ENV, "sk_live_" + "x" * 24)
    with pytest.raises(pytest.fail.Exception, match="live-mode key"):
        sandbox_key()


def test_without_a_key_the_sandbox_side_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SANDBOX_ENV, raising=False)
    assert sandbox_key() is None


def test_the_scheduled_workflow_runs_the_suite_only_with_the_secret() -> None:
    workflow = Path(__file__).parents[2] / ".github" / "workflows" / "contract.yml"
    data = yaml.safe_load(workflow.read_text())
    assert "schedule" in data[True]  # PyYAML reads the key `on` as True
    job = data["jobs"]["sandbox"]
    assert job["env"][SANDBOX_ENV] == "${{ secrets.STRIPE_SANDBOX_KEY }}"
    runs = [step for step in job["steps"] if "pytest tests/contract" in step.get("run", "")]
    assert runs and all(step["if"] == f"env.{SANDBOX_ENV} != ''" for step in runs)
