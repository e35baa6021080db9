"""Generated catalogs of N objects spread over every manifest kind (issue #9).

Shares of N per kind are fixed (``SHARES``); the remainder goes to prices. A tenth of the
products state ``features`` (two each; each such product costs one list of its attachments
when planning, as Stripe lists features per product), a fifth name a ``default_price``, every
tenth price is metered, every third has a lookup key, each promotion code has its own coupon.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

SHARES = {"products": 0.10, "features": 0.06, "meters": 0.06,
          "payment_method_configurations": 0.06, "shipping_rates": 0.06, "tax_rates": 0.06,
          "webhook_endpoints": 0.06, "coupons": 0.07, "promotion_codes": 0.07}
"""Share of the catalog per kind; prices take the rest (40%)."""
FEATURED_SHARE = 0.10  # of products: state `features`
DEFAULT_PRICE_SHARE = 0.20  # of products: state `default_price`


def counts(n: int) -> dict[str, int]:
    out = {kind: max(1, math.floor(n * share)) for kind, share in SHARES.items()}
    out["promotion_codes"] = min(out["promotion_codes"], out["coupons"])
    out["prices"] = max(out["products"], n - sum(out.values()))
    return out


def featured(n_products: int) -> int:
    return max(1, round(n_products * FEATURED_SHARE))


def catalog(n: int) -> dict[str, dict[str, Any]]:
    """A valid manifest document of about ``n`` entries (exactly ``sum(counts(n).values())``)."""
    return catalog_of(counts(n))


def catalog_of(c: dict[str, int]) -> dict[str, dict[str, Any]]:
    """A valid manifest document with ``c[kind]`` entries of each kind."""
    doc: dict[str, dict[str, Any]] = {kind: {} for kind in
                                      ("features", "meters", "payment_method_configurations",
                                       "shipping_rates", "tax_rates", "webhook_endpoints",
                                       "products", "prices", "coupons", "promotion_codes")}
    for i in range(c["features"]):
        doc["features"][f"feature-{i}"] = {"name": f"Feature {i}", "lookup_key": f"feature_{i}"}
    for i in range(c["meters"]):
        doc["meters"][f"meter-{i}"] = {"display_name": f"Meter {i}", "event_name": f"event_{i}",
                                       "default_aggregation": {"formula": "sum"}}
    for i in range(c["payment_method_configurations"]):
        doc["payment_method_configurations"][f"config-{i}"] = {
            "name": f"Config {i}", "card": {"display_preference": {"preference": "on"}}}
    for i in range(c["shipping_rates"]):
        doc["shipping_rates"][f"ship-{i}"] = {
            "display_name": f"Ship {i}", "fixed_amount": {"amount": 100 + i, "currency": "usd"}}
    for i in range(c["tax_rates"]):
        doc["tax_rates"][f"tax-{i}"] = {"display_name": f"Tax {i}", "percentage": i % 30 + 1,
                                        "inclusive": i % 2 == 0}
    for i in range(c["webhook_endpoints"]):
        doc["webhook_endpoints"][f"hook-{i}"] = {"url": f"https://example.com/hooks/{i}",
                                                 "enabled_events": ["invoice.paid"]}
    n_products, n_features = c["products"], c["features"]
    with_features = featured(n_products)
    with_default = round(n_products * DEFAULT_PRICE_SHARE)
    for i in range(n_products):
        product: dict[str, Any] = {"name": f"Product {i}"}
        if i < with_features:
            product["features"] = [f"feature-{i % n_features}",
                                   f"feature-{(i + 1) % n_features}"]
            product["features"] = sorted(set(product["features"]))
        if n_products - with_default <= i:
            product["default_price"] = f"price-{i}"  # price i belongs to product i
        doc["products"][f"product-{i}"] = product
    for i in range(c["prices"]):
        price: dict[str, Any] = {"product": f"product-{i % n_products}", "currency": "usd",
                                 "unit_amount": 100 + i, "recurring": {"interval": "month"}}
        if i % 10 == 0:
            price["recurring"].update(usage_type="metered",
                                      meter=f"meter-{(i // 10) % c['meters']}")
        if i % 3 == 0:
            price["lookup_key"] = f"price_{i}"
        doc["prices"][f"price-{i}"] = price
    for i in range(c["coupons"]):
        doc["coupons"][f"coupon-{i}"] = {"percent_off": i % 50 + 1, "duration": "once"}
    for i in range(c["promotion_codes"]):
        doc["promotion_codes"][f"code-{i}"] = {
            "code": f"CODE{i}", "promotion": {"type": "coupon", "coupon": f"coupon-{i}"}}
    return doc


def write(doc: dict[str, dict[str, Any]], directory: Path) -> Path:
    """One YAML file per kind under ``directory`` (as a repository would keep them)."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind, entries in doc.items():
        if entries:
            (directory / f"{kind}.yaml").write_text(
                yaml.safe_dump({kind: entries}, sort_keys=False))
    return directory
