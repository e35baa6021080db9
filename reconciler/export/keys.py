"""Readable, stable manifest keys for exported objects.

An object this tool already manages keeps its recorded key. Otherwise the key comes from
what identifies the object to a person: a product or coupon id (a product id Stripe
generated gives way to the product's name, the id then written as ``id:``), a lookup key, an
event name, a code, a name. Collisions are resolved in Stripe's creation order: the oldest object
keeps the plain key, the others get ``-2``, ``-3``...
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from reconciler.manifests.schema import MANIFEST_KEY_PATTERN
from reconciler.ownership import owner

_KEY = re.compile(MANIFEST_KEY_PATTERN)
_GENERATED_PRODUCT_ID = re.compile(r"prod_[A-Za-z0-9]{14}\Z")  # Stripe's; the name reads better


def slug(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:60].rstrip("-")


def _amount(price: dict[str, Any]) -> str:
    for name in ("unit_amount", "unit_amount_decimal"):
        if price.get(name) is not None:
            return str(price[name])
    return "custom" if price.get("custom_unit_amount") else price.get("billing_scheme") or "price"


def base_key(kind: str, obj: dict[str, Any], product_keys: dict[str, str]) -> str:
    """The key an object would get if nothing else claimed it."""
    if (kind in ("products", "coupons") and _KEY.match(obj["id"]) and len(obj["id"]) <= 200
            and not _GENERATED_PRODUCT_ID.match(obj["id"])):
        return obj["id"]
    if kind == "prices":
        if obj.get("lookup_key"):
            return slug(obj["lookup_key"])
        interval = (obj.get("recurring") or {}).get("interval", "once")
        product = product_keys.get(str(obj.get("product")), "price")
        return slug(f"{product}-{obj.get('currency')}-{_amount(obj)}-{interval}")
    candidates = {
        "products": obj.get("name"),
        "coupons": obj.get("name") or obj.get("id"),
        "features": obj.get("lookup_key"),
        "meters": obj.get("event_name"),
        "promotion_codes": obj.get("code"),
        "payment_method_configurations": obj.get("name") or "default",
        "tax_rates": f"{obj.get('display_name')}-{obj.get('percentage')}",
        "shipping_rates": obj.get("display_name"),
        "webhook_endpoints": "".join(urlsplit(obj.get("url") or "").netloc.split(":")[:1])
        + urlsplit(obj.get("url") or "").path,
    }
    return slug(str(candidates.get(kind) or "")) or kind.rstrip("s")


def assign(kind: str, objects: list[dict[str, Any]], product_keys: dict[str, str],
           stack: str) -> dict[str, str]:
    """live id -> manifest key for every object of one kind."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for obj in objects:
        obj_stack, obj_key = owner(obj)
        if obj_stack == stack and obj_key and obj_key not in taken:
            keys[obj["id"]] = obj_key
            taken.add(obj_key)
    # Stripe lists newest first; within one second of ``created`` that order decides
    oldest_first = sorted((o for o in reversed(objects) if o["id"] not in keys),
                          key=lambda o: o.get("created") or 0)
    for obj in oldest_first:
        key = base = base_key(kind, obj, product_keys)
        n = 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        keys[obj["id"]] = key
        taken.add(key)
    return keys
