"""The apply lock: one apply at a time per account and stack, kept in Stripe itself.

Why: two applies of one catalog that overlap (two CI jobs) both plan from the same account,
their plans differ, so do their idempotency keys, and every kind without a key Stripe keeps
unique (tax and shipping rates, webhook endpoints, prices without a lookup key) would be
created twice. There is no state backend to lock, and the two runs may be on different
machines: the only thing they share is the account.

**Taking it.** Stripe refuses to create a second product with an id already in use
(``resource_already_exists``: "A product with id ... already exists"), so creating the product
``reconciler_lock_<hash of the stack>`` is an atomic test-and-set across machines. The product
is created with ``active: false`` (Stripe: "Whether the product is currently available for
purchase"), so it can never be sold, a name that says what it is, and a **lease** in its
metadata: a random token, who holds it (user, host, pid), since when and until when. It lives
in the account (and mode, and connected account) the key reaches, hence one lock per account
and stack. Every reader of the account leaves it out (the ``reconciler_control`` marker, see
:func:`reconciler.ownership.is_control`), and ``validate`` refuses product ids that start with
``reconciler_``. Each create attempt has its own idempotency key: Stripe stores the refusal
under the key, so a poll with the same key would only ever replay it.

**Keeping it.** The holder renews the lease (``expires_at``) every quarter of its time to
live: a single-account command from a background thread (:class:`ApplyLock`), also while
``apply`` waits for confirmation; each target of a fleet run from a task on the run's event
loop (:class:`AsyncApplyLock`). It deletes the product when the apply ends, whether it
succeeded, failed or was interrupted (Ctrl-C).

**Losing it.** A renewal that finds another lease (or none) stops the command (or the
target). Before its writing phase it is stopped at once (nothing was written). While it
writes (:meth:`ApplyLock.writing`), cutting requests off would leave nobody knowing what
reached Stripe, so loss only raises :meth:`ApplyLock.stop`, which the executor reads like
Ctrl-C: nothing new starts, what is in flight finishes, and the command reports what was
applied. Both holders share this logic; they differ in where renewals run and in how they
stop at once (the main thread interrupted; the target's task cancelled).

**Taking over.** A holder killed outright (SIGKILL, a lost CI runner) cannot release it. Its
lease may be taken over once it expired, or at once when it names a pid on this same host that
no longer runs. Stripe has no compare-and-set, and "delete it and create it again" races: two
takers could each delete and one re-create after the other, both believing they won. So a
taker first creates a second product, the *breaker* ``reconciler_lockbrk_<hash of the lease's
token>``: the token is unique to that lease, so of all takers that saw the same lease exactly
one creates the breaker. That one reads the lock again and, only if it still holds the very
lease it saw, writes its own lease over it (the token changes), then deletes the breaker. A
later taker that saw the old lease and creates the breaker after it was deleted reads the lock
again, finds another token, and loses. So for one lease, at most one takeover succeeds.

What this rests on (assumptions, stated where Stripe's documentation is silent):

- A lease stops being renewed only when its holder died or stalled for longer than the time
  to live. A holder that wakes after its lease was taken over learns it at its next renewal
  (or release), which stop it; between waking and that check it may still write.
- Clocks of the machines agree to well within the time to live (120 s): expiry is judged by
  the taker's clock against the holder's ``expires_at``.
- A pid "on this host" is judged by the host name: containers that share a host name but not
  a pid namespace must not share a stack, or their pids look dead to each other. A reused pid
  looks alive: the lease then waits for its expiry, which is safe.
- A taker killed between creating the breaker and writing its lease leaves the lock blocked
  (nobody else may take over that lease): ``reconciler unlock`` deletes both.
- The id of a deleted product can be used again (Stripe documents it for no object; the tool
  already relies on it for coupons, which it deletes and re-creates under their id). Should
  Stripe refuse it, the create fails while no lock can be read: :func:`acquire` then stops
  with an error after a few tries instead of retrying for ever.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import getpass
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from reconciler.kinds import CONTROL_KIND, KINDS
from reconciler.ownership import CONTROL, CONTROL_KEY_PREFIX
from reconciler.stripe import InvalidRequestError, NotFoundError, StripeClient, StripeError

log = logging.getLogger(__name__)

PRODUCTS = KINDS[CONTROL_KIND].path  # the lock and its breakers are products
LOCK_NAME = "reconciler apply lock — do not use"
BREAKER_NAME = "reconciler apply lock takeover — do not use"
TTL = 120.0
"""Seconds a lease lasts without renewal; renewed every quarter of it."""
POLL = 1.0
"""Seconds between attempts while ``--lock-timeout`` waits."""
KEY_PREFIX = f"{CONTROL_KEY_PREFIX}lock-"
"""Starts the idempotency key of every POST that writes the lock (DELETEs carry no key:
Stripe says to send none)."""


def _hashed(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(value.encode()).hexdigest()[:24]


def lock_id(stack: str) -> str:
    """The lock's product id: fixed per stack, so every run of the stack contends for it."""
    return _hashed("reconciler_lock_", stack)


