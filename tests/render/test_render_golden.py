"""Golden files of the three plan renderers (issue #5), from one scenario against the emulator
that holds every action on every kind where Stripe allows it.

The seed catalog is applied through the library, a few unmanaged objects are created by hand
(to be adopted), and the target catalog is planned with prune, adopt and force. Random
object ids, the account id and digests are replaced in first-seen order (``price_1``,
``sha256:<digest>``), so the goldens are byte-stable. Regenerate them with
``UPDATE_GOLDENS=1 pytest tests/render``, then read the diff.

Not in the scenario because Stripe or the design does not allow it: replacing products
(refused even with force) and features (the lookup key is the identity), updating product
features (no update endpoint), and pruning meters and payment method configurations (no
metadata, so no ownership tag to prune by).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from catalogs import CALLS_METER, PRO_MONTHLY
from support import emulator_client

from reconciler.apply import apply
from reconciler.emulator import Emulator
from reconciler.manifests import Variables, load_valid
from reconciler.plan import Action, Plan, PlanOptions, make_plan
from reconciler.render import jsonout, markdown, text

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"
OPTIONS = PlanOptions(prune=True, adopt=True, force=True)

SEED = """
features:
  sso: {name: SSO, lookup_key: sso}
  audit: {name: Audit log, lookup_key: audit}
  legacy-flag: {name: Legacy flag, lookup_key: legacy_flag}
meters:
""" + CALLS_METER + """  storage:
    display_name: Storage
    event_name: storage_gb
    default_aggregation: {formula: sum}
payment_method_configurations:
  checkout:
    name: Checkout
    card: {display_preference: {preference: "on"}}
  child:
    name: Child
    parent: ${PARENT}
shipping_rates:
  standard:
    display_name: Standard
    fixed_amount: {amount: 500, currency: usd}
  express:
    display_name: Express
    fixed_amount: {amount: 1500, currency: usd}
  pickup:
    display_name: Pickup
    fixed_amount: {amount: 0, currency: usd}
tax_rates:
  vat: {display_name: VAT, percentage: 20, inclusive: false}
  gst: {display_name: GST, percentage: 10, inclusive: true}
  old-tax: {display_name: Old tax, percentage: 5, inclusive: false}
webhook_endpoints:
  hooks:
    url: https://example.com/hooks
    enabled_events: [invoice.paid]
    api_version: 2026-10-28.endive
  billing-hook:
    url: https://example.com/billing
    enabled_events: [invoice.paid]
  legacy-hook:
    url: https://example.com/legacy
    enabled_events: [charge.succeeded]
products:
  pro:
    name: Pro
    features: [sso, audit]
    default_price: pro-monthly
  team: {name: Team}
  retired: {name: Retired}
  lonely: {name: Lonely}
prices:
""" + PRO_MONTHLY + """    lookup_key: pro_monthly
  pro-yearly:
    product: pro
    currency: usd
    unit_amount: 15000
    recurring: {interval: year}
    nickname: Pro yearly
  team-monthly:
    product: team
    currency: usd
    unit_amount: 900
    recurring: {interval: month}
  retired-monthly:
    product: retired
    currency: usd
    unit_amount: 500
    recurring: {interval: month}
coupons:
  spring: {percent_off: 10, duration: once}
  summer: {percent_off: 5, name: Summer}
  winter: {amount_off: 500, currency: usd, duration: repeating, duration_in_months: 3}
promotion_codes:
  welcome:
    code: WELCOME
    promotion: {type: coupon, coupon: summer}
  summer-code:
    code: SUMMER
    promotion: {type: coupon, coupon: summer}
  winter-code:
    code: WINTER
    promotion: {type: coupon, coupon: winter}
"""

TARGET = """
features:
  sso: {name: SSO, lookup_key: sso}                      # noop
  audit: {name: Audit trail, lookup_key: audit}          # update
  reports: {name: Reports, lookup_key: reports}          # create; legacy-flag: archive
meters:
  calls:                                                 # update
    display_name: API requests
    event_name: api_call
    default_aggregation: {formula: sum}
  storage:                                               # replace (force)
    display_name: Storage
    event_name: storage_gb
    default_aggregation: {formula: last}
  seats:                                                 # create
    display_name: Seats
    event_name: seat_count
    default_aggregation: {formula: count}
