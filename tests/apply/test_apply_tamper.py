"""Acceptance: a saved plan is applied only as reviewed.

``apply plan.json`` sends the plan's steps as written, so it first checks that they are what
the plan's reviewed content implies: it plans the manifests embedded in the file again against
the account and refuses any saved change the planner does not make, before any request that
writes. Each edit below is made the way a careful attacker would make it, with the file's
digests recomputed, so that only the rebuild can catch it; a careless edit is caught earlier,
offline, by the reviewed digest. The emulator's request log proves nothing was written.
"""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from apply_helpers import (
    KEY,
    LIVE_KEY,
    apply_plan,
    call,
    kill_when,
    load,
    plan_of,
    reconciler,
    show,
    write_count,
    write_manifest,
)
from catalogs import PRO_MONTHLY
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.kinds import KINDS
from reconciler.plan import Plan
from reconciler.plan.model import digest

SEED = """
products:
  pro: {name: Pro}
coupons:
  spring: {name: Spring, percent_off: 10, duration: once}
"""
TARGET = """
products:
  pro: {name: Pro, description: For teams}
coupons:
  spring: {name: Spring, percent_off: 10, duration: once}
prices:
""" + PRO_MONTHLY
Edit = Callable[[dict[str, Any]], None]


def cli(base: str, *args: str, key: str = KEY, **env: str | None) -> Result:
    """``reconciler`` in-process against the served emulator, without the rate limit."""
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(
            main, ["--api-base", base, "--api-key", key, *args],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None, **env},
            catch_exceptions=False)


def out(result: Result) -> str:
    return f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


class Account:
    """The seed applied, an unmanaged product and coupon made by hand, TARGET saved as a
    plan: update products.pro, create prices.pro-monthly."""

    def __init__(self, emu: Emulator, base: str, directory: Path) -> None:
        self.emu, self.base, self.directory = emu, base, directory
        assert apply_plan(emu, plan_of(emu, load(write_manifest(directory / "v1", SEED)))).ok
        call(emu, "POST", "/v1/products", {"id": "unmanaged", "name": "Someone else's"})
        call(emu, "POST", "/v1/coupons", {"id": "rogue", "percent_off": 100,
                                         "duration": "forever"})
        self.target = write_manifest(directory / "v2", TARGET).parent
        made = cli(base, "plan", str(self.target), "-o", str(directory / "plan.json"))
        assert made.exit_code == 0, out(made)
        self.data = json.loads((directory / "plan.json").read_text())

    def saved(self, directory: Path, edit: Edit | None = None, *, careful: bool = True) -> Path:
        """The saved plan, edited; ``careful``: with its digests made to match the edit."""
        data = json.loads(json.dumps(self.data))
        if edit is not None:
            edit(data)
        if careful:
            data["manifest_digest"] = digest(data["manifest"])
            data["reviewed_digest"] = Plan.from_dict(data).reviewed_digest
        path = directory / "plan.json"
        path.write_text(json.dumps(data))
        return path

    def requests(self) -> list[str]:
        return [f"{e.method} {e.path}" for e in self.emu.request_log()]


@pytest.fixture(scope="module")
def account(tmp_path_factory) -> Iterator[Account]:
    """One account for the refusals, which write nothing."""
    emu = Emulator()
    with serve_in_thread(emu) as base:
        yield Account(emu, base, tmp_path_factory.mktemp("account"))


def _change(data: dict[str, Any], address: str) -> dict[str, Any]:
    return next(c for c in data["changes"] if c["address"] == address)


def _params(data: dict[str, Any]) -> None:
    _change(data, "prices.pro-monthly")["steps"][0]["params"]["unit_amount"] = 1


def _path(data: dict[str, Any]) -> None:
    _change(data, "products.pro")["steps"][0]["path"] = "/v1/products/unmanaged"


def _delete(data: dict[str, Any]) -> None:
    last = data["changes"][-1]
    data["changes"].append({
        "kind": "coupons", "key": "rogue", "action": "delete", "actions": ["delete"],
        "live_id": "rogue", "diffs": [], "warnings": [], "live_digest": None,
        "phase": last["phase"], "note": "", "address": "coupons.rogue",
        "steps": [{"method": "DELETE", "path": "/v1/coupons/rogue", "params": {},
                   "produces": False, "note": ""}]})


def _left_out(data: dict[str, Any]) -> None:
    data["changes"] = [c for c in data["changes"] if c["address"] != "prices.pro-monthly"]


