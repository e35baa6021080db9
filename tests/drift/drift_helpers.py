"""Helpers for the drift acceptance tests: a managed catalog applied to the emulator, the
out-of-band changes a person makes in the dashboard, the CLI in-process, and golden files
with the emulator's random ids normalised."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from catalogs import CALLS_METER, PRO_MONTHLY
from click.testing import CliRunner, Result
from support import emulator_client

from reconciler.apply import apply
from reconciler.cli import main
from reconciler.drift import DriftReport, detect
from reconciler.emulator import Emulator
from reconciler.kinds import KINDS
from reconciler.manifests import Manifest, load_valid
from reconciler.ownership import TAG_PREFIX
from reconciler.plan import PlanOptions, make_plan, read_for
from reconciler.stripe import StripeClient

T = TypeVar("T")
GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"text": "txt", "json": "json", "markdown": "md", "html": "html"}

CATALOG = """\
features:
  sso: {name: SSO, lookup_key: sso}
  audit: {name: Audit log, lookup_key: audit_log}
meters:
""" + CALLS_METER + """products:
  pro:
    name: Pro
    description: For teams
    features: [sso, audit]
    default_price: pro-monthly
    metadata: {tier: "2", owner: growth}
  basic:
    name: Basic
prices:
""" + PRO_MONTHLY + """    lookup_key: pro_monthly
    nickname: Pro monthly
  pro-yearly:
    product: pro
    currency: usd
    unit_amount: 15000
    recurring: {interval: year}
    nickname: Pro yearly
  api-calls:
    product: basic
    currency: usd
    unit_amount: 2
    recurring: {interval: month, usage_type: metered, meter: calls}
coupons:
  spring:
    percent_off: 10
    duration: once
    name: Spring
  loyal:
    percent_off: 5
    duration: forever
promotion_codes:
  spring-code:
    code: SPRING
    promotion: {type: coupon, coupon: spring}
tax_rates:
  vat:
    display_name: VAT
    percentage: 20
    inclusive: false
shipping_rates:
  standard:
    display_name: Standard
    fixed_amount: {amount: 500, currency: usd}
    prevent_destroy: true
payment_method_configurations:
  checkout:
    name: Checkout
    card: {display_preference: {preference: "on"}}
webhook_endpoints:
  hooks:
    url: https://example.com/hooks
    enabled_events: [invoice.paid]
    api_version: 2026-10-28.endive
  audit-hooks:
    url: https://example.com/audit
    enabled_events: [customer.created]
    api_version: 2026-10-28.endive
"""


def run(emu: Emulator, work: Callable[[StripeClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with emulator_client(emu) as client:
            return await work(client)
    return asyncio.run(go())


def write_catalog(directory: Path, text: str = CATALOG) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "catalog.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def converged(tmp_path: Path, text: str = CATALOG) -> tuple[Emulator, Manifest, Path]:
    """An emulator holding the catalog, applied; (emulator, manifest, catalog path)."""
    emu = Emulator()
    path = write_catalog(tmp_path / "catalog", text)
    manifest = load_valid([path])
    plan = run(emu, lambda c: make_plan(manifest, c, PlanOptions()))
    result = run(emu, lambda c: apply(plan, c))
    assert result.ok, [(c.address, str(e)) for c, e in result.failed]
    again = run(emu, lambda c: make_plan(manifest, c, PlanOptions()))
    assert not again.has_changes, [(c.address, c.diffs) for c in again.pending]
    return emu, manifest, path


# -- what a person does in the dashboard ----------------------------------------------------------

async def find(client: StripeClient, kind: str, **match: Any) -> dict[str, Any]:
    spec = KINDS[kind]
    params = {"active": "false"} if match.pop("archived", False) else None
    async for obj in client.list_all(spec.path, params, expand=spec.list_expand):
        if all(obj.get(k) == v or (obj.get("metadata") or {}).get("reconciler_key") == v
               and k == "key" for k, v in match.items()):
            return obj
    raise LookupError(f"no {kind} with {match}")


async def edit(client: StripeClient, kind: str, key: str, **params: Any) -> dict[str, Any]:
    obj = await find(client, kind, key=key)
    return await client.update(KINDS[kind].path, obj["id"], params)


async def remove(client: StripeClient, kind: str, key: str) -> None:
    obj = await find(client, kind, key=key)
    await client.delete(KINDS[kind].path, obj["id"])


async def detach(client: StripeClient, product: str, lookup_key: str) -> None:
    path = f"/v1/products/{product}/features"
    async for attachment in client.list_all(path):
        if attachment["entitlement_feature"]["lookup_key"] == lookup_key:
            await client.delete(path, attachment["id"])
            return
    raise LookupError(lookup_key)


async def untag(client: StripeClient, kind: str, key: str) -> None:
    """Clear every tag of the tool, as a person taking the object out of its hands would."""
    obj = await find(client, kind, key=key)
    tags = {name: "" for name in obj.get("metadata") or {} if name.startswith(TAG_PREFIX)}
    await client.update(KINDS[kind].path, obj["id"], {"metadata": tags})


# -- every sort of drift at once (golden files, the browser) ---------------------------------

BASELINE = """\
accept:
  - prices.pro-monthly:nickname     # one field of one entry
  - products.pro:metadata.*         # any metadata key of one product
  - tax_rates.vat                   # a whole entry, whatever its drift
  - unmanaged:coupons:*             # coupons made by hand
