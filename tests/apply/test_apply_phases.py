"""A mixed apply against Stripe's live limits (the emulator's ``limits="live"`` model): the
kinds of one dependency depth run at once, so several create endpoints are busy together,
within the budgets (no 429), and a kind still starts only once what it needs has finished.
And ``apply --parallelism`` is what reaches Stripe: the client lets as many requests through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import KEY, client, load, plan_of, write_manifest
from click.testing import CliRunner

from reconciler.apply import ApplyResult, apply
from reconciler.cli import main
from reconciler.emulator import Emulator, Faults, serve_in_thread
from reconciler.emulator.requestlog import LoggedRequest
from reconciler.kinds import KINDS
from reconciler.plan import Plan
from reconciler.stripe.limits import GLOBAL_RATES
from reconciler.stripe.ratelimit import default_rate

LATENCY_MS = 20
PER_KIND = 10


def _mixed() -> str:
    """60 creates: five kinds that need nothing, then prices of the products."""
    lines = ["tax_rates:"]
    lines += [f"  vat-{i}: {{display_name: VAT {i}, percentage: {i + 1}, inclusive: false}}"
              for i in range(PER_KIND)]
    lines += ["shipping_rates:"]
    lines += [f"  ship-{i}: {{display_name: Ship {i}, fixed_amount: {{amount: {100 + i}, "
              "currency: usd}}" for i in range(PER_KIND)]
    lines += ["features:"]
    lines += [f"  feat-{i}: {{name: Feature {i}, lookup_key: feat_{i}}}" for i in range(PER_KIND)]
    lines += ["webhook_endpoints:"]
    lines += [f"  hook-{i}: {{url: 'https://example.com/h/{i}', enabled_events: [invoice.paid]}}"
              for i in range(PER_KIND)]
    lines += ["products:"]
    lines += [f"  prod-{i}: {{name: Product {i}}}" for i in range(PER_KIND)]
    lines += ["prices:"]
    lines += [f"  price-{i}: {{product: prod-{i}, currency: usd, unit_amount: {100 + i}}}"
              for i in range(PER_KIND)]
    return "\n".join(lines) + "\n"


def _spans(entries: Iterable[LoggedRequest], latency: float) -> list[tuple[float, float, str]]:
    """(start, end, endpoint) per request: the log stamps each once its latency has passed."""
    return [(e.at - latency, e.at, f"{e.method} {e.path}") for e in entries]


def _peak(spans: list[tuple[float, float, str]], distinct: bool = False) -> int:
    """The most requests (or, ``distinct``, endpoints) in flight at one instant."""
    best = 0
    for start, _, _ in spans:
        here = [name for s, e, name in spans if s <= start < e]
        best = max(best, len(set(here)) if distinct else len(here))
    return best


async def _apply(emu: Emulator, plan: Plan, parallelism: int, **options: Any) -> ApplyResult:
    async with client(emu, max_concurrency=parallelism, **options) as stripe:
        return await apply(plan, stripe, parallelism=parallelism)


def test_a_mixed_apply_keeps_several_create_endpoints_busy_within_the_live_limits(tmp_path):
    emu = Emulator()
    plan = plan_of(emu, load(write_manifest(tmp_path, _mixed())))
    assert len(plan.pending) == 6 * PER_KIND
    emu.set_faults(Faults(latency_ms=LATENCY_MS, limits="live"))
    emu.reset_request_counts()

    # the client at its live-key pace (92/s; 23/s per endpoint), 32 changes at once
    result = asyncio.run(_apply(emu, plan, parallelism=32, rate_limit=default_rate(True)))

    assert result.ok, result.failed
    log = list(emu.request_log())
    assert [e for e in log if e.status == 429] == []
    creates = {KINDS[name].path: name for name in KINDS}
    spans = _spans((e for e in log if e.method == "POST" and e.path in creates),
                   LATENCY_MS / 1000)
    assert len(spans) == 6 * PER_KIND
    assert _peak([s for s in spans if creates[s[2].split()[1]] != "prices"], distinct=True) >= 4
    first_price = min(s for s, _, name in spans if name == "POST /v1/prices")
    assert first_price >= max(e for _, e, name in spans if name == "POST /v1/products")


@pytest.mark.slow
def test_apply_parallelism_is_the_requests_in_flight(tmp_path):
    """Each change sends one request at a time, so --parallelism N needs N requests in
    flight: the client's own bound (10 by default) follows it, or a higher N would only
    queue in the client. The rate limits are raised here so that only the bound counts."""
    n, latency_ms = 30, 100
    write_manifest(tmp_path, "tax_rates:\n" + "".join(
        f"  vat-{i}: {{display_name: VAT {i}, percentage: {i + 1}, inclusive: false}}\n"
        for i in range(n)))
    emu = Emulator()
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=latency_ms))
        result = CliRunner().invoke(main, [
            "--api-base", base, "--api-key", KEY, "--rate-limit", "1000",
            "--endpoint-rate-limit", "1000", "apply", str(tmp_path), "--auto-approve",
            "--parallelism", "24"], env={"NO_COLOR": "1", "STRIPE_API_KEY": None,
                                         "STRIPE_API_BASE": None, "RECONCILER_STACK": None,
                                         "GITHUB_STEP_SUMMARY": None})
    assert result.exit_code == 0, result.output
    spans = _spans((e for e in emu.request_log() if e.method == "POST"
                    and e.path == "/v1/tax_rates"), latency_ms / 1000)
    assert len(spans) == n
    assert _peak(spans) >= 20  # 24 at best; never above the client's default 10 before


def test_the_default_parallelism_is_the_one_documented():
    """The default leaves most of a live account's budget to its other traffic (see
    docs/concepts.md#plans); the help and the docs say the same figure."""
    option = next(p for p in main.commands["apply"].params if p.name == "parallelism")
    concepts = (Path(__file__).parents[2] / "docs" / "concepts.md").read_text()
    assert f"`apply --parallelism` (default {option.default}, up to 64)" in concepts
    assert "docs/concepts.md#plans" in (option.help or "")
    assert option.default / 0.3 < GLOBAL_RATES["live"] / 2  # at 300 ms per request
