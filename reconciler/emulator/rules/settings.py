"""Account settings objects: payment method configurations and webhook endpoints.

Payment method configurations: every account has a default configuration (``is_default``),
seeded with the account; each payment method's object is always present, its
``display_preference.value`` following ``preference`` (``none`` keeps the method's default:
cards on, the rest off).

Webhook endpoints: ``url`` must be an http(s) URL (``url_invalid``); the signing ``secret``
(``whsec_...``) is returned by the create response only; ``disabled`` sets ``status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..errors import invalid
from ..resource import Context, Obj, Resource
from ..store import random_id

_ON_BY_DEFAULT = frozenset({"card"})


class PaymentMethodConfiguration(Resource):
    object = "payment_method_configuration"
    prefix = "pmc_"
    defaults: ClassVar[Mapping[str, Any]] = {"active": True, "is_default": False, "name": "Payment method configuration"}

    def __init__(self) -> None:
        super().__init__()
        self.methods = [m for m in self.facts["payment_method_types"] if m in self.fields]

    def seed(self, ctx: Context) -> None:
        obj = self.build(ctx, {"name": "Default"})
        obj["is_default"] = True
        ctx.save(self.object, obj)

    def fill(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        for method in self.methods:
            self._method(obj, method, p.get(method))

    def apply_update(self, ctx: Context, new: Obj, p: Mapping[str, Any]) -> None:
        for method in self.methods:
            if method in p:
                self._method(new, method, p[method])

    @staticmethod
    def _method(obj: Obj, method: str, given: Mapping[str, Any] | None) -> None:
        current = obj.get(method) or {}
        preference = ((given or {}).get("display_preference") or {}).get("preference")
        preference = preference or (current.get("display_preference") or {}).get("preference") or "none"
        value = preference if preference != "none" else ("on" if method in _ON_BY_DEFAULT else "off")
        obj[method] = {
            "available": True,
            "display_preference": {"overridable": None, "preference": preference, "value": value},
        }


class WebhookEndpoint(Resource):
    object = "webhook_endpoint"
    prefix = "we_"
    defaults: ClassVar[Mapping[str, Any]] = {"status": "enabled"}
    create_response_only = frozenset({"secret"})

    def check_create(self, ctx: Context, p: dict[str, Any], parent: str | None) -> None:
        _check_url(p["url"])

    def fill(self, ctx: Context, obj: Obj, p: Mapping[str, Any]) -> None:
        obj["secret"] = random_id("whsec_", 32)

    def check_update(self, ctx: Context, obj: Obj, p: dict[str, Any]) -> None:
        if "url" in p:
            _check_url(p["url"])

    def apply_update(self, ctx: Context, new: Obj, p: Mapping[str, Any]) -> None:
        if "disabled" in p:
            new["status"] = "disabled" if p["disabled"] else "enabled"


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"Invalid URL: {url}. Webhook endpoints need an http or https URL.", "url",
                      "url_invalid")
