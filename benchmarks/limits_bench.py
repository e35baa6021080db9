"""Issue 17's benchmarks: Stripe's real limiters (``python -m benchmarks.limits_bench``).

Against the served emulator with ``Faults(limits=...)`` (Stripe's global budget per mode,
25/s per endpoint, search 20/s, a concurrency limit) and ``--latency-ms`` per request:

* **apply** of ``--apply-n`` mixed creates (the catalog of :mod:`benchmarks.catalog`) and of
  as many price creates (one product, seeded first), live model, the client at its live-key
  pace (92/s global, 23/s per endpoint), ``--parallelism`` changes and as many requests in
  flight. Bound (:func:`phase_bound`, seconds): phase after phase, the longer of the phase's
  requests at the global budget and its busiest endpoint's at 25/s, plus one latency, with
  Stripe's figures (100, 25): a phase holds the kinds of one dependency depth, and the next
  starts only once it has finished: the bound of the barrier between phases. The apply has
  none: a change waits only for the changes it may depend on, so the dependency bound
  (:func:`dependency_bound`) is the longest of all the requests at the global budget, the
  busiest endpoint's at 25/s and the longest chain of groups that wait for each other
  (each group's busiest endpoint at 25/s plus a latency), each term reported. Beside them,
  the old yardstick ``min(global, sum of the budgets of the endpoints in play)``, which no
  apply with dependencies can reach.
* **plan** of an account of ``--account-prices`` prices made by an application (untagged)
  plus a catalog of ``--catalog-n`` objects, live and sandbox models, the client at the mode's
  pace, the emulator served by a forked process (:func:`served_apart`). Yardsticks: the minimum of pages (``sum(ceil(N_kind / 100))`` over the kinds read),
  the rate bound (the most pages of one endpoint / 25, or all pages / the global budget,
  whichever is longer, plus one latency), the partitioned critical path (the prices' pages /
  the most chains the client reads a list in × latency: 16 at the CLI's 24 requests in
  flight, 8 before the chains followed the budget), and the old chain of pages (the prices'
  pages × latency), computed, not run (it takes minutes by construction);
* **peak RSS** of that plan in a subprocess (``rss_child``, no latency, no limits).

One run each (the figures are seconds to minutes long); the load average is recorded beside.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from reconciler.apply import apply
from reconciler.apply.schedule import prerequisites
from reconciler.emulator import Emulator, EmulatorServer, Faults, serve_in_thread
from reconciler.kinds import KINDS
from reconciler.manifests import load_valid
from reconciler.plan import Plan, PlanOptions, make_plan
from reconciler.stripe.limits import ENDPOINT_RATE, GLOBAL_RATES
from reconciler.stripe.ratelimit import default_rate, endpoint_of

from . import catalog as gen
from .common import client, load, requests
from .plan_bench import PAGE, bench_rss
from .report import machine

CLIENT_RATE = {"live": default_rate(True), "sandbox": default_rate(False)}
"""The client's own global pace for the mode's key (reconciler.stripe.ratelimit)."""


def _plan_in_memory(emulator: Emulator, manifest) -> Any:
    async def go():
        async with client(None, emulator) as stripe:
            return await make_plan(manifest, stripe, PlanOptions())
    return asyncio.run(go())


def _apply_in_memory(emulator: Emulator, manifest) -> None:
    async def go():
        async with client(None, emulator) as stripe:
            plan = await make_plan(manifest, stripe, PlanOptions())
            result = await apply(plan, stripe, parallelism=64)
            if not result.ok:
                raise RuntimeError(f"seeding failed: {[str(e) for _, e in result.failed][:3]}")
    asyncio.run(go())


def prices_doc(n: int) -> dict[str, dict[str, Any]]:
    doc: dict[str, dict[str, Any]] = {"products": {"product-0": {"name": "Product 0"}},
                                      "prices": {}}
    for i in range(n):
        doc["prices"][f"price-{i}"] = {"product": "product-0", "currency": "usd",
                                       "unit_amount": 100 + i}
    return doc


def phase_bound(plan: Plan, latency: float, extra: int = 0) -> float:
    """The seconds ``plan``'s requests need at Stripe's live budgets: per phase, the longer
    of all its requests at the global rate and its busiest endpoint's at the endpoint rate,
    plus one latency (its last answer); ``extra`` requests outside the plan's steps (the
    stack's records, written once every change is done) count as one more phase."""
    total = 0.0
    for phase in sorted({c.phase for c in plan.pending}):
        per_endpoint = Counter(endpoint_of(step.method, step.path) for c in plan.pending
                               if c.phase == phase for step in c.steps)
        total += max(sum(per_endpoint.values()) / GLOBAL_RATES["live"],
                     max(per_endpoint.values(), default=0) / ENDPOINT_RATE) + latency
    if extra > 0:
        total += extra / ENDPOINT_RATE + latency
    return total


