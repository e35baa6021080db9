"""Tax rates and shipping rates: archived, never deleted; their amounts are create-only.

Tax rates: ``percentage`` lies between 0 and 100. Shipping rates: ``type`` defaults to
``fixed_amount``, which requires ``fixed_amount``; ``active`` can only be changed by update; the
``currency`` list filter matches ``fixed_amount.currency`` (a shipping rate has no top-level
currency).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import invalid, missing_parameter
from ..resource import Context, Filter, Obj, Resource


class TaxRate(Resource):
    object = "tax_rate"
    prefix = "txr_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True}

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        if not 0 <= p["percentage"] <= 100:
            raise invalid("percentage must be between 0 and 100.", "percentage")


class ShippingRate(Resource):
    object = "shipping_rate"
    prefix = "shr_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True, "type": "fixed_amount", "tax_behavior": "unspecified"}
    filters: ClassVar[Mapping[str, Filter]] = {"currency": lambda obj, currency: _currency(obj) == currency}

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        if p.get("type", "fixed_amount") == "fixed_amount" and "fixed_amount" not in p:
            raise missing_parameter("fixed_amount", "Missing required param: fixed_amount "
                                    "(type is fixed_amount).")


def _currency(rate: Obj) -> str | None:
    return (rate["fixed_amount"] or {}).get("currency")