def _stack(data: dict[str, Any]) -> None:
    data["stack"] = "other"


def _option(data: dict[str, Any]) -> None:
    data["options"]["strict"] = False


@pytest.mark.parametrize(("edit", "named"), [
    (_params, ("prices.pro-monthly (create): its steps differ from what the manifests imply "
               "(step 1: POST /v1/prices)")),
    (_path, ("products.pro (update pro): its steps differ from what the manifests imply "
             "(step 1: POST /v1/products/unmanaged)")),
    (_delete, "coupons.rogue (delete rogue): the manifests imply no change to coupons.rogue"),
    (_left_out, "prices.pro-monthly (create): left out, though the manifests imply it"),
    (_stack, "planning its manifests again fails: products.pro:"),
    (_option, "the plan file was edited: its options"),
], ids=["params", "path", "added-delete", "left-out", "stack", "options"])
def test_edited_plan_is_refused_before_any_write(account, tmp_path, edit, named):
    plan_file = account.saved(tmp_path, edit)
    before = len(account.requests())
    result = cli(account.base, "apply", str(plan_file))
    assert result.exit_code == 1, out(result)
    assert "Error: " in result.stderr and named in result.stderr, out(result)
    if edit is not _option:  # refused before the rebuild reads anything
        assert "the plan file was edited: the account is as the plan found it" in result.stderr
    sent = account.requests()[before:]
    assert sent and all(r.startswith("GET ") for r in sent), sent
    assert not (tmp_path / "plan.json.journal").exists()


def test_edit_after_the_account_changed_is_refused_without_blaming_the_file(tmp_path):
    """An object the plan does not touch changed too: the rebuild cannot tell an edit from a
    change the staleness check does not cover, and says both."""
    emu = Emulator()
    with serve_in_thread(emu) as base:
        account = Account(emu, base, tmp_path)
        call(emu, "POST", "/v1/products/unmanaged", {"description": "Edited by hand"})
        writes = write_count(emu)
        result = cli(base, "apply", str(account.saved(tmp_path, _params)))
    assert result.exit_code == 1, out(result)
    assert ("1 of the plan's changes are not what its manifests imply against the account as "
            "it is now: prices.pro-monthly (create): its steps differ") in result.stderr
    assert "The account changed since the plan was made, or the plan file was edited" in (
        result.stderr)
    assert write_count(emu) == writes


def test_careless_edit_is_refused_offline_by_the_reviewed_digest(account, tmp_path):
    """An edit of what a reviewer sees (a diff, here) without the digest made to match."""
    def edit(data: dict[str, Any]) -> None:
        diff = next(d for d in _change(data, "prices.pro-monthly")["diffs"]
                    if d["path"] == "unit_amount")
        diff["new"] = 1
    plan_file = account.saved(tmp_path, edit, careful=False)
    before = len(account.requests())
    result = cli(account.base, "apply", str(plan_file))
    assert result.exit_code == 1, out(result)
    assert "the plan file was edited: its content has the reviewed digest" in result.stderr
    assert account.requests()[before:] == []


def test_edited_manifests_are_refused_offline_by_the_manifest_digest(account, tmp_path):
    def edit(data: dict[str, Any]) -> None:
        data["manifest"]["prices"]["pro-monthly"]["unit_amount"] = 1
    plan_file = account.saved(tmp_path, edit, careful=False)
    before = len(account.requests())
    result = cli(account.base, "apply", str(plan_file))
    assert result.exit_code == 1, out(result)
    assert "its manifests are not the ones its manifest_digest names" in result.stderr
    assert account.requests()[before:] == []


def test_plan_of_another_version_is_refused(account, tmp_path):
    def edit(data: dict[str, Any]) -> None:
        data["tool_version"] = "0.0.9"
    result = cli(account.base, "apply", str(account.saved(tmp_path, edit)))
    assert result.exit_code == 1, out(result)
    assert "the plan was made by reconciler 0.0.9; this is reconciler" in result.stderr