def dependency_bound(plan: Plan, latency: float, extra: int = 0) -> dict[str, float]:
    """The seconds ``plan``'s requests need at Stripe's live budgets when each change waits
    only for the changes it may depend on (:func:`reconciler.apply.schedule.prerequisites`):
    the longest of all requests at the global rate, the busiest endpoint's at the endpoint
    rate (each plus one latency, the last answer) and the longest chain of groups that wait
    for each other (a kind's changes of one phase; products, then prices), each link its
    busiest endpoint's requests at the endpoint rate plus one latency. A link counts its
    busiest endpoint, not all its requests: a price's default-price step goes to the
    products' update endpoint, beside the next price's create. ``extra`` requests outside
    the plan's steps (the stack's records, written once every change is done) come after,
    as in :func:`phase_bound`. Returns each term and the bound (``bound_s``)."""
    per_group: dict[tuple[int, str], Counter[str]] = {}
    for change in plan.pending:
        per_group.setdefault((change.phase, change.kind), Counter()).update(
            endpoint_of(step.method, step.path) for step in change.steps)
    chain: dict[tuple[int, str], float] = {}
    for (phase, kind, _), waits in sorted(prerequisites(plan.pending).items()):
        link = max(per_group[phase, kind].values(), default=0) / ENDPOINT_RATE + latency
        chain[phase, kind] = link + max((chain[w] for w in waits), default=0.0)
    per_endpoint: Counter[str] = sum(per_group.values(), Counter())
    terms = {"global_s": sum(per_endpoint.values()) / GLOBAL_RATES["live"] + latency,
             "busiest_endpoint_s": max(per_endpoint.values(), default=0) / ENDPOINT_RATE
             + latency,
             "chain_s": max(chain.values(), default=0.0)}
    after = extra / ENDPOINT_RATE + latency if extra > 0 else 0.0
    return terms | {"bound_s": max(terms.values()) + after}


def bench_apply(label: str, doc: dict[str, Any], seed: dict[str, Any] | None, latency_ms: float,
                parallelism: int, tmp: Path) -> dict[str, Any]:
    emulator = Emulator()
    if seed is not None:
        _apply_in_memory(emulator, load_valid([gen.write(seed, tmp / f"{label}-seed")]))
    manifest = load_valid([gen.write(doc, tmp / label)])
    plan = _plan_in_memory(emulator, manifest)
    emulator.set_faults(Faults(latency_ms=latency_ms, limits="live"))
    emulator.reset_request_counts()

    async def run(url: str):
        async with client(url, rate=CLIENT_RATE["live"], max_concurrency=parallelism) as stripe:
            started = time.perf_counter()
            result = await apply(plan, stripe, parallelism=parallelism)
            return result, time.perf_counter() - started

    load_before = load()
    with serve_in_thread(emulator) as url:
        result, wall = asyncio.run(run(url))
    issued, refused, per_route = requests(emulator)
    writes = {route: n for route, n in per_route.items() if not route.startswith("GET")}
    bound = min(GLOBAL_RATES["live"], ENDPOINT_RATE * len(writes))
    planned = sum(len(c.steps) for c in plan.pending)
    phased = phase_bound(plan, latency_ms / 1000, issued - planned)
    needs = dependency_bound(plan, latency_ms / 1000, issued - planned)
    return {"label": label, "changes": len(result.applied), "ok": result.ok,
            "requests": issued, "requests_429": refused, "wall_s": wall,
            "requests_per_s": issued / wall, "endpoints": len(writes),
            "phases": len({c.phase for c in plan.pending}),
            "phase_bound_s": phased, "share_of_phase_bound": phased / wall,
            "dependency_bound": needs,
            "share_of_dependency_bound": needs["bound_s"] / wall,
            "bound_all_endpoints_at_once": bound,
            "share_of_bound_all_at_once": issued / wall / bound,
            "share_of_one_endpoint": issued / wall / ENDPOINT_RATE,
            "load_before": load_before, "load_after": load()}


def seed_account(emulator: Emulator, prices: int, batch: int = 500) -> None:
    """``prices`` prices of one untagged product, as an application would have made them."""
    async def go():
        async with client(None, emulator, max_concurrency=batch) as stripe:
            product = await stripe.request("POST", "/v1/products", {"name": "App product"})
            for start in range(0, prices, batch):
                await asyncio.gather(*(
                    stripe.request("POST", "/v1/prices", {
                        "product": product["id"], "currency": "usd", "unit_amount": 1 + i})
                    for i in range(start, min(prices, start + batch))))
    asyncio.run(go())


@contextlib.contextmanager
def served_apart(emulator: Emulator) -> Iterator[str]:
    """The emulator served by a forked child process, which inherits the seeded account: the
    client and the server each have their own interpreter lock (and core). In one process
    they took turns, and 1,000 pages of 100 prices cost ~120 s of their shared CPU, three
    times the rate bound. Controls and counts go through ``/_emulator/``."""
    server = EmulatorServer(emulator, "127.0.0.1", 0)
    pid = os.fork()
    if pid == 0:  # the child serves until killed
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            os._exit(0)
    server.server_close()
    try:
        yield server.url
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


