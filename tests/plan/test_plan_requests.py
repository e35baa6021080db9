"""Reading the live account costs list requests only: ceil(N/100) per kind, never a GET per
object (DESIGN.md section 4; issue #5).

About 5 s (not marked slow): it also guards against applying costing O(N^2) again.
The emulator is seeded by applying a generated catalog through the library (so every object
carries the ownership tags a real run would give it); then the same catalog is planned again
with the request counters reset.
"""

from __future__ import annotations

import asyncio
import math
import re
import time

import yaml
from support import emulator_client

from reconciler.apply import apply
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.manifests import load_valid
from reconciler.plan import PlanOptions, make_plan

COUNTS = {"prices": 1000, "products": 200, "features": 100, "meters": 100,
          "payment_method_configurations": 100, "shipping_rates": 100, "tax_rates": 100,
          "webhook_endpoints": 100, "coupons": 100, "promotion_codes": 100}
WITH_FEATURES = 60  # products that state `features` (each costs one list of its own)


def catalog() -> dict:
    doc: dict = {kind: {} for kind in COUNTS}
    for i in range(COUNTS["features"]):
        doc["features"][f"feature-{i}"] = {"name": f"Feature {i}", "lookup_key": f"feature_{i}"}
    for i in range(COUNTS["meters"]):
        doc["meters"][f"meter-{i}"] = {"display_name": f"Meter {i}", "event_name": f"event_{i}",
                                       "default_aggregation": {"formula": "sum"}}
    for i in range(COUNTS["payment_method_configurations"]):
        doc["payment_method_configurations"][f"config-{i}"] = {
            "name": f"Config {i}", "card": {"display_preference": {"preference": "on"}}}
    for i in range(COUNTS["shipping_rates"]):
        doc["shipping_rates"][f"ship-{i}"] = {
            "display_name": f"Ship {i}", "fixed_amount": {"amount": 100 + i, "currency": "usd"}}
    for i in range(COUNTS["tax_rates"]):
        doc["tax_rates"][f"tax-{i}"] = {"display_name": f"Tax {i}", "percentage": i % 30 + 1,
                                        "inclusive": i % 2 == 0}
    for i in range(COUNTS["webhook_endpoints"]):
        doc["webhook_endpoints"][f"hook-{i}"] = {"url": f"https://example.com/hooks/{i}",
                                                 "enabled_events": ["invoice.paid"]}
    for i in range(COUNTS["products"]):
        product: dict = {"name": f"Product {i}"}
        if i < WITH_FEATURES:
            product["features"] = [f"feature-{i % 100}", f"feature-{(i + 1) % 100}"]
        doc["products"][f"product-{i}"] = product
    for i in range(COUNTS["prices"]):
        price: dict = {"product": f"product-{i % COUNTS['products']}", "currency": "usd",
                       "unit_amount": 100 + i, "recurring": {"interval": "month"}}
        if i % 10 == 0:
            price["recurring"].update(usage_type="metered", meter=f"meter-{i // 10}")
        if i % 3 == 0:
            price["lookup_key"] = f"price_{i}"
        doc["prices"][f"price-{i}"] = price
    for i in range(COUNTS["coupons"]):
        doc["coupons"][f"coupon-{i}"] = {"percent_off": i % 50 + 1, "duration": "once"}
    for i in range(COUNTS["promotion_codes"]):
        doc["promotion_codes"][f"code-{i}"] = {
            "code": f"CODE{i}", "promotion": {"type": "coupon", "coupon": f"coupon-{i}"}}
    return doc


def test_plan_reads_each_kind_in_pages_of_100_and_never_one_object(emulator, tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog(), sort_keys=False))
    manifest = load_valid([path])

    async def main():
        async with emulator_client(emulator) as client:
            first = await make_plan(manifest, client, PlanOptions())
            result = await apply(first, client, parallelism=32)
            assert result.ok, [(c.address, str(e)) for c, e in result.failed][:5]
            emulator.reset_request_counts()
            started = time.perf_counter()
            plan = await make_plan(manifest, client, PlanOptions())
            return plan, time.perf_counter() - started

    plan, seconds = asyncio.run(main())
    assert not plan.has_changes, [(c.address, c.diffs) for c in plan.pending][:5]
    counts = emulator.request_counts()

    live = dict(COUNTS, payment_method_configurations=COUNTS["payment_method_configurations"]
                + 1)  # and the account's default configuration
    expected = {f"GET {KINDS[kind].path}": math.ceil(n / 100) for kind, n in live.items()}
    assert set(expected) == {f"GET {k.path}" for k in MANIFEST_KINDS.values()}
    features_path = f"GET {KINDS['product_features'].path}"
    budget = sum(expected.values()) + WITH_FEATURES + 1
    assert sum(counts.values()) <= budget, counts
    for name, n in expected.items():
        assert counts.get(name, 0) <= n, (name, counts.get(name), n)
    assert counts.get(features_path, 0) <= WITH_FEATURES
    assert counts.get("GET /v1/account", 0) <= 1
    assert not [name for name in counts if not name.startswith("GET ")], counts
    singles = [name for name in counts if re.search(r"\{[a-z_]+\}$", name)]
    assert not singles, f"single-object GETs: {singles}"
    print(f"plan of {len(plan.changes)} objects: {sum(counts.values())} requests, {seconds:.2f}s")
