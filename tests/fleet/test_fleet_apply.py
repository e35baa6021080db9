"""Apply across targets: each target alone, a failing one isolated, a re-run resumes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleet_helpers import catalog, cli, connected, targets_file

from reconciler.emulator import Emulator, Faults


def _targets(tmp: Path, accounts: list[str]) -> Path:
    return targets_file(tmp, [{"name": f"t{i:03d}", "account": a} for i, a in enumerate(accounts)])


@pytest.mark.slow
def test_a_hundred_accounts_apply_then_plan_empty_and_a_faulty_one_is_resumed(
        tmp_path: Path) -> None:
    emu = Emulator()
    accounts = connected(emu, 100)
    targets, folder, saved = _targets(tmp_path, accounts), catalog(tmp_path), tmp_path / "p.json"
    planned = cli(emu, "plan", str(folder), "--accounts", str(targets), "-o", str(saved),
                  "--format", "json", "--target-parallelism", "16")
    assert planned.exit_code == 0, planned.output
    emu.set_account_faults(accounts[37], Faults(fail_rate=1.0))

    first = cli(emu, "apply", str(saved), "--target-parallelism", "16")
    assert first.exit_code == 1
    assert "1 target could not be applied: t037" in first.output
    assert "Apply finished for 99 of 100 targets." in first.output
    assert first.output.count("FAILED") == 1

    emu.set_account_faults(accounts[37], Faults())
    emu.reset_request_counts()
    second = cli(emu, "apply", str(saved), "--target-parallelism", "16")
    assert second.exit_code == 0, second.output
    writes = [e for e in emu.request_log() if e.method == "POST" and e.path != "/v1/products/{id}"]
    created = {e.path for e in writes}
    assert created <= {"/v1/products", "/v1/prices"}
    assert len([e for e in writes if not e.replayed]) <= 6, "only t037's changes and its lock"

    again = cli(emu, "plan", str(folder), "--accounts", str(targets), "--format", "json",
                "--detailed-exitcode", "--target-parallelism", "16")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["summary"]["create"] == 0


def test_apply_from_manifests_needs_auto_approve_and_then_applies_each(
        tmp_path: Path) -> None:
    emu = Emulator()
    accounts = connected(emu, 3)
    targets, folder = _targets(tmp_path, accounts), catalog(tmp_path)
    refused = cli(emu, "apply", str(folder), "--accounts", str(targets))
    assert refused.exit_code == 1 and "needs --auto-approve" in refused.output
    done = cli(emu, "apply", str(folder), "--accounts", str(targets), "--auto-approve")
    assert done.exit_code == 0, done.output
    assert "Apply complete for 3 targets." in done.output


def test_a_shard_of_a_saved_plan_applies_only_its_targets(tmp_path: Path) -> None:
    emu = Emulator()
    accounts = connected(emu, 8)
    targets, folder, saved = _targets(tmp_path, accounts), catalog(tmp_path), tmp_path / "p.json"
    cli(emu, "plan", str(folder), "--accounts", str(targets), "-o", str(saved))
    applied = []
    for index in range(1, 5):
        result = cli(emu, "apply", str(saved), "--shard", f"{index}/4")
        assert result.exit_code == 0, result.output
        applied += [line.split(":")[0] for line in result.stdout.splitlines()
                    if line.startswith("t")]
    assert sorted(applied) == [f"t{i:03d}" for i in range(8)]


def test_a_target_that_may_not_write_takes_no_lock() -> None:
    """A live key without --live is refused before its first change; taking the lock would be
    a write to that live account already."""
    from types import SimpleNamespace

    from reconciler.cli.fleet import _lock_if_writable

    live, test = SimpleNamespace(key_livemode=True), SimpleNamespace(key_livemode=False)
    allowed, refused = SimpleNamespace(live=True), SimpleNamespace(live=False)
    assert not _lock_if_writable(live, refused, "s", 0).enabled
    assert _lock_if_writable(live, allowed, "s", 0).enabled
    assert _lock_if_writable(test, refused, "s", 0).enabled