def bench_plan(emulator: Emulator, manifest, mode: str, latency_ms: float) -> dict[str, Any]:
    chains = [0]

    async def run(url: str):
        async with client(url, rate=CLIENT_RATE[mode]) as stripe:  # the CLI's requests in flight
            chains[0] = stripe.list_chains
            started = time.perf_counter()
            plan = await make_plan(manifest, stripe, PlanOptions())
            return plan, time.perf_counter() - started

    load_before = load()
    with served_apart(emulator) as url:
        httpx.post(f"{url}/_emulator/faults", json={"latency_ms": latency_ms, "limits": mode})
        httpx.delete(f"{url}/_emulator/requests")
        plan, wall = asyncio.run(run(url))
        seen = httpx.get(f"{url}/_emulator/requests", params={"log": "true"}).json()
    per_route = seen["counts"]
    issued = sum(per_route.values())
    refused = sum(1 for entry in seen["log"] if entry["status"] == 429)
    lists = {route: n for route, n in per_route.items() if route.startswith("GET")}
    live = _plan_in_memory_counts(emulator, manifest)
    pages = {kind: max(1, math.ceil(n / PAGE)) for kind, n in live.items()}
    minimum = sum(pages.values())
    latency = latency_ms / 1000
    busiest = max(lists.values())
    rate_bound = max(busiest / ENDPOINT_RATE, issued / GLOBAL_RATES[mode]) + latency
    critical = math.ceil(pages["prices"] / chains[0]) * latency
    return {"mode": mode, "pending": len(plan.pending), "requests": issued,
            "requests_429": refused, "minimum_pages": minimum,
            "requests_vs_minimum": issued / minimum, "per_route": per_route,
            "wall_s": wall, "rate_bound_s": rate_bound, "partitioned_critical_path_s": critical,
            "chains": chains[0],
            "wall_vs_bound": wall / max(rate_bound, critical),
            "old_chain_s": pages["prices"] * latency,
            "load_before": load_before, "load_after": load()}


def _plan_in_memory_counts(emulator: Emulator, manifest) -> dict[str, int]:
    """Objects per kind the plan reads, counted without latency or limits."""
    from reconciler.plan import read_for

    async def go():
        async with client(None, emulator) as stripe:
            return await read_for(manifest, stripe)
    live = asyncio.run(go())
    return {kind: len(objs) for kind, objs in live.objects.items() if kind in KINDS
            and objs is not None and kind in _read_kinds(manifest)}


def _read_kinds(manifest) -> set[str]:
    from reconciler.account import needed_kinds
    return set(needed_kinds(manifest))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--apply-n", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=40)
    parser.add_argument("--account-prices", type=int, default=100_000)
    parser.add_argument("--catalog-n", type=int, default=1000)
    parser.add_argument("--modes", default="live,sandbox")
    parser.add_argument("--only", choices=("apply", "plan"),
                        help="run only the apply or only the plan benchmarks (default: both)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "command": "python -m benchmarks.limits_bench " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "config": vars(args) | {"json": str(args.json)}, "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="reconciler-limits-") as tmp_name:
        tmp = Path(tmp_name)
        if args.only in (None, "apply"):
            results["apply"] = _applies(args, tmp)
        if args.only in (None, "plan"):
            results.update(_plans(args, tmp))
    results["machine"]["load_end"] = machine()["load"]
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=1,
                     default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


def _applies(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    print("[apply] mixed creates ...", file=sys.stderr, flush=True)
    mixed = bench_apply("mixed", gen.catalog(args.apply_n), None, args.latency_ms,
                        args.parallelism, tmp)
    print("[apply] price creates ...", file=sys.stderr, flush=True)
    seed = {"products": prices_doc(0)["products"]}
    priced = bench_apply("prices", prices_doc(args.apply_n), seed, args.latency_ms,
                         args.parallelism, tmp)
    return [mixed, priced]


def _plans(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    print(f"[plan] seeding {args.account_prices} prices ...", file=sys.stderr, flush=True)
    emulator = Emulator()
    started = time.perf_counter()
    seed_account(emulator, args.account_prices)
    directory = gen.write(gen.catalog(args.catalog_n), tmp / "catalog")
    manifest = load_valid([directory])
    _apply_in_memory(emulator, manifest)
    results["seed_s"] = time.perf_counter() - started
    results["plan"] = []
    for mode in args.modes.split(","):
        print(f"[plan] {mode} ...", file=sys.stderr, flush=True)
        results["plan"].append(bench_plan(emulator, manifest, mode, args.latency_ms))
    print("[plan] peak RSS ...", file=sys.stderr, flush=True)
    results["rss"] = bench_rss(emulator, directory)
    return results


if __name__ == "__main__":
    main()
