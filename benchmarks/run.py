"""The benchmark harness of issue #9: ``python -m benchmarks.run``.

For each catalog size (objects spread over every manifest kind, :mod:`benchmarks.catalog`):

* **validate**: load + validate the catalog from its YAML files (one per kind), wall time
  (best of ``--repeat``);
* **plan**: a fresh emulator is seeded by applying the catalog in-process (no latency, no
  rate limit; not measured), then served on a loopback socket (``serve_in_thread``) with
  ``--latency-ms`` per request and ``--rate`` requests/s, and the catalog is planned through
  a client paced at the same rate (best wall of ``--repeat``; the machine may be shared).
  Reported: requests issued (the emulator's own count) against the issue's minimum and the
  API's, wall time against the critical path and the rate bound, and 429s
  (:mod:`benchmarks.plan_bench`);
* **plan CPU**: ``build_plan`` on the live state already in memory, ``time.process_time``
  (best of ``--repeat``);
* **plan RSS**: a subprocess loads, validates and plans the catalog against the served
  emulator and reports its own peak RSS, ``VmHWM`` (see ``rss_child``).

Then for each ``--apply-n`` size, **apply** of that many creates against an empty served
emulator with the same latency and rate: requests/s at the CLI's own pacing, with the client
paced at ``--rate``, and one change at a time as the baseline (:mod:`benchmarks.apply_bench`).

Rate bound: the time the rate limit alone needs for the requests issued,
``(requests - burst) / rate + latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.emulator import Emulator
from reconciler.manifests import load_valid
from reconciler.stripe.client import DEFAULT_MAX_CONCURRENCY

from . import catalog as gen
from .apply_bench import bench_apply
from .plan_bench import bench_plan, bench_plan_cpu, bench_rss, bench_validate, seed
from .report import TARGETS, check_targets, machine, table


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if int(s) > 0]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="catalog sizes, comma-separated (default 100,1000,10000; "
                        "--quick: 30)")
    parser.add_argument("--latency-ms", type=float, help="emulator latency per request "
                        "(default 100; --quick: 0)")
    parser.add_argument("--rate", type=float, help="requests/s, emulator and client; 0 = "
                        "unlimited (default 25, Stripe's test-mode limit; --quick: 0)")
    parser.add_argument("--apply-n", help="apply sizes (creates), comma-separated "
                        "(default 100,1000; --quick: 20; 0 skips apply)")
    parser.add_argument("--parallelism", type=int, default=8,
                        help="apply parallelism (default 8, the CLI's)")
    parser.add_argument("--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY,
                        help="client requests in flight (default: the client's)")
    parser.add_argument("--burst", type=float, help="client token bucket size for the plan "
                        "measurement (default: the client's, rate / 4)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="best of N for plan walls, plan CPU and validate")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, no latency, no rate limit: checks the harness runs")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = _sizes(args.sizes or ("30" if quick else "100,1000,10000"))
    args.latency_ms = args.latency_ms if args.latency_ms is not None else (0.0 if quick else 100.0)
    args.rate = args.rate if args.rate is not None else (0.0 if quick else 25.0)
    args.apply_n = _sizes(args.apply_n or ("20" if quick else "100,1000"))
    args.repeat = 1 if quick else args.repeat
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    results: dict[str, Any] = {
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {"sizes": args.sizes, "latency_ms": args.latency_ms, "rate": args.rate or None,
                   "apply_n": args.apply_n, "parallelism": args.parallelism,
                   "max_concurrency": args.max_concurrency, "burst": args.burst,
                   "repeat": args.repeat},
        "machine": machine(), "targets_set": TARGETS, "sizes": [], "apply": []}
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for n in args.sizes:
            print(f"[{n}] generating, validating ...", file=sys.stderr, flush=True)
            directory = gen.write(gen.catalog(n), tmp / f"catalog-{n}")
            size: dict[str, Any] = {"n": n, "counts": gen.counts(n)}
            size.update(bench_validate(directory, args.repeat))
            manifest = load_valid([directory])
            emulator = Emulator()
            print(f"[{n}] seeding ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            asyncio.run(seed(emulator, manifest))
            size["seed_s"] = time.perf_counter() - started
            print(f"[{n}] planning against the served emulator ...", file=sys.stderr, flush=True)
            plan = bench_plan(emulator, manifest, args.latency_ms, args.rate,
                              args.max_concurrency, args.burst, args.repeat)
            live = plan.pop("_live")
            size["plan"] = plan
            size.update(bench_plan_cpu(manifest, live, args.repeat))
            print(f"[{n}] peak RSS ...", file=sys.stderr, flush=True)
            size.update(bench_rss(emulator, directory))
            results["sizes"].append(size)
        for n in args.apply_n:
            print(f"[apply {n}] CLI pace, client at rate, one at a time ...", file=sys.stderr,
                  flush=True)
            results["apply"].append(bench_apply(n, args.latency_ms, args.rate, args.parallelism,
                                                args.max_concurrency, tmp))
    results["machine"]["load_end"] = machine()["load"]
    results["targets"] = check_targets(results)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
