"""Acceptance: ``reconciler apply`` killed with SIGKILL part-way, then run again.

The account holds examples/saas; the saved plan changes it into a variant with every sort of
change (replacements, updates, a moved default price, a replaced coupon and promotion code, a
detached feature). The emulator, served in this process, adds latency so that the apply
takes a while; the test kills the subprocess once the emulator has seen N writes, waits for
requests still in flight to land, and runs again. The apply killed is the saved plan (which
keeps a journal) or ``apply PATHS --auto-approve`` (which plans the same changes and keeps no
journal); the run after it is the same saved plan (which resumes through its journal) or
``apply PATHS --auto-approve`` (a new plan from what is live). Either way the account
converges and nothing was created twice: the emulator saw exactly one create per object the
plan creates, whatever was killed and re-run.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from apply_helpers import (
    CONTROL_KEY_PREFIX,
    apply_plan,
    assert_no_duplicates,
    census,
    changed_saas,
    example,
    expected_census,
    kill_when,
    load,
    pending,
    plan_of,
    reconciler,
    show,
    write_count,
)

from reconciler.cli.plan import save_plan
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.kinds import KINDS
from reconciler.plan import Action, Plan

LATENCY_MS = 120


def _prepare(tmp_path: Path):
    emu = Emulator()
    first = apply_plan(emu, plan_of(emu, load(example("saas"))))
    assert first.ok
    target = changed_saas(tmp_path)
    plan = plan_of(emu, load(target), prune=True, force=True)
    plan_file = tmp_path / "plan.json"
    save_plan(plan, str(plan_file))
    emu.reset_request_counts()  # what follows is the plan's work, and only that
    return emu, target, plan, plan_file


def apply_args(how: str, plan_file: Path, target: Path) -> list[str]:
    """``apply`` of the saved plan, or of the manifests it was made from (same options)."""
    if how == "saved-plan":
        return ["apply", str(plan_file)]
    assert how == "manifests"
    return ["apply", str(target), "--auto-approve", "--prune", "--force"]


def _kill_after_writes(base: str, cwd: Path, args: list[str], emu: Emulator,
                       writes: int, delay: float = 0.0) -> tuple[int, int]:
    """Start ``reconciler *args`` and SIGKILL it ``delay`` seconds after the emulator has seen
    ``writes`` more writes; returns (writes seen when killed, the process's return code)."""
    start = write_count(emu)
    code = kill_when(lambda: write_count(emu) - start >= writes, *args, cwd=cwd, base=base,
                     delay=delay, what=f"{writes} writes")
    time.sleep(3 * LATENCY_MS / 1000)  # requests already sent land (or not) before re-running
    return write_count(emu) - start, code


def _creates(emu: Emulator) -> Counter[str]:
    """Objects the emulator created, per kind: create requests it carried out (a replayed
    one returned an object it had made before; a failed one made nothing), the apply lock's
    control products left out."""
    paths = {kind.path: name for name, kind in KINDS.items()}
    return Counter(paths[e.path] for e in emu.request_log()
                   if e.method == "POST" and e.path in paths and e.status == 200
                   and not e.replayed
                   and not (e.idempotency_key or "").startswith(CONTROL_KEY_PREFIX))


def _check_converged(emu: Emulator, target: Path, plan: Plan) -> None:
    """The next plan is empty, one object is in use per entry, and nothing was created twice:
    the emulator made no more objects of a kind than the plan creates (a twin that a later
    step deleted again counts too; a new plan may need fewer: what the killed run created is
    matched, not created again; a promotion code whose coupon it already re-created is
    re-created, as the saved plan would), and no entry has more objects than its versions."""
    replaced = {c.address for c in plan.pending if c.action is Action.REPLACE}
    planned = Counter(c.kind for c in plan.pending if any(s.produces for s in c.steps))
    created = _creates(emu)
    assert created <= planned, created - planned
    manifest = load(target)
    again = plan_of(emu, manifest, prune=True)
    assert not again.has_changes, pending(again)
    assert census(emu, active_only=True) == expected_census(manifest)
    assert_no_duplicates(emu)
    # every object stored is one version of an entry: at most the old and the new object of
    # a replacement; nothing was created twice
    known = {kind: {k for k in counts} for kind, counts in expected_census(
        load(example("saas"))).items()}
    for kind, counts in census(emu).items():
        for key, n in counts.items():
            address = f"{kind}.{key.removeprefix('default:')}"
            assert key in known.get(kind, set()), f"{address}: not from any manifest"
            assert n <= 1 + (address in replaced), f"{address}: {n} objects"


def _run_crash(tmp_path: Path, writes: int, resume: str, killed: str = "saved-plan") -> None:
    emu, target, plan, plan_file = _prepare(tmp_path)
    total = sum(len(c.steps) for c in plan.pending)
    assert writes < total
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        seen, code = _kill_after_writes(base, tmp_path, apply_args(killed, plan_file, target),
                                        emu, writes)
        assert code == -signal.SIGKILL, "the apply finished before it was killed"
        assert seen >= writes
        emu.set_faults(Faults())
        journal = Path(f"{plan_file}.journal")
        if killed == "manifests":
            assert not journal.exists()  # an apply of manifests keeps none
        else:
            assert journal.read_text().strip()
        if resume == "saved-plan":
            records = [json.loads(line) for line in journal.read_text().splitlines()
                       if line.endswith("}")]
            saved = Plan.from_dict(json.loads(plan_file.read_text()))
            assert {r["plan"] for r in records} == {saved.fingerprint}
            assert records[0] == {"plan": saved.fingerprint, "event": "verified"}
            assert {r["change"] for r in records[1:]} <= set(range(len(saved.changes)))
        proc = reconciler(*apply_args(resume, plan_file, target), cwd=tmp_path, base=base)
        assert proc.returncode == 0, show(proc)
        assert proc.stdout.splitlines()[-1].startswith("Apply complete"), show(proc)
    _check_converged(emu, target, plan)


# (the apply killed, the apply run next): a killed apply of manifests leaves no journal, so
# what follows it plans anew
WAYS = [("saved-plan", "saved-plan"), ("saved-plan", "manifests"), ("manifests", "manifests")]


@pytest.mark.slow
@pytest.mark.parametrize(("killed", "resume"), WAYS)
def test_killed_apply_then_rerun_converges(tmp_path, killed, resume):
    _run_crash(tmp_path, 5, resume, killed)


@pytest.mark.slow
@pytest.mark.parametrize(("killed", "resume"), WAYS)
@pytest.mark.parametrize("writes", [1, 3, 8, 10])
def test_killed_apply_at_more_points_then_rerun_converges(tmp_path, writes, killed, resume):
    _run_crash(tmp_path, writes, resume, killed)


@pytest.mark.slow
@pytest.mark.parametrize("killed", ["saved-plan", "manifests"])
def test_killed_twice_then_rerun_converges(tmp_path, killed):
    """Two crashes in a row, each further along, then the saved plan finishes the job; or
    two crashed applies of the manifests, then a third one does."""
    emu, target, plan, plan_file = _prepare(tmp_path)
    args = apply_args(killed, plan_file, target)
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        first, _ = _kill_after_writes(base, tmp_path, args, emu, 2)
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        _kill_after_writes(base, tmp_path, args, emu, 4)
        emu.set_faults(Faults())
        proc = reconciler(*args, cwd=tmp_path, base=base)
        assert proc.returncode == 0, show(proc)
    assert first >= 2
    _check_converged(emu, target, plan)
