"""Kill-and-resume: ``reconciler apply`` SIGKILLed at seeded random points, then run again
(issue 9, hardening).

Reuses the crash acceptance test's machinery (``tests/apply/test_apply_crash.py``): the
account holds examples/saas, a saved plan changes it into a variant with every sort of change
(replacements, updates, a moved default price, a replaced coupon and its promotion code, a
detached feature); the CLI applies it in a subprocess against the served emulator (120 ms of
latency per request) and is killed once the emulator has seen N writes. Each run draws from
its seed: N (anywhere from the first write to the last but one), whether the apply is killed
once or twice in a row (the second time while resuming), and how it is finished (the saved
plan, which resumes through its journal, or ``apply PATHS --auto-approve``, a new plan).
Every run must converge (the next plan is empty) with exactly one object in use per entry,
nothing created twice and nothing stored that no manifest asked for.

Short mode: 3 runs; long mode (``--long``): 20.
"""

from __future__ import annotations

import random
import signal
from functools import cache
from pathlib import Path

import pytest
from apply_helpers import reconciler, show
from hardening_helpers import record, runs
from test_apply_crash import (
    LATENCY_MS,
    _check_converged,
    _kill_after_writes,
    _prepare,
    _run_crash,
)

from reconciler.emulator import Faults, serve_in_thread
from reconciler.plan import Action


@cache
def _total_writes() -> int:
    """How many writes the saved plan makes (every step of every change)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        _, _, plan, _ = _prepare(Path(tmp))
        return sum(len(c.steps) for c in plan.pending)


def _draw(seed: int) -> tuple[list[int], str]:
    rnd = random.Random(seed)
    total = _total_writes()
    kills = 1 if rnd.random() < 0.7 else 2
    points = [rnd.randint(1, total - 1)] if kills == 1 else [
        rnd.randint(1, total // 2), rnd.randint(1, total // 2)]
    return points, rnd.choice(["saved-plan", "manifests"])


def _kill_twice(tmp_path: Path, first: int, second: int, resume: str) -> int:
    """Killed at ``first`` writes, killed again ``second`` writes into the resumed run (if it
    gets that far), then finished; returns how many kills landed."""
    emu, target, plan, plan_file = _prepare(tmp_path)
    replaced = {c.address for c in plan.pending if c.action is Action.REPLACE}
    landed = 0
    with serve_in_thread(emu) as base:
        for writes in (first, second):
            emu.set_faults(Faults(latency_ms=LATENCY_MS))
            _, code = _kill_after_writes(base, tmp_path, plan_file, emu, writes)
            landed += code == -signal.SIGKILL
        assert landed >= 1, "the first apply finished before it was killed"
        emu.set_faults(Faults())
        if resume == "saved-plan":
            proc = reconciler("apply", str(plan_file), cwd=tmp_path, base=base)
        else:
            proc = reconciler("apply", str(target), "--auto-approve", "--prune", "--force",
                              cwd=tmp_path, base=base)
        assert proc.returncode == 0, show(proc)
    _check_converged(emu, target, replaced)
    return landed


@pytest.mark.slow
@pytest.mark.parametrize("run", range(runs(3, 20)))
def test_killed_at_a_random_point_then_resumed_converges(tmp_path: Path, run: int) -> None:
    seed = 9000 + run
    points, resume = _draw(seed)
    if len(points) == 1:
        _run_crash(tmp_path, points[0], resume)  # asserts the kill landed mid-apply
        landed = 1
    else:
        landed = _kill_twice(tmp_path, *points, resume)
    record("kill-resume", runs=1, kills=landed, converged=1, duplicates=0,
           **{f"resumed_by_{resume.replace('-', '_')}": 1})
