"""Issue #4 acceptance: a mixed run of 500 requests through one client, against an emulator
answering 429s (with ``Retry-After``), 500s and dropped-after-commit writes at a fixed seed,
completes, creates nothing twice, and waits out every ``Retry-After``, as the emulator's
request log shows.

Real time, small numbers: the emulator admits 80 requests/s (a bucket of 80) and the client
paces itself at 200/s, so some of its requests meet 429s, even on a starved machine where the
client sends little over 100 a second (at 120/s admitted, such a run once met none). The
emulator sends ``Retry-After: 0.05`` and the client's own backoff is capped below that
(20 ms), so a retry that comes 50 ms or more after its 429 did so because the client honoured
the header. The client's sleep (asyncio, on ``time.monotonic``) and the emulator's clock
(``time.monotonic``) agree. Every call carries an Idempotency-Key, GETs too (the emulator
logs it whatever the method and only honours it on POSTs): it is how the attempts of one
call are found in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from stripe_fakes import KEY, run

from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.emulator.requestlog import LoggedRequest
from reconciler.stripe import RetryPolicy, StripeClient
from reconciler.stripe import responses as responses_module

RETRY_AFTER = 0.05
CLIENT_RATE = 200
FAULTS = Faults(rate_limit=80, fail_rate=0.05, drop_rate=0.05, seed=4, retry_after=RETRY_AFTER)
POLICY = RetryPolicy(max_retries=30, initial_delay=0.005, max_delay=0.02, total_timeout=30)

KINDS: dict[str, dict[str, Any]] = {  # path: create parameters
    "/v1/products": {"name": "Widget"},
    "/v1/coupons": {"percent_off": 5},
    "/v1/tax_rates": {"display_name": "VAT", "percentage": 20, "inclusive": False},
    "/v1/shipping_rates": {"display_name": "Standard", "type": "fixed_amount",
                           "fixed_amount": {"amount": 500, "currency": "usd"}},
}
PER_KIND = 40  # objects per kind: a create, an update and a retrieve each
LISTS_PER_KIND = 5
TOTAL_CALLS = len(KINDS) * (3 * PER_KIND + LISTS_PER_KIND)


@contextlib.asynccontextmanager
async def client_for(emu: Emulator, served: bool, **kw: Any) -> AsyncIterator[StripeClient]:
    kw.setdefault("rate_limit", CLIENT_RATE)
    kw.setdefault("retry", POLICY)
    with contextlib.ExitStack() as stack:
        if served:
            url = stack.enter_context(serve_in_thread(emu))
            client = StripeClient(KEY, api_base=url, **kw)
        else:
            client = StripeClient(KEY, api_base="http://emulator.test",
                                  transport=emu.async_transport(), **kw)
        async with client:
            yield client


async def mixed_run(client: StripeClient, tag: str) -> dict[str, list[str]]:
    """The 500 calls, all at once; returns the ids each kind's creates returned."""
    created: dict[str, list[str]] = defaultdict(list)

    async def lifecycle(path: str, params: dict[str, Any], i: int) -> None:
        key = f"{tag}-create-{path}-{i}"
        made = await client.create(path, params, idempotency_key=key)
        created[path].append(made["id"])
        await client.update(path, made["id"], {"metadata": {"round": "2"}})
        got = await client.request("GET", client.object_path(path, made["id"]),
                                   idempotency_key=f"{tag}-retrieve-{path}-{i}")
        assert got["metadata"] == {"round": "2"}

    async def listing(path: str, i: int) -> None:
        page = await client.request("GET", path, {"limit": 100},
                                    idempotency_key=f"{tag}-list-{path}-{i}")
        assert page["object"] == "list"

    calls = [lifecycle(path, params, i) for path, params in KINDS.items() for i in range(PER_KIND)]
    calls += [listing(path, i) for path in KINDS for i in range(LISTS_PER_KIND)]
    await asyncio.gather(*calls)
    return created


def attempts_by_call(log: Iterable[LoggedRequest]) -> dict[str, list[LoggedRequest]]:
    calls: dict[str, list[LoggedRequest]] = defaultdict(list)
    for entry in log:
        assert entry.idempotency_key is not None, entry
        calls[entry.idempotency_key].append(entry)
    return {key: sorted(attempts, key=lambda e: e.at) for key, attempts in calls.items()}


def retry_after_violations(calls: dict[str, list[LoggedRequest]],
                           retry_after: float) -> list[tuple[str, float]]:
    """Each 429 whose call tried again sooner than ``retry_after`` later, or never again."""
    bad = []
    for key, attempts in calls.items():
        for answered, following in zip(attempts, [*attempts[1:], None], strict=True):
            if answered.status != 429:
                continue
            gap = math.inf if following is None else following.at - answered.at
            if following is None or gap < retry_after:
                bad.append((key, gap))
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("served", [False, True], ids=["in-process", "served"])
def test_500_mixed_requests_under_faults(served: bool) -> None:
    emu = Emulator(faults=FAULTS)

    async def go() -> tuple[dict[str, list[str]], dict[str, list[str]], int, float]:
        async with client_for(emu, served) as client:
            started = time.monotonic()
            created = await mixed_run(client, "acceptance")
            took = time.monotonic() - started
            sent = client.requests_sent
            log_size = len(emu.request_log())
            emu.set_faults(Faults())
            listed = {path: [o["id"] async for o in client.list_all(path)] for path in KINDS}
            assert log_size == sent  # every attempt reached the emulator and was logged
            return created, listed, sent, took

    created, listed, sent, took = run(go())
    log = emu.request_log()[:sent]
    calls = attempts_by_call(log)

    # it completed: every call ended in a 200 the client saw
    assert len(calls) == TOTAL_CALLS == 500
    assert all(a[-1].status == 200 and a[-1].fault == "none" for a in calls.values())

    # nothing was created twice: one object per distinct create call, per kind
    for path in KINDS:
        assert len(created[path]) == len(set(created[path])) == PER_KIND
        assert sorted(listed[path]) == sorted(created[path])
    for key, attempts in calls.items():
        if "-create-" in key:  # one commit; any later success was a replay of it
            commits = [a for a in attempts if a.status == 200 and not a.replayed]
            assert len(commits) == 1, (key, attempts)

    # every Retry-After was waited out, on the emulator's clock
    assert retry_after_violations(calls, RETRY_AFTER) == []

    # and the run met every fault (the seed is fixed; timing decides the 429s)
    faults = [e.fault for e in log]
    assert faults.count("rate_limit") >= 20
    assert faults.count("server_error") >= 10
    assert faults.count("drop") >= 5
    assert any(e.replayed for e in log)
    assert took < 30, took  # the waits are 50 ms each: no retry waited a second or more


def test_the_retry_after_check_catches_a_client_that_ignores_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: with Retry-After unread, the same check finds retries that came too soon."""
    monkeypatch.setattr(responses_module, "parse_retry_after", lambda *_: None)
    emu = Emulator(faults=Faults(rate_limit=20, seed=4, retry_after=RETRY_AFTER))

    async def go() -> None:
        async with client_for(emu, served=False, rate_limit=math.inf) as client:
            await asyncio.gather(*(
                client.request("GET", "/v1/products", idempotency_key=f"control-{i}")
                for i in range(60)), return_exceptions=True)

    run(go())
    assert retry_after_violations(attempts_by_call(emu.request_log()), RETRY_AFTER)
