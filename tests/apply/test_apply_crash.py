"""Acceptance: ``reconciler apply`` killed with SIGKILL part-way, then run again.

The account holds examples/saas; the saved plan changes it into a variant with every sort of
change (replacements, updates, a moved default price, a replaced coupon and promotion code, a
detached feature). The emulator, served in this process, adds latency so that the apply
takes a while; the test kills the subprocess once the emulator has seen N writes, waits for
requests still in flight to land, and runs again: the same saved plan (which resumes through
its journal) or ``apply PATHS --auto-approve`` (a new plan). Either way the account converges
and nothing was created twice.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from apply_helpers import (
    apply_plan,
    assert_no_duplicates,
    census,
    changed_saas,
    cli_command,
    cli_env,
    example,
    expected_census,
    load,
    pending,
    plan_of,
    reconciler,
    show,
    write_count,
)

from reconciler.cli.plan import save_plan
from reconciler.emulator import Emulator, Faults, serve_in_thread
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
    return emu, target, plan, plan_file


def _kill_after_writes(base: str, cwd: Path, plan_file: Path, emu: Emulator,
                       writes: int, delay: float = 0.0) -> tuple[int, int]:
    """Start ``apply PLAN`` and SIGKILL it ``delay`` seconds after the emulator has seen
    ``writes`` more writes; returns (writes seen when killed, the process's return code)."""
    start = write_count(emu)
    proc = subprocess.Popen(cli_command("apply", str(plan_file), base=base), cwd=cwd,
                            env=cli_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while write_count(emu) - start < writes and proc.poll() is None:
            assert time.monotonic() < deadline, "the apply never got that far"
            time.sleep(0.002)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(3 * LATENCY_MS / 1000)  # requests already sent land (or not) before re-running
    return write_count(emu) - start, proc.returncode


def _check_converged(emu: Emulator, target: Path, replaced: set[str]) -> None:
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


def _run_crash(tmp_path: Path, writes: int, resume: str) -> None:
    emu, target, plan, plan_file = _prepare(tmp_path)
    replaced = {c.address for c in plan.pending if c.action is Action.REPLACE}
    total = sum(len(c.steps) for c in plan.pending)
    assert writes < total
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        seen, code = _kill_after_writes(base, tmp_path, plan_file, emu, writes)
        assert code == -signal.SIGKILL, "the apply finished before it was killed"
        assert seen >= writes
        emu.set_faults(Faults())
        journal = Path(f"{plan_file}.journal")
        assert journal.exists() and journal.read_text().strip()
        if resume == "saved-plan":
            records = [json.loads(line) for line in journal.read_text().splitlines()
                       if line.endswith("}")]
            saved = Plan.from_dict(json.loads(plan_file.read_text()))
            assert {r["plan"] for r in records} == {saved.fingerprint}
            assert {r["change"] for r in records} <= set(range(len(saved.changes)))
            proc = reconciler("apply", str(plan_file), cwd=tmp_path, base=base)
        else:
            proc = reconciler("apply", str(target), "--auto-approve", "--prune", "--force",
                              cwd=tmp_path, base=base)
        assert proc.returncode == 0, show(proc)
        assert proc.stdout.splitlines()[-1].startswith("Apply complete"), show(proc)
    _check_converged(emu, target, replaced)


@pytest.mark.parametrize("resume", [
    "saved-plan", pytest.param("manifests", marks=pytest.mark.slow)])
def test_killed_apply_then_rerun_converges(tmp_path, resume):
    _run_crash(tmp_path, 5, resume)


@pytest.mark.slow
@pytest.mark.parametrize("resume", ["saved-plan", "manifests"])
@pytest.mark.parametrize("writes", [1, 3, 8, 10])
def test_killed_apply_at_more_points_then_rerun_converges(tmp_path, writes, resume):
    _run_crash(tmp_path, writes, resume)


@pytest.mark.slow
def test_killed_twice_then_saved_plan_resumes(tmp_path):
    """Two crashes in a row, each further along, then the saved plan finishes the job."""
    emu, target, plan, plan_file = _prepare(tmp_path)
    replaced = {c.address for c in plan.pending if c.action is Action.REPLACE}
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        first, _ = _kill_after_writes(base, tmp_path, plan_file, emu, 2)
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        _kill_after_writes(base, tmp_path, plan_file, emu, 4)
        emu.set_faults(Faults())
        proc = reconciler("apply", str(plan_file), cwd=tmp_path, base=base)
        assert proc.returncode == 0, show(proc)
    assert first >= 2
    _check_converged(emu, target, replaced)
