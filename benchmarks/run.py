"""The benchmark harness of issue #9: ``python -m benchmarks.run``.

For each catalog size (objects spread over every manifest kind, :mod:`benchmarks.catalog`):

* **validate**: load + validate the catalog from its YAML files (one per kind), wall time
  (best of ``--repeat``);
* **plan**: a fresh emulator is seeded by applying the catalog in-process (no latency, no
  rate limit; not measured), then served on a loopback socket (``serve_in_thread``) with
  ``--latency-ms`` per request and ``--rate`` requests/s, and the catalog is planned through
  a client paced at the same rate. Reported: requests issued (the emulator's own count)
  against the minimum, wall time against the critical path and the rate bound, and 429s;
* **plan CPU**: ``build_plan`` on the live state already in memory, ``time.process_time``
  (best of ``--repeat``);
* **plan RSS**: a subprocess loads, validates and plans the catalog against the served
  emulator (no latency, no rate limit, to keep it short: memory does not depend on pacing)
  and reports its own peak RSS, ``VmHWM`` (interpreter and imports included; the peak right
  after the imports is reported too). Not ``ru_maxrss``: on Linux it survives ``execve`` and
  would report the harness's own size (it holds the seeded emulator), see ``rss_child``.

Then once, **apply** of ``--apply-n`` creates (a generated catalog of that size against an
empty served emulator with the same latency and rate): requests/s with ``--parallelism``
changes in flight, and one change at a time (``parallelism=1``) as the baseline.

Minimum plan requests: ``sum(ceil(N_kind / 100))`` over the ten listed kinds, with N_kind the
live objects of the kind (the account's default payment method configuration included), plus
1 for ``GET /v1/account``, plus one attachment list per product whose entry states
``features`` (Stripe lists features per product only). Critical path: the longest chain of
requests that must follow one another, times the latency: ``max(pages of any one kind,
pages of products + 1 when a product states features)``. Rate bound: the time the rate
limit alone needs for the requests issued, ``(requests - burst) / rate + latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.apply import apply
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import load, load_valid, validate
from reconciler.plan import PlanOptions, build_plan, make_plan, read_for
from reconciler.stripe import StripeClient
from reconciler.stripe.client import DEFAULT_MAX_CONCURRENCY

from . import catalog as gen

KEY = "sk_test_reconciler_benchmarks"
PAGE = 100
TARGETS = {"plan_requests_ratio": 1.1, "plan_wall_ratio": 1.5, "apply_rate_share": 0.9,
           "plan_cpu_s": 1.0, "validate_s": 1.0, "plan_rss_mb": 300.0}


def _client(url: str | None, emulator: Emulator | None = None, rate: float | None = None,
            **kwargs: Any) -> StripeClient:
    rate = rate if rate else math.inf
    if url is None:
        assert emulator is not None
        return StripeClient(KEY, api_base="http://emulator.test", rate_limit=rate,
                            transport=emulator.async_transport(), **kwargs)
    return StripeClient(KEY, api_base=url, rate_limit=rate, **kwargs)


def _requests(emulator: Emulator) -> tuple[int, int, dict[str, int]]:
    """(all requests, of which 429, per route) since the counters were reset."""
    counts = emulator.request_counts()
    limited = sum(1 for r in emulator.request_log() if getattr(r, "status", None) == 429)
    return sum(counts.values()), limited, counts


def _best(repeat: int, measure) -> float:
    return min(measure() for _ in range(max(1, repeat)))


def bench_validate(directory: Path, repeat: int) -> dict[str, Any]:
    def once() -> float:
        started = time.perf_counter()
        manifest, issues = load([directory])
        issues += validate(manifest)
        elapsed = time.perf_counter() - started
        assert not issues, issues[:3]
        return elapsed

    def split() -> tuple[float, float]:
        started = time.perf_counter()
        manifest, _ = load([directory])
        middle = time.perf_counter()
        validate(manifest)
        return middle - started, time.perf_counter() - middle

    load_s, validate_s = split()
    return {"validate_s": _best(repeat, once), "load_only_s": load_s,
            "validate_only_s": validate_s}


async def _seed(emulator: Emulator, manifest) -> None:
    async with _client(None, emulator) as client:
        plan = await make_plan(manifest, client, PlanOptions())
        result = await apply(plan, client, parallelism=64)
        if not result.ok:
            raise RuntimeError(f"seeding failed: {[(c.address, str(e)) for c, e in result.failed][:3]}")


def _minimum(live_counts: dict[str, int], featured: int) -> dict[str, Any]:
    pages = {kind: math.ceil(n / PAGE) for kind, n in live_counts.items()}
    lists = sum(max(1, p) for p in pages.values())  # an empty kind still costs one list
    chain = max([max(1, p) for p in pages.values()]
                + [max(1, pages.get("products", 0)) + 1 if featured else 0])
    return {"list_pages": lists, "account": 1, "feature_lists": featured,
            "minimum": lists + 1 + featured, "chain": chain}


def bench_plan(emulator: Emulator, manifest, latency_ms: float, rate: float | None,
               max_concurrency: int, burst: float | None = None) -> dict[str, Any]:
    featured = sum(1 for e in manifest.entries["products"].values() if "features" in e.spec)
    snapshot = {"objects": None}

    async def live_in_memory():
        async with _client(None, emulator) as client:
            return await read_for(manifest, client)

    emulator.set_faults(Faults())
    live = asyncio.run(live_in_memory())
    live_counts = {kind: len(live.objects.get(kind, [])) for kind in MANIFEST_KINDS}
    snapshot["objects"] = live_counts
    minimum = _minimum(live_counts, featured)

    async def served(url: str, rate: float | None):
        async with _client(url, rate=rate, max_concurrency=max_concurrency,
                           burst=burst if rate else None) as client:
            started = time.perf_counter()
            plan = await make_plan(manifest, client, PlanOptions())
            return plan, time.perf_counter() - started, client.retries

    with serve_in_thread(emulator) as url:
        # latency only: how well the reads overlap, whatever the rate limit
        emulator.set_faults(Faults(latency_ms=latency_ms))
        _, wall_unlimited, _ = asyncio.run(served(url, None))
        # latency and the rate limit, on the emulator and the client: the measurement
        emulator.set_faults(Faults(latency_ms=latency_ms, rate_limit=rate or None))
        emulator.reset_request_counts()
        plan, wall, retries = asyncio.run(served(url, rate))
    emulator.set_faults(Faults())
    if plan.has_changes:
        raise RuntimeError("the seeded catalog does not plan empty: "
                           f"{[(c.address, c.diffs) for c in plan.pending][:3]}")
    issued, limited, per_route = _requests(emulator)
    latency = latency_ms / 1000
    critical = minimum["chain"] * latency
    burst = (burst or max(1.0, math.floor(rate / 4))) if rate else math.inf
    rate_bound = ((max(0.0, issued - burst) / rate) + latency) if rate else 0.0
    return {
        "objects": sum(live_counts.values()), "live_counts": live_counts, **minimum,
        "requests": issued, "requests_429": limited, "retries": retries,
        "requests_ratio": issued / minimum["minimum"],
        "per_route": per_route,
        "wall_s": wall, "critical_path_s": critical,
        "wall_ratio": wall / critical if critical else None,
        "wall_unlimited_s": wall_unlimited,
        "wall_unlimited_ratio": wall_unlimited / critical if critical else None,
        "rate_bound_s": rate_bound,
        "lower_bound_s": max(critical, rate_bound),
        "wall_vs_lower_bound": wall / max(critical, rate_bound) if critical or rate_bound
        else None,
        "_live": live,
    }


def bench_plan_cpu(manifest, live, repeat: int) -> dict[str, Any]:
    def once() -> float:
        started = time.process_time()
        build_plan(manifest, live, PlanOptions())
        return time.process_time() - started

    return {"plan_cpu_s": _best(repeat, once)}


def bench_rss(emulator: Emulator, directory: Path) -> dict[str, Any]:
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


def bench_apply(n: int, latency_ms: float, rate: float | None, parallelism: int,
                max_concurrency: int, tmp: Path) -> dict[str, Any]:
    manifest = load_valid([gen.write(gen.catalog(n), tmp / f"apply-{n}")])
    out: dict[str, Any] = {"n": n, "rate": rate, "latency_ms": latency_ms}
    for label, width in (("parallel", parallelism), ("serial", 1)):
        emulator = Emulator()

        async def planned(emulator: Emulator = emulator):
            async with _client(None, emulator) as client:
                return await make_plan(manifest, client, PlanOptions())

        plan = asyncio.run(planned())
        emulator.set_faults(Faults(latency_ms=latency_ms, rate_limit=rate or None))
        emulator.reset_request_counts()

        async def run(url: str, plan=plan, width: int = width):
            async with _client(url, rate=rate, max_concurrency=max_concurrency) as client:
                started = time.perf_counter()
                result = await apply(plan, client, parallelism=width)
                return result, time.perf_counter() - started

        with serve_in_thread(emulator) as url:
            result, wall = asyncio.run(run(url))
        if not result.ok:
            raise RuntimeError(f"apply failed: {[(c.address, str(e)) for c, e in result.failed][:3]}")
        issued, limited, _ = _requests(emulator)
        out[label] = {"parallelism": width, "changes": len(result.applied),
                      "requests": issued, "requests_429": limited, "wall_s": wall,
                      "requests_per_s": issued / wall,
                      "rate_share": (issued / wall) / rate if rate else None}
    out["speedup"] = out["parallel"]["requests_per_s"] / out["serial"]["requests_per_s"]
    return out


def machine() -> dict[str, Any]:
    def sh(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "nproc": os.cpu_count(), "free_h": sh("free", "-h"),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def table(results: dict[str, Any]) -> str:
    cfg = results["config"]
    lines = [(f"latency {cfg['latency_ms']:g} ms/request, rate {cfg['rate'] or 'unlimited'} "
              f"req/s (emulator and client), client max_concurrency {cfg['max_concurrency']}, "
              f"client burst {cfg.get('burst') or 'default (rate / 4)'}"), "",
             ("| objects | plan requests (min) | ratio | 429s | critical path s | plan wall s, "
              "no rate limit | wall/critical | rate bound s | plan wall s | wall/critical "
              "| wall/max(critical, rate bound) | plan CPU s | validate s (load+validate) "
              "| plan peak RSS MB |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in results["sizes"]:
        p = size["plan"]
        lines.append(
            f"| {p['objects']} | {p['requests']} ({p['minimum']}) | {p['requests_ratio']:.2f} "
            f"| {p['requests_429']} | {p['critical_path_s']:.2f} | {p['wall_unlimited_s']:.2f} "
            f"| {_fmt(p['wall_unlimited_ratio'])} | {p['rate_bound_s']:.2f} "
            f"| {p['wall_s']:.2f} | {_fmt(p['wall_ratio'])} "
            f"| {_fmt(p['wall_vs_lower_bound'])} | {size['plan_cpu_s']:.3f} "
            f"| {size['validate_s']:.3f} ({size['load_only_s']:.2f}+{size['validate_only_s']:.2f}) "
            f"| {size['plan_rss_mb']:.0f} |")
    a = results.get("apply")
    if a:
        lines += ["", f"apply of {a['n']} objects (creates), {a['parallel']['changes']} changes:",
                  "", "| parallelism | requests | 429s | wall s | requests/s | share of rate |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for label in ("parallel", "serial"):
            r = a[label]
            lines.append(f"| {r['parallelism']} | {r['requests']} | {r['requests_429']} "
                         f"| {r['wall_s']:.2f} | {r['requests_per_s']:.1f} "
                         f"| {_fmt(r['rate_share'], '.0%')} |")
        lines.append(f"\nspeed-up over one at a time: {a['speedup']:.1f}x")
    lines += ["", "targets:"] + [f"  {'ok  ' if ok else 'MISS'} {text}"
                                 for text, ok in results["targets"]]
    return "\n".join(lines)


def check_targets(results: dict[str, Any]) -> list[tuple[str, bool]]:
    out = []
    for size in results["sizes"]:
        p, n = size["plan"], size["plan"]["objects"]
        out.append((f"{n}: plan requests {p['requests']} <= 1.1 x {p['minimum']}",
                    p["requests_ratio"] <= TARGETS["plan_requests_ratio"]))
        if p["wall_ratio"] is not None:
            limit = TARGETS["plan_wall_ratio"]
            critical = f"{p['critical_path_s']:.2f}s"
            out.append((f"{n}: plan wall {p['wall_s']:.2f}s <= 1.5 x critical path {critical}",
                        p["wall_ratio"] <= limit))
            text = (f"{n}: plan wall without rate limit {p['wall_unlimited_s']:.2f}s "
                    f"<= 1.5 x critical path {critical}")
            out.append((text, p["wall_unlimited_ratio"] <= limit))
            text = (f"{n}: plan wall {p['wall_s']:.2f}s <= 1.5 x max(critical path, rate bound) "
                    f"{p['lower_bound_s']:.2f}s")
            out.append((text, p["wall_vs_lower_bound"] <= limit))
    big = max(results["sizes"], key=lambda s: s["plan"]["objects"])
    n = big["plan"]["objects"]
    out.append((f"{n}: plan CPU {big['plan_cpu_s']:.3f}s < 1 s", big["plan_cpu_s"] < 1.0))
    out.append((f"{n}: validate {big['validate_s']:.3f}s < 1 s", big["validate_s"] < 1.0))
    out.append((f"{n}: plan peak RSS {big['plan_rss_mb']:.0f} MB < 300 MB",
                big["plan_rss_mb"] < 300))
    a = results.get("apply")
    if a and a["parallel"]["rate_share"] is not None:
        text = f"apply {a['parallel']['requests_per_s']:.1f} req/s >= 90% of {a['rate']:g}/s"
        out.append((text, a["parallel"]["rate_share"] >= TARGETS["apply_rate_share"]))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="catalog sizes, comma-separated (default 100,1000,10000; "
                        "--quick: 30)")
    parser.add_argument("--latency-ms", type=float, help="emulator latency per request "
                        "(default 100; --quick: 0)")
    parser.add_argument("--rate", type=float, help="requests/s, emulator and client; 0 = "
                        "unlimited (default 25; --quick: 0)")
    parser.add_argument("--apply-n", type=int, help="objects created by the apply measurement "
                        "(default 500; --quick: 20; 0 skips it)")
    parser.add_argument("--parallelism", type=int, default=8,
                        help="apply parallelism (default 8, the CLI's)")
    parser.add_argument("--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY,
                        help="client requests in flight (default: the client's)")
    parser.add_argument("--burst", type=float, help="client token bucket size for the plan "
                        "measurement (default: the client's, rate / 4)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for CPU and validate")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, no latency, no rate limit: checks the harness runs")
    args = parser.parse_args(argv)
    quick = args.quick
    sizes = [int(s) for s in (args.sizes or ("30" if quick else "100,1000,10000")).split(",")]
    latency = args.latency_ms if args.latency_ms is not None else (0.0 if quick else 100.0)
    rate = args.rate if args.rate is not None else (0.0 if quick else 25.0)
    apply_n = args.apply_n if args.apply_n is not None else (20 if quick else 500)
    repeat = 1 if quick else args.repeat

    results: dict[str, Any] = {
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {"sizes": sizes, "latency_ms": latency, "rate": rate or None,
                   "apply_n": apply_n, "parallelism": args.parallelism,
                   "max_concurrency": args.max_concurrency, "burst": args.burst,
                   "repeat": repeat},
        "machine": machine(), "targets_set": TARGETS, "sizes": []}
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            print(f"[{n}] generating, validating ...", file=sys.stderr, flush=True)
            directory = gen.write(gen.catalog(n), tmp / f"catalog-{n}")
            size: dict[str, Any] = {"n": n, "counts": gen.counts(n)}
            size.update(bench_validate(directory, repeat))
            manifest = load_valid([directory])
            emulator = Emulator()
            print(f"[{n}] seeding ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            asyncio.run(_seed(emulator, manifest))
            size["seed_s"] = time.perf_counter() - started
            print(f"[{n}] planning against the served emulator ...", file=sys.stderr, flush=True)
            plan = bench_plan(emulator, manifest, latency, rate, args.max_concurrency, args.burst)
            live = plan.pop("_live")
            size["plan"] = plan
            size.update(bench_plan_cpu(manifest, live, repeat))
            print(f"[{n}] peak RSS ...", file=sys.stderr, flush=True)
            size.update(bench_rss(emulator, directory))
            results["sizes"].append(size)
        if apply_n:
            print(f"[apply {apply_n}] parallel, then one at a time ...", file=sys.stderr, flush=True)
            results["apply"] = bench_apply(apply_n, latency, rate, args.parallelism,
                                           args.max_concurrency, tmp)
    results["targets"] = check_targets(results)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
