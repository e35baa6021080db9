"""Objects of every kind made through the API: the related objects some parameters name, and
a minimal valid create per kind built from the reference's required parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator_helpers import Api, sample

from reconciler import reference

# Stripe's API reference: "This field is not included by default. To include it in the
# response, expand the ... field."
EXPAND_ONLY = {"price": ["tiers", "currency_options"], "coupon": ["applies_to", "currency_options"]}

# What a minimal valid create needs beyond the reference's required parameters.
MINIMAL: dict[str, dict[str, Any]] = {
    "price": {"unit_amount": 1200},
    "coupon": {"percent_off": 10},
    "shipping_rate": {"fixed_amount": {"amount": 500, "currency": "usd"}},
}


class World:
    """Related objects that some parameters must name, created through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.product = api.create("/v1/products", name="Related product")["id"]
        self.coupon = api.create("/v1/coupons", percent_off=5)["id"]
        self.meter = api.create("/v1/billing/meters", display_name="Calls", event_name="calls",
                                default_aggregation={"formula": "sum"})["id"]
        self.refs: dict[tuple[str, ...], Callable[[], str]] = {
            ("price", "product"): lambda: self.product,
            ("price", "recurring", "meter"): lambda: self.meter,
            ("promotion_code", "promotion", "coupon"): lambda: self.coupon,
            ("coupon", "applies_to", "products", "0"): lambda: self.product,
            ("product_feature", "entitlement_feature"): self.new_feature,
        }

    def new_feature(self) -> str:
        return self.api.create("/v1/entitlements/features", name="Feature",
                               lookup_key=sample({"type": "string"}, ("lookup_key",)))["id"]

    def sample(self, kind: str, name: str, spec: Mapping[str, Any]) -> Any:
        def ref(path: tuple[str, ...]) -> Any:
            make = self.refs.get((kind, *path))
            return make() if make else None
        return sample(spec, (name,), ref)

    def path(self, kind: str) -> str:
        return reference.kind_facts(kind)["base_path"].replace("{product}", self.product)

    def base(self, kind: str) -> dict[str, Any]:
        facts = reference.kind_facts(kind)
        create = facts["params"]["create"]
        params = {n: self.sample(kind, n, create[n]) for n in facts["required_on_create"]}
        params.update(MINIMAL.get(kind, {}))
        for name in ("product",):
            if (kind, name) in self.refs:
                params[name] = self.refs[(kind, name)]()
        return params

    def create(self, kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
        expand = {"expand": EXPAND_ONLY[kind]} if kind in EXPAND_ONLY else {}
        return self.api.create(self.path(kind), **params, **expand)
