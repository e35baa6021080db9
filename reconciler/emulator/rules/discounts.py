"""Coupons and promotion codes.

Coupons: a custom ``id`` (or 8 random characters); exactly one of ``percent_off`` (0 < p ≤ 100)
and ``amount_off`` (which needs ``currency``); ``duration_in_months`` is required with, and only
allowed with, ``duration=repeating``; ``redeem_by`` lies in the future; ``applies_to[products]``
name existing products; ``currency_options`` only on amount coupons. ``applies_to`` and
``currency_options`` are returned only when expanded; ``valid`` turns false after ``redeem_by``.

Promotion codes: ``promotion[coupon]`` must exist; ``code`` (A-Z, a-z, 0-9 and ``-``) is
generated when omitted and is unique among active codes, case-insensitively, also when a code
is reactivated; ``expires_at`` and ``max_redemptions`` may not exceed the coupon's.

Deleting a coupon deactivates its promotion codes ("a promotion code is only active if the
coupon is also valid"); they stay retrievable and listed, since promotion codes have no DELETE.
A code belongs to the coupon *object* it was made for, not to its id: a coupon created later
under the same id is another coupon, so the old codes stay out of use. Stripe reactivates a code
only "when the coupon is still valid and the promotion code is otherwise redeemable".

Stripe keeps deleted objects, and a code's coupon expands (``promotion.coupon``) to a full coupon
object, never to a deleted stub (its SDK types say so). The emulator forgets a deleted coupon,
so each of its codes keeps the coupon's last state, shown as no longer ``valid``: expanding an
old code's coupon shows the deleted coupon (its ``created``), not one re-created under its id.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import conflict, invalid, missing_parameter, rule
from ..resource import Context, Filter, Obj, Paths, Resource

_UPPER = string.ascii_uppercase + string.digits


def _random_code(length: int = 8) -> str:
    return "".join(secrets.choice(_UPPER) for _ in range(length))


class Coupon(Resource):
    object = "coupon"
    prefix = ""
    defaults: ClassVar[Mapping[str, Any]] = {"duration": "once", "valid": True}
    expand_only = frozenset({"applies_to", "currency_options"})

    def new_id(self, ctx: Context, p: Mapping[str, Any]) -> str:
        return p.get("id") or _random_code()

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        if "id" in p and ctx.find(self.object, p["id"]) is not None:
            raise conflict(f"A coupon with id '{p['id']}' already exists.", "id")
        # percent_off's range, amount_off's sign and their exclusion are Stripe's documented
        # limits, checked with the parameters (data/limits.json)
        if "percent_off" not in p and "amount_off" not in p:
            raise missing_parameter("percent_off", "You must pass either percent_off or amount_off.")
        if "amount_off" in p and "currency" not in p:
            raise missing_parameter("currency", "You must pass currency when passing amount_off.")
        self._check_duration(p)
        if p.get("redeem_by") is not None and p["redeem_by"] <= ctx.now:
            raise invalid("redeem_by must be in the future.", "redeem_by")
        for i, product in enumerate((p.get("applies_to") or {}).get("products") or []):
            ctx.require("product", product, f"applies_to[products][{i}]")
        self._check_options(p, amount_coupon="amount_off" in p)

    @staticmethod
    def _check_duration(p: Mapping[str, Any]) -> None:
        repeating = p.get("duration") == "repeating"
        if repeating and "duration_in_months" not in p:
            raise missing_parameter("duration_in_months", "Missing required param: "
                                    "duration_in_months (duration is repeating).")
        if not repeating and "duration_in_months" in p:
            raise invalid("duration_in_months can only be set when duration is repeating.",
                          "duration_in_months")

    @staticmethod
    def _check_options(p: Mapping[str, Any], amount_coupon: bool) -> None:
        if p.get("currency_options") and not amount_coupon:
            raise rule("currency_options can only be set on coupons with amount_off.",
                       "currency_options")

    def check_update(self, ctx: Context, obj: Obj, p: dict[str, Any]) -> None:
        self._check_options(p, amount_coupon=obj["amount_off"] is not None)

    def present(self, ctx: Context, out: Obj) -> None:
        out["valid"] = _valid(ctx, out)

    def after_delete(self, ctx: Context, obj: Obj) -> None:
        """Deleting a coupon means it can't be redeemed any more, and a code is only active
        while its coupon is valid: the coupon's codes (in this account) become inactive, and
        keep the deleted coupon as theirs. Codes that already keep one with this id belong to
        an earlier coupon deleted before."""
        for record in ctx.bucket.records(PromotionCode.object):
            promo = record["object"]
            if promo["promotion"]["coupon"] == obj["id"] and _DELETED not in promo:
                ctx.save(PromotionCode.object, {**promo, "active": False, _DELETED: obj})


_DELETED = "_deleted_coupon"
"""Where a promotion code keeps its coupon once that is deleted (never rendered as such)."""


def _valid(ctx: Context, coupon: Obj) -> bool:
    """Stripe's read-only ``valid``: false once ``redeem_by`` passed or redemptions ran out."""
    expired = coupon["redeem_by"] is not None and coupon["redeem_by"] <= ctx.now
    limit = coupon["max_redemptions"]
    return not (expired or (limit is not None and coupon["times_redeemed"] >= limit))