def breaker_id(token: str) -> str:
    """The id only one taker of the lease with ``token`` can create."""
    return _hashed("reconciler_lockbrk_", token)


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "unknown"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@dataclass(frozen=True)
class Lease:
    """Who holds the lock of ``stack``, and until when (epoch seconds)."""

    token: str
    stack: str
    user: str
    host: str
    pid: int
    since: float
    expires_at: float

    @classmethod
    def new(cls, stack: str, now: float, ttl: float) -> Lease:
        """A lease from ``now`` (whole seconds: what the metadata keeps) for ``ttl`` s."""
        now = float(int(now))
        return cls(uuid.uuid4().hex, stack, _user(), socket.gethostname(), os.getpid(),
                   now, now + ttl)

    def metadata(self, role: str = "lock") -> dict[str, str]:
        """The lease as the control product's metadata; ``role``: the lock or its breaker."""
        return {CONTROL: role, "token": self.token, "stack": self.stack, "user": self.user,
                "host": self.host, "pid": str(self.pid), "since": _when(self.since),
                "expires_at": _when(self.expires_at)}

    @classmethod
    def from_product(cls, stack: str, obj: dict[str, Any]) -> Lease:
        """The lease on a lock product. One edited by hand into something unreadable counts
        as expired: nothing says anyone still holds it."""
        m = obj.get("metadata") or {}
        try:
            return cls(m["token"], stack, m["user"], m["host"], int(m["pid"]),
                       _epoch(m["since"]), _epoch(m["expires_at"]))
        except (KeyError, ValueError):
            return cls(m.get("token") or obj["id"], stack, m.get("user", "?"),
                       m.get("host", "?"), 0, obj.get("created", 0), 0)

    def describe(self) -> str:
        return (f"{self.user}@{self.host} (pid {self.pid}) since {_when(self.since)}, "
                f"lease expires {_when(self.expires_at)}")

    def stale(self, now: float) -> str | None:
        """Why this lease may be taken over, or None while its holder may be alive."""
        if now >= self.expires_at:
            return f"its lease expired at {_when(self.expires_at)}"
        if self.host == socket.gethostname() and not _running(self.pid):
            return f"its process (pid {self.pid} on this host) no longer runs"
        return None


class LockError(Exception):
    """The apply lock could not be taken or was lost."""


class LockHeld(LockError):
    def __init__(self, holder: Lease, waited: float):
        self.holder = holder
        wait = f" after waiting {waited:g}s" if waited else ""
        super().__init__(
            f"another apply of stack '{holder.stack}' holds the apply lock{wait}: "
            f"{holder.describe()}. Pass --lock-timeout DURATION (e.g. 5m) to wait for it; if "
            f"that apply no longer runs, its lease expires by itself, or break it with "
            f"`reconciler unlock --stack {holder.stack}`")


