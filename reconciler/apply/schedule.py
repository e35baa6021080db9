"""Which change an apply starts next: one that is ready, from an endpoint with room.

**Ready.** A create, update or replacement of kind K in phase p (:mod:`reconciler.plan.phases`)
may start once every change of an earlier phase whose kind is K or one K needs, transitively
(:func:`reconciler.kinds.needed`), has finished: a price waits for every product and meter,
not for the tax rates of its products' phase. A removal waits for every change of an earlier
phase, as removals come last and in reverse depth. Changes of one phase never wait for each
other (the phases' docstring says why they are independent).

**Next.** Stripe budgets each endpoint (a method and route) on its own, 25 requests per
second, below the account's global budget (100 in live mode; :mod:`reconciler.stripe.limits`),
and the client paces each endpoint apart (:mod:`reconciler.stripe.ratelimit`). So among the
ready changes:

- an endpoint gets at most its share of the apply's slots, the share of the global budget it
  may use (a quarter with a live key, all of them in a sandbox), while a ready change of
  another endpoint could use the slot: more in flight would only queue in its own bucket;
- the kinds that more kinds need go first (products before tax rates), so what waits for
  them starts early;
- then the endpoint with the fewest changes in flight, then the fewest started (round robin),
  and each endpoint's changes in plan order.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from typing import Generic, TypeVar

from reconciler.kinds import needed
from reconciler.plan import Change
from reconciler.stripe.ratelimit import Budgets, endpoint_of

T = TypeVar("T")

Group = tuple[int, str, bool]
"""Changes that wait for the same changes: their phase, kind, and whether they remove."""


def endpoint(change: Change) -> str:
    """The endpoint of a change's first request ("" for a change without requests)."""
    return endpoint_of(change.steps[0].method, change.steps[0].path) if change.steps else ""


def endpoint_share(budgets: Budgets, slots: int) -> int:
    """How many of ``slots`` one endpoint can use: its budget's share of the global one, as
    the client paces them (a quarter with a live key; all of them in a sandbox, or when the
    global budget is off)."""
    ceiling = budgets.global_bucket.rate
    share = 1.0 if math.isinf(ceiling) else min(1.0, budgets.endpoint_rate / ceiling)
    return max(1, math.ceil(slots * share))


def group(change: Change) -> Group:
    """The :data:`Group` of ``change``."""
    return change.phase, change.kind, change.action.removes


def prerequisites(changes: Iterable[Change]) -> dict[Group, set[tuple[int, str]]]:
    """For each group of ``changes``, the (phase, kind) of the changes it waits for: those of
    an earlier phase whose kind is its own or one it needs, transitively; for removals,
    every earlier one."""
    closure = needed()
    groups = {group(c) for c in changes}
    present = {(phase, kind_name) for phase, kind_name, _ in groups}
    return {(phase, kind_name, removes): {
        (p, k) for p, k in present
        if p < phase and (removes or k == kind_name or k in closure[kind_name])}
        for phase, kind_name, removes in groups}


class Schedule(Generic[T]):
    """The changes of one apply not yet started, handed out by :meth:`next` as they become
    ready; the caller reports each started change's end to :meth:`finished`. ``T`` is the
    caller's handle on a change (the executor's: its position in the plan)."""

    def __init__(self, changes: Iterable[tuple[T, Change]], share: int) -> None:
        self.share = share
        closure = needed()
        self.rank = {kind_name: sum(kind_name in c for c in closure.values())
                     for kind_name in closure}
        self.queues: dict[tuple[Group, str], deque[tuple[T, Change]]] = {}
        self.unfinished: Counter[tuple[int, str]] = Counter()
        for item in changes:
            change = item[1]
            self.queues.setdefault((group(change), endpoint(change)), deque()).append(item)
            self.unfinished[change.phase, change.kind] += 1
        self.waits = prerequisites(c for _, c in self.unstarted())
        self.seen = {key: n for n, key in enumerate(self.queues)}  # first seen first
        self.in_flight: Counter[str] = Counter()
        self.started: Counter[str] = Counter()

    def ready(self, waiting: Group) -> bool:
        return all(self.unfinished[needs] == 0 for needs in self.waits[waiting])

    def next(self) -> tuple[T, Change] | None:
        """The change to start now, marked started; None while none is ready."""
        candidates = [key for key, queue in self.queues.items() if queue and self.ready(key[0])]
        if not candidates:
            return None
        chosen = min(candidates, key=lambda c: (
            self.in_flight[c[1]] >= self.share, -self.rank[c[0][1]], self.in_flight[c[1]],
            self.started[c[1]], self.seen[c]))
        self.in_flight[chosen[1]] += 1
        self.started[chosen[1]] += 1
        return self.queues[chosen].popleft()

    def finished(self, change: Change) -> None:
        """``change``, started, has ended (done, failed or skipped)."""
        self.in_flight[endpoint(change)] -= 1
        self.unfinished[change.phase, change.kind] -= 1

    def unstarted(self) -> list[tuple[T, Change]]:
        """The changes never handed out."""
        return [item for queue in self.queues.values() for item in queue]
