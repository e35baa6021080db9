"""Which account and which mode a key talks to.

The live-mode guard asks this before any write, so the two signals it rests on (the key's
prefix, and what ``GET /v1/account`` says) are kept together here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import APIError

__all__ = ["UNKNOWN_ACCOUNT", "Account", "account_from_response", "is_live_key"]

UNKNOWN_ACCOUNT = "unknown"
"""The account id recorded when the key may not read ``GET /v1/account`` (a restricted key
without the account permission): the mode is then the key's."""

_LIVE_PREFIXES = ("sk_live_", "rk_live_")


def is_live_key(api_key: str) -> bool:
    """Whether a key is a live-mode secret or restricted key (by its prefix)."""
    return api_key.startswith(_LIVE_PREFIXES)


@dataclass(frozen=True)
class Account:
    """The account a key talks to, as ``GET /v1/account`` reports it."""

    id: str
    livemode: bool
    display_name: str | None = None


def account_from_response(data: Mapping[str, Any], key_livemode: bool) -> Account:
    """The :class:`Account` in a ``GET /v1/account`` body.

    ``livemode`` is true when the key is a live key or the response says so: for the
    live-mode guard, either signal is enough.
    """
    account_id = data.get("id")
    if not isinstance(account_id, str) or not account_id:
        raise APIError("account response has no id", method="GET", path="/v1/account")
    live = key_livemode or data.get("livemode") is True
    return Account(id=account_id, livemode=live, display_name=_display_name(data))


def _display_name(data: Mapping[str, Any]) -> str | None:
    settings = data.get("settings")
    if isinstance(settings, Mapping):
        dashboard = settings.get("dashboard")
        if isinstance(dashboard, Mapping) and isinstance(dashboard.get("display_name"), str):
            return dashboard["display_name"] or None
    profile = data.get("business_profile")
    if isinstance(profile, Mapping) and isinstance(profile.get("name"), str):
        return profile["name"] or None
    name = data.get("display_name")
    return name if isinstance(name, str) and name else None
