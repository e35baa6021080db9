"""The apply lock as a fleet target holds it (:class:`AsyncApplyLock`, a task on the run's
loop): losing the lease means what it means to the single-account :class:`ApplyLock`, and a
renewal that fails is never silently dropped."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from apply_helpers import client

from reconciler.apply.lock import AsyncApplyLock, Lease, LockLost, lock_id, read
from reconciler.emulator import Emulator, Faults
from reconciler.stripe import StripeClient

TTL = 0.4  # renewed every 0.1 s


async def _until(condition, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.02)


async def _take_over(c: StripeClient) -> Lease:
    """Another holder's lease written over ours, as a takeover writes it."""
    other = Lease.new("default", time.time(), 120)
    await c.update("/v1/products", lock_id("default"), {"metadata": other.metadata()})
    return other


def _run(emu: Emulator, work):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with client(emu) as c:
            return await work(c)
    return asyncio.run(go())


def test_a_lease_lost_while_writing_sets_stop_and_leaves_the_new_holders_lock() -> None:
    emu = Emulator()

    async def work(c: StripeClient) -> tuple[AsyncApplyLock, Lease, Lease | None]:
        async with AsyncApplyLock(c, "default", ttl=TTL) as lock:
            with lock.writing():
                other = await _take_over(c)
                await _until(lock.stop)  # the executor's stop: no new change starts
        return lock, other, await read(c, "default")

    lock, other, left = _run(emu, work)
    assert lock.lost is not None
    assert "was taken over by " in str(lock.lost) and "while this apply held it" in str(lock.lost)
    assert left == other  # not released: the lock is the new holder's


def test_a_lease_lost_before_writing_stops_the_block_at_once_with_lock_lost() -> None:
    emu = Emulator()

    async def work(c: StripeClient) -> float:
        start = time.monotonic()
        with pytest.raises(LockLost, match=r"taken over \(deleted\) while this apply held it"):
            async with AsyncApplyLock(c, "default", ttl=TTL):
                await c.delete("/v1/products", lock_id("default"))  # `reconciler unlock`
                await asyncio.sleep(60)  # planning, say: stopped at the next renewal
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0  # the cancel was the lock's own
        await asyncio.sleep(0)  # and the task goes on
        return time.monotonic() - start

    assert _run(emu, work) < 30


def _cancelled_while_held(emu: Emulator, *, again_while_releasing: bool) -> Lease | None:
    """The lock's holder cancelled from outside (Ctrl-C), once or a second time while its
    release is in flight; what the account holds then."""
    async def work(c: StripeClient) -> Lease | None:
        async def hold() -> None:
            async with AsyncApplyLock(c, "default", ttl=TTL):
                await asyncio.sleep(60)
        task = asyncio.create_task(hold())
        await _until(lambda: bool(_lock_of(emu)))
        if again_while_releasing:
            emu.set_faults(Faults(latency_ms=300))
        task.cancel()
        if again_while_releasing:
            await asyncio.sleep(0.1)  # the release's first request in flight
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        emu.set_faults(Faults())
        return await read(c, "default")

    return _run(emu, work)


def test_a_cancel_from_outside_stays_a_cancel_and_releases_the_lock() -> None:
    assert _cancelled_while_held(Emulator(), again_while_releasing=False) is None


def test_a_second_cancel_while_releasing_still_releases_the_lock() -> None:
    """A second Ctrl-C lands while the first cancel's release is in flight: the release is
    made all the same, not left to the lease's expiry."""
    assert _cancelled_while_held(Emulator(), again_while_releasing=True) is None


def _lock_of(emu: Emulator) -> list[str]:
    return [pid for bucket in emu.state()["accounts"].values()
            for pid in bucket["objects"].get("product", {}) if pid == lock_id("default")]


def test_a_failed_renewal_is_retried_and_warned_not_taken_as_lost(
        caplog: pytest.LogCaptureFixture) -> None:
    emu = Emulator()

    async def work(c: StripeClient) -> tuple[AsyncApplyLock, Lease | None]:
        async with AsyncApplyLock(c, "default", ttl=TTL) as lock:
            taken = lock.lease
            assert taken is not None
            emu.set_faults(Faults(fail_rate=1.0))  # Stripe unreachable for a while
            await _until(lambda: "could not renew the apply lock" in caplog.text)
            emu.set_faults(Faults())
            await _until(lambda: lock.lease is not None and lock.lease.expires_at > taken.expires_at)
            assert not lock.stop()
        return lock, await read(c, "default")

    with caplog.at_level(logging.WARNING, logger="reconciler.apply.lock"):
        lock, left = _run(emu, work)
    assert lock.lost is None
    assert left is None  # released at the end


def test_a_disabled_lock_writes_nothing_and_never_stops() -> None:
    emu = Emulator()

    async def work(c: StripeClient) -> AsyncApplyLock:
        async with AsyncApplyLock(c, "default", enabled=False) as lock:
            with lock.writing():
                assert not lock.stop()
        return lock

    assert _run(emu, work).lease is None
    assert emu.request_log() == []


def test_creates_refused_apart_are_not_refusals_in_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two races lost (the lock released between our create and our read), another run's
    lock seen in between, then two more: not three in a row, so no "Stripe refuses its id"."""
    from reconciler.apply import lock as module

    mine, theirs = Lease.new("default", time.time(), 120), Lease.new("default", time.time(), 120)
    answers = iter([(None, None), (None, None), (None, theirs), (None, None), (None, None),
                    (mine, None)])

    async def attempt(*_args):  # type: ignore[no-untyped-def]
        return next(answers)

    async def sleep(_seconds: float) -> None:
        return None

    monkeypatch.setattr(module, "attempt", attempt)
    taken = asyncio.run(module.acquire(None, "default", timeout=60, sleep=sleep))  # type: ignore[arg-type]
    assert taken is mine
