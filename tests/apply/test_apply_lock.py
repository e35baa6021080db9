"""The apply lock (issue 12 item 2): overlapping applies of one stack create nothing twice; a
crashed holder is taken over, by one taker only; `unlock` breaks it; nobody else sees it."""

from __future__ import annotations

import asyncio
import functools
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from apply_helpers import (
    KEY,
    assert_exactly_once,
    call,
    cli_command,
    cli_env,
    client,
    load,
    show,
    signal_when,
    write_count,
    write_manifest,
)
from catalogs import CALLS_METER
from click.testing import CliRunner

from reconciler.apply.lock import (
    LOCK_NAME,
    ApplyLock,
    Lease,
    LockHeld,
    LockLost,
    acquire,
    attempt,
    break_lock,
    breaker_id,
    lock_id,
    read,
    renew,
    take_over,
)
from reconciler.cli import main
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.manifests import load as load_unchecked
from reconciler.manifests import validate
from reconciler.plan import read_live

CATALOG = """\
tax_rates:
  vat:
    display_name: VAT
    percentage: 20
    inclusive: false
shipping_rates:
  standard:
    display_name: Standard
    type: fixed_amount
    fixed_amount: {amount: 500, currency: usd}
webhook_endpoints:
  orders:
    url: https://example.com/hooks/orders
    enabled_events: [invoice.paid]
meters:
""" + CALLS_METER + """products:
  api:
    name: API
prices:
  api-flat:
    product: api
    currency: usd
    unit_amount: 1000
    recurring: {interval: month}
  api-metered:
    product: api
    currency: usd
    unit_amount: 1
    recurring: {interval: month, usage_type: metered, meter: calls}
"""


def _run(emu: Emulator, work):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with client(emu) as c:
            return await work(c)
    return asyncio.run(go())


def _lock_products(emu: Emulator) -> list[dict]:
    """The lock and breaker products (the census helpers leave control products out)."""
    return [record["object"] for bucket in emu.state()["accounts"].values()
            for record in bucket["objects"].get("product", {}).values()
            if record["object"]["id"].startswith("reconciler_lock")]


def _stale_lease(stack: str = "default", **changes: object) -> Lease:
    lease = Lease.new(stack, time.time() - 600, 120)  # expired 8 minutes ago
    return Lease(**{**lease.__dict__, **changes})  # type: ignore[arg-type]


def _plant(emu: Emulator, lease: Lease) -> None:
    """A lock left by ``lease``'s holder, as a killed apply leaves it."""
    call(emu, "POST", "/v1/products", {"id": lock_id(lease.stack), "name": LOCK_NAME,
                                       "active": False, "metadata": lease.metadata()})


# -- overlapping applies ---------------------------------------------------------------------

