"""Kill-and-resume: ``reconciler apply`` SIGKILLed at seeded random points, then run again
(issue 9, hardening).

Reuses the crash acceptance test's machinery (``tests/apply/test_apply_crash.py``): the
account holds examples/saas, a saved plan changes it into a variant with every sort of change
(replacements, updates, a moved default price, a replaced coupon and its promotion code, a
detached feature); the CLI applies it in a subprocess against the served emulator (120 ms of
latency per request) and is killed once the emulator has seen N writes. Runs kill by turns
the saved plan's apply (which keeps a journal) and ``apply PATHS --auto-approve`` of the same
manifests (which keeps none). Each run draws from its seed: N (anywhere from the first write
to the last but one), whether the apply is killed right then, up to two latencies later (so
the kill may cut a request in flight, or come after the apply finished: then it is an
ordinary re-run), or twice in a row (the second time while resuming), and how it is finished
(the saved plan, which resumes through its journal, or ``apply PATHS --auto-approve``, a new
plan; after a killed apply of manifests, always the latter). Every run must converge (the
next plan is empty) with exactly one object in use per entry, no more objects created than
the plan creates, and nothing stored that no manifest asked for.

Short mode: 3 runs; long mode (``--long``): 20.
"""

from __future__ import annotations

import random
import signal
import socket
import time
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from apply_helpers import KEY, reconciler, show
from figures_plugin import record
from support import runs
from test_apply_crash import (
    LATENCY_MS,
    _check_converged,
    _kill_after_writes,
    _prepare,
    _run_crash,
    apply_args,
)

from reconciler.emulator import Emulator, Faults, serve_in_thread


@cache
def _total_writes() -> int:
    """How many writes the saved plan makes (every step of every change)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        _, _, plan, _ = _prepare(Path(tmp))
        return sum(len(c.steps) for c in plan.pending)


def _draw(seed: int) -> tuple[list[tuple[int, float]], str, str]:
    """(kill points, the apply killed, how to finish): each point is (writes seen, then
    seconds more)."""
    rnd = random.Random(seed)
    total = _total_writes()
    shape = rnd.random()
    if shape < 0.5:  # once, right as the N-th write lands
        points = [(rnd.randint(1, total - 1), 0.0)]
    elif shape < 0.8:  # once, up to two latencies later: mid-request, or between requests
        points = [(rnd.randint(1, total - 1), rnd.uniform(0.001, 2 * LATENCY_MS / 1000))]
    else:  # twice in a row, the second time while resuming
        points = [(rnd.randint(1, total // 2), 0.0), (rnd.randint(1, total // 2), 0.0)]
    killed = ("saved-plan", "manifests")[seed % 2]  # by turns: the short mode has both
    resume = rnd.choice(["saved-plan", "manifests"]) if killed == "saved-plan" else "manifests"
    return points, killed, resume


def _kill_then_finish(tmp_path: Path, points: list[tuple[int, float]], killed: str,
                      resume: str) -> int:
    """Killed at each point in turn (the later ones while resuming, if they get that far),
    then finished; returns how many kills landed."""
    emu, target, plan, plan_file = _prepare(tmp_path)
    landed = 0
    with serve_in_thread(emu) as base:
        for writes, delay in points:
            emu.set_faults(Faults(latency_ms=LATENCY_MS))
            code = _kill_after_writes(base, tmp_path, apply_args(killed, plan_file, target),
                                      emu, writes, delay)[1]
            landed += code == -signal.SIGKILL
        emu.set_faults(Faults())
        proc = reconciler(*apply_args(resume, plan_file, target), cwd=tmp_path, base=base)
        assert proc.returncode == 0, show(proc)
    _check_converged(emu, target, plan)
    return landed


@pytest.mark.slow
@pytest.mark.parametrize("run", range(runs(3, 20)))
def test_killed_at_a_random_point_then_resumed_converges(tmp_path: Path, run: int) -> None:
    seed = 9000 + run
    points, killed, resume = _draw(seed)
    if points == [(points[0][0], 0.0)]:
        _run_crash(tmp_path, points[0][0], resume, killed)  # asserts the kill landed mid-apply
        landed = 1
    else:
        landed = _kill_then_finish(tmp_path, points, killed, resume)
        if len(points) == 2:
            assert landed >= 1, "the first apply finished before it was killed"
    record("kill-resume", runs=1, kills=landed, converged=1, duplicates=0,
           delayed_kills=sum(delay > 0 for _, delay in points),
           finished_before_kill=len(points) - landed,
           **{f"killed_{killed.replace('-', '_')}": 1,
              f"resumed_by_{resume.replace('-', '_')}": 1})


# -- regressions the kill-and-resume runs found --------------------------------------------------

def test_found_request_cut_off_by_the_kill_runs_nothing() -> None:
    """A client killed between the headers and the body of a write: the served emulator ran
    the truncated request and saved its result under the Idempotency-Key, so the resumed
    apply's complete request was refused (idempotency_key_in_use) and the run never
    converged. As Stripe does, an incomplete request now runs nothing."""
    emu = Emulator()
    body = b"name=Killed+mid-request&id=prod_cut"
    with serve_in_thread(emu) as base:
        url = urlsplit(base)
        head = (f"POST /v1/products HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Bearer {KEY}\r\nIdempotency-Key: cut-off-1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection((url.hostname, url.port)) as sock:
            sock.sendall(head + body[:9])  # killed part-way through the body
        time.sleep(0.2)
        response = httpx.post(f"{base}/v1/products", content=body, headers={
            "Authorization": f"Bearer {KEY}", "Idempotency-Key": "cut-off-1",
            "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "prod_cut"
