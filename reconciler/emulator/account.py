"""``GET /v1/account``: the account the key (and ``Stripe-Account``) acts on.

The platform account's id is created with the state and kept across resets, so it is stable
for a state file; a connected account answers with the id it was addressed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import params

_PARAMS = {"expand": {"type": "array", "items": {"type": "string"}}}


def retrieve(account_id: str, created: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    params.coerce(raw, _PARAMS)
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "mcc": None, "name": "Stripe emulator", "product_description": None,
            "support_email": None, "support_phone": None, "support_url": None, "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": None,
        "metadata": {},
        "payouts_enabled": True,
        "settings": {
            "dashboard": {"display_name": "Stripe emulator", "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
        },
        "type": "standard",
    }