def _overlap(tmp_path: Path, offset: float, *second: str) -> tuple[Emulator, list, list]:
    """Two applies of one catalog on one served emulator, the second ``offset`` s after the
    first took the lock (counted from there, not from its start, which a loaded machine
    delays unevenly); returns the emulator and both (process, stdout, stderr)."""
    catalog = write_manifest(tmp_path / "catalog", CATALOG)
    emu = Emulator()
    args = ["apply", str(catalog), "--auto-approve"]
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=250))  # the first run lasts a few seconds
        first = subprocess.Popen(cli_command(*args, base=base), env=cli_env(), text=True,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not _lock_products(emu) and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(offset)
        later = subprocess.run(cli_command(*args, *second, base=base), env=cli_env(),
                               text=True, capture_output=True, timeout=120, check=False)
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, (out, err)
    return emu, [first.pid, out, err], [later.returncode, later.stdout, later.stderr]


@pytest.mark.slow
@pytest.mark.parametrize("offset", [0.4, 0.65, 0.9])
def test_a_second_apply_started_during_the_first_fails_at_once_naming_it(
        tmp_path: Path, offset: float) -> None:
    emu, (pid, _, _), (code, out, err) = _overlap(tmp_path, offset)
    assert code == 1, (out, err)
    holder = re.escape(f"@{socket.gethostname()} (pid {pid}) since ")
    assert re.search(rf"another apply of stack 'default' holds the apply lock: \S+{holder}"
                     r"\d{4}-\d\d-\d\dT[\d:]+Z, lease expires \d{4}-", err), err
    assert "Nothing was changed by this run." in err
    assert_exactly_once(emu, load(tmp_path / "catalog"))
    assert _lock_products(emu) == []  # released at the end


@pytest.mark.slow
def test_a_second_apply_with_lock_timeout_waits_then_finds_nothing_to_do(tmp_path: Path) -> None:
    emu, _, (code, out, err) = _overlap(tmp_path, 0.6, "--lock-timeout", "1m")
    assert code == 0, (out, err)
    assert "Waiting up to 60s for the apply lock of stack 'default', held by " in err
    assert "Apply complete: nothing to do." in out
    assert_exactly_once(emu, load(tmp_path / "catalog"))
    assert _lock_products(emu) == []


@pytest.mark.slow
def test_sigterm_while_planning_under_the_lock_releases_it(tmp_path: Path) -> None:
    """A CI job cancelled before anything is written (here: while planning, the lock held)
    leaves no lock behind to block the next job."""
    catalog = write_manifest(tmp_path / "catalog", CATALOG)
    emu = Emulator()
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=400))  # planning outlasts the signal
        writes = write_count(emu)
        ended = signal_when(lambda: bool(_lock_products(emu)), "apply", str(catalog),
                            "--auto-approve", cwd=tmp_path, base=base,
                            signals=(signal.SIGTERM,), what="the lock taken")
        emu.set_faults(Faults())
        assert ended.returncode != 0 and "Traceback" not in ended.stderr, show(ended)
        assert write_count(emu) == writes  # nothing of the catalog was written
        assert _lock_products(emu) == []


# -- taking it, and taking it over -------------------------------------------------------------

def test_the_lock_is_an_inactive_product_with_a_lease_and_a_second_taker_is_refused() -> None:
    emu = Emulator()
    mine = _run(emu, lambda c: acquire(c, "billing"))
    product, = _lock_products(emu)
    assert product["id"] == lock_id("billing") and product["active"] is False
    assert product["metadata"]["token"] == mine.token
    with pytest.raises(LockHeld) as held:
        _run(emu, lambda c: acquire(c, "billing"))
    assert held.value.holder == mine
    assert "reconciler unlock --stack billing" in str(held.value)
    other = _run(emu, lambda c: acquire(c, "other"))  # another stack has its own lock
    assert other.token != mine.token


def test_an_expired_lease_is_taken_over() -> None:
    emu = Emulator()
    _plant(emu, _stale_lease(host="elsewhere"))
    mine = _run(emu, lambda c: acquire(c, "default"))
    assert _run(emu, lambda c: read(c, "default")) == mine
    assert [p["id"] for p in _lock_products(emu)] == [lock_id("default")]  # breaker deleted


def test_a_lease_of_a_dead_pid_on_this_host_is_taken_over_before_it_expires() -> None:
    emu = Emulator()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid runs nothing now
    fresh = Lease.new("default", time.time(), 120)
    _plant(emu, Lease(**{**fresh.__dict__, "pid": dead.pid}))
    mine = _run(emu, lambda c: acquire(c, "default"))
    assert mine.pid == os.getpid()


@pytest.mark.parametrize("host", [socket.gethostname(), "another-host"])
def test_an_unexpired_lease_of_a_running_or_unknowable_pid_is_not_taken_over(host: str) -> None:
    emu = Emulator()
    fresh = Lease.new("default", time.time(), 120)
    holder = Lease(**{**fresh.__dict__, "host": host, "pid": os.getppid()})
    _plant(emu, holder)
    with pytest.raises(LockHeld):
        _run(emu, lambda c: acquire(c, "default"))
    assert _run(emu, lambda c: read(c, "default")) == holder