payment_method_configurations:
  checkout:                                              # update
    name: Checkout
    card: {display_preference: {preference: "on"}}
    klarna: {display_preference: {preference: "on"}}
  child:                                                 # replace (force)
    name: Child
    parent: ${PARENT}
  donations:                                             # create
    name: Donations
    card: {display_preference: {preference: "on"}}
shipping_rates:
  standard:                                              # update
    display_name: Standard
    fixed_amount: {amount: 500, currency: usd}
    tax_behavior: exclusive
  express:                                               # replace
    display_name: Express
    fixed_amount: {amount: 1800, currency: usd}
  overnight:                                             # create; pickup: archive
    display_name: Overnight
    fixed_amount: {amount: 2500, currency: usd}
    delivery_estimate: {minimum: {unit: day, value: 1}, maximum: {unit: day, value: 1}}
tax_rates:
  vat: {display_name: VAT, percentage: 21, inclusive: false}                          # replace
  gst: {display_name: GST, percentage: 10, inclusive: true,
        description: Goods and services tax}                                          # update
  sales-tax: {display_name: Sales tax, percentage: 7.25, inclusive: false,
              country: US, state: CA}                                      # create; old-tax: archive
webhook_endpoints:
  hooks:                                                 # replace: new signing secret
    url: https://example.com/hooks
    enabled_events: [invoice.paid]
    api_version: 2025-09-30.clover
  billing-hook:                                          # update
    url: https://example.com/billing
    enabled_events: [invoice.paid, invoice.payment_failed]
  alerts:                                                # create; legacy-hook: delete
    url: https://example.com/alerts
    enabled_events: [customer.subscription.deleted]
products:
  pro:                                                   # update; features: detach, attach
    name: Pro
    description: For growing teams
    features: [sso, reports]
    default_price: pro-monthly
  team: {name: Team}                                     # noop
  enterprise:                                            # create, with a feature
    name: Enterprise
    features: [sso]
    default_price: enterprise-monthly
  legacy-plan: {name: Legacy plan}                       # adopt; retired: archive, lonely: delete
prices:
  pro-monthly:                                           # replace, moves lookup key and default
    product: pro
    currency: usd
    unit_amount: 1800
    recurring: {interval: month}
    lookup_key: pro_monthly
  pro-yearly:                                            # update
    product: pro
    currency: usd
    unit_amount: 15000
    recurring: {interval: year}
    nickname: Pro annual
  team-monthly:                                          # noop
    product: team
    currency: usd
    unit_amount: 900
    recurring: {interval: month}
  enterprise-monthly:                                    # create
    product: enterprise
    currency: usd
    unit_amount: 50000
    recurring: {interval: month}
  enterprise-seats:                                      # create, metered on a new meter
    product: enterprise
    currency: usd
    billing_scheme: tiered
    tiers_mode: graduated
    tiers: [{up_to: 10, unit_amount: 1000}, {up_to: inf, unit_amount: 800}]
    recurring: {interval: month, usage_type: metered, meter: seats}
  legacy-monthly:                                        # adopt; retired-monthly: archive
    product: legacy-plan
    currency: usd
    unit_amount: 700
    recurring: {interval: month}
    lookup_key: legacy_monthly
    nickname: Legacy monthly
coupons:
  spring: {percent_off: 15, duration: once}              # replace (same id)
  summer: {percent_off: 5, name: Summer sale}            # update
  launch: {amount_off: 1000, currency: usd, duration: repeating,
           duration_in_months: 3, name: Launch}          # create
  vip: {percent_off: 50, duration: forever, name: VIP}   # adopt; winter: delete
promotion_codes:
  welcome:                                               # replace
    code: WELCOME10
    promotion: {type: coupon, coupon: summer}
  summer-code:                                           # update
    code: SUMMER
    promotion: {type: coupon, coupon: summer}
    metadata: {campaign: summer}
  launch-code:                                           # create; winter-code: archive
    code: LAUNCH
    promotion: {type: coupon, coupon: launch}
    max_redemptions: 100