class LockLost(LockError):
    def __init__(self, mine: Lease, current: Lease | None):
        self.current = current
        by = f" by {current.describe()}" if current else " (deleted)"
        super().__init__(f"the apply lock of stack '{mine.stack}' was taken over{by} while "
                         "this apply held it; this apply stopped. Plan again once it is free")


async def _create(client: StripeClient, product_id: str, name: str,
                  metadata: dict[str, str]) -> bool:
    """Create a control product; False when its id is taken. A fresh idempotency key each
    time: Stripe would replay a refusal stored under a reused one."""
    try:
        await client.create(PRODUCTS, {"id": product_id, "name": name, "active": False,
                                       "metadata": metadata},
                            idempotency_key=_key())
    except InvalidRequestError as exc:
        if exc.code == "resource_already_exists":
            return False
        raise
    return True


def _key() -> str:
    return f"{KEY_PREFIX}{uuid.uuid4().hex}"


async def _delete(client: StripeClient, product_id: str) -> bool:
    try:
        await client.delete(PRODUCTS, product_id)
    except NotFoundError:
        return False
    return True


async def read(client: StripeClient, stack: str) -> Lease | None:
    """The lease on the lock of ``stack``, or None when it is free."""
    try:
        obj = await client.retrieve(PRODUCTS, lock_id(stack))
    except NotFoundError:
        return None
    return Lease.from_product(stack, obj)


async def take_over(client: StripeClient, seen: Lease, mine: Lease) -> bool:
    """Replace the stale lease ``seen`` with ``mine``; True for exactly one taker of it (see
    the module docstring)."""
    breaker = breaker_id(seen.token)
    if not await _create(client, breaker, BREAKER_NAME, mine.metadata("lock-breaker")):
        return False
    try:
        current = await read(client, seen.stack)
        if current is None or current.token != seen.token:
            return False
        await client.update(PRODUCTS, lock_id(seen.stack), {"metadata": mine.metadata()},
                            idempotency_key=f"{KEY_PREFIX}{mine.token}-takeover")
        log.warning("took over the apply lock of stack '%s' from %s: %s", seen.stack,
                    seen.describe(), seen.stale(mine.since))
        return True
    except NotFoundError:  # released meanwhile
        return False
    finally:
        await _delete(client, breaker)


async def attempt(client: StripeClient, stack: str, now: float, ttl: float = TTL
                  ) -> tuple[Lease | None, Lease | None]:
    """One try: (our lease, None) when taken, else (None, the holder's lease or None if it
    was released meanwhile)."""
    mine = Lease.new(stack, now, ttl)
    if await _create(client, lock_id(stack), LOCK_NAME, mine.metadata()):
        return mine, None
    holder = await read(client, stack)
    if holder is not None and holder.stale(now) and await take_over(client, holder, mine):
        return mine, None
    return None, holder


async def acquire(client: StripeClient, stack: str, *, timeout: float = 0.0, ttl: float = TTL,
                  on_wait: Callable[[Lease], None] | None = None,
                  clock: Callable[[], float] = time.time,
                  sleep: Callable[[float], Any] = asyncio.sleep) -> Lease:
    """The lock of ``stack``, polling for up to ``timeout`` seconds while another run holds
    it (``on_wait`` is told once who); :class:`LockHeld` after that."""
    start = clock()
    waiting = False
    vanished = 0
    while True:
        mine, holder = await attempt(client, stack, clock(), ttl)
        if mine is not None:
            return mine
        if holder is None:  # released between our create and our read, or the id is refused
            vanished += 1
            if vanished >= VANISHED_TRIES:
                raise LockError(
                    f"the apply lock of stack '{stack}' ({lock_id(stack)}) can neither be "
                    "created nor read: Stripe refuses its id, yet holds no lock under it")
            await sleep(POLL)
            continue
        vanished = 0  # "in a row": a lock held again in between was another run's, not a refusal
        left = start + timeout - clock()
        if left <= 0:
            raise LockHeld(holder, timeout)
        if on_wait is not None and not waiting:
            on_wait(holder)
        waiting = True
        await sleep(min(POLL, left))


