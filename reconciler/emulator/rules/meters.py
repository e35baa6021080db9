"""Billing meters: ``status`` changes only through ``/deactivate`` and ``/reactivate``.

Deactivation records ``status_transitions.deactivated_at``; reactivation clears it. Both are
idempotent. Defaults follow Stripe: customers are mapped by ``stripe_customer_id`` and values
read from ``value``. The event summaries endpoint answers an empty list: the emulator takes no
meter events.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from ..resource import Context, Obj, Resource
from ..store import random_id


class Meter(Resource):
    object = "billing.meter"
    prefix = "mtr_"
    defaults: ClassVar[Mapping[str, Any]] = {
        "status": "active",
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "value_settings": {"event_payload_key": "value"},
    }

    def new_id(self, ctx: Context, p: Mapping[str, Any]) -> str:
        return random_id(self.prefix if ctx.livemode else f"{self.prefix}test_")

    def deactivate(self, ctx: Context, obj: Obj, raw: Mapping[str, Any]) -> Obj:
        return self._transition(ctx, obj, raw, "deactivate", "inactive")

    def reactivate(self, ctx: Context, obj: Obj, raw: Mapping[str, Any]) -> Obj:
        return self._transition(ctx, obj, raw, "reactivate", "active")

    def _transition(self, ctx: Context, obj: Obj, raw: Mapping[str, Any], op: str, status: str) -> Obj:
        p = self.coerce(op, raw)
        new = copy.deepcopy(obj)
        if new["status"] != status:
            new["status"] = status
            new["status_transitions"]["deactivated_at"] = ctx.now if status == "inactive" else None
            new["updated"] = ctx.now
            ctx.save(self.object, new)
        return self.render(ctx, new, p.get("expand") or [])

    def list_event_summaries(self, ctx: Context, obj: Obj, raw: Mapping[str, Any]) -> Obj:
        self.coerce("list_event_summaries", raw)
        return {"object": "list", "data": [], "has_more": False, "url": ctx.path}
