"""The fleet benchmark of issue 18: ``python -m benchmarks.fleet_bench``.

``--accounts`` connected accounts (default 100), each seeded with the same generated catalog
of ``--objects`` objects (default 100, :mod:`benchmarks.catalog`), are planned against the
**served** emulator (``serve_in_thread``, ``--latency-ms`` per request) twice:

* **fan-out**: one ``plan --accounts`` run, the CLI's own fleet code
  (:func:`reconciler.cli.fleet.plan_targets`) at ``--target-parallelism``; every target is
  reached with one key, so all share that key's one rate budget (docs/fleet.md);
* **sequential**: one single-account plan per account, one after another, each with its own
  client (and so its own client limiter), as a shell loop of ``plan --stripe-account`` runs
  would; the processes' start-up (about 0.5 s each) is left out, which favours the loop.

Each is measured with latency only and with the rate limit (``--rate`` requests/s on the
client and on the emulator). The emulator's limiter is one token bucket for every request
whatever its ``Stripe-Account`` (``Faults.rate_limit``: capacity one second of requests),
the conservative reading of the budgets that docs/fleet.md states. Every plan must come out
empty (the harness checks), and the requests are the emulator's own count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from reconciler.cli.context import Settings
from reconciler.cli.fleet import Fleet, plan_targets
from reconciler.cli.plan import plan_from_manifests
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.fleet import FleetPlan, Target
from reconciler.manifests import load_valid
from reconciler.plan import PlanOptions

from . import catalog as gen
from .common import KEY, load, requests
from .plan_bench import seed
from .report import machine


def connected(emulator: Emulator, n: int) -> list[str]:
    """``n`` connected accounts created through the API, as a platform creates them."""
    with httpx.Client(transport=emulator.transport(), base_url="https://api.stripe.com",
                      headers={"Authorization": f"Bearer {KEY}"}) as http:
        return [http.post("/v1/accounts", data={"type": "custom"}).json()["id"]
                for _ in range(n)]


def _settings(url: str, rate: float) -> Settings:
    return Settings(api_key=KEY, api_base=url, emulator=False, emulator_state="",
                    stripe_account=None, live=False, verbose=0,
                    rate_limit=rate or math.inf)


async def _fan_out(settings: Settings, targets: list[Target], paths: tuple[str, ...],
                   parallelism: int) -> list[bool]:
    fleet = Fleet(accounts="targets.yaml", target_parallelism=parallelism)
    result: FleetPlan = await plan_targets(settings, targets, paths, None, (), PlanOptions(),
                                           fleet)
    if result.failed:
        raise RuntimeError(f"fan-out: {[(t.target.name, t.error) for t in result.failed][:3]}")
    return [t.plan is not None and t.plan.has_changes for t in result]


async def _sequential(settings: Settings, targets: list[Target],
                      paths: tuple[str, ...]) -> list[bool]:
    changed = []
    for target in targets:
        plan = await plan_from_manifests(replace(settings, stripe_account=target.account),
                                         paths, None, (), PlanOptions())
        changed.append(plan.has_changes)
    return changed


def measure(emulator: Emulator, url: str, how: str, targets: list[Target],
            paths: tuple[str, ...], latency_ms: float, rate: float,
            parallelism: int) -> dict[str, Any]:
    """One timed run of ``how`` (fan-out or sequential), with a fresh emulator bucket."""
    emulator.set_faults(Faults(latency_ms=latency_ms, rate_limit=rate or None))
    emulator.reset_request_counts()
    settings = _settings(url, rate)
    load_before = load()
    started = time.perf_counter()
    changed = asyncio.run(_fan_out(settings, targets, paths, parallelism) if how == "fan-out"
                          else _sequential(settings, targets, paths))
    wall = time.perf_counter() - started
    if any(changed):
        raise RuntimeError(f"{how}: {sum(changed)} seeded account(s) do not plan empty")
    issued, refused, _ = requests(emulator)
    return {"how": how, "rate": rate or None, "wall_s": wall, "requests": issued,
            "requests_429": refused, "load_before": load_before, "load_after": load()}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100, help="connected accounts")
    parser.add_argument("--objects", type=int, default=100, help="catalog size per account")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--rate", type=float, default=25.0,
                        help="requests/s, emulator and client; 0 = unlimited (default 25)")
    parser.add_argument("--target-parallelism", type=int, default=4,
                        help="fan-out targets at once (default 4, the CLI's)")
    parser.add_argument("--json", type=Path, help="write the results here")
    return parser.parse_args(argv)


def table(runs: list[dict[str, Any]]) -> str:
    lines = ["| run | rate limit | requests | 429s | wall s | sequential ÷ fan-out |",
             "|---|---|---|---|---|---|"]
    walls = {(r["how"], r["rate"]): r["wall_s"] for r in runs}
    for r in runs:
        ratio = (f"{walls[('sequential', r['rate'])] / r['wall_s']:.2f}"
                 if r["how"] == "fan-out" else "")
        lines.append(f"| {r['how']} | {r['rate'] or 'none'} | {r['requests']} | "
                     f"{r['requests_429']} | {r['wall_s']:.2f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    results: dict[str, Any] = {
        "command": "python -m benchmarks.fleet_bench "
                   + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "machine": machine(), "runs": []}
    emulator = Emulator()
    with tempfile.TemporaryDirectory(prefix="reconciler-fleet-bench-") as tmp:
        paths = (str(gen.write(gen.catalog(args.objects), Path(tmp) / "catalog")),)
        manifest = load_valid([Path(paths[0])])
        print(f"seeding {args.accounts} accounts ...", file=sys.stderr, flush=True)
        accounts = connected(emulator, args.accounts)
        for account in accounts:
            asyncio.run(seed(emulator, manifest, account))
        targets = [Target(f"t{i}", account=a) for i, a in enumerate(accounts)]
        with serve_in_thread(emulator) as url:
            for rate in sorted({0.0, args.rate}):
                for how in ("fan-out", "sequential"):
                    print(f"{how}, rate {rate or 'none'} ...", file=sys.stderr, flush=True)
                    results["runs"].append(measure(emulator, url, how, targets, paths,
                                                   args.latency_ms, rate,
                                                   args.target_parallelism))
    results["machine"]["load_end"] = load()
    print(table(results["runs"]), end="")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