def test_plan_saved_by_the_previous_format_is_refused_as_such(account, tmp_path):
    """Format 3 gave each kind its own phase; checked against this version's phases (by
    dependency depth), its changes would read as edited. It is refused for what it is."""
    def previous(data: dict[str, Any]) -> None:
        data["format_version"] = "3"
        for change in data["changes"]:
            change["phase"] = list(KINDS).index(change["kind"])  # as that version numbered
    plan_file = account.saved(tmp_path, previous, careful=False)
    before = len(account.requests())
    result = cli(account.base, "apply", str(plan_file))
    assert result.exit_code == 1, out(result)
    assert (f"{plan_file} cannot be applied: it was saved by an earlier version of "
            "reconciler (plan format_version '3'; this one writes '4' and runs changes in "
            "other phases), so its changes cannot be verified: make a new plan with this one; "
            "nothing was sent") in result.stderr, out(result)
    assert "edited" not in result.stderr
    assert account.requests()[before:] == []


def test_plan_for_another_account_says_which(account, tmp_path):
    real = account.data["account"]["id"]

    def edit(data: dict[str, Any]) -> None:
        data["account"]["id"] = "acct_1OtherAccount0000"
    before = len(account.requests())
    result = cli(account.base, "apply", str(account.saved(tmp_path, edit)))
    assert result.exit_code == 1, out(result)
    assert (f"the plan was made for account acct_1OtherAccount0000 (test mode); this key "
            f"reaches {real} (test mode)") in result.stderr, out(result)
    assert account.requests()[before:] == ["GET /v1/account"]


def _live(data: dict[str, Any]) -> None:
    data["account"]["livemode"] = True
    data["mode"] = "live"


def test_plan_edited_to_live_mode_is_refused(account, tmp_path):
    plan_file = account.saved(tmp_path, _live)
    before = len(account.requests())
    refused = cli(account.base, "apply", str(plan_file))
    assert refused.exit_code == 1 and "LIVE account" in refused.stderr, out(refused)
    assert account.requests()[before:] == []
    allowed = cli(account.base, "apply", str(plan_file), "--live")
    assert allowed.exit_code == 1, out(allowed)
    assert "this plan is for live mode; the key is a test-mode key" in allowed.stderr
    assert account.requests()[before:] == ["GET /v1/account"]


def test_mode_contradicting_the_account_is_not_a_plan(account, tmp_path):
    def edit(data: dict[str, Any]) -> None:
        data["mode"] = "live"
    result = cli(account.base, "apply", str(account.saved(tmp_path, edit, careful=False)))
    assert result.exit_code == 1, out(result)  # a usage error: the CLI keeps 2 for changes
    assert "its mode 'live' contradicts its account's livemode False" in result.stderr


def test_test_mode_plan_with_a_live_key_names_the_key_mode(account, tmp_path):
    result = cli(account.base, "apply", str(account.saved(tmp_path)), "--live", key=LIVE_KEY)
    assert result.exit_code == 1, out(result)
    assert "this plan is for test mode; the key is a live-mode key" in result.stderr


@pytest.mark.parametrize("given", [
    ["--prune"], ["--adopt"], ["--force"], ["--env", "prod"], ["--var", "A=b"],
    ["--stack", "other"], ["--bulk-threshold", "0.5"], ["MORE"]])
def test_options_that_shape_a_plan_are_refused_with_a_saved_plan(account, tmp_path, given):
    plan_file = account.saved(tmp_path)
    given = [str(account.target) if arg == "MORE" else arg for arg in given]
    before = len(account.requests())
    result = cli(account.base, "apply", str(plan_file), *given)
    assert result.exit_code == 1, out(result)  # a usage error: the CLI keeps 2 for changes
    flag = given[0] if given[0].startswith("--") else "more paths"
    assert f"{flag} cannot be given with a saved plan ({plan_file})" in result.stderr
    assert account.requests()[before:] == []


def test_stack_from_the_environment_must_be_the_plans(account, tmp_path):
    result = cli(account.base, "apply", str(account.saved(tmp_path)),
                 RECONCILER_STACK="other")
    assert result.exit_code == 1, out(result)
    assert "RECONCILER_STACK is 'other', but the saved plan" in result.stderr


def test_expect_digest_refuses_another_plan(account, tmp_path):
    before = len(account.requests())
    result = cli(account.base, "apply", str(account.saved(tmp_path)), "--expect-digest",
                 "sha256:" + "0" * 64)
    assert result.exit_code == 1, out(result)
    assert (f"the plan's reviewed digest is {account.data['reviewed_digest']}, not sha256:0"
            in result.stderr), out(result)
    assert account.requests()[before:] == []