class PromotionCode(Resource):
    object = "promotion_code"
    prefix = "promo_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True}
    filters: ClassVar[Mapping[str, Filter]] = {
        "coupon": lambda obj, coupon: obj["promotion"]["coupon"] == coupon,
        "code": lambda obj, code: obj["code"].casefold() == code.casefold(),
    }

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        coupon_id = p["promotion"].get("coupon")
        if coupon_id is None:
            raise missing_parameter("promotion[coupon]")
        coupon = ctx.require("coupon", coupon_id, "promotion[coupon]")
        if "code" in p and p.get("active", True):  # its characters: data/limits.json
            self._check_code_free(ctx, p["code"], None)
        for name in ("expires_at", "max_redemptions"):
            limit = coupon["redeem_by" if name == "expires_at" else name]
            if p.get(name) is not None and limit is not None and p[name] > limit:
                raise invalid(f"{name} cannot exceed the coupon's "
                              f"{'redeem_by' if name == 'expires_at' else name} ({limit}).", name)

    def fill(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        if "code" not in p:
            obj["code"] = _random_code()
            while self._holder(ctx, obj["code"], None):
                obj["code"] = _random_code()

    def check_update(self, ctx: Context, obj: Obj, p: dict[str, Any]) -> None:
        if p.get("active") is True and not obj["active"]:
            self._check_coupon_redeemable(ctx, obj)
            self._check_code_free(ctx, obj["code"], obj["id"])

    def _check_coupon_redeemable(self, ctx: Context, promo: Obj) -> None:
        """Refuse reactivating a code whose coupon was deleted or is no longer valid. Stripe's
        exact wording for this refusal was not found in its documentation; the message is a
        Stripe-like ``invalid_request_error`` on ``active``."""
        coupon_id = promo["promotion"]["coupon"]
        if _DELETED in promo:
            raise rule(f"This promotion code cannot be reactivated: its coupon '{coupon_id}' "
                       "has been deleted.", "active")
        if not _valid(ctx, ctx.require(Coupon.object, coupon_id, "promotion[coupon]")):
            raise rule(f"This promotion code cannot be reactivated: its coupon '{coupon_id}' "
                       "is no longer valid.", "active")

    def render(self, ctx: Context, obj: Obj, expand: Paths, creating: bool = False) -> Obj:
        """The code as a response; a deleted coupon it keeps is what ``promotion.coupon``
        expands to (``promotion.coupon.applies_to`` and the like expand within it)."""
        deleted = obj.get(_DELETED)
        own = [p for p in expand if p.split(".")[:2] == ["promotion", "coupon"]]
        rest = [p for p in expand if deleted is None or p not in own]
        out = super().render(ctx, {k: v for k, v in obj.items() if k != _DELETED}, rest, creating)
        if deleted is not None and own:
            inner = [p.split(".", 2)[2] for p in own if p.count(".") > 1]
            coupon = ctx.registry[Coupon.object].render(ctx, deleted, inner)
            out["promotion"]["coupon"] = {**coupon, "valid": False}
        return out

    def _holder(self, ctx: Context, code: str, exclude: str | None) -> Obj | None:
        for record in ctx.bucket.records(self.object):
            promo = record["object"]
            if promo["active"] and promo["id"] != exclude and promo["code"].casefold() == code.casefold():
                return promo
        return None

    def _check_code_free(self, ctx: Context, code: str, exclude: str | None) -> None:
        holder = self._holder(ctx, code, exclude)
        if holder is not None:
            raise conflict(f"An active promotion code with the code '{holder['code']}' already "
                           "exists.", "code")
