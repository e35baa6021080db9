"""Webhook endpoints: `api_version` and `connect` are fixed at creation.

A change to either re-creates the endpoint, which issues a new signing secret that Stripe
returns only once, in the create response. Stripe never shows `connect` in the endpoint, so
it is recorded in a metadata tag at create and compared with that.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .base import Finding, Kind, Permission, Removal, Replacement
from .identity import Identity


def _events(entry: Mapping[str, Any]) -> list[Finding]:
    events = entry.get("enabled_events")
    if isinstance(events, list) and "*" in events and len(events) > 1:
        return [(("enabled_events",), "'*' already enables every event; list it alone")]
    return []


def _normalize(live: dict[str, Any]) -> dict[str, Any]:
    """``disabled`` is a parameter only; Stripe reports it as ``status``."""
    return dict(live, disabled=live.get("status") == "disabled")


def _export_name(endpoint: dict[str, Any], _: Any) -> str:
    """Its URL's host (without the port) and path."""
    url = urlsplit(endpoint.get("url") or "")
    return url.netloc.split(":")[0] + url.path


SECRETS_HINT = "apply with --secrets-out FILE to keep it"
"""The end of the create warning; `apply --secrets-out` shows where the secret goes instead."""

KIND = Kind(
    name="webhook_endpoints",
    permission=Permission("webhook", "Webhook endpoints"),
    stripe_object="webhook_endpoint",
    summary=("Webhook endpoints: api_version and connect force re-creation and a new secret; "
             "an entry that leaves connect out keeps what the endpoint has."),
    identity=Identity.tag(),
    removal=Removal.DELETE,
    replacement=Replacement.CREATE_THEN_DELETE,
    # assumptions, not in Stripe's reference (docs.stripe.com/api/webhook_endpoints/create says
    # only "the list of events to enable" and "the URL of the webhook endpoint"): an empty or
    # repeated event list and a URL without an http(s) scheme are refused
    constraints={
        "enabled_events": {"minItems": 1, "uniqueItems": True},
        "url": {"pattern": "^https?://"},
    },
    checks=(_events,),
    unordered=frozenset({"enabled_events"}),
    normalize_live=_normalize,
    export_name=_export_name,
    defaults={"disabled": False},
    recorded={"connect": False},
    issues_secret=True,
    create_warnings=(f"the signing secret is returned only once, at creation; {SECRETS_HINT}",),
    replace_warnings=(("re-creating this endpoint gives it a NEW signing secret; update the "
                      "receiving service"),),
)
