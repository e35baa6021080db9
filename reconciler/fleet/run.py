"""Running one piece of work per target: concurrently up to a bound, each failure kept to
its target unless the run is to stop at the first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from reconciler.stripe.ratelimit import TokenBucket

from .targets import Target

T = TypeVar("T")
NOT_STARTED = "not started: an earlier target failed and --fail-fast stops the run"


class TargetFailed(Exception):
    """Work on one target failed; the message says why, without a traceback."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    target: Target
    result: T | None = None
    error: str | None = None


async def fan_out(targets: Sequence[Target], work: Callable[[Target], Awaitable[T]], *,
                  parallelism: int, fail_fast: bool = False) -> list[Outcome[T]]:
    """``work`` for every target, at most ``parallelism`` at once, in the targets' order.
    :class:`TargetFailed` fails that target only; with ``fail_fast`` targets not yet started
    are then not started (those running finish: each apply leaves its account consistent)."""
    gate = asyncio.Semaphore(max(1, parallelism))
    stop = asyncio.Event()

    async def one(target: Target) -> Outcome[T]:
        async with gate:
            if stop.is_set():
                return Outcome(target, error=NOT_STARTED)
            try:
                return Outcome(target, await work(target))
            except TargetFailed as exc:
                if fail_fast:
                    stop.set()
                return Outcome(target, error=str(exc))

    return list(await asyncio.gather(*(one(t) for t in targets)))


class Budgets:
    """One rate limiter per budget (:attr:`Target.budget`), shared by its targets' clients,
    so N targets behind one platform key send no more than the key's rate together."""

    def __init__(self, rate: Callable[[Target], float]) -> None:
        self._rate = rate
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, target: Target) -> TokenBucket:
        if target.budget not in self._buckets:
            self._buckets[target.budget] = TokenBucket(self._rate(target))
        return self._buckets[target.budget]
