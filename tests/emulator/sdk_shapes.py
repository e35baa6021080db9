"""What the official SDK's resource classes declare about a response: its fields and their
types (``stripe/_product.py`` and the others annotate every field, nested objects as nested
classes), compared with an object the emulator answered. Read from the annotations at run
time, so a newer SDK is the new standard without copying anything from it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ForwardRef, Literal, Union

import stripe
from stripe import StripeObject
from stripe._stripe_object import UntypedStripeObject

CLASSES: dict[str, type] = {
    "product": stripe.Product, "price": stripe.Price, "coupon": stripe.Coupon,
    "promotion_code": stripe.PromotionCode, "tax_rate": stripe.TaxRate,
    "shipping_rate": stripe.ShippingRate,
    "payment_method_configuration": stripe.PaymentMethodConfiguration,
    "webhook_endpoint": stripe.WebhookEndpoint, "entitlements.feature": stripe.entitlements.Feature,
    "product_feature": stripe.ProductFeature, "billing.meter": stripe.billing.Meter,
}
_SCALARS: dict[Any, tuple[type, ...]] = {str: (str,), Decimal: (str,), int: (int,), float: (int, float),
                                         bool: (bool,)}


def fields(cls: type) -> dict[str, Any]:
    """The declared fields of a resource class or nested object (class variables left out)."""
    declared = vars(cls).get("__annotations__", {})
    return {name: ann for name, ann in declared.items()
            if typing.get_origin(ann) is not typing.ClassVar}


def _optional(ann: Any) -> bool:
    return typing.get_origin(ann) in (Union, types.UnionType) and type(None) in typing.get_args(ann)


def problems(value: Any, ann: Any, where: str) -> list[str]:
    """Every way ``value`` departs from the SDK's declaration ``ann``."""
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if ann is Any:
        return []
    if origin in (Union, types.UnionType):
        if value is None:
            return [] if type(None) in args else [f"{where} is null"]
        tried = [problems(value, alt, where) for alt in args if alt is not type(None)]
        return [] if any(not found for found in tried) else tried[0]
    if value is None:
        return [f"{where} is null; the SDK declares it {ann}"]
    if isinstance(ann, (str, ForwardRef)):  # a resource named by an expandable field
        return [] if isinstance(value, (str, dict)) else [f"{where} is {type(value).__name__}"]
    if origin is Literal:
        return [] if value in args else [f"{where}={value!r} not in {args}"]
    if ann in _SCALARS:
        ok = isinstance(value, _SCALARS[ann]) and (ann is bool or not isinstance(value, bool))
        return [] if ok else [f"{where} is {type(value).__name__}, the SDK declares {ann.__name__}"]
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's own spelling
        if not isinstance(value, list):
            return [f"{where} is not a list"]
        return [p for i, item in enumerate(value) for p in problems(item, args[0], f"{where}[{i}]")]
    container = origin or ann
    if isinstance(container, type) and issubclass(container, (dict, StripeObject)) and (
            origin is not None or container is UntypedStripeObject):
        if not isinstance(value, Mapping):
            return [f"{where} is not an object"]
        inner = args[-1] if args else Any
        return [p for key, item in value.items() for p in problems(item, inner, f"{where}[{key}]")]
    if isinstance(ann, type) and issubclass(ann, StripeObject):
        return object_problems(value, ann, where)
    return [f"{where}: the SDK declares {ann!r}, which this comparison does not know"]


def object_problems(value: Any, cls: type, where: str) -> list[str]:
    """An object against a class: no field the class lacks, every field it requires present,
    and each of the right type."""
    if not isinstance(value, Mapping):
        return [f"{where} is not an object"]
    declared = fields(cls)
    found = [f"{where}.{name} is not declared by the SDK" for name in value if name not in declared]
    for name, ann in declared.items():
        if name not in value:
            if not _optional(ann):
                found.append(f"{where}.{name} missing")
            continue
        found += problems(value[name], ann, f"{where}.{name}")
    return found
