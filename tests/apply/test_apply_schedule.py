"""A phase's changes start round robin by the endpoint of their first request, so every
endpoint the phase uses is busy at once instead of one queue draining after another."""

from __future__ import annotations

import asyncio

from reconciler.apply import apply
from reconciler.apply.schedule import interleave
from reconciler.plan import Action, Change, Plan, Step


def change(key: str, method: str, path: str) -> Change:
    return Change(kind="prices", key=key, action=Action.CREATE, actions=("create",),
                  steps=(Step(method, path),))


CREATES = [change(f"new{i}", "POST", "/v1/prices") for i in range(3)]
UPDATES = [change(f"old{i}", "POST", f"/v1/prices/price_{i}") for i in range(2)]
NO_STEPS = Change(kind="prices", key="noop", action=Action.CREATE, actions=("create",))


def test_round_robin_by_endpoint_each_in_plan_order() -> None:
    batch = list(enumerate([*CREATES, *UPDATES, NO_STEPS]))
    keys = [c.key for _, c in interleave(batch)]
    assert keys == ["new0", "old0", "noop", "new1", "old1", "new2"]


def test_apply_starts_a_phase_round_robin() -> None:
    started: list[str] = []

    class Recorder:
        async def request(self, method: str, path: str, *args: object) -> dict[str, str]:
            started.append(f"{method} {path}")
            await asyncio.sleep(0)
            return {"id": "x"}

    plan = Plan(changes=[*CREATES, *UPDATES], account_id="acct_1", livemode=False,
                api_version="2025-01-01", stack="default", manifest_digest="d",
                live_fingerprint="f")
    asyncio.run(apply(plan, Recorder(), parallelism=1))  # type: ignore[arg-type]
    assert started[:4] == ["POST /v1/prices", "POST /v1/prices/price_0", "POST /v1/prices",
                           "POST /v1/prices/price_1"]
