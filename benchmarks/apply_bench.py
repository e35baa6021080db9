"""Apply of N creates against an empty served emulator: achieved requests/s.

Three runs per size, each on a fresh emulator limited to ``rate`` (Stripe's 25/s in test
mode): the CLI as shipped (the client's own pacing, 23/s for a test key, kept below Stripe's
limit on purpose), the client paced at ``rate`` (``--rate-limit 25``), and one change at a
time as the baseline. Shares are given of the emulator's limit and of the client's pace, as
the two differ in the first run by design.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from reconciler.apply import apply
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.manifests import load_valid
from reconciler.plan import PlanOptions, make_plan

from . import catalog as gen
from .common import client, load, requests

RUNS = (("cli default", None, None), ("client at rate", "rate", None), ("one at a time", "rate", 1))
"""(label, client pace: None = the client's default or "rate", parallelism: None = the CLI's)."""


def bench_apply(n: int, latency_ms: float, rate: float, parallelism: int,
                max_concurrency: int, tmp: Path) -> dict[str, Any]:
    manifest = load_valid([gen.write(gen.catalog(n), tmp / f"apply-{n}")])
    out: dict[str, Any] = {"n": n, "rate": rate or None, "latency_ms": latency_ms, "runs": []}
    for label, pace, width in RUNS:
        emulator = Emulator()
        width = width or parallelism
        client_rate = rate if pace == "rate" else None

        async def planned(emulator: Emulator = emulator):
            async with client(None, emulator) as stripe:
                return await make_plan(manifest, stripe, PlanOptions())

        plan = asyncio.run(planned())
        emulator.set_faults(Faults(latency_ms=latency_ms, rate_limit=rate or None))
        emulator.reset_request_counts()

        async def run(url: str, plan=plan, width: int = width, client_rate=client_rate):
            async with client(url, rate=client_rate, max_concurrency=max_concurrency) as stripe:
                started = time.perf_counter()
                result = await apply(plan, stripe, parallelism=width)
                return result, time.perf_counter() - started, stripe.rate_limiter.rate

        load_before = load()
        with serve_in_thread(emulator) as url:
            result, wall, paced = asyncio.run(run(url))
        if not result.ok:
            raise RuntimeError(f"apply failed: {[(c.address, str(e)) for c, e in result.failed][:3]}")
        issued, refused, _ = requests(emulator)
        per_s = issued / wall
        out["runs"].append({
            "label": label, "parallelism": width, "client_rate": paced,
            "changes": len(result.applied), "requests": issued, "requests_429": refused,
            "wall_s": wall, "requests_per_s": per_s,
            "share_of_limit": per_s / rate if rate else None,
            "share_of_client_rate": None if math.isinf(paced) else per_s / paced,
            "load_before": load_before, "load_after": load()})
    runs = out["runs"]
    out["speedup"] = runs[1]["requests_per_s"] / runs[2]["requests_per_s"]
    return out
