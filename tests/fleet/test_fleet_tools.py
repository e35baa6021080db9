"""export, import and doctor across targets, on one in-memory emulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from catalogs import LOOKUP_KEY, PRO_MONTHLY
from fleet_helpers import catalog, cli, connected, targets_file

from reconciler.emulator import Emulator, Faults
from reconciler.permissions import parse_grants


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


IMPORTABLE = "products:\n  pro: {id: prod_pro, name: Pro}\nprices:\n" + PRO_MONTHLY + LOOKUP_KEY


def _by_hand(emu: Emulator, account: str, amount: int = 1500) -> None:
    """IMPORTABLE's product and price made in the dashboard: no stack owns them."""
    with httpx.Client(transport=emu.transport(), base_url="https://api.stripe.com",
                      headers={"Authorization": "Bearer sk_test_fleet",
                               "Stripe-Account": account}) as http:
        http.post("/v1/products", data={"id": "prod_pro", "name": "Pro"}).raise_for_status()
        http.post("/v1/prices", data={"product": "prod_pro", "currency": "usd",
                                      "unit_amount": str(amount), "recurring[interval]": "month",
                                      "lookup_key": "pro_monthly"}).raise_for_status()


def test_export_writes_a_folder_per_target_and_a_failing_one_is_named(
        emu: Emulator, tmp_path: Path) -> None:
    eu, us, broken = connected(emu, 3)
    for account in (eu, us, broken):
        _by_hand(emu, account)
    emu.set_account_faults(broken, Faults(fail_rate=1.0))
    targets = targets_file(tmp_path, [{"name": "eu", "account": eu},
                                      {"name": "us", "account": us},
                                      {"name": "broken", "account": broken}])
    out = tmp_path / "exported"
    result = cli(emu, "export", "-o", str(out), "--accounts", str(targets))
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["eu", "us"]
    assert "Pro" in (out / "eu" / "products.yaml").read_text()
    assert re.search(rf"eu: wrote \d+ files to {re.escape(str(out / 'eu'))}\n", result.output)
    assert "broken: FAILED" in result.output
    assert "Export complete for 2 of 3 targets." in result.output
    assert "1 target could not be exported: broken" in result.output


def test_export_shards_cover_every_target_once(emu: Emulator, tmp_path: Path) -> None:
    accounts = connected(emu, 6)
    targets = targets_file(tmp_path, [{"name": f"t{i}", "account": a}
                                      for i, a in enumerate(accounts)])
    seen: list[str] = []
    for part in ("1/2", "2/2"):
        out = tmp_path / part.replace("/", "-")
        result = cli(emu, "export", "-o", str(out), "--accounts", str(targets), "--shard", part)
        assert result.exit_code == 0, result.output
        seen += [p.name for p in out.iterdir()] if out.exists() else []
    assert sorted(seen) == [f"t{i}" for i in range(6)]


def test_import_adopts_per_target_all_or_nothing_each(emu: Emulator, tmp_path: Path) -> None:
    clean, clashing = connected(emu, 2)
    _by_hand(emu, clean)
    _by_hand(emu, clashing, amount=999)  # its price cannot become the entry's: none adopted
    targets = targets_file(tmp_path, [{"name": "clean", "account": clean},
                                      {"name": "clashing", "account": clashing}])
    folder = str(catalog(tmp_path, IMPORTABLE))
    dry = cli(emu, "import", folder, "--accounts", str(targets), "--dry-run")
    assert "clean: 2 objects to import (dry run)" in dry.output
    assert "clashing: FAILED: " in dry.output and "cannot be imported" in dry.output
    result = cli(emu, "import", folder, "--accounts", str(targets))
    assert result.exit_code == 1
    assert "clean: imported 2 objects into stack 'default'" in result.output
    assert "Import complete for 1 of 2 targets." in result.output
    assert "1 target could not be imported: clashing" in result.output
    plan = cli(emu, "plan", folder, "--accounts", str(targets), "--format", "json")
    rows = {t["name"]: t for t in json.loads(plan.stdout)["targets"]}
    assert rows["clean"]["summary"]["create"] == 0  # adopted: nothing left to create


def test_import_into_a_live_account_needs_live_and_writes_nothing_without_it(
        emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (account,) = connected(emu, 1)
    _by_hand(emu, account)
    monkeypatch.setenv("FLEET_TEST_LIVE_KEY", "sk_live_fleet")
    targets = targets_file(tmp_path, [{"name": "live", "account": account,
                                       "api_key_env": "FLEET_TEST_LIVE_KEY"}])
    emu.reset_request_counts()
    result = cli(emu, "import", str(catalog(tmp_path, IMPORTABLE)), "--accounts", str(targets))
    assert result.exit_code == 1
    assert "live: FAILED: this is a LIVE account; pass --live" in result.output
    assert not emu.request_log(), "not even the lock is taken"


def test_doctor_reports_a_section_per_target_and_a_summary(emu: Emulator,
                                                          tmp_path: Path) -> None:
    (good,) = connected(emu, 1)
    targets = targets_file(tmp_path, [{"name": "good", "account": good},
                                      {"name": "keyless", "api_key_env": "FLEET_TEST_NO_KEY"}])
    folder = str(catalog(tmp_path))
    text = cli(emu, "doctor", folder, "--accounts", str(targets))
    assert text.exit_code == 1
    assert "=== good ===" in text.output and "plan: can run" in text.output
    assert "keyless: FAILED" not in text.output and "FLEET_TEST_NO_KEY" in text.output
    assert "1 target could not be checked: keyless" in text.output
    report = cli(emu, "doctor", folder, "--accounts", str(targets), "--format", "json")
    data = json.loads(report.stdout)
    assert data["summary"] == {"targets": 2, "cannot_run": [], "errors": ["keyless"]}
    assert data["targets"][0]["diagnosis"]["account"]


def test_doctor_across_targets_checks_for_a_prune(emu: Emulator, tmp_path: Path) -> None:
    """--prune reaches each target's diagnosis: a key for this catalog's kinds only passes
    for apply, not for apply --prune, which reads every kind."""
    (account,) = connected(emu, 1)
    # the helpers' clients all send this key; registered, it has only these grants
    emu.set_restricted_keys({"sk_test_fleet": parse_grants(
        "products:write,prices:write,connect:read")})
    targets = str(targets_file(tmp_path, [{"name": "eu", "account": account}]))
    folder = str(catalog(tmp_path))
    assert cli(emu, "doctor", folder, "--accounts", targets, "--for", "apply").exit_code == 0
    pruned = cli(emu, "doctor", folder, "--accounts", targets, "--for", "apply", "--prune")
    assert pruned.exit_code == 1
    coupons = next(line for line in pruned.output.splitlines() if line.startswith("coupons "))
    assert "apply:read" in coupons.split()[-1]
    assert "1 target cannot run apply: eu." in pruned.output
