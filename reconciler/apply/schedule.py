"""The order in which one phase's changes are started.

Stripe budgets each endpoint (a method and route) on its own, 25 requests per second, below
the account's global budget (100 in live mode; see :mod:`reconciler.stripe.limits`), and the
client paces each endpoint apart (:mod:`reconciler.stripe.ratelimit`). A phase started in plan
order would fill the apply's parallelism with the changes of one endpoint (every create, then
every update) and leave the others idle while that endpoint's queue drains. Started round
robin by the endpoint of their first request, the changes keep every endpoint of the phase
busy at once, so the phase goes at the sum of their budgets, up to the global one.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, zip_longest
from typing import TypeVar

from reconciler.plan import Change
from reconciler.stripe.ratelimit import endpoint_of

T = TypeVar("T")


def endpoint(change: Change) -> str:
    """The endpoint of a change's first request ("" for a change without requests)."""
    return endpoint_of(change.steps[0].method, change.steps[0].path) if change.steps else ""


def interleave(batch: Iterable[tuple[T, Change]]) -> list[tuple[T, Change]]:
    """``batch`` round robin by endpoint, each endpoint's changes in their plan order."""
    queues: dict[str, list[tuple[T, Change]]] = {}
    for item in batch:
        queues.setdefault(endpoint(item[1]), []).append(item)
    rounds = zip_longest(*queues.values())
    return [item for item in chain.from_iterable(rounds) if item is not None]
