"""The per-size measurements: validate, plan against the served emulator, plan CPU, plan RSS.

The plan's request count and wall time are set against the issue's yardsticks (minimum
``sum(ceil(N_kind / 100))``, critical path = the most list pages of any one kind × latency)
and, beside them, against what Stripe's API makes achievable, so a miss is shown with its
reason instead of hidden by a redefined target (see :func:`minimum`).
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reconciler.apply import apply
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import load, validate
from reconciler.plan import PlanOptions, build_plan, make_plan, read_for

from .common import best, client, requests
from .common import load as load_average

PAGE = 100


def bench_validate(directory: Path, repeat: int) -> dict[str, Any]:
    def once() -> float:
        started = time.perf_counter()
        manifest, issues = load([directory])
        issues += validate(manifest)
        elapsed = time.perf_counter() - started
        assert not issues, issues[:3]
        return elapsed

    started = time.perf_counter()
    manifest, _ = load([directory])
    middle = time.perf_counter()
    validate(manifest)
    split = {"load_only_s": middle - started, "validate_only_s": time.perf_counter() - middle}
    return {"validate_s": best(repeat, once), **split}


async def seed(emulator: Emulator, manifest, account: str | None = None) -> None:
    """Apply ``manifest`` in-process (to the connected ``account`` if given), so every object
    carries the ownership a real run gives."""
    async with client(None, emulator, stripe_account=account) as stripe:
        plan = await make_plan(manifest, stripe, PlanOptions())
        result = await apply(plan, stripe, parallelism=64)
        if not result.ok:
            raise RuntimeError(f"seeding failed: {[(c.address, str(e)) for c, e in result.failed][:3]}")


def minimum(live_counts: dict[str, int], featured: int) -> dict[str, Any]:
    """The issue's minimum and critical path, and what Stripe's API makes achievable.

    Issue: ``sum(ceil(N_kind / 100))`` requests; the most pages of any one kind as the chain.
    Achievable adds what the API cannot do without: one list per empty kind (to learn it is
    empty), ``GET /v1/account`` (the live-mode guard), and one list per product that states
    features (Stripe lists them only per product, ``/v1/products/{id}/features``). Its chain
    adds that list after the product pages, as the planner reads the attachments only of
    products the list shows to exist.
    """
    pages = {kind: math.ceil(n / PAGE) for kind, n in live_counts.items()}
    lists = sum(max(1, p) for p in pages.values())
    return {"minimum": sum(pages.values()), "list_pages": lists, "account": 1,
            "feature_lists": featured, "api_minimum": lists + 1 + featured,
            "chain": max(1, *pages.values()),
            "api_chain": max([max(1, p) for p in pages.values()]
                             + [max(1, pages.get("products", 0)) + 1 if featured else 0])}


def bench_plan(emulator: Emulator, manifest, latency_ms: float, rate: float,
               max_concurrency: int, burst: float | None, repeat: int) -> dict[str, Any]:
    """Plan the seeded catalog ``repeat`` times with latency only, then ``repeat`` times with
    latency and the rate limit (emulator and client); the best wall of each is reported (the
    machine is shared), the requests of the best limited run, and every wall in ``*_runs``."""
    featured = sum(1 for e in manifest.entries["products"].values() if "features" in e.spec)

    async def live_in_memory():
        async with client(None, emulator) as stripe:
            return await read_for(manifest, stripe)

    emulator.set_faults(Faults())
    live = asyncio.run(live_in_memory())
    live_counts = {kind: len(live.objects.get(kind, [])) for kind in MANIFEST_KINDS}
    floor = minimum(live_counts, featured)

    async def served(url: str, rate: float):
        async with client(url, rate=rate, max_concurrency=max_concurrency,
                          burst=burst if rate else None) as stripe:
            started = time.perf_counter()
            plan = await make_plan(manifest, stripe, PlanOptions())
            return plan, time.perf_counter() - started

    unlimited, limited = [], []
    load_before = load_average()
    with serve_in_thread(emulator) as url:
        for _ in range(max(1, repeat)):  # latency only: how well the reads overlap
            emulator.set_faults(Faults(latency_ms=latency_ms))
            unlimited.append(asyncio.run(served(url, 0.0))[1])
        for _ in range(max(1, repeat)):  # a fresh emulator bucket each run
            emulator.set_faults(Faults(latency_ms=latency_ms, rate_limit=rate or None))
            emulator.reset_request_counts()
            plan, wall = asyncio.run(served(url, rate))
            if plan.has_changes:
                raise RuntimeError("the seeded catalog does not plan empty: "
                                   f"{[(c.address, c.diffs) for c in plan.pending][:3]}")
            limited.append((wall, *requests(emulator)))
    emulator.set_faults(Faults())
    wall, issued, refused, per_route = min(limited, key=lambda run: run[0])
    latency = latency_ms / 1000
    critical, api_critical = floor["chain"] * latency, floor["api_chain"] * latency
    tokens = (burst or max(1.0, math.floor(rate / 4))) if rate else math.inf
    rate_bound = ((max(0.0, issued - tokens) / rate) + latency) if rate else 0.0

    def ratio(x: float, y: float) -> float | None:
        return x / y if y else None

    return {
        "objects": sum(live_counts.values()), "live_counts": live_counts, **floor,
        "requests": issued, "requests_429": refused, "per_route": per_route,
        "requests_runs": [run[1] for run in limited],
        "requests_ratio": issued / max(1, floor["minimum"]),
        "requests_api_ratio": issued / floor["api_minimum"],
        "critical_path_s": critical, "api_critical_path_s": api_critical,
        "wall_s": wall, "wall_runs": [run[0] for run in limited],
        "wall_ratio": ratio(wall, critical), "wall_api_ratio": ratio(wall, api_critical),
        "wall_unlimited_s": min(unlimited), "wall_unlimited_runs": unlimited,
        "wall_unlimited_ratio": ratio(min(unlimited), critical),
        "wall_unlimited_api_ratio": ratio(min(unlimited), api_critical),
        "rate_bound_s": rate_bound, "lower_bound_s": max(api_critical, rate_bound),
        "wall_vs_lower_bound": ratio(wall, max(api_critical, rate_bound)),
        "load_before": load_before, "load_after": load_average(),
        "_live": live,
    }


def bench_plan_cpu(manifest, live, repeat: int) -> dict[str, Any]:
    def once() -> float:
        started = time.process_time()
        build_plan(manifest, live, PlanOptions())
        return time.process_time() - started

    return {"plan_cpu_s": best(repeat, once)}


def bench_rss(emulator: Emulator, directory: Path) -> dict[str, Any]:
    """Peak RSS of a subprocess that loads, validates and plans (see ``rss_child``)."""
    emulator.set_faults(Faults())
    with serve_in_thread(emulator) as url:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.rss_child", url, str(directory)],
            capture_output=True, text=True, check=True, timeout=600,
            cwd=Path(__file__).parents[1])
    child = json.loads(out.stdout.strip().splitlines()[-1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"plan_rss_mb": child["peak_mb"], "rss_after_imports_mb": child["imports_mb"],
            "child_ru_maxrss_mb": child["ru_maxrss_mb"], "rss_children_max_mb": children}
