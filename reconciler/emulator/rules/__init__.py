"""Stripe's rules per kind, one module per family; :func:`registry` holds one of each.

Every kind of the reference data must have its resource here: the emulator serves exactly the
kinds the reference describes.
"""

from __future__ import annotations

from reconciler import reference

from ..resource import Resource
from .discounts import Coupon, PromotionCode
from .entitlements import Feature, ProductFeature
from .meters import Meter
from .prices import Price
from .products import Product
from .rates import ShippingRate, TaxRate
from .settings import PaymentMethodConfiguration, WebhookEndpoint

_ALL = (
    Product, Price, Coupon, PromotionCode, TaxRate, ShippingRate, PaymentMethodConfiguration,
    WebhookEndpoint, Feature, ProductFeature, Meter,
)


def registry() -> dict[str, Resource]:
    resources: dict[str, Resource] = {cls.object: cls() for cls in _ALL}
    missing = set(reference.api()["kinds"]) - set(resources)
    if missing:
        raise RuntimeError(f"no emulator resource for {sorted(missing)}")
    return resources
