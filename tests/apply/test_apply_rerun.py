"""Acceptance: applying a saved plan again reports what this run did, not what an earlier run
of the same plan did.

- a finished saved plan applied again through the command line (its journal beside it) says
  ``nothing to do: this plan was already applied`` and sends no write at all;
- a saved plan that stopped part-way and is applied again counts the changes the first run
  finished apart from the ones this run made.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from apply_helpers import (
    assert_exactly_once,
    changed_saas,
    client,
    example,
    load,
    lock_writes,
    plan_of,
    reconciler,
    show,
    write_manifest,
)
from catalogs import PRO_MONTHLY, SPRING_CODE

from reconciler.apply import ApplyResult, Journal, apply
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.plan import Change, Plan
from reconciler.stripe import RetryPolicy

ALREADY = "Apply complete: nothing to do: this plan was already applied."


def _writes(emu: Emulator) -> list[str]:
    return [f"{e.method} {e.path} replayed={e.replayed}" for e in emu.request_log()
            if e.method in ("POST", "DELETE")]


@pytest.mark.slow
def test_finished_saved_plan_applied_again_says_so_and_writes_nothing(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        seeded = reconciler("apply", str(example("saas")), "--auto-approve", cwd=tmp_path,
                            base=base)
        assert seeded.returncode == 0, show(seeded)
        target = changed_saas(tmp_path)
        planned = reconciler("plan", str(target), "--prune", "-o", "plan.json", cwd=tmp_path,
                             base=base)
        assert planned.returncode == 0, show(planned)
        plan = Plan.from_dict(json.loads((tmp_path / "plan.json").read_text()))
        counts = plan.summary()
        assert counts["replace"] and counts["update"], counts  # replacements create, too

        first = reconciler("apply", "plan.json", cwd=tmp_path, base=base)
        assert first.returncode == 0, show(first)
        assert first.stdout.splitlines()[-1] == (
            f"Apply complete: {counts['create']} created, {counts['update']} updated, "
            f"{counts['replace']} replaced, {counts['archive'] + counts['delete']} "
            "archived/deleted."), show(first)

        emu.reset_request_counts()
        second = reconciler("apply", "plan.json", cwd=tmp_path, base=base)
        assert second.returncode == 0, show(second)
        assert second.stdout.splitlines()[-1] == ALREADY, show(second)
        assert "created" not in second.stdout, show(second)
        assert _writes(emu) == ["POST /v1/products replayed=False",  # only its lock: taken
                                "DELETE /v1/products/{id} replayed=False"], show(second)
        assert lock_writes(emu) == (1, 1)  # ... and released
        for change in plan.pending:
            assert f"{change.address}: already applied by an earlier run" in second.stderr

        again = reconciler("plan", str(target), "--prune", "--detailed-exitcode",
                           cwd=tmp_path, base=base)
        assert again.returncode == 0, show(again)


CATALOG = """
features:
  sso: {name: SSO, lookup_key: sso}
tax_rates:
  vat: {display_name: VAT, percentage: 20, inclusive: false}
products:
  pro: {name: Pro, features: [sso], default_price: pro-monthly}
prices:
""" + PRO_MONTHLY + SPRING_CODE


def _apply(emu: Emulator, plan: Plan, journal: Journal, on_event=None) -> ApplyResult:
    async def work() -> ApplyResult:
        async with client(emu, retry=RetryPolicy.none()) as c:
            return await apply(plan, c, parallelism=1, journal=journal, on_event=on_event)
    return asyncio.run(work())


def test_resumed_saved_plan_counts_earlier_work_apart(tmp_path):
    """The first run finishes one change, then every request fails (500, which Stripe does
    not store under the idempotency key); the second run, reading the first one's journal,
    does the rest and says that one change was applied before."""
    emu = Emulator()
    manifest = load(write_manifest(tmp_path, CATALOG))
    plan = plan_of(emu, manifest)
    journal_path = tmp_path / "plan.json.journal"

    def break_after_first(event: str, change: Change, detail: str) -> None:
        if event == "done":
            emu.set_faults(Faults(fail_rate=1.0))

    first = _apply(emu, plan, Journal(journal_path, plan.fingerprint), break_after_first)
    assert len(first.applied) == 1 and len(first.failed) == 1, first
    emu.set_faults(Faults())

    second = _apply(emu, plan, Journal(journal_path, plan.fingerprint))
    assert second.ok, second.failed
    assert second.already_applied == first.applied
    rest = [c for c, _ in first.failed] + first.not_attempted
    assert sorted(c.address for c in second.applied) == sorted(c.address for c in rest)
    assert second.summary() == (f"{len(rest)} created, 0 updated, 0 replaced, "
                                "0 archived/deleted (1 more already applied by an earlier run)")
    assert_exactly_once(emu, manifest)

    emu.reset_request_counts()
    third = _apply(emu, plan, Journal(journal_path, plan.fingerprint))
    assert third.summary() == "nothing to do: this plan was already applied"
    assert not third.applied and len(third.already_applied) == len(plan.pending)
    assert _writes(emu) == []
