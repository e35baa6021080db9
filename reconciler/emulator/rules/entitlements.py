"""Entitlement features and their attachment to products.

Features: ``lookup_key`` is unique in the account (and create-only); deactivated features are
left out of lists unless ``archived=true`` (which lists only those). Product features: the
feature must exist and be active, and the same feature is attached to a product only once;
the response embeds the whole feature object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import conflict, rule
from ..resource import Context, Filter, Obj, Resource
from ..store import random_id


class Feature(Resource):
    object = "entitlements.feature"
    prefix = "feat_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True}
    list_defaults: ClassVar[Mapping[str, Any]] = {"archived": False}
    filters: ClassVar[Mapping[str, Filter]] = {"archived": lambda obj, archived: obj["active"] is not archived}

    def new_id(self, ctx: Context, p: Mapping[str, Any]) -> str:
        return random_id(self.prefix if ctx.livemode else f"{self.prefix}test_")

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        for record in ctx.bucket.holding(self.object, "lookup_key", p["lookup_key"]):
            raise conflict(f"A feature with lookup_key '{p['lookup_key']}' already exists "
                           f"('{record['object']['id']}').", "lookup_key")


class ProductFeature(Resource):
    object = "product_feature"
    prefix = "prodft_"
    parent_kind = "product"

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        feature = ctx.require("entitlements.feature", p["entitlement_feature"], "entitlement_feature")
        if not feature["active"]:
            raise rule(f"The feature '{feature['id']}' is archived and cannot be attached to a "
                       "product.", "entitlement_feature")
        for record in ctx.bucket.records(self.object, parent=parent):
            if record["object"]["entitlement_feature"] == feature["id"]:
                raise conflict(f"The feature '{feature['id']}' is already attached to product "
                               f"'{parent}' ('{record['object']['id']}').", "entitlement_feature")

    def present(self, ctx: Context, out: Obj) -> None:
        feature_id = out["entitlement_feature"]
        feature = ctx.find("entitlements.feature", feature_id)
        if feature is not None:
            out["entitlement_feature"] = ctx.registry["entitlements.feature"].render(ctx, feature, [])