"""

EXPECTED = {
    "create": {"features", "meters", "payment_method_configurations", "shipping_rates",
               "tax_rates", "webhook_endpoints", "products", "coupons", "prices",
               "product_features", "promotion_codes"},
    "update": {"features", "meters", "payment_method_configurations", "shipping_rates",
               "tax_rates", "webhook_endpoints", "products", "coupons", "prices",
               "promotion_codes"},
    "replace": {"meters", "payment_method_configurations", "shipping_rates", "tax_rates",
                "webhook_endpoints", "coupons", "prices", "promotion_codes"},
    "archive": {"features", "shipping_rates", "tax_rates", "products", "prices",
                "promotion_codes"},
    "delete": {"webhook_endpoints", "products", "coupons", "product_features"},
    "adopt": {"products", "coupons", "prices"},
    "noop": {"features", "products", "prices"},
}


def _manifest(directory: Path, name: str, source: str, parent: str) -> object:
    path = directory / name
    path.write_text(source)
    return load_valid([path], variables=Variables({"PARENT": parent}))


async def _scenario(emulator: Emulator, directory: Path):
    """(target manifest, plan): the seed applied, unmanaged objects made, the target planned."""
    async with emulator_client(emulator) as client:
        configs = [o async for o in client.list_all("/v1/payment_method_configurations")]
        (default,) = configs
        seed = _manifest(directory, "seed.yaml", SEED, default["id"])
        result = await apply(await make_plan(seed, client, OPTIONS), client)
        assert result.ok, [(c.address, str(e)) for c, e in result.failed]
        names = {o["name"]: o["id"]
                 async for o in client.list_all("/v1/payment_method_configurations")}
        # made in the dashboard: adopted by natural key (id, lookup key)
        await client.create("/v1/products", {"id": "legacy-plan", "name": "Legacy (dashboard)"})
        await client.create("/v1/prices", {
            "product": "legacy-plan", "currency": "usd", "unit_amount": 700,
            "recurring": {"interval": "month"}, "lookup_key": "legacy_monthly"})
        await client.create("/v1/coupons", {"id": "vip", "percent_off": 50,
                                            "duration": "forever"})
        target = _manifest(directory, "target.yaml", TARGET, names["Checkout"])
        return target, await make_plan(target, client, OPTIONS)


class Normaliser:
    """Random ids become ``<prefix>_<n>`` in first-seen order, digests ``sha256:<digest>``."""

    IDS = re.compile(r"\b(acct|feat_test|feat|mtr_test|mtr|pmc|shr|txr|we|price|prodft|promo"
                     r"|prod|whsec|req)_[A-Za-z0-9]{10,}\b")
    DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def _id(self, found: re.Match[str]) -> str:
        if found.group(0) not in self.seen:
            prefix = found.group(1)
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            self.seen[found.group(0)] = f"{prefix}_{self.counts[prefix]}"
        return self.seen[found.group(0)]

    def __call__(self, rendered: str) -> str:
        return self.IDS.sub(self._id, self.DIGEST.sub("sha256:<digest>", rendered))


def render_all(plan: Plan) -> dict[str, str]:
    """The three goldens, normalised together so one id has one name in all of them (JSON
    first: it holds every id)."""
    normalise = Normaliser()
    outputs = {"plan.json": jsonout.render(plan, verbose=True),
               "plan.txt": text.render(plan, verbose=True),
               "plan.md": markdown.render(plan, verbose=True)}
    return {name: normalise(out) for name, out in outputs.items()}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    emulator = Emulator()
    target, plan = asyncio.run(_scenario(emulator, tmp_path_factory.mktemp("golden")))
    return emulator, target, plan


def test_scenario_holds_every_action_on_every_kind(scenario):
    _, _, plan = scenario
    found: dict[str, set[str]] = {}
    for change in plan.changes:
        found.setdefault(change.action.value, set()).add(change.kind)
    assert found == EXPECTED
    replaced = {c.kind: c.actions for c in plan.changes if c.action is Action.REPLACE}
    assert replaced["prices"] == ("create", "delete")
    assert replaced["coupons"] == ("delete", "create")
    assert any("NEW signing secret" in w for w in plan.warnings)
    products = {c.key: c.action for c in plan.changes if c.kind == "products"}
    assert products["retired"] is Action.ARCHIVE and products["lonely"] is Action.DELETE
    attachments = {c.key: c.action for c in plan.changes if c.kind == "product_features"}
    assert attachments == {"pro/reports": Action.CREATE, "pro/audit": Action.DELETE,
                           "enterprise/sso": Action.CREATE}


@pytest.mark.parametrize("name", ["plan.txt", "plan.json", "plan.md"])
def test_golden(scenario, name):
    rendered = render_all(scenario[2])[name]
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered)
    assert path.exists(), f"no golden {path}; run with UPDATE_GOLDENS=1"
    assert rendered == path.read_text(), (
        f"{name} differs from its golden; if the change is intended, regenerate with "
        "UPDATE_GOLDENS=1 and review the diff")


def test_golden_reads_like_terraform(scenario):
    out = render_all(scenario[2])["plan.txt"]
    for needle in ["  + create features.reports", "  ~ update features.audit",
                   '      ~ name: "Audit log" -> "Audit trail"',
                   "  +/- replace prices.pro-monthly", "  -/+ replace coupons.spring",
                   "      ~ unit_amount: 1500 -> 1800   # forces replacement",
                   "  - archive products.retired", "  - delete products.lonely",
                   "  * adopt products.legacy-plan", "    noop products.team",
                   "(known after apply: meters.seats)",
                   "Legend: + create, ~ update in place, * adopt",
                   ("Plan: 13 to create, 10 to update, 8 to replace, 10 to archive/delete, "
                    "3 to adopt.")]:
        assert needle in out, needle
    assert "reconciler_stack" not in out.split("* adopt")[0]  # tags only shown on adoption


def test_json_golden_is_the_plan_data(scenario):
    _, _, plan = scenario
    data = json.loads(jsonout.render(plan, verbose=True))
    assert data["format_version"] == "4"
    assert data["account"] == {"id": plan.account_id, "livemode": False}
    assert Plan.from_dict(data).to_dict(include_noops=True) == plan.to_dict(include_noops=True)
    actions = {c["address"]: c["actions"] for c in data["changes"]}
    assert actions["prices.pro-monthly"] == ["create", "delete"]
    assert actions["promotion_codes.welcome"] == ["delete", "create"]
    assert actions["features.sso"] == ["no-op"]


def test_goldens_are_stable(scenario, tmp_path):
    """A second scenario, in a new emulator with new random ids, renders the same bytes."""
    _, again = asyncio.run(_scenario(Emulator(), tmp_path))
    assert render_all(again) == render_all(scenario[2])


def test_golden_plan_applies_and_converges(scenario):
    emulator, target, plan = scenario

    async def main():
        async with emulator_client(emulator) as client:
            result = await apply(plan, client)
            assert result.ok, [(c.address, str(e)) for c, e in result.failed]
            assert set(result.secrets) == {"hooks", "alerts"}
            return await make_plan(target, client, OPTIONS)

    after = asyncio.run(main())
    assert not after.has_changes, [(c.address, c.diffs) for c in after.pending]


def test_colour_only_when_asked(scenario):
    plan = scenario[2]
    assert "\x1b[" in text.render(plan, color=True)
    assert "\x1b[" not in text.render(plan, color=False)
    assert "\x1b[" not in text.render(plan, color=False, verbose=True)
    assert "\x1b[" not in markdown.render(plan, color=True)
    assert click_unstyle(text.render(plan, color=True)) == text.render(plan)


def click_unstyle(value: str) -> str:
    import click

    return click.unstyle(value)


def test_live_mode_is_said_loudly(tmp_path):
    emulator = Emulator()
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"coupons": {"spring": {"percent_off": 10}}}))

    async def main():
        async with emulator_client(emulator, key="sk_live_reconciler_suite") as client:
            return await make_plan(load_valid([path]), client)

    plan = asyncio.run(main())
    assert plan.livemode and plan.mode == "live"
    assert "LIVE MODE" in text.render(plan)
    assert "LIVE MODE" in markdown.render(plan)
    assert "(live mode)" in text.render(plan)
    assert json.loads(jsonout.render(plan))["mode"] == "live"
    empty = Plan(plan.account_id, True, plan.api_version, plan.stack, "", "", ())
    assert "LIVE MODE" in text.render(empty) and "LIVE MODE" in markdown.render(empty)

