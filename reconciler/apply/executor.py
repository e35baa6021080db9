"""Executing a plan: each change as soon as every change it may depend on has finished, up
to ``parallelism`` at once (which, and in what order: :mod:`.schedule`), every step idempotent.

Each step's Idempotency-Key is derived from the plan's fingerprint, the change's position and
the step's position, so a retried request, or the same saved plan run again after a crash,
replays Stripe's stored answer instead of acting twice. A change whose every step the journal
records as finished is not sent again at all: Stripe may forget an idempotency key once it is
24 hours old and would then act twice, and a summary counting replays as work would claim
objects were created that already existed. On the first failure, or once the caller's
``stop`` says so (an interrupt), no new change starts; changes already running finish, every
step of them, and the result says exactly what was applied, what was already applied by an
earlier run, what failed and what was never attempted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.ownership import SECRET_UNSAVED
from reconciler.plan import Action, Change, Plan, Step, records
from reconciler.plan.desired import is_ref
from reconciler.plan.model import SELF
from reconciler.stripe import NotFoundError, StripeClient, StripeError, register_secret

from .journal import Journal
from .schedule import Schedule, endpoint_share

log = logging.getLogger(__name__)

_REF_IN_PATH = re.compile(r"\{ref:([^}]+)\}")

Event = Callable[[str, Change, str], None]
"""Progress callback: (event, change, detail); events are "start", "done", "failed", and
"skipped" for a change an earlier run of the same saved plan finished."""

StopRequested = Callable[[], bool]
"""Asked before each change starts: True once the caller wants nothing new started."""

SecretSink = Callable[[str, str], None]
"""Keeps a signing secret, (manifest key, secret), the moment its create returns it: before
the journal records the create as finished, after which a re-run would not ask again. If it
raises OSError the change fails, unfinished, with :class:`SecretNotSavedError`: the same
saved plan run again replays the create, secret included."""


class SecretNotSavedError(OSError):
    """A webhook endpoint was created but its signing secret could not be saved.

    Stripe will not show the secret again through the API, and a plan made from the
    manifests finds the endpoint and creates nothing: so the endpoint is tagged
    (``reconciler_secret_unsaved``) for every later plan to say so, wherever it runs. A local
    record would be missing on the next CI machine. ``recorded`` is False when that tag could
    not be written either."""

    def __init__(self, address: str, endpoint: str, cause: OSError, recorded: bool):
        self.address, self.endpoint, self.cause, self.recorded = address, endpoint, cause, recorded
        super().__init__(f"{endpoint} was created, but its signing secret could not be saved: "
                         f"{cause}")


class LiveModeError(Exception):
    """A live-mode plan without the explicit permission to change a live account."""


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    already_applied: list[Change] = field(default_factory=list)  # finished by an earlier run
    failed: list[tuple[Change, StripeError | OSError]] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # address -> new object id
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # manifest key -> whsec

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    def summary(self) -> str:
        """What this run did; what an earlier run of the same saved plan did is counted
        apart, so running a finished plan again does not read as work done."""
        if self.already_applied and not (self.applied or self.failed or self.not_attempted):
            return "nothing to do: this plan was already applied"
        counts = {a: 0 for a in ("create", "update", "replace", "remove", "adopt")}
        for change in self.applied:
            name = "remove" if change.action.removes else change.action.value
            counts[name] += 1
        text = (f"{counts['create']} created, {counts['update'] + counts['adopt']} updated, "
                f"{counts['replace']} replaced, {counts['remove']} archived/deleted")
        if self.already_applied:
            text += f" ({len(self.already_applied)} more already applied by an earlier run)"
        return text


def idempotency_key(plan: Plan, index: int, step: int) -> str:
    seed = f"{plan.fingerprint}/{index}/{step}".encode()
    return "reconciler-" + hashlib.sha256(seed).hexdigest()[:40]


class _Run:
    def __init__(self, plan: Plan, client: StripeClient, journal: Journal | None,
                 on_event: Event | None, on_secret: SecretSink | None,
                 stop: StopRequested | None):
        self.plan = plan
        self.client = client
        self.journal = journal
        self.on_event = on_event or (lambda *_: None)
        self.on_secret = on_secret or (lambda *_: None)
        self.stop = stop or (lambda: False)
        self.saving = on_secret is not None
        self.resumed = set(journal.touched) if journal else set()  # started by an earlier run
        self.ids: dict[str, str] = dict(journal.produced if journal else {})
        self.result = ApplyResult()
        self.stopped = False

    def resolve(self, value: Any, own: str | None) -> Any:
        if isinstance(value, dict):
            if is_ref(value):
                return self.ids[value["$ref"]]
            return {k: self.resolve(v, own) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, own) for v in value]
        if value == SELF:
            return own
        return value

    def path(self, step: Step, own: str | None) -> str:
        path = _REF_IN_PATH.sub(lambda m: self.ids[m.group(1)], step.path)
        return path.replace(SELF, own or "")

    def halted(self) -> bool:
        """Whether nothing new may start: a change failed, or the caller asked to stop."""
        self.stopped = self.stopped or self.stop()
        return self.stopped

    async def dispatch(self, pending: list[tuple[int, Change]], parallelism: int) -> None:
        """Run ``pending``, keeping up to ``parallelism`` changes running, each started once
        it is ready; what never started is reported not attempted, in plan order."""
        schedule = Schedule(pending, endpoint_share(self.client.budgets, parallelism))
        running: dict[asyncio.Task[None], Change] = {}
        try:
            while True:
                while len(running) < parallelism and not self.halted():
                    item = schedule.next()
                    if item is None:
                        break
                    running[asyncio.create_task(self.run_change(*item))] = item[1]
                if not running:
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    schedule.finished(running.pop(task))
                    task.result()  # a bug, not a failed request: raise it
        finally:  # cancelled, or a bug: stop the running changes too
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        self.result.not_attempted += [c for _, c in sorted(schedule.unstarted(),
                                                           key=lambda item: item[0])]

    async def run_change(self, index: int, change: Change) -> None:
        if self.finished_before(index, change):
            self.result.already_applied.append(change)
            self.on_event("skipped", change, "")
            return
        self.on_event("start", change, "")
        own = self.ids.get(change.address)
        try:
            for number, step in enumerate(change.steps):
                own = await self.run_step(index, number, change, step, own)
        except (StripeError, OSError) as exc:  # OSError: a secret or the journal unwritten
            self.stopped = True
            self.result.failed.append((change, exc))
            self.on_event("failed", change, str(exc))
            return
        self.result.applied.append(change)
        self.on_event("done", change, "")

    def finished_before(self, index: int, change: Change) -> bool:
        done = self.journal.finished_steps if self.journal else set()
        return bool(change.steps) and all((index, n) in done for n in range(len(change.steps)))

    async def run_step(self, index: int, number: int, change: Change, step: Step,
                       own: str | None) -> str | None:
        if self.journal:
            self.journal.started(index, number)
        path = self.path(step, own)
        params = self.resolve(step.params, own)
        if step.method == "DELETE":
            # DELETE has no idempotency key: once done, sending it again could remove what a
            # later step of the same change re-created under the same id (a coupon)
            if not (self.journal and (index, number) in self.journal.finished_steps):
                try:
                    await self.client.request("DELETE", path)
                except NotFoundError:
                    pass  # already gone: a re-run after the delete went through
        else:
            key = idempotency_key(self.plan, index, number) if step.method == "POST" else None
            response = await self.client.request(step.method, path, params, key)
            if step.produces:
                own = response["id"]
                self.ids[change.address] = own
                self.result.created[change.address] = own
                if isinstance(response.get("secret"), str):
                    register_secret(response["secret"])
                    await self.keep_secret(index, change, f"{path}/{own}", response["secret"])
        if self.journal:
            self.journal.finished(index, number, change.address if step.produces else None, own)
        return own


    async def keep_secret(self, index: int, change: Change, path: str, secret: str) -> None:
        """Hand the secret to the sink; if it cannot keep it, tag the endpoint as such
        (best effort) and fail the change. A resumed run that saves it clears the tag an
        earlier run may have set."""
        try:
            self.on_secret(change.key, secret)
        except OSError as exc:
            recorded = await self.tag_unsaved(path, "true")
            raise SecretNotSavedError(change.address, path.rsplit("/", 1)[-1], exc,
                                      recorded) from exc
        self.result.secrets[change.key] = secret  # kept, if asked
        if self.saving and index in self.resumed:
            await self.tag_unsaved(path, "")  # Stripe unsets a metadata key sent empty

    async def tag_unsaved(self, path: str, value: str) -> bool:
        try:
            await self.client.request("POST", path, {"metadata": {SECRET_UNSAVED: value}})
        except StripeError:
            return False
        return True


async def apply(plan: Plan, client: StripeClient, *, allow_live: bool = False,
                parallelism: int = 8, journal: Journal | None = None,
                on_event: Event | None = None, on_secret: SecretSink | None = None,
                stop: StopRequested | None = None) -> ApplyResult:
    """Carry out ``plan`` against the account ``client`` reaches.

    Refuses a live-mode plan unless ``allow_live``. Never raises for a failed change: the
    result lists it, with everything applied before and everything not attempted. Once
    ``stop()`` is true no new change starts, as after a failure: failures aside, an
    interrupted run leaves each change finished or never sent.
    """
    if plan.livemode and not allow_live:
        raise LiveModeError("this plan changes a LIVE account; pass --live to allow it")
    run = _Run(plan, client, journal, on_event, on_secret, stop)
    pending = [(i, c) for i, c in enumerate(plan.changes) if c.action is not Action.NOOP]
    await run.dispatch(pending, max(1, parallelism))
    await _record(plan, client, run.ids)
    return run.result


async def _record(plan: Plan, client: StripeClient, produced: dict[str, str]) -> None:
    """Record the meters and payment method configurations the plan created or matched as
    its stack's (see reconciler/plan/records.py). ``produced`` holds the ids this run created
    and those its journal says an earlier, killed run of the plan created: that run never
    reached this point. A failure here undoes nothing applied: the next plan of such an
    object that would change it asks for --adopt, said as a warning."""
    ids = records.owned_by_plan(plan, produced)
    if not any(ids.values()):
        return
    try:
        await records.write(client, plan.stack, ids)
    except (StripeError, ValueError) as exc:
        log.warning("could not record the meters and payment method configurations of stack "
                    "'%s' (%s); a later plan that changes one asks for --adopt", plan.stack, exc)
