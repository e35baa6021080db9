"""Property tests of the planner (issue #5) against the emulator.

For a random valid catalog over every kind with references between them (products with
features and default prices, prices with tiers, meters and lookup keys, coupons of each
duration with promotion codes, tax and shipping rates, webhook endpoints):

- seeding a fresh emulator with the catalog (plan + apply through the library) and planning
  again gives no changes: there are no perpetual diffs;
- changing one field of one entry gives a plan that names exactly that field on exactly that
  entry, with ``forces_replacement`` as the kind description says
  (``KINDS[kind].forces_replacement(path, old, new)``), the action following from it (update
  or replace; a PlanError for kinds whose replacement is refused), and nothing else but the
  replacements the design says cascade (the promotion codes of a re-created coupon);
- applying that plan converges: planning once more gives no changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import string
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import emulator_client, runs

from reconciler.apply import apply
from reconciler.emulator import Emulator
from reconciler.kinds import KINDS, Replacement
from reconciler.manifests import load_valid
from reconciler.plan import Action, PlanError, PlanOptions, make_plan

WORD = st.text(string.ascii_letters + string.digits, min_size=1, max_size=8)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
TOKEN = st.text(string.ascii_lowercase + string.digits, min_size=4, max_size=8)
CURRENCY = st.sampled_from(["usd", "eur", "gbp", "jpy"])
META_KEY = st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).filter(
    # keys ending in "currency": the emulator's bug, see test_metadata_key_named_currency
    lambda k: not k.startswith("reconciler") and not k.endswith("currency"))
METADATA = st.dictionaries(META_KEY, WORD, min_size=1, max_size=3)
PERCENT = st.integers(1, 10000).map(lambda n: n / 100)
DIMENSION = st.integers(1, 10000).map(lambda n: n / 100)
EVENTS = ["invoice.paid", "invoice.payment_failed", "customer.created", "charge.succeeded",
          "product.updated", "price.created"]
API_VERSIONS = ["2026-10-28.endive", "2026-09-30.endive", "2026-08-26.dahlia"]
TAX_BEHAVIORS = ["exclusive", "inclusive", "unspecified"]
METHODS = ["card", "klarna", "link", "sepa_debit"]
PREFERENCE = st.sampled_from(["on", "off", "none"])
DELETE = object()  # a mutation that removes a metadata key

# 40 examples in CI (~6 s), 300 in long mode (RECONCILER_LONG=1)
MUTATIONS = settings(max_examples=runs(40, 300), deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- catalogs ------------------------------------------------------------------------------------

def _maybe(draw, entry: dict[str, Any], name: str, strategy) -> None:
    if draw(st.booleans()):
        entry[name] = draw(strategy)


@st.composite
def catalogs(draw) -> dict[str, dict[str, Any]]:
    """A valid catalog: every kind, references only to entries of the catalog."""
    count = lambda low, high: draw(st.integers(low, high))
    doc: dict[str, dict[str, Any]] = {}

    features = doc["features"] = {}
    for i in range(count(0, 3)):
        entry = {"name": draw(NAME), "lookup_key": f"feature_{i}_{draw(TOKEN)}"}
        _maybe(draw, entry, "metadata", METADATA)
        features[f"feature-{i}"] = entry

    meters = doc["meters"] = {}
    for i in range(count(0, 2)):
        entry = {"display_name": draw(NAME), "event_name": f"event_{i}_{draw(TOKEN)}",
                 "default_aggregation": {"formula": draw(st.sampled_from(["sum", "count",
                                                                          "last"]))}}
        _maybe(draw, entry, "event_time_window", st.sampled_from(["day", "hour"]))
        meters[f"meter-{i}"] = entry

    products = doc["products"] = {}
    for i in range(count(1, 3)):
        entry = {"name": draw(NAME)}
        _maybe(draw, entry, "description", NAME)
        _maybe(draw, entry, "url", TOKEN.map(lambda t: f"https://example.com/{t}"))
        if draw(st.booleans()):
            entry["unit_label"] = draw(WORD)
            _maybe(draw, entry, "statement_descriptor", st.sampled_from(
                ["ACME PRO", "ACME TEAM", "EXAMPLE CO"]))
        else:
            _maybe(draw, entry, "type", st.sampled_from(["good", "service"]))
        _maybe(draw, entry, "marketing_features",
               st.lists(NAME.map(lambda n: {"name": n}), min_size=1, max_size=3))
        _maybe(draw, entry, "images", st.lists(
            TOKEN.map(lambda t: f"https://example.com/{t}.png"), min_size=1, max_size=2))
        _maybe(draw, entry, "package_dimensions", st.fixed_dictionaries(
            {side: DIMENSION for side in ("height", "length", "weight", "width")}))
        _maybe(draw, entry, "shippable", st.booleans())
        _maybe(draw, entry, "metadata", METADATA)
        if features and draw(st.booleans()):
            entry["features"] = draw(st.lists(st.sampled_from(sorted(features)), unique=True))
        products[f"product-{i}"] = entry

    prices = doc["prices"] = {}
    for i in range(count(1, 5)):
        entry: dict[str, Any] = {"product": draw(st.sampled_from(sorted(products))),
                                 "currency": draw(CURRENCY)}
        scheme = draw(st.sampled_from(["unit_amount", "unit_amount_decimal", "tiered",
                                       "custom_unit_amount"]))
        if scheme == "tiered" or (scheme != "custom_unit_amount" and draw(st.booleans())):
            interval = draw(st.sampled_from(["day", "week", "month", "year"]))
            recurring: dict[str, Any] = {"interval": interval}
            if interval != "year":
                _maybe(draw, recurring, "interval_count", st.integers(1, 3))
            if meters and draw(st.booleans()):
                recurring.update(usage_type="metered",
                                 meter=draw(st.sampled_from(sorted(meters))))
            entry["recurring"] = recurring
        if scheme == "unit_amount":
            entry["unit_amount"] = draw(st.integers(0, 100_000))
        elif scheme == "unit_amount_decimal":
            entry["unit_amount_decimal"] = f"{draw(st.integers(0, 10_000))}.{draw(st.integers(1, 99))}"
        elif scheme == "custom_unit_amount":  # pay what you want: one-time prices only
            low, preset, high = sorted(draw(st.lists(st.integers(100, 100_000), min_size=3,
                                                     max_size=3)))
            entry["custom_unit_amount"] = {"enabled": True, "minimum": low, "preset": preset,
                                           "maximum": high}
        else:
            bounds = sorted(draw(st.sets(st.integers(1, 1000), max_size=2)))
            entry.update(billing_scheme="tiered",
                         tiers_mode=draw(st.sampled_from(["graduated", "volume"])),
                         tiers=[{"up_to": up_to, "unit_amount": draw(st.integers(0, 5000))}
                                for up_to in [*bounds, "inf"]])
        if scheme == "unit_amount" and draw(st.booleans()):
            entry["transform_quantity"] = {"divide_by": draw(st.integers(2, 100)),
                                           "round": draw(st.sampled_from(["up", "down"]))}
        if scheme == "unit_amount" and draw(st.booleans()):
            other = draw(CURRENCY.filter(lambda c, own=entry["currency"]: c != own))
            entry["currency_options"] = {other: {"unit_amount": draw(st.integers(0, 100_000))}}
        if draw(st.booleans()):
            entry["lookup_key"] = f"price_{i}_{draw(TOKEN)}"
        _maybe(draw, entry, "nickname", NAME)
        _maybe(draw, entry, "tax_behavior", st.sampled_from(TAX_BEHAVIORS))
        _maybe(draw, entry, "metadata", METADATA)
        prices[f"price-{i}"] = entry
    for key, product in products.items():
        own = sorted(k for k, p in prices.items() if p["product"] == key)
        if own and draw(st.booleans()):
            product["default_price"] = draw(st.sampled_from(own))

    coupons = doc["coupons"] = {}
    for i in range(count(0, 3)):
        if draw(st.booleans()):
            entry = {"percent_off": draw(PERCENT)}
        else:
            entry = {"amount_off": draw(st.integers(1, 10_000)), "currency": draw(CURRENCY)}
        duration = draw(st.sampled_from([None, "once", "forever", "repeating"]))
        if duration:
            entry["duration"] = duration
        if duration == "repeating":
            entry["duration_in_months"] = draw(st.integers(1, 12))
        _maybe(draw, entry, "name", NAME)
        _maybe(draw, entry, "max_redemptions", st.integers(1, 1000))
        if draw(st.booleans()):
            entry["applies_to"] = {"products": draw(st.lists(st.sampled_from(sorted(products)),
                                                             min_size=1, unique=True))}
        if "currency" in entry and draw(st.booleans()):
            other = draw(CURRENCY.filter(lambda c, own=entry["currency"]: c != own))
            entry["currency_options"] = {other: {"amount_off": draw(st.integers(1, 10_000))}}
        _maybe(draw, entry, "metadata", METADATA)
        coupons[f"coupon-{i}"] = entry

    codes = doc["promotion_codes"] = {}
    for i in range(count(0, 3) if coupons else 0):
        coupon = draw(st.sampled_from(sorted(coupons)))
        entry = {"code": f"C{i}{draw(TOKEN).upper()}",
                 "promotion": {"type": "coupon", "coupon": coupon}}
        # Stripe: no more redemptions than the coupon allows
        _maybe(draw, entry, "max_redemptions",
               st.integers(1, coupons[coupon].get("max_redemptions", 1000)))
        if draw(st.booleans()):
            entry["restrictions"] = {
                "minimum_amount": draw(st.integers(1, 10_000)),
                "minimum_amount_currency": coupons[coupon].get("currency", "usd")}
            _maybe(draw, entry["restrictions"], "first_time_transaction", st.booleans())
        _maybe(draw, entry, "metadata", METADATA)
        codes[f"code-{i}"] = entry

    rates = doc["tax_rates"] = {}
    for i in range(count(0, 3)):
        entry = {"display_name": draw(NAME), "percentage": draw(PERCENT),
                 "inclusive": draw(st.booleans())}
        _maybe(draw, entry, "description", NAME)
        _maybe(draw, entry, "jurisdiction", WORD)
        _maybe(draw, entry, "country", st.sampled_from(["US", "DE", "FR"]))
        _maybe(draw, entry, "state", st.sampled_from(["CA", "NY", "BY"]))
        _maybe(draw, entry, "tax_type", st.sampled_from(["vat", "sales_tax", "gst"]))
        _maybe(draw, entry, "metadata", METADATA)
        rates[f"tax-{i}"] = entry

    shipping = doc["shipping_rates"] = {}
    for i in range(count(0, 3)):
        entry = {"display_name": draw(NAME),
                 "fixed_amount": {"amount": draw(st.integers(0, 10_000)),
                                  "currency": draw(CURRENCY)}}
        if draw(st.booleans()):
            currency = entry["fixed_amount"]["currency"]
            other = draw(CURRENCY.filter(lambda c, own=currency: c != own))
            entry["fixed_amount"]["currency_options"] = {
                other: {"amount": draw(st.integers(0, 10_000))}}
        _maybe(draw, entry, "tax_behavior", st.sampled_from(TAX_BEHAVIORS))
        if draw(st.booleans()):
            unit = draw(st.sampled_from(["business_day", "day", "week"]))
            low = draw(st.integers(1, 5))
            entry["delivery_estimate"] = {"minimum": {"unit": unit, "value": low},
                                          "maximum": {"unit": unit,
                                                      "value": draw(st.integers(low, 10))}}
        _maybe(draw, entry, "metadata", METADATA)
        shipping[f"ship-{i}"] = entry

    hooks = doc["webhook_endpoints"] = {}
    for i in range(count(0, 2)):
        events = draw(st.one_of(st.just(["*"]), st.lists(st.sampled_from(EVENTS), min_size=1,
                                                         max_size=3, unique=True)))
        entry = {"url": f"https://example.com/{i}/{draw(TOKEN)}", "enabled_events": events}
        _maybe(draw, entry, "description", NAME)
        _maybe(draw, entry, "api_version", st.sampled_from(API_VERSIONS))
        _maybe(draw, entry, "connect", st.booleans())
        _maybe(draw, entry, "metadata", METADATA)
        hooks[f"hook-{i}"] = entry
    configs = doc["payment_method_configurations"] = {}
    for i in range(count(0, 2)):
        entry = {"name": f"Config {i} {draw(WORD)}"}
        for method in draw(st.lists(st.sampled_from(METHODS), unique=True, max_size=3)):
            entry[method] = {"display_preference": {"preference": draw(PREFERENCE)}}
        configs[f"config-{i}"] = entry
    return {kind: entries for kind, entries in doc.items() if entries}


# -- mutations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutation:
    kind: str
    key: str
    path: tuple[str | int, ...]
    value: Any  # DELETE removes a metadata key
    reference: bool = False  # the value names another entry, the plan shows ids

    @property
    def dotted(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


def _get(entry: dict[str, Any], path: tuple[str | int, ...], default: Any = None) -> Any:
    value: Any = entry
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return default
    return value


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return a == b


def _choices(doc: dict[str, dict[str, Any]]) -> list[tuple[str, str, tuple, Any, Any, bool]]:
    """Every field a mutation may change: (kind, key, path, default, strategy, reference).

    ``default`` is what Stripe holds when the manifest leaves the field out: a new value is
    drawn to differ from the stated value, or from that default.
    """
    out: list[tuple[str, str, tuple, Any, Any, bool]] = []

    def add(kind, key, path, strategy, default=None, reference=False):
        out.append((kind, key, path, default, strategy, reference))

    default_prices = {p.get("default_price") for p in doc["products"].values()}
    for kind, entries in doc.items():
        for key, e in entries.items():
            stated = lambda *path: _get(e, path) is not None  # noqa: B023
            if KINDS[kind].has_metadata:
                add(kind, key, ("metadata", "new_key"), WORD)
                for name in e.get("metadata", {}):
                    add(kind, key, ("metadata", name), WORD)
                    add(kind, key, ("metadata", name), st.just(DELETE))
            if kind == "features":
                add(kind, key, ("name",), NAME)
                add(kind, key, ("lookup_key",), TOKEN.map(lambda t: f"renamed_{t}"))
            elif kind == "meters":
                add(kind, key, ("display_name",), NAME)
                # permanent: the plan refuses, naming the meter with the entry's display name
                add(kind, key, ("event_name",), TOKEN.map(lambda t: f"renamed_{t}"))
                add(kind, key, ("default_aggregation", "formula"),
                    st.sampled_from(["sum", "count", "last"]))
                if stated("event_time_window"):
                    add(kind, key, ("event_time_window",), st.sampled_from(["day", "hour"]))
            elif kind == "products":
                add(kind, key, ("name",), NAME)
                add(kind, key, ("description",), NAME)
                add(kind, key, ("url",), TOKEN.map(lambda t: f"https://example.org/{t}"))
                if stated("unit_label"):
                    add(kind, key, ("unit_label",), WORD)
                else:
                    add(kind, key, ("type",), st.sampled_from(["good", "service"]), "service")
                if stated("statement_descriptor"):
                    add(kind, key, ("statement_descriptor",), st.sampled_from(
                        ["ACME PRO", "ACME TEAM", "EXAMPLE CO", "OTHER NAME"]))
                for i in range(len(e.get("marketing_features", []))):
                    add(kind, key, ("marketing_features", i, "name"), NAME)
                for i in range(len(e.get("images", []))):
                    add(kind, key, ("images", i),
                        TOKEN.map(lambda t: f"https://example.org/{t}.jpg"))
                for side in ("height", "length", "weight", "width"):
                    if stated("package_dimensions"):
                        add(kind, key, ("package_dimensions", side), DIMENSION)
                add(kind, key, ("shippable",), st.booleans())
                own = sorted(k for k, p in doc["prices"].items() if p["product"] == key)
                if stated("default_price") and len(own) > 1:
                    add(kind, key, ("default_price",), st.sampled_from(own), reference=True)
            elif kind == "prices":
                add(kind, key, ("nickname",), NAME)
                add(kind, key, ("currency",), CURRENCY)
                add(kind, key, ("tax_behavior",), st.sampled_from(TAX_BEHAVIORS), "unspecified")
                if stated("lookup_key"):
                    add(kind, key, ("lookup_key",), TOKEN.map(lambda t: f"moved_{t}"))
                for name in ("unit_amount", "unit_amount_decimal"):
                    if stated(name):
                        add(kind, key, (name,), st.integers(0, 100_000).map(
                            int if name == "unit_amount" else str))
                if stated("transform_quantity"):
                    add(kind, key, ("transform_quantity", "divide_by"), st.integers(2, 100))
                for currency in e.get("currency_options", {}):
                    add(kind, key, ("currency_options", currency, "unit_amount"),
                        st.integers(0, 100_000))
                if stated("custom_unit_amount"):
                    bounds = e["custom_unit_amount"]
                    add(kind, key, ("custom_unit_amount", "preset"),
                        st.integers(bounds["minimum"], bounds["maximum"]))
                if stated("tiers"):
                    for i in range(len(e["tiers"])):
                        add(kind, key, ("tiers", i, "unit_amount"), st.integers(0, 5000))
                recurring = e.get("recurring")
                if recurring:
                    intervals = ["day", "week", "month"] + (
                        ["year"] if recurring.get("interval_count", 1) == 1 else [])
                    add(kind, key, ("recurring", "interval"), st.sampled_from(intervals))
                    if recurring["interval"] != "year":
                        add(kind, key, ("recurring", "interval_count"), st.integers(1, 3), 1)
                    if "meter" in recurring and len(doc["meters"]) > 1:
                        add(kind, key, ("recurring", "meter"),
                            st.sampled_from(sorted(doc["meters"])), reference=True)
                if len(doc["products"]) > 1 and key not in default_prices:
                    add(kind, key, ("product",), st.sampled_from(sorted(doc["products"])),
                        reference=True)
            elif kind == "coupons":
                add(kind, key, ("name",), NAME)
                codes = [c.get("max_redemptions", 1) for c in doc.get("promotion_codes", {})
                         .values() if c["promotion"]["coupon"] == key]
                for name, strategy in (("percent_off", PERCENT),
                                       ("amount_off", st.integers(1, 10_000)),
                                       ("currency", CURRENCY),
                                       ("duration_in_months", st.integers(1, 12)),
                                       ("max_redemptions",
                                        st.integers(max(codes, default=1), 1000))):
                    if stated(name):
                        add(kind, key, (name,), strategy)
                for currency in e.get("currency_options", {}):
                    add(kind, key, ("currency_options", currency, "amount_off"),
                        st.integers(1, 10_000))
                if e.get("duration", "once") != "repeating":
                    add(kind, key, ("duration",), st.sampled_from(["once", "forever"]), "once")
            elif kind == "promotion_codes":
                add(kind, key, ("code",), TOKEN.map(lambda t: f"M{t}".upper()))
                coupons = doc["coupons"]
                limit = coupons[e["promotion"]["coupon"]].get("max_redemptions", 1000)
                if stated("max_redemptions"):
                    add(kind, key, ("max_redemptions",), st.integers(1, limit))
                if stated("restrictions", "minimum_amount"):
                    add(kind, key, ("restrictions", "minimum_amount"), st.integers(1, 10_000))
                    add(kind, key, ("restrictions", "first_time_transaction"), st.booleans(),
                        False)
                fits = sorted(k for k, c in coupons.items()
                              if c.get("max_redemptions", 1000) >= e.get("max_redemptions", 1))
                if len(fits) > 1 and not stated("restrictions"):
                    add(kind, key, ("promotion", "coupon"), st.sampled_from(fits),
                        reference=True)
            elif kind == "tax_rates":
                add(kind, key, ("display_name",), NAME)
                add(kind, key, ("description",), NAME)
                add(kind, key, ("jurisdiction",), WORD)
                add(kind, key, ("country",), st.sampled_from(["US", "DE", "FR", "GB"]))
                add(kind, key, ("state",), st.sampled_from(["CA", "NY", "BY", "TX"]))
                add(kind, key, ("tax_type",), st.sampled_from(["vat", "sales_tax", "gst", "hst"]))
                add(kind, key, ("percentage",), PERCENT)
                add(kind, key, ("inclusive",), st.booleans())
            elif kind == "shipping_rates":
                add(kind, key, ("display_name",), NAME)
                add(kind, key, ("fixed_amount", "amount"), st.integers(0, 10_000))
                add(kind, key, ("fixed_amount", "currency"), CURRENCY)
                add(kind, key, ("tax_behavior",), st.sampled_from(TAX_BEHAVIORS), "unspecified")
                for currency in e["fixed_amount"].get("currency_options", {}):
                    add(kind, key, ("fixed_amount", "currency_options", currency, "amount"),
                        st.integers(0, 10_000))
                if stated("delivery_estimate"):
                    high = e["delivery_estimate"]["maximum"]["value"]
                    add(kind, key, ("delivery_estimate", "minimum", "value"),
                        st.integers(1, high))
            elif kind == "payment_method_configurations":
                for method in METHODS:
                    add(kind, key, (method, "display_preference", "preference"), PREFERENCE,
                        "none")
            elif kind == "webhook_endpoints":
                add(kind, key, ("url",), TOKEN.map(lambda t: f"https://example.net/{t}"))
                add(kind, key, ("description",), NAME)
                add(kind, key, ("enabled_events",), st.one_of(st.just(["*"]), st.lists(
                    st.sampled_from(EVENTS), min_size=1, max_size=4, unique=True)))
                add(kind, key, ("disabled",), st.booleans(), False)
                if stated("api_version"):
                    add(kind, key, ("api_version",), st.sampled_from(API_VERSIONS))
                # Stripe never shows it: compared with the tag recorded at create
                add(kind, key, ("connect",), st.booleans(), False)
    return out


@st.composite
def mutations(draw, doc: dict[str, dict[str, Any]]) -> Mutation:
    choices = _choices(doc)
    # a kind, then a field, then an entry: each level even, whatever the counts below it
    # Hypothesis draws small and boundary integers far more often than others, so one
    # integer mixed with the catalog seeds the choice (hashlib: the same on every run)
    seed = hashlib.sha256(f"{draw(st.integers(0, 2**32))}/{doc!r}".encode()).digest()
    rnd = random.Random(seed)
    kind = rnd.choice(sorted({c[0] for c in choices}))
    field = rnd.choice(sorted({c[2][0] for c in choices if c[0] == kind}))
    found = [c for c in choices if c[0] == kind and c[2][0] == field]
    kind, key, path, default, strategy, reference = rnd.choice(found)
    entry = doc[kind][key]
    if path[0] == "metadata" and path[1] == "new_key":
        path = ("metadata", draw(META_KEY.filter(lambda k: k not in entry.get("metadata", {}))))
    current = _get(entry, path, default)
    value = draw(strategy.filter(lambda v: v is DELETE or current is None
                                 or not _same(v, current)))
    return Mutation(kind, key, path, value, reference)


def mutated(doc: dict[str, dict[str, Any]], m: Mutation) -> dict[str, dict[str, Any]]:
    out = yaml.safe_load(yaml.safe_dump(doc))  # a deep copy
    target = out[m.kind][m.key]
    for part in m.path[:-1]:
        target = target[part] if isinstance(part, int) else target.setdefault(part, {})
    if m.value is DELETE:
        del target[m.path[-1]]
    else:
        target[m.path[-1]] = m.value
    return out


# -- running -------------------------------------------------------------------------------------

def load(doc: dict[str, dict[str, Any]], directory: Path, name: str):
    """The catalog through the loader and ``validate``: a generated catalog must be valid."""
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_valid([path])


def _summary(plan) -> list[tuple[str, str, list]]:
    return [(c.address, c.action.value, [(d.path, d.old, d.new) for d in c.diffs])
            for c in plan.pending]


async def _converge(client, manifest):
    plan = await make_plan(manifest, client, PlanOptions())
    result = await apply(plan, client)
    assert result.ok, [(c.address, str(e)) for c, e in result.failed]
    again = await make_plan(manifest, client, PlanOptions())
    assert not again.has_changes, _summary(again)
    return plan


def check_mutation(doc: dict[str, dict[str, Any]], m: Mutation) -> None:
    kind = KINDS[m.kind]
    old_value = _get(doc[m.kind][m.key], m.path)
    changed = mutated(doc, m)
    with tempfile.TemporaryDirectory() as tmp:
        seed = load(doc, Path(tmp), "seed")
        target = load(changed, Path(tmp), "target")

    async def main():
        async with emulator_client(Emulator()) as client:
            await _converge(client, seed)
            try:
                plan = await make_plan(target, client, PlanOptions())
            except PlanError as error:
                return error
            return plan, (await _converge(client, target) if plan.has_changes else None)

    outcome = asyncio.run(main())
    address = f"{m.kind}.{m.key}"
    if isinstance(outcome, PlanError):
        # only a refused replacement may stop the plan
        assert kind.replacement is Replacement.REFUSE, outcome.problems
        assert kind.forces_replacement(m.dotted, old_value, m.value), outcome.problems
        assert outcome.problems == [outcome.problems[0]]
        refusal = (f"{address}: no live meter has event_name " if m.dotted == "event_name"
                   else f"{address}: cannot change {m.dotted}: ")
        assert outcome.problems[0].startswith(refusal), outcome.problems
        return
    plan, _ = outcome
    mine = [c for c in plan.pending if c.address == address]
    assert len(mine) == 1, _summary(plan)
    (change,) = mine
    assert [d.path for d in change.diffs] == [m.dotted], _summary(plan)
    (diff,) = change.diffs
    if m.value is DELETE:
        assert diff.new is None and diff.old == old_value
    elif not m.reference:
        assert _same(diff.new, m.value), (diff, m)
        if old_value is not None:
            assert _same(diff.old, old_value), (diff, old_value)
    assert diff.forces_replacement == kind.forces_replacement(diff.path, diff.old, diff.new)
    assert change.action is (Action.REPLACE if diff.forces_replacement else Action.UPDATE)
    assert kind.replacement is not Replacement.REFUSE or not diff.forces_replacement
    # the only other changes: a re-created coupon takes its promotion codes with it
    cascade = set()
    if m.kind == "coupons" and change.action is Action.REPLACE:
        cascade = {f"promotion_codes.{k}" for k, e in doc.get("promotion_codes", {}).items()
                   if e["promotion"]["coupon"] == m.key}
    others = [c for c in plan.pending if c.address != address]
    assert {c.address for c in others} == cascade, _summary(plan)
    for c in others:
        assert c.action is Action.REPLACE
        assert [(d.path, d.forces_replacement) for d in c.diffs] == [("promotion.coupon", True)]


@pytest.mark.slow
@MUTATIONS
@given(doc=catalogs(), data=st.data())
def test_one_changed_field_is_planned_as_exactly_that_field(doc, data):
    check_mutation(doc, data.draw(mutations(doc), label="mutation"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=catalogs())
def test_a_seeded_catalog_plans_no_changes_and_its_json_round_trips(doc):
    """The seed itself, and its plan's JSON read back, equal to what was planned."""
    from reconciler.plan import Plan

    with tempfile.TemporaryDirectory() as tmp:
        manifest = load(doc, Path(tmp), "catalog")

    async def main():
        async with emulator_client(Emulator()) as client:
            return await _converge(client, manifest)

    plan = asyncio.run(main())
    assert {c.action for c in plan.pending} == {Action.CREATE}
    assert Plan.from_dict(plan.to_dict(include_noops=True)).to_dict(include_noops=True) == (
        plan.to_dict(include_noops=True))


def test_metadata_key_named_currency_is_only_metadata():
    doc = {"products": {"mug": {"name": "Mug"}},
           "prices": {"mug": {"product": "mug", "currency": "usd", "unit_amount": 500,
                              "metadata": {"currency": "dollars", "billing_currency": "x"}}}}
    with tempfile.TemporaryDirectory() as tmp:
        manifest = load(doc, Path(tmp), "catalog")

    async def main():
        async with emulator_client(Emulator()) as client:
            await _converge(client, manifest)

    asyncio.run(main())
