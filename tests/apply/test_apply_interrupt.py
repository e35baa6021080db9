"""Acceptance: Ctrl-C (SIGINT) or SIGTERM during ``apply`` and ``import``.

The first signal starts nothing new: changes in flight finish, the report lists what was
applied and what was not attempted, and the command exits 128 + the signal (130, 143). A
second signal stops at once, abandoning requests in flight. Either way the same command run
again converges and creates nothing twice.

The apply cases reuse the crash test's account and plan (``test_apply_crash``): examples/saas
changed in six changes over three phases, served with latency. The first phase holds four
changes of one dependency depth (a coupon's replacement, two prices' changes, a product
feature's detachment), which start at once. The signal goes half a latency after the third
write reached the emulator: those four are in flight, three of them with more requests to
make; the two later phases have not started.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from apply_helpers import (
    apply_plan,
    call,
    objects,
    reconciler,
    show,
    signal_when,
    write_count,
    write_manifest,
)
from test_apply_crash import LATENCY_MS, _check_converged, _prepare, apply_args

from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.plan import OWNER_STACK, Plan
from reconciler.plural import count


def _started(plan_file: Path) -> set[str]:
    """The addresses of the changes the saved plan's journal says were started."""
    journal = Path(f"{plan_file}.journal")
    if not journal.exists():
        return set()
    changes = Plan.from_dict(json.loads(plan_file.read_text())).changes  # as the journal counts
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    return {changes[r["change"]].address for r in records if "change" in r}  # not "verified"


def _listed(title: str, stderr: str) -> set[str]:
    """The addresses the report lists under ``title`` ("Applied", "Not attempted")."""
    found = re.search(rf"^{title} \(\d+\): (.+)$", stderr, re.MULTILINE)
    return set(found.group(1).split(", ")) if found else set()


@dataclass
class Interrupted:
    emu: Emulator
    target: Path  # the manifests
    plan: Plan
    plan_file: Path
    proc: subprocess.CompletedProcess
    at_signal: set[str]  # the changes the journal had started when the signals were sent
    writes_at_exit: int  # the writes the emulator had seen when the command ended
    writes: int  # ... and once every request sent has landed


def _interrupt(tmp_path: Path, how: str, signals: list[signal.Signals], gap: float = 0.0,
               latency_ms: int = LATENCY_MS) -> Interrupted:
    """Apply the crash test's plan (saved, or from its manifests) and signal it half a
    latency into its first phase."""
    emu, target, plan, plan_file = _prepare(tmp_path)
    at_signal: set[str] = set()
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=latency_ms))
        proc = signal_when(lambda: write_count(emu) >= 3, *apply_args(how, plan_file, target),
                           cwd=tmp_path, base=base, signals=signals, delay=latency_ms / 2000,
                           gap=gap, what="the first phase",
                           before=lambda: at_signal.update(_started(plan_file)))
        at_exit = write_count(emu)
        time.sleep(2 * latency_ms / 1000)  # requests still on their way land
    return Interrupted(emu, target, plan, plan_file, proc, at_signal, at_exit, write_count(emu))


def _rerun(emu: Emulator, tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess:
    emu.set_faults(Faults())
    with serve_in_thread(emu) as base:
        return reconciler(*args, cwd=tmp_path, base=base)


@pytest.mark.slow
@pytest.mark.parametrize(("how", "sig"), [("saved-plan", signal.SIGINT),
                                          ("manifests", signal.SIGTERM)])
def test_first_signal_finishes_changes_in_flight_then_reports_and_rerun_converges(
        tmp_path, how, sig):
    run = _interrupt(tmp_path, how, [sig])
    proc, plan = run.proc, run.plan
    assert proc.returncode == 128 + sig, show(proc)
    assert f"{sig.name} received: starting nothing new" in proc.stderr, show(proc)
    assert re.search(rf"^Apply interrupted \({sig.name}\): .*; 2 changes not attempted\.$",
                     proc.stderr, re.MULTILINE), show(proc)
    applied, skipped = _listed("Applied", proc.stderr), _listed("Not attempted", proc.stderr)
    phase = {c.address: c.phase for c in plan.pending}
    first = min(phase.values())
    assert applied == {a for a, p in phase.items() if p == first}, show(proc)
    assert skipped == {a for a, p in phase.items() if p > first}, show(proc)
    # it waited for every request it sent, and sent those of the applied changes only, all
    steps = {c.address: len(c.steps) for c in plan.pending}
    assert run.writes_at_exit == run.writes == sum(steps[a] for a in applied)
    if how == "saved-plan":
        assert "resumes from its journal" in proc.stderr, show(proc)
        # nothing started after the signal: the journal notes each change before it starts
        assert _started(run.plan_file) == run.at_signal == applied
    else:
        assert not Path(f"{run.plan_file}.journal").exists()
        assert "it plans from what is live now and applies the rest" in proc.stderr
    again = _rerun(run.emu, tmp_path, apply_args(how, run.plan_file, run.target))
    assert again.returncode == 0, show(again)
    assert again.stdout.splitlines()[-1].startswith("Apply complete"), show(again)
    _check_converged(run.emu, run.target, plan)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["saved-plan", "manifests"])
