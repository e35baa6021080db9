"""plan, apply and drift across targets, on one in-memory emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleet_helpers import catalog, cli, connected, targets_file

from reconciler.emulator import Emulator, Faults


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


def test_one_plan_has_a_section_and_a_row_per_target(emu: Emulator, tmp_path: Path) -> None:
    eu, us = connected(emu, 2)
    targets = targets_file(tmp_path, [{"name": "eu", "account": eu, "vars": {"CURRENCY": "eur"}},
                                      {"name": "us", "account": us}])
    result = cli(emu, "plan", str(catalog(tmp_path)), "--accounts", str(targets), "--format",
                 "json", "-o", str(tmp_path / "plan.json"))
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["summary"] == {"create": 4, "update": 0, "replace": 0, "remove": 0,
                                "targets": 2, "errors": 0}
    first = saved["targets"][0]
    assert (first["name"], first["account"], first["mode"]) == ("eu", eu, "test")
    currencies = {c["address"]: c["steps"][0]["params"].get("currency")
                  for c in first["plan"]["changes"]}
    assert currencies["prices.pro-monthly"] == "eur"


def test_a_target_that_cannot_be_planned_is_an_error_row_and_exit_1(
        emu: Emulator, tmp_path: Path) -> None:
    (good,) = connected(emu, 1)
    targets = targets_file(tmp_path, [{"name": "good", "account": good},
                                      {"name": "keyless", "api_key_env": "FLEET_TEST_NO_KEY"}])
    result = cli(emu, "plan", str(catalog(tmp_path)), "--accounts", str(targets))
    assert result.exit_code == 1
    assert "keyless" in result.output and "FLEET_TEST_NO_KEY" in result.output
    assert "=== good ===" in result.output
    assert "1 target could not be planned: keyless" in result.output


def test_all_connected_accounts_with_a_filter(emu: Emulator, tmp_path: Path) -> None:
    connected(emu, 3)
    result = cli(emu, "plan", str(catalog(tmp_path)), "--all-connected-accounts",
                 "--account-filter", "type=custom", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["targets"] == 3
    none = cli(emu, "plan", str(catalog(tmp_path)), "--all-connected-accounts",
               "--account-filter", "type=standard", "--format", "json")
    assert json.loads(none.output)["summary"]["targets"] == 0


def test_a_bad_targets_file_is_a_usage_error_naming_the_line(emu: Emulator,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - account: acct_1\n")
    result = cli(emu, "plan", str(catalog(tmp_path)), "--accounts", str(path))
    assert result.exit_code == 1
    assert f"{path}:2:" in result.output and "'name' is a required property" in result.output


def test_fail_fast_starts_no_further_target(emu: Emulator, tmp_path: Path) -> None:
    accounts = connected(emu, 3)
    emu.set_account_faults(accounts[0], Faults(fail_rate=1.0))
    targets = targets_file(tmp_path, [{"name": f"t{i}", "account": a}
                                      for i, a in enumerate(accounts)])
    result = cli(emu, "plan", str(catalog(tmp_path)), "--accounts", str(targets),
                 "--fail-fast", "--target-parallelism", "1", "--format", "json")
    assert result.exit_code == 1
    errors = [t.get("error", "") for t in json.loads(result.stdout)["targets"]]
    assert errors[0] and all("--fail-fast" in e for e in errors[1:])


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_drift_across_targets_names_the_drifted_ones(emu: Emulator, tmp_path: Path,
                                                     fmt: str) -> None:
    clean, drifted = connected(emu, 2)
    targets = targets_file(tmp_path, [{"name": "clean", "account": clean},
                                      {"name": "drifted", "account": drifted}])
    folder = catalog(tmp_path)
    assert cli(emu, "apply", str(folder), "--accounts", str(targets),
               "--auto-approve").exit_code == 0
    import httpx
    with httpx.Client(transport=emu.transport(), base_url="https://api.stripe.com", headers={
            "Authorization": "Bearer sk_test_fleet", "Stripe-Account": drifted}) as http:
        http.post("/v1/products/pro", data={"name": "Renamed"})
    result = cli(emu, "drift", str(folder), "--accounts", str(targets), "--format", fmt)
    assert result.exit_code == 2, result.output
    if fmt == "json":
        assert json.loads(result.stdout)["summary"]["drifted"] == ["drifted"]
    else:
        assert "drifted" in result.stdout and "1 target without drift: clean" in result.stdout


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_fleet_output_file_is_never_written_through_a_symlink(
        emu: Emulator, tmp_path: Path, command: str) -> None:
    """As the single-account -o: the fleet's plan and drift wrote through it."""
    (account,) = connected(emu, 1)
    targets = targets_file(tmp_path, [{"name": "eu", "account": account}])
    out = tmp_path / "out.json"
    out.symlink_to(tmp_path / "elsewhere.json")
    result = cli(emu, command, str(catalog(tmp_path)), "--accounts", str(targets),
                 "--format", "json", "-o", str(out))
    assert result.exit_code == 1, result.output
    assert "nothing was written" in result.output
    assert not (tmp_path / "elsewhere.json").exists()
