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


def _lines(kind: str, n: int, entry: str) -> list[str]:
    return [f"{kind}:", *(f"  {kind[:4]}-{i}: {entry.format(i=i)}" for i in range(n))]


def _chained(taxes: int) -> str:
    """Tax rates (needed by nothing) beside products, their prices, coupons of the products
    and promotion codes of the coupons."""
    lines = _lines("tax_rates", taxes,
                   "{{display_name: VAT {i}, percentage: {i}, inclusive: false}}")
    lines += _lines("products", 6, "{{name: Product {i}}}")
    lines += _lines("prices", 6, "{{product: prod-{i}, currency: usd, unit_amount: 1{i}}}")
    lines += _lines("coupons", 3,
                    "{{percent_off: 1{i}, duration: once, applies_to: {{products: [prod-{i}]}}}}")
    lines += _lines("promotion_codes", 3,
                    "{{code: CODE{i}, promotion: {{type: coupon, coupon: coup-{i}}}}}")
    return "\n".join(lines) + "\n"


def _window(spans: list[tuple[float, float, str]], path: str) -> tuple[float, float]:
    """When the first request to create at ``path`` started and the last one ended."""
    mine = [(s, e) for s, e, name in spans if name == f"POST {path}"]
    return min(s for s, _ in mine), max(e for _, e in mine)


def test_a_change_starts_once_the_kinds_it_needs_are_done_not_the_whole_phase(tmp_path):
    """A price starts while the tax rates of its products' phase are still being created
    (nothing needs them), never before the last product; a promotion code never before the
    last coupon. Live limits, the client at its live-key pace."""
    emu = Emulator()
    plan = plan_of(emu, load(write_manifest(tmp_path, _chained(taxes=16))))
    emu.set_faults(Faults(latency_ms=LATENCY_MS, limits="live"))
    emu.reset_request_counts()

    result = asyncio.run(_apply(emu, plan, parallelism=8, rate_limit=default_rate(True)))

    assert result.ok, result.failed
    log = list(emu.request_log())
    assert [e for e in log if e.status == 429] == []
    spans = _spans((e for e in log if e.method == "POST"), LATENCY_MS / 1000)
    products, prices = _window(spans, "/v1/products"), _window(spans, "/v1/prices")
    coupons, codes = _window(spans, "/v1/coupons"), _window(spans, "/v1/promotion_codes")
    assert prices[0] >= products[1] and coupons[0] >= products[1]
    assert codes[0] >= coupons[1]
    assert prices[0] < _window(spans, "/v1/tax_rates")[1]  # a barrier would wait for them


def test_a_failed_product_starts_no_price_and_nothing_after_it(tmp_path):
    """The product's create fails (its id is taken): no price, coupon or promotion code is
    sent, nothing starts after the failure, and the tax rates under way finish."""
    emu = Emulator()
    plan = plan_of(emu, load(write_manifest(tmp_path, _chained(taxes=8))))
    asyncio.run(_squat(emu, "prod-3"))
    emu.set_faults(Faults(latency_ms=LATENCY_MS, limits="live"))
    emu.reset_request_counts()
    events: list[tuple[str, str]] = []

    async def run() -> ApplyResult:
        async with client(emu, max_concurrency=8, rate_limit=default_rate(True)) as stripe:
            return await apply(plan, stripe, parallelism=8,
                               on_event=lambda event, c, _: events.append((event, c.address)))
    result = asyncio.run(run())

    assert [c.address for c, _ in result.failed] == ["products.prod-3"]
    failed_at = events.index(("failed", "products.prod-3"))
    assert [e for e in events[failed_at:] if e[0] == "start"] == []
    sent = {e.path for e in emu.request_log() if e.method == "POST"}
    assert not sent & {"/v1/prices", "/v1/coupons", "/v1/promotion_codes"}
    later = {"prices", "coupons", "promotion_codes"}
    assert {c.address for c in plan.pending if c.kind in later} <= {
        c.address for c in result.not_attempted}
    assert {c.address for c in result.applied} | {"products.prod-3"} | {
        c.address for c in result.not_attempted} == {c.address for c in plan.pending}


async def _squat(emu: Emulator, product_id: str) -> None:
    """Someone else creates a product with the id the plan is about to use."""
    async with client(emu) as stripe:
        await stripe.request("POST", "/v1/products", {"id": product_id, "name": "Squatter"})


@pytest.mark.slow
def test_apply_parallelism_is_the_requests_in_flight(tmp_path):
    """Each change sends one request at a time, so --parallelism N needs N requests in
    flight: the client's own bound (24 by default) follows it, or a higher N would only
    queue in the client. The rate limits are raised here so that only the bound counts."""
    n, latency_ms = 48, 100
    write_manifest(tmp_path, "tax_rates:\n" + "".join(
        f"  vat-{i}: {{display_name: VAT {i}, percentage: {i + 1}, inclusive: false}}\n"
        for i in range(n)))
    emu = Emulator()
    with serve_in_thread(emu) as base:
        emu.set_faults(Faults(latency_ms=latency_ms))
        result = CliRunner().invoke(main, [
            "--api-base", base, "--api-key", KEY, "--rate-limit", "1000",
            "--endpoint-rate-limit", "1000", "apply", str(tmp_path), "--auto-approve",
            "--parallelism", "40"], env={"NO_COLOR": "1", "STRIPE_API_KEY": None,
                                         "STRIPE_API_BASE": None, "RECONCILER_STACK": None,
                                         "GITHUB_STEP_SUMMARY": None})
    assert result.exit_code == 0, result.output
    spans = _spans((e for e in emu.request_log() if e.method == "POST"
                    and e.path == "/v1/tax_rates"), latency_ms / 1000)
    assert len(spans) == n
    assert _peak(spans) >= 32  # 40 at best; never above the client's default (24) before


def test_the_default_parallelism_is_the_one_documented():
    """The default leaves most of a live account's budget to its other traffic (see
    docs/concepts.md#plans); the help and the docs say the same figure."""
    option = next(p for p in main.commands["apply"].params if p.name == "parallelism")
    concepts = (Path(__file__).parents[2] / "docs" / "concepts.md").read_text()
    assert f"`apply --parallelism` (default {option.default}, up to 64)" in concepts
    assert "docs/concepts.md#plans" in (option.help or "")
    assert option.default / 0.3 < GLOBAL_RATES["live"] / 2  # at 300 ms per request