async def renew(client: StripeClient, lease: Lease, now: float, ttl: float = TTL) -> Lease:
    """Extend ``lease``; :class:`LockLost` when the lock no longer holds it."""
    current = await read(client, lease.stack)
    if current is None or current.token != lease.token:
        raise LockLost(lease, current)
    renewed = replace(lease, expires_at=now + ttl)
    await client.update(PRODUCTS, lock_id(lease.stack), {"metadata": renewed.metadata()},
                        idempotency_key=_key())
    return renewed


async def release(client: StripeClient, lease: Lease) -> bool:
    """Delete the lock if it still holds ``lease``; False when it had been taken over."""
    current = await read(client, lease.stack)
    if current is None or current.token != lease.token:
        return False
    await _delete(client, lock_id(lease.stack))
    return True


async def break_lock(client: StripeClient, stack: str) -> Lease | None:
    """Delete the lock of ``stack`` and a takeover's breaker of it, whoever holds it; the
    lease it had, or None when it was free."""
    lease = await read(client, stack)
    if lease is not None:
        await _delete(client, breaker_id(lease.token))
        await _delete(client, lock_id(stack))
    return lease


VANISHED_TRIES = 3  # creates refused in a row while no lock can be read


class _Stopped(Exception):
    """The command ended while still waiting for the lock."""


class _Holder:
    """What holding the lock means, whoever keeps the lease: renewing it, losing it (stop
    the command at once before it writes, through :meth:`stop` while it writes), releasing
    it. :class:`ApplyLock` and :class:`AsyncApplyLock` differ only in where the renewals
    run and how the command is stopped at once."""

    def __init__(self, ttl: float, enabled: bool) -> None:
        self.enabled = enabled
        self._ttl = ttl
        self.lease: Lease | None = None
        self.lost: LockLost | None = None
        self._writing = False

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """While the command writes: a lost lease sets :meth:`stop` instead of stopping the
        command at once (see the module)."""
        self._writing = True
        try:
            if self.lost is not None:  # lost just before: stop as before the writing phase
                raise self.lost
            yield
        finally:
            self._writing = False

    def stop(self) -> bool:
        """The executor's ``stop``: true once the lease was lost."""
        return self.lost is not None

    def _stop_now(self) -> None:
        """Stop the command at once: the lease was lost before it wrote anything."""
        raise NotImplementedError

    async def _renew(self, client: StripeClient) -> bool:
        """One renewal; False once the lease is lost (the command is then stopped). A
        failed request is tried again at the next one, well before the lease expires."""
        assert self.lease is not None
        try:
            self.lease = await renew(client, self.lease, time.time(), self._ttl)
        except LockLost as exc:
            self.lost = exc
            if not self._writing:  # nothing written yet: stop the command at once
                self._stop_now()
            return False
        except StripeError as exc:
            log.warning("could not renew the apply lock: %s", exc)
        return True

    async def _release(self, client: StripeClient) -> None:
        """Release the lease, unless it was lost (the lock is then someone else's); a failure
        is a warning, as the command's own outcome matters more than the lock's."""
        assert self.lease is not None
        if self.lost is not None:
            return
        try:
            if not await release(client, self.lease):
                log.warning("the apply lock of stack '%s' had been taken over; left as it is",
                            self.lease.stack)
        except StripeError as exc:
            log.warning("could not release the apply lock of stack '%s' (%s); it expires at "
                        "%s, or run `reconciler unlock --stack %s`", self.lease.stack, exc,
                        _when(self.lease.expires_at), self.lease.stack)


