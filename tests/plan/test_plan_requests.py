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

from benchmarks.catalog import catalog_of, featured
from reconciler.apply import apply
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.manifests import load_valid
from reconciler.plan import PlanOptions, make_plan

COUNTS = {"prices": 1000, "products": 200, "features": 100, "meters": 100,
          "payment_method_configurations": 100, "shipping_rates": 100, "tax_rates": 100,
          "webhook_endpoints": 100, "coupons": 100, "promotion_codes": 100}
WITH_FEATURES = featured(COUNTS["products"])  # products that state `features`


def test_plan_reads_each_kind_in_pages_of_100_and_never_one_object(emulator, tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog_of(COUNTS), sort_keys=False))
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
                + 1,  # and the account's default configuration
                products=COUNTS["products"] + 1)  # and the stack's ownership record
    #                                            (of its meters, reconciler/plan/records.py)
    expected = {f"GET {KINDS[kind].path}": math.ceil(n / 100) for kind, n in live.items()}
    assert set(expected) == {f"GET {k.path}" for k in MANIFEST_KINDS.values()}
    features_path = f"GET {KINDS['product_features'].path}"
    # exactly the minimum: one list per 100 objects of a kind, one feature list per product
    # that states `features`, one account read
    assert {k: counts.get(k, 0) for k in expected} == expected, counts
    features = [p for p, products in catalog_of(COUNTS)["products"].items()
                if "features" in products]
    assert counts.get(features_path, 0) == len(features) == WITH_FEATURES
    account = counts.get("GET /v1/account", 0)
    assert account <= 1  # read once per client, and this client read it for the first plan
    assert sum(counts.values()) == sum(expected.values()) + WITH_FEATURES + account, counts
    assert not [name for name in counts if not name.startswith("GET ")], counts
    singles = [name for name in counts if re.search(r"\{[a-z_]+\}$", name)]
    assert not singles, f"single-object GETs: {singles}"
    print(f"plan of {len(plan.changes)} objects: {sum(counts.values())} requests, {seconds:.2f}s")
