"""A fleet target that loses its apply lock mid-apply stops as a single-account apply does
(tests/apply/test_apply_lock.py): nothing new starts, what is in flight finishes, the
target fails saying so, the others are unaffected and the run exits 1."""

from __future__ import annotations

import functools
import re
import threading
import time
from pathlib import Path
from unittest import mock

import httpx
import pytest
from fleet_helpers import catalog, cli, connected, targets_file

from reconciler.apply.lock import AsyncApplyLock, Lease, lock_id
from reconciler.emulator import Emulator, Faults

PRICES = 8
CATALOG = "products:\n  pro:\n    name: Pro\nprices:\n" + "".join(
    f"  p{i}:\n    product: pro\n    currency: usd\n    unit_amount: {100 + i}\n"
    f"    lookup_key: p{i}\n" for i in range(PRICES))


def _objects(emu: Emulator, account: str, kind: str) -> list[dict]:
    bucket = emu.state()["accounts"].get(f"{account}:test", {"objects": {}})
    return [r["object"] for r in bucket["objects"].get(kind, {}).values()
            if not r["object"]["id"].startswith("reconciler_")]  # the lock is a product too


def _take_over_after_first_write(emu: Emulator, account: str) -> Lease:
    """Once ``account`` has its first catalog object, another holder's lease is written over
    its lock, as a takeover (or another tool) writes it; that lease."""
    other = Lease.new("default", time.time(), 120)
    deadline = time.monotonic() + 60
    while not _objects(emu, account, "product") and time.monotonic() < deadline:
        time.sleep(0.02)
    with httpx.Client(transport=emu.transport(), base_url="https://api.stripe.com",
                      headers={"Authorization": "Bearer sk_test_fleet",
                               "Stripe-Account": account}) as http:
        answer = http.post(f"/v1/products/{lock_id('default')}",
                           data={f"metadata[{k}]": v for k, v in other.metadata().items()})
    assert answer.status_code == 200, answer.text
    return other


def _lock_on(emu: Emulator, account: str) -> dict | None:
    bucket = emu.state()["accounts"].get(f"{account}:test", {"objects": {}})
    record = bucket["objects"].get("product", {}).get(lock_id("default"))
    return record["object"] if record else None


@pytest.mark.slow
def test_a_target_whose_lease_is_taken_over_mid_apply_stops_and_fails_saying_so(
        tmp_path: Path) -> None:
    emu = Emulator()
    lost, kept = connected(emu, 2)
    targets = targets_file(tmp_path, [{"name": "lost", "account": lost},
                                      {"name": "kept", "account": kept}])
    folder = catalog(tmp_path, CATALOG)
    taken: list[Lease] = []
    thief = threading.Thread(target=lambda: taken.append(_take_over_after_first_write(emu, lost)),
                             daemon=True)
    emu.set_faults(Faults(latency_ms=150))  # a change outlasts a few renewals
    with mock.patch("reconciler.cli.fleet.AsyncApplyLock",
                    functools.partial(AsyncApplyLock, ttl=0.6)):  # renewed every 0.15 s
        thief.start()
        result = cli(emu, "apply", str(folder), "--accounts", str(targets), "--auto-approve",
                     "--parallelism", "1")
        thief.join()
    emu.set_faults(Faults())

    assert result.exit_code == 1, result.output
    line = re.search(r"^lost: FAILED: (.*)$", result.output, re.MULTILINE)
    assert line is not None, result.output
    assert line.group(1).startswith(
        "the apply lock of stack 'default' was taken over by "
        f"{taken[0].describe()} while this apply held it; this apply stopped."), line.group(1)
    stopped = re.search(r"Apply stopped without its lock: (\d+) created, .*; (\d+) changes? "
                        r"not attempted$", line.group(1))
    assert stopped is not None, line.group(1)
    created, not_attempted = int(stopped.group(1)), int(stopped.group(2))
    assert created >= 1 and not_attempted >= 1
    # what it reported is what the account holds: in-flight changes finished, none started
    assert len(_objects(emu, lost, "product")) + len(_objects(emu, lost, "price")) == created
    assert created + not_attempted == 1 + PRICES
    lock = _lock_on(emu, lost)  # left to its new holder, not deleted
    assert lock is not None and lock["metadata"]["token"] == taken[0].token

    assert re.search(r"^kept: 9 created", result.output, re.MULTILINE), result.output
    assert _lock_on(emu, kept) is None  # released
    assert "1 target could not be applied: lost" in result.output
    assert "Apply finished for 1 of 2 targets." in result.output
