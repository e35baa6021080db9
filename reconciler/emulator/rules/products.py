"""Products: custom ids, an inline default price, and the rules around deletion.

- ``id`` may be chosen on create and must be free (``resource_already_exists``).
- ``default_price_data`` creates the default price with the product, in one request.
- ``default_price`` (update) must name an existing price of this product; ``""`` unsets it.
- ``statement_descriptor`` and ``unit_label`` may only be set on ``type=service`` products.
- DELETE is refused while any price belongs to the product; product features go with it.
- The ``ids`` list filter cannot be combined with cursors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import conflict, invalid, rule
from ..resource import Context, Filter, Obj, Resource
from ..store import random_id

_SERVICE_ONLY = ("statement_descriptor", "unit_label")


class Product(Resource):
    object = "product"
    prefix = "prod_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True, "type": "service"}
    filters: ClassVar[Mapping[str, Filter]] = {"ids": lambda obj, ids: obj["id"] in ids}

    def __init__(self) -> None:
        super().__init__()
        # Stripe unsets a product's default price on ``default_price=""``, the way to archive
        # that price (Stripe's answer in github.com/stripe/stripe-python/issues/658), though
        # the SDK types the parameter as a plain string: the reference is copied, not changed.
        update = self.facts["params"]["update"]
        emptyable = {**update["default_price"], "emptyable": True}
        self.facts = {**self.facts,
                      "params": {**self.facts["params"],
                                 "update": {**update, "default_price": emptyable}}}

    def new_id(self, ctx: Context, p: Mapping[str, Any]) -> str:
        return p.get("id") or random_id(self.prefix, 14)

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        if "id" in p and ctx.find(self.object, p["id"]) is not None:
            raise conflict(f"A product with id '{p['id']}' already exists.", "id")
        _check_service_only(p.get("type", "service"), p)
        if "default_price_data" in p:
            ctx.registry["price"].check_amounts(p["default_price_data"], "default_price_data")  # type: ignore[attr-defined]

    def after_create(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        data = p.get("default_price_data")
        if data is not None:
            price = ctx.registry["price"].insert(ctx, {**data, "product": obj["id"]})
            obj["default_price"] = price["id"]
            ctx.save(self.object, obj)

    def check_update(self, ctx: Context, obj: Obj, p: dict[str, Any]) -> None:
        _check_service_only(obj["type"], p)
        if p.get("default_price") is not None:
            price = ctx.require("price", p["default_price"], "default_price")
            if price["product"] != obj["id"]:
                raise rule(f"The price '{price['id']}' belongs to product '{price['product']}', "
                           f"not to '{obj['id']}'; a default price must be one of the product's "
                           "own prices.", "default_price")

    def check_list(self, p: Mapping[str, Any], paging: str | None) -> None:
        if "ids" in p and paging is not None:
            raise invalid("ids cannot be combined with starting_after or ending_before.", "ids")

    def check_delete(self, ctx: Context, obj: Obj) -> None:
        if ctx.bucket.holding("price", "product", obj["id"]):
            raise rule("This product cannot be deleted because it has one or more user-created "
                       "prices. Archive it instead (active=false).")

    def after_delete(self, ctx: Context, obj: Obj) -> None:
        for record in ctx.bucket.records("product_feature", parent=obj["id"]):
            ctx.bucket.remove("product_feature", record["object"]["id"])


def _check_service_only(product_type: str, p: Mapping[str, Any]) -> None:
    for name in _SERVICE_ONLY:
        if p.get(name) is not None and product_type != "service":
            raise rule(f"{name} may only be set on products of type 'service'.", name)
