"""Prices: immutable amounts, unique lookup keys, one-way tax behaviour.

- ``product`` must exist, or ``product_data`` creates one inline; one of the two is required.
- An amount is required: ``unit_amount``, ``unit_amount_decimal`` (not both) or
  ``custom_unit_amount``; ``billing_scheme=tiered`` needs ``tiers`` and ``tiers_mode`` instead.
- ``recurring[meter]`` must name an active meter.
- ``lookup_key`` is unique among the account's prices; ``transfer_lookup_key=true`` moves it
  from the price holding it, atomically, instead of failing.
- ``tax_behavior`` once ``inclusive`` or ``exclusive`` cannot change.
- A price that is its product's ``default_price`` cannot be archived.
- ``type`` is derived (``recurring`` when ``recurring`` was given); ``tiers`` and
  ``currency_options`` are returned only when expanded; lists show active prices unless
  ``active`` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ..errors import conflict, missing_parameter, rule
from ..forms import bracket
from ..resource import Context, Filter, Obj, Resource
from ..shapes import pair_decimals, shape

_AMOUNTS = ("unit_amount", "unit_amount_decimal", "custom_unit_amount")
_OWN_OPTION_FIELDS = ("custom_unit_amount", "tax_behavior", "tiers", "unit_amount", "unit_amount_decimal")


class Price(Resource):
    object = "price"
    prefix = "price_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True, "billing_scheme": "per_unit", "tax_behavior": "unspecified"}
    expand_only = frozenset({"tiers", "currency_options"})
    list_defaults: ClassVar[Mapping[str, Any]] = {"active": True}
    filters: ClassVar[Mapping[str, Filter]] = {"lookup_keys": lambda obj, keys: obj["lookup_key"] in keys}

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        if "product" in p:
            ctx.require("product", p["product"], "product")
        elif "product_data" in p:
            ctx.registry["product"].check_create(ctx, p["product_data"], None)
        else:
            raise missing_parameter("product", "You must specify either `product` or "
                                    "`product_data` when creating a price.")
        self.check_amounts(p)
        meter = (p.get("recurring") or {}).get("meter")
        if meter is not None and ctx.require("billing.meter", meter, "recurring[meter]")["status"] != "active":
            raise rule(f"The meter '{meter}' is deactivated and cannot be used for new prices.",
                       "recurring[meter]")
        self._check_lookup_key(ctx, p, None)

    def check_amounts(self, p: Mapping[str, Any], within: str | None = None) -> None:
        """The amount rules, shared with a product's ``default_price_data``."""
        name: Callable[[str], str] = (lambda n: bracket((within, n))) if within else (lambda n: n)
        if p.get("billing_scheme") == "tiered":
            for needed in ("tiers", "tiers_mode"):
                if needed not in p:
                    raise missing_parameter(name(needed), f"Missing required param: {name(needed)} "
                                            "(billing_scheme is tiered).")
            return
        for tiered_only in ("tiers", "tiers_mode"):
            if tiered_only in p:
                raise rule(f"{tiered_only} can only be given with billing_scheme=tiered.",
                           name(tiered_only))
        given = [n for n in _AMOUNTS if n in p]
        if not given:
            raise missing_parameter(name("unit_amount"), "Missing required param: "
                                    f"{name('unit_amount')} (or unit_amount_decimal, custom_unit_amount).")
        if len(given) > 1:
            raise rule(f"You may only specify one of these parameters: {', '.join(given)}.",
                       name(given[1]), "parameters_exclusive")

    def fill(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        if "product_data" in p:
            obj["product"] = ctx.registry["product"].new_id(ctx, p["product_data"])
        obj["type"] = "recurring" if p.get("recurring") else "one_time"
        if obj["recurring"] is not None:
            obj["recurring"]["interval_count"] = obj["recurring"]["interval_count"] or 1
            obj["recurring"]["usage_type"] = obj["recurring"]["usage_type"] or "licensed"

    def after_create(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        if "product_data" in p:
            ctx.registry["product"].insert(ctx, {**p["product_data"], "id": obj["product"]})
        self._transfer_lookup_key(ctx, obj)

    def check_update(self, ctx: Context, obj: Obj, p: dict[str, Any]) -> None:
        wanted = p.get("tax_behavior")
        if wanted is not None and obj["tax_behavior"] in ("inclusive", "exclusive") and wanted != obj["tax_behavior"]:
            raise rule(f"tax_behavior is already '{obj['tax_behavior']}'; once set to inclusive or "
                       "exclusive it cannot be changed.", "tax_behavior")
        if p.get("active") is False and obj["active"]:
            product = ctx.find("product", obj["product"])
            if product is not None and product["default_price"] == obj["id"]:
                raise rule("This price cannot be archived because it is the default price of its "
                           f"product '{product['id']}'. Set another default_price first.", "active")
        self._check_lookup_key(ctx, p, obj["id"])

    def apply_update(self, ctx: Context, new: Obj, p: Mapping[str, Any]) -> None:
        self._transfer_lookup_key(ctx, new)

    def present(self, ctx: Context, out: Obj) -> None:
        """Expanded ``currency_options`` include the price's own currency, as Stripe's do."""
        spec = self.fields["currency_options"]["values"]
        own = shape({n: out[n] for n in _OWN_OPTION_FIELDS if out.get(n) is not None}, spec)
        options = {out["currency"]: own, **(out.get("currency_options") or {})}
        pair_decimals(options, self.fields["currency_options"])
        out["currency_options"] = options

    def _holder(self, ctx: Context, key: str, exclude: str | None) -> Obj | None:
        for record in ctx.bucket.holding(self.object, "lookup_key", key):
            if record["object"]["id"] != exclude:
                return record["object"]
        return None

    def _check_lookup_key(self, ctx: Context, p: Mapping[str, Any], own_id: str | None) -> None:
        key = p.get("lookup_key")
        if key is None or p.get("transfer_lookup_key"):
            return
        holder = self._holder(ctx, key, own_id)
        if holder is not None:
            raise conflict(f"A price ('{holder['id']}') already uses the lookup key '{key}'. Pass "
                           "transfer_lookup_key=true to move it to this price.", "lookup_key")

    def _transfer_lookup_key(self, ctx: Context, price: Obj) -> None:
        key = price["lookup_key"]
        holder = self._holder(ctx, key, price["id"]) if key is not None else None
        if holder is not None:
            ctx.save(self.object, {**holder, "lookup_key": None})