"""


async def a_day_in_the_dashboard(c) -> None:
    """One out-of-band change of every sort."""
    await edit(c, "prices", "pro-monthly", nickname="Pro (monthly)")
    await edit(c, "products", "pro", description="For small teams",
               metadata={"tier": "3", "owner": "", "note": "vip"})
    await edit(c, "tax_rates", "vat", active=False)
    await edit(c, "prices", "pro-yearly", active=False)
    meter = await find(c, "meters", event_name="api_call")
    await c.request("POST", c.object_path(KINDS["meters"].path, meter["id"], "deactivate"))
    await remove(c, "coupons", "spring")
    await remove(c, "webhook_endpoints", "audit-hooks")
    await detach(c, "pro", "audit_log")
    await untag(c, "shipping_rates", "standard")
    await c.create("/v1/coupons", {"id": "summer", "percent_off": 15, "name": "Summer"})
    await c.create("/v1/webhook_endpoints", {"url": "https://example.org/new|hook",
                                             "enabled_events": ["*"],
                                             "description": "<made by hand>"})


def scenario(tmp_path):
    """(state file, catalog without `coupons.loyal` (an orphan now), baseline file)."""
    emu, _, _ = converged(tmp_path)
    run(emu, a_day_in_the_dashboard)
    smaller = write_catalog(tmp_path / "now", CATALOG.replace(
        "  loyal:\n    percent_off: 5\n    duration: forever\n", ""))
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(BASELINE)
    return save_state(emu, tmp_path / "state.json"), smaller, baseline


# -- the command line ---------------------------------------------------------------------------

def save_state(emu: Emulator, path: Path) -> Path:
    """The emulator's account as a state file for ``--emulator``."""
    path.write_text(json.dumps(emu.state()), "utf-8")
    return path


def cli(*args: str, state: Path) -> Result:
    """``reconciler --emulator --emulator-state STATE ARGS...`` in-process (rate limit off)."""
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(
            main, ["--emulator", "--emulator-state", str(state), *args],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None}, catch_exceptions=False)


def shown(result: Result) -> str:
    return f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# -- golden files -------------------------------------------------------------------------------

_ID = re.compile(r"\b(acct|price|prod|feat_test|mtr_test|txr|shr|pmc|we|promo|prodft)_"
                 r"[A-Za-z0-9]{8,}\b")


def normalise(text: str) -> str:
    """Random ids become ``<prefix>_<n>``, numbered in order of first appearance (reports
    list objects in a deterministic order, so the numbering is stable)."""
    seen: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        token, prefix = match.group(0), match.group(1)
        if token not in seen:
            n = sum(1 for v in seen.values() if v.startswith(prefix + "_")) + 1
            seen[token] = f"{prefix}_{'ACCOUNT' if prefix == 'acct' else n}"
        return seen[token]

    return _ID.sub(name, text)


def check_golden(name: str, text: str) -> None:
    """Compare with tests/drift/golden/NAME; ``UPDATE_GOLDENS=1`` rewrites it instead."""
    path = GOLDEN / name
    text = normalise(text)
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        return
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDENS=1 to write it"
    expected = path.read_text("utf-8")
    assert text == expected, f"{path} differs (UPDATE_GOLDENS=1 rewrites it):\n{text}"


def drift_of(emu: Emulator, manifest: Manifest, **options: Any) -> DriftReport:
    """The drift report, through the library."""
    live = run(emu, lambda c: read_for(manifest, c))
    return detect(manifest, live, stack="default", **options)


def summary_of(report: DriftReport) -> list[tuple[str, str, list[str]]]:
    """(category, address, diff paths) per item, in report order."""
    return [(i.category, i.address, [d.path for d in i.diffs]) for i in report.items]
