"""Tax rates and shipping rates: archived, never deleted; their amounts are create-only.

Tax rates: ``percentage`` lies between 0 and 100 (a documented limit, checked with the
parameters: data/limits.json). Shipping rates: ``type`` defaults to ``fixed_amount``, which
requires ``fixed_amount``; ``active`` can only be changed by update; the ``currency`` list
filter matches ``fixed_amount.currency`` (a shipping rate has no top-level currency). Each
``fixed_amount.currency_options.<currency>`` has a ``tax_behavior``: the SDK's resource class
(``stripe/_shipping_rate.py``, ``FixedAmount.CurrencyOptions``) declares it a string, never
null, so one left out is ``unspecified``, the rate's own default (an assumption: Stripe's
docs do not say which value it takes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import missing_parameter
from ..resource import Context, Filter, Obj, Resource


class TaxRate(Resource):
    object = "tax_rate"
    prefix = "txr_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True}



class ShippingRate(Resource):
    object = "shipping_rate"
    prefix = "shr_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True, "type": "fixed_amount", "tax_behavior": "unspecified"}
    filters: ClassVar[Mapping[str, Filter]] = {"currency": lambda obj, currency: _currency(obj) == currency}

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        if p.get("type", "fixed_amount") == "fixed_amount" and "fixed_amount" not in p:
            raise missing_parameter("fixed_amount", "Missing required param: fixed_amount "
                                    "(type is fixed_amount).")

    def fill(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        _option_defaults(obj)

    def apply_update(self, ctx: Context, new: Obj, p: Mapping[str, Any]) -> None:
        _option_defaults(new)


def _option_defaults(rate: Obj) -> None:
    for option in ((rate.get("fixed_amount") or {}).get("currency_options") or {}).values():
        if option.get("tax_behavior") is None:
            option["tax_behavior"] = "unspecified"


def _currency(rate: Obj) -> str | None:
    return (rate["fixed_amount"] or {}).get("currency")