def test_second_signal_stops_at_once_and_rerun_converges(tmp_path, how):
    # a longer latency: both signals come well before the change in flight can finish
    run = _interrupt(tmp_path, how, [signal.SIGINT, signal.SIGINT], gap=0.05, latency_ms=400)
    proc = run.proc
    assert proc.returncode == 130, show(proc)
    assert "Stopped at once (SIGINT) without waiting for the requests in flight" in proc.stderr
    assert "Apply interrupted" not in proc.stderr, show(proc)
    # it did not wait: a change it started never finished (progress lines, as in CI logs)
    started = set(re.findall(r"^  \w+ (\S+)\.\.\.$", proc.stderr, re.MULTILINE))
    ended = set(re.findall(r"^  (\S+): ", proc.stderr, re.MULTILINE))
    assert started - ended, show(proc)
    if how == "saved-plan":
        assert "idempotency keys make a request that did reach Stripe replay" in proc.stderr
        journal = Path(f"{run.plan_file}.journal").read_text().splitlines()
        records = [json.loads(line) for line in journal]
        started = {(r["change"], r["step"]) for r in records if r["event"] == "start"}
        finished = {(r["change"], r["step"]) for r in records if r["event"] == "done"}
        assert started - finished, records  # the journal knows which
    else:
        assert "so an object such a request created is found, not created twice" in proc.stderr
    again = _rerun(run.emu, tmp_path, apply_args(how, run.plan_file, run.target))
    assert again.returncode == 0, show(again)
    _check_converged(run.emu, run.target, run.plan)


def test_stop_flag_lets_changes_started_finish_and_starts_no_other(tmp_path):
    """The executor's side, in-process and one change at a time: the stop flag raised while
    the second change runs lets it finish and starts no other."""
    emu, _, plan, _ = _prepare(tmp_path)
    started: list[str] = []

    def on_event(name, change, detail):
        if name == "start":
            started.append(change.address)

    result = apply_plan(emu, plan, parallelism=1, on_event=on_event,
                        stop=lambda: len(started) >= 2)
    assert [c.address for c in result.applied] == started
    assert len(started) == 2 and not result.failed
    assert [c.address for c in result.not_attempted] == [c.address for c in plan.pending[2:]]
    steps = sum(len(c.steps) for c in plan.pending[:2])
    assert write_count(emu) == steps, emu.request_counts()


PRODUCTS = 20


@pytest.mark.slow
def test_import_interrupted_tags_what_it_started_and_rerun_tags_the_rest(tmp_path):
    emu = Emulator()
    for n in range(PRODUCTS):
        call(emu, "POST", "/v1/products", {"id": f"p{n}", "name": f"P{n}"})
    catalog = write_manifest(tmp_path / "catalog", "products:\n" + "".join(
        f"  p{n}: {{id: p{n}, name: P{n}}}\n" for n in range(PRODUCTS)))
    emu.reset_request_counts()
    args = ["import", str(catalog), "--rate-limit", "1000"]
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        proc = signal_when(lambda: write_count(emu) >= 8, *args, cwd=tmp_path, base=base,
                           signals=[signal.SIGINT], delay=LATENCY_MS / 2000, what="8 tags")
    assert proc.returncode == 130, show(proc)
    tagged = sum(1 for p in objects(emu)["product"] if OWNER_STACK in p["metadata"])
    assert f"Imported {tagged} objects into stack 'default'." in proc.stdout, show(proc)
    assert 8 <= tagged < PRODUCTS, show(proc)
    assert (f"Import interrupted (SIGINT): {count(PRODUCTS - tagged, 'object')} not tagged. "
            "Run the same import again") in proc.stderr, show(proc)
    again = _rerun(emu, tmp_path, args)
    assert again.returncode == 0, show(again)
    assert f"Imported {count(PRODUCTS - tagged, 'object')} " in again.stdout, show(again)
    products = objects(emu)["product"]
    assert len(products) == PRODUCTS
    assert all(p["metadata"][OWNER_STACK] == "default" for p in products)