class ApplyLock(_Holder):
    """The lock held for one command, kept by a thread with its own event loop and client:
    a command's own loops come and go (planning, the prompt, applying are separate), while
    the lease must be renewed throughout. ``with ApplyLock(...) as lock: lock.take(stack)``;
    leaving the block releases it."""

    def __init__(self, make_client: Callable[[], StripeClient], timeout: float = 0.0,
                 ttl: float = TTL, on_wait: Callable[[Lease], None] | None = None,
                 enabled: bool = True) -> None:
        super().__init__(ttl, enabled)
        self._make_client = make_client
        self._timeout = timeout
        self._on_wait = on_wait
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.lost is not None and exc_type is KeyboardInterrupt:
            raise self.lost from None

    def take(self, stack: str) -> Lease | None:
        """Block until the lock of ``stack`` is held (or raise :class:`LockHeld`). Disabled,
        it does nothing: a run that may not write (a live key without ``--live``) is refused
        before its first change, and must not write a lock either."""
        if not self.enabled:
            return None
        client = self._make_client()  # here: a bad key is the command's usage error
        self._thread = threading.Thread(target=self._keep, args=(stack, client), daemon=True,
                                        name="reconciler-apply-lock")
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        assert self.lease is not None
        return self.lease

    def _stop_now(self) -> None:
        _thread.interrupt_main()  # read as Ctrl-C; leaving the block raises the loss

    async def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):  # this loop runs nothing else: blocking it is fine
            raise _Stopped

    def _keep(self, stack: str, client: StripeClient) -> None:
        # signals are the command's: delivered to this thread, they would leave the main
        # thread blocked (reading the confirmation prompt) with the interrupt pending
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        loop = asyncio.new_event_loop()
        try:
            try:
                self.lease = loop.run_until_complete(acquire(
                    client, stack, timeout=self._timeout, ttl=self._ttl,
                    on_wait=self._on_wait, sleep=self._sleep))
            except BaseException as exc:  # noqa: BLE001 - raised in the command's thread
                self._error = exc
                return
            finally:
                self._ready.set()  # whatever happened: take() must not wait for ever
            while not self._stop.wait(self._ttl / 4):
                if not loop.run_until_complete(self._renew(client)):
                    return
            loop.run_until_complete(self._release(client))
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(client.aclose())
            loop.close()


class AsyncApplyLock(_Holder):
    """The lock held for one target of a fleet run, kept by a task on the run's loop, which
    the targets share and which lasts the whole run: ``async with AsyncApplyLock(...) as
    lock:``. Losing it before the writing phase cancels the work inside the block, which
    then raises :class:`LockLost`, as :class:`ApplyLock` stops its command."""

    def __init__(self, client: StripeClient, stack: str, timeout: float = 0.0,
                 ttl: float = TTL, enabled: bool = True) -> None:
        super().__init__(ttl, enabled)
        self._client = client
        self._stack = stack
        self._timeout = timeout
        self._owner: asyncio.Task[Any] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._cancelled = False

    async def __aenter__(self) -> Self:
        if self.enabled:
            self.lease = await acquire(self._client, self._stack, timeout=self._timeout,
                                       ttl=self._ttl)
            self._owner = asyncio.current_task()
            self._keeper = asyncio.create_task(self._keep())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._keeper is None:
            return
        self._keeper.cancel()
        await asyncio.wait([self._keeper])  # not its CancelledError: the block's own stays
        try:
            await self._release(self._client)
        except asyncio.CancelledError:  # cancelled again while releasing (a second Ctrl-C):
            await self._release(self._client)  # release all the same, as ApplyLock's thread
            raise
        if not self._keeper.cancelled():
            self._keeper.result()  # a renewal that failed unexpectedly is not swallowed
        if self._cancelled and self.lost is not None and exc_type is asyncio.CancelledError:
            assert self._owner is not None
            self._owner.uncancel()  # our own cancel, not the run's: it ends here
            raise self.lost from None

    def _stop_now(self) -> None:
        assert self._owner is not None
        self._cancelled = True
        self._owner.cancel()

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 4)
            if not await self._renew(self._client):
                return