def test_forged_journal_does_not_pass_an_edit_past_the_approved_digest(account, tmp_path):
    """A journal saying "verified" skips the rebuild, and whoever edits the plan can write
    one; the approved digest binds the requests themselves, so the edit is still refused."""
    path = account.saved(tmp_path, _params)
    fingerprint = Plan.from_dict(json.loads(path.read_text())).fingerprint
    (tmp_path / "plan.json.journal").write_text(
        json.dumps({"plan": fingerprint, "event": "verified"}) + "\n")
    before = len(account.requests())
    result = cli(account.base, "apply", str(path), "--expect-digest",
                 account.data["reviewed_digest"])
    assert result.exit_code == 1, out(result)
    assert "the plan's reviewed digest is" in result.stderr, out(result)
    assert account.requests()[before:] == []


# -- what still applies ---------------------------------------------------------------------

def test_reviewed_plan_applies_and_prints_its_digest(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        account = Account(emu, base, tmp_path)
        reviewed = account.data["reviewed_digest"]
        shown = cli(base, "plan", str(account.target))
        assert f"Reviewed digest: {reviewed}" in shown.stdout
        applied = cli(base, "apply", str(tmp_path / "plan.json"), "--expect-digest", reviewed)
        assert applied.exit_code == 0, out(applied)
        assert f"reviewed digest {reviewed}" in applied.stderr
        assert applied.stdout.splitlines()[-1] == (
            "Apply complete: 1 created, 1 updated, 0 replaced, 0 archived/deleted.")
        journal = (tmp_path / "plan.json.journal").read_text().splitlines()
        assert json.loads(journal[0])["event"] == "verified"


def test_apply_from_manifests_prints_and_checks_the_digest(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        account = Account(emu, base, tmp_path)
        writes = write_count(emu)
        wrong = cli(base, "apply", str(account.target), "--auto-approve", "--expect-digest",
                    "sha256:" + "0" * 64)
        assert wrong.exit_code == 1, out(wrong)
        assert f"Reviewed digest: {account.data['reviewed_digest']}" in wrong.stdout
        assert "not the plan that was approved" in wrong.stderr
        assert write_count(emu) == writes
        right = cli(base, "apply", str(account.target), "--auto-approve", "--expect-digest",
                    account.data["reviewed_digest"])
        assert right.exit_code == 0, out(right)


@pytest.mark.slow
def test_killed_apply_resumes_on_its_verified_journal(tmp_path):
    """A resumed run cannot plan the manifests again (the account holds the first run's
    work) and trusts the journal's note that this plan was verified; without the note it
    would refuse."""
    emu = Emulator()
    with serve_in_thread(emu) as base:
        Account(emu, base, tmp_path)
        writes = write_count(emu)
        emu.set_faults(Faults(latency_ms=300))
        code = kill_when(lambda: write_count(emu) > writes, "apply", "plan.json", cwd=tmp_path,
                         base=base, delay=0.05, what="the first write")
        assert code == -signal.SIGKILL
        emu.set_faults(Faults())
        journal = tmp_path / "plan.json.journal"
        lines = journal.read_text().splitlines()
        assert json.loads(lines[0])["event"] == "verified"

        unverified = tmp_path / "unverified"
        unverified.mkdir()
        (unverified / "plan.json").write_text((tmp_path / "plan.json").read_text())
        (unverified / "plan.json.journal").write_text("\n".join(lines[1:]) + "\n")
        refused = reconciler("apply", "plan.json", cwd=unverified, base=base)
        assert refused.returncode == 1, show(refused)
        assert "of the plan's changes are not what its manifests imply" in refused.stderr

        resumed = reconciler("apply", "plan.json", cwd=tmp_path, base=base)
        assert resumed.returncode == 0, show(resumed)
        assert resumed.stdout.splitlines()[-1].startswith("Apply complete"), show(resumed)


def test_saved_prune_plan_removing_a_whole_kind_applies(tmp_path):
    """The rebuild reads what the plan read: with --prune every kind, also one that left the
    manifests entirely (the coupon here)."""
    emu = Emulator()
    with serve_in_thread(emu) as base:
        Account(emu, base, tmp_path)
        pruned = write_manifest(tmp_path / "v3", "products:\n  pro: {name: Pro}\n").parent
        made = cli(base, "plan", str(pruned), "--prune", "-o", str(tmp_path / "prune.json"))
        assert made.exit_code == 0, out(made)
        assert "coupons.spring" in made.stdout, out(made)
        applied = cli(base, "apply", str(tmp_path / "prune.json"))
        assert applied.exit_code == 0, out(applied)
        assert cli(base, "plan", str(pruned), "--prune", "--detailed-exitcode").exit_code == 0