def test_two_takers_of_one_stale_lease_one_wins() -> None:
    emu = Emulator()
    seen = _stale_lease()
    _plant(emu, seen)
    a, b, late = (Lease.new("default", time.time(), 120) for _ in range(3))

    async def race(c):  # type: ignore[no-untyped-def]
        return await asyncio.gather(take_over(c, seen, a), take_over(c, seen, b))

    won = _run(emu, race)
    assert sorted(won) == [False, True]
    winner = a if won[0] else b
    assert _run(emu, lambda c: read(c, "default")) == winner
    # a taker that saw the old lease and comes once the winner deleted its breaker loses too
    assert _run(emu, lambda c: take_over(c, seen, late)) is False
    assert _run(emu, lambda c: read(c, "default")) == winner


def test_a_takeover_left_half_done_blocks_until_unlock() -> None:
    emu = Emulator()
    seen = _stale_lease()
    _plant(emu, seen)
    call(emu, "POST", "/v1/products", {"id": breaker_id(seen.token), "name": "x",
                                       "active": False, "metadata": {"reconciler_control": "b"}})
    mine, holder = _run(emu, lambda c: attempt(c, "default", time.time()))
    assert mine is None and holder == seen
    assert _run(emu, lambda c: break_lock(c, "default")) == seen
    assert _lock_products(emu) == []
    assert _run(emu, lambda c: acquire(c, "default")) is not None


def test_a_holder_whose_lease_was_taken_over_learns_it_at_renewal() -> None:
    emu = Emulator()
    mine = _run(emu, lambda c: acquire(c, "default"))
    other = Lease.new("default", time.time(), 120)
    call(emu, "POST", f"/v1/products/{lock_id('default')}", {"metadata": other.metadata()})
    with pytest.raises(LockLost, match="was taken over by .* while this apply held it"):
        _run(emu, lambda c: renew(c, mine, time.time()))


@pytest.mark.slow
def test_the_lease_is_renewed_while_held_and_released_at_the_end() -> None:
    emu = Emulator()
    with ApplyLock(lambda: client(emu), ttl=2) as lock:  # renewed every 0.5 s
        taken = lock.take("default")
        assert taken is not None
        deadline = time.monotonic() + 20  # a beat every 0.5 s; expiry kept in whole seconds
        while True:
            now = _run(emu, lambda c: read(c, "default"))
            assert now is not None and now.token == taken.token
            if now.expires_at > taken.expires_at or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert now.expires_at > taken.expires_at
    assert _lock_products(emu) == []


def test_a_run_that_may_not_write_takes_no_lock() -> None:
    emu = Emulator()
    with ApplyLock(lambda: client(emu), enabled=False) as lock:
        assert lock.take("default") is None
    assert _lock_products(emu) == []


def _lost_mid_apply(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    """Run ``args`` (an apply of CATALOG) in-process against a served emulator, with a lease
    of 0.6 s (renewed every 0.15 s), and break its lock (as `reconciler unlock` does) once
    the run has written its first object; returns the emulator and the result."""
    write_manifest(tmp_path / "catalog", CATALOG)
    emu = Emulator()

    def break_after_first_write() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(bucket["objects"].get("billing.meter")
                   for bucket in emu.state()["accounts"].values()):  # the first change
                call(emu, "DELETE", f"/v1/products/{lock_id('default')}")
                return
            time.sleep(0.02)

    with serve_in_thread(emu) as base, \
            mock.patch("reconciler.cli.unlock.ApplyLock", functools.partial(ApplyLock, ttl=0.6)), \
            mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        emu.set_faults(Faults(latency_ms=250))  # a change outlasts a few beats
        breaker = threading.Thread(target=break_after_first_write, daemon=True)
        breaker.start()
        result = CliRunner().invoke(
            main, ["--api-base", base, "--api-key", KEY, *args],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None})
        breaker.join()
    return emu, result


