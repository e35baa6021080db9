"""Promotion codes' hooks: a code whose coupon was deleted, and then created again.

A code belongs to the coupon object it was made for, which Stripe embeds even once deleted,
and only that object (its ``created``, its ``valid``) tells it from a coupon re-created
under the same id. So codes are listed with their coupon expanded; each keeps the coupon's
id, as every other layer expects, and the embedded coupon is kept beside it
(``LiveState.own_coupons``). A code whose coupon is not the one now under that id is out of
use for good (see :mod:`reconciler.plan.recreated`): its reference differs from the entry's
although the id is the same, which forces its replacement.
"""

from __future__ import annotations

from typing import Any

from reconciler.account import LiveState, list_kind
from reconciler.kinds import Kind
from reconciler.plan.model import FieldDiff
from reconciler.stripe import StripeClient

from .base import Hooks, PlanContext, Planning

_COUPON = "promotion.coupon"


def outlived_codes(live: LiveState) -> set[str]:
    """The ids of the promotion codes whose coupon was deleted, while a coupon with its id
    exists again."""
    current = {c["id"]: c for c in live.objects.get("coupons", [])}
    return {code for code, own in live.own_coupons.items()
            if (now := current.get(own["id"])) is not None
            and (own["created"], own["valid"]) != (now["created"], now["valid"])}


class Codes(Planning):
    def __init__(self, kind: Kind, plan: PlanContext):
        super().__init__(kind, plan)
        self.outlived = outlived_codes(plan.live)

    def diffs(self, live: dict[str, Any], diffs: list[FieldDiff]) -> list[FieldDiff]:
        """An outlived code's coupon reference differs though the id is the same (unless
        the entry names another coupon, or one this plan creates, anyway)."""
        if live["id"] not in self.outlived or any(d.path == _COUPON for d in diffs):
            return diffs
        coupon = live["promotion"]["coupon"]
        return [*diffs, FieldDiff(_COUPON, coupon, coupon, forces_replacement=True)]

    def why_replaced(self, diff: FieldDiff) -> str | None:
        if diff.path == _COUPON and diff.old == diff.new:
            return (f"the coupon '{diff.old}' it was made for was deleted; the coupon now "
                    "under that id is another one")
        return None


class CodeHooks(Hooks):
    planning = Codes

    async def read(self, kind: Kind, client: StripeClient, state: LiveState,
                   control: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Codes, each with its coupon's id; the coupon objects they embed go to
        ``state.own_coupons``."""
        codes = await list_kind(client, kind, more=("data.promotion.coupon",))
        own = {code["id"]: code["promotion"]["coupon"] for code in codes}
        for code in codes:
            code["promotion"]["coupon"] = own[code["id"]]["id"]
        state.own_coupons.update(own)
        return codes


HOOKS = CodeHooks()
