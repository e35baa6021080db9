"""Connected accounts of the platform: ``POST /v1/accounts``, ``GET /v1/accounts`` and
``GET /v1/accounts/{id}`` (https://docs.stripe.com/api/accounts).

Only the platform creates and lists its connected accounts (a request with
``Stripe-Account`` acts as the connected account, which has none of its own); they are kept
in the platform's bucket, newest first as Stripe lists them. Each one's own objects live in
the bucket of its id, reached with ``Stripe-Account``, as before this module: assumption, kept
so that tests can address any ``acct_`` id without creating it first, the emulator answers a
``Stripe-Account`` it never created rather than Stripe's 403 ``account_invalid``.

Only what ``reconciler`` reads is emulated: ``type``, ``country``, ``email``, ``metadata``
(plus ``business_profile[name]``) at creation; listing pages with ``limit`` and
``starting_after``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import params
from .account import retrieve as account_shape
from .errors import StripeError
from .store import Bucket, random_id

KIND = "connected_account"
_CREATE: dict[str, params.Spec] = {
    "type": {"type": "string", "enum": ["custom", "express", "standard"]},
    "country": {"type": "string"},
    "email": {"type": "string"},
    "metadata": {"type": "map", "values": {"type": "string"}},
    "business_profile": {"type": "object", "properties": {"name": {"type": "string"}}},
    "expand": {"type": "array", "items": {"type": "string"}},
}
_LIST: dict[str, params.Spec] = {
    "limit": {"type": "integer"},
    "starting_after": {"type": "string"},
    "expand": {"type": "array", "items": {"type": "string"}},
}


def create(platform: Bucket, created: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    p = params.coerce(raw, _CREATE)
    account = account_shape(random_id("acct_", 16), created, {})
    account.update(type=p.get("type", "standard"), country=p.get("country", "US"),
                   email=p.get("email"), metadata=dict(p.get("metadata", {})))
    name = p.get("business_profile", {}).get("name")
    if name:
        account["business_profile"]["name"] = name
    platform.put(KIND, account)
    return account


def get(platform: Bucket, account_id: str) -> dict[str, Any]:
    found = platform.get(KIND, account_id)
    if found is None:
        raise StripeError(f"No such account: '{account_id}'", status=404,
                          code="resource_missing", param="account")
    return found["object"]


def page(platform: Bucket, path: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    p = params.coerce(raw, _LIST)
    limit = p.get("limit", 10)
    if not 1 <= limit <= 100:
        raise StripeError(f"Invalid limit: must be between 1 and 100 (got {limit}).",
                          param="limit", code="parameter_invalid_integer")
    records = platform.records(KIND)
    if "starting_after" in p:
        cursor = platform.get(KIND, p["starting_after"])
        if cursor is None:
            raise StripeError(f"No such account: '{p['starting_after']}'", status=400,
                              code="resource_missing", param="starting_after")
        records = [r for r in records if r["seq"] < cursor["seq"]]
    return {"object": "list", "data": [r["object"] for r in records[:limit]],
            "has_more": len(records) > limit, "url": path}