@pytest.mark.slow
def test_a_lease_lost_mid_apply_finishes_what_is_in_flight_and_reports_it(
        tmp_path: Path) -> None:
    """Losing the lock while writing stops the run like Ctrl-C: nothing new starts, what
    was sent finishes, and the summary says what was applied and what not (not a bare
    stop that leaves nobody knowing)."""
    emu, result = _lost_mid_apply(
        tmp_path, "apply", str(tmp_path / "catalog"), "--auto-approve", "--parallelism", "1")
    err = result.stderr
    assert result.exit_code == 1, (result.output, result.exception)
    assert ("Error: the apply lock of stack 'default' was taken over (deleted) while this "
            "apply held it") in err
    assert re.search(r"Apply stopped without its lock: \d+ created, .*; [1-9]\d* changes? "
                     r"not attempted\.", err), err
    applied = re.search(r"^Applied \((\d+)\): ", err, re.MULTILINE)
    assert applied is not None and int(applied.group(1)) >= 1, err
    assert re.search(r"^Not attempted \(\d+\): ", err, re.MULTILINE), err
    assert "plan again from the manifests" in err
    assert _lock_products(emu) == []  # not re-created, and nobody else's deleted


# -- unlock ------------------------------------------------------------------------------------

def _cli(state: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--emulator", "--emulator-state", str(state), *args],
                              input=input)


def test_unlock_breaks_the_lock_after_confirmation_and_says_who_held_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    emu = Emulator(state_file=state)
    holder = _stale_lease("billing", user="ci", host="runner-7", pid=4242)
    _plant(emu, holder)
    refused = _cli(state, "unlock", "--stack", "billing")
    assert refused.exit_code == 1
    assert "held by ci@runner-7 (pid 4242) since" in refused.output
    assert "pass --yes" in refused.output
    assert _run(Emulator(state_file=state), lambda c: read(c, "billing")) == holder
    broken = _cli(state, "unlock", "--stack", "billing", "--yes")
    assert broken.exit_code == 0, broken.output
    assert "Apply lock of stack 'billing' broken (held by ci@runner-7 (pid 4242)" in broken.output
    assert _run(Emulator(state_file=state), lambda c: read(c, "billing")) is None
    free = _cli(state, "unlock", "--stack", "billing", "--auto-approve")
    assert free.exit_code == 0 and "No apply lock is held on stack 'billing'." in free.output


# -- nobody else sees it -----------------------------------------------------------------------

@pytest.mark.slow
def test_the_lock_is_invisible_to_plan_drift_and_export(tmp_path: Path) -> None:
    catalog = write_manifest(tmp_path / "catalog", CATALOG)
    state = tmp_path / "state.json"
    emu = Emulator(state_file=state)
    assert _cli(state, "apply", str(catalog), "--auto-approve").exit_code == 0
    _run(emu, lambda c: acquire(c, "default"))
    _plant(emu, _stale_lease("other"))
    assert len(_lock_products(emu)) == 2
    plan = _cli(state, "plan", str(catalog), "--prune", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    drift = _cli(state, "drift", str(catalog), "--include-unmanaged")
    assert drift.exit_code == 0, drift.output
    exported = _cli(state, "export", "--include-archived", "-o", str(tmp_path / "exported"))
    assert exported.exit_code == 0, exported.output
    for output in (plan.output, drift.output, exported.output,
                   *(f.read_text() for f in (tmp_path / "exported").iterdir())):
        assert "reconciler_lock" not in output and LOCK_NAME not in output
    live = _run(emu, lambda c: read_live(c, ["products"]))  # what plan and drift read
    assert [p["id"] for p in live.objects["products"]] == ["api"]


def test_validate_refuses_product_ids_reserved_for_control_products(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """
        products:
          reconciler_lock_x: {name: A}
          b: {name: B, id: reconciler_b}
          c: {name: C}
    """)
    found = [str(issue) for issue in validate(load_unchecked([path])[0])]
    assert len(found) == 2, found
    assert all("a prefix reserved for reconciler's own control products" in f for f in found)
    assert "catalog.yaml:3:" in found[0] and "catalog.yaml:4:" in found[1]
