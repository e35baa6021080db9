"""Stripe's published API limits, written once: the client paces itself below them
(:mod:`.ratelimit`) and the emulator models them (:mod:`reconciler.emulator.limits`).

Source: docs.stripe.com/rate-limits ("Rate limits", read 2026-12): a global limit per account
of 100 requests per second in live mode and 25 in a sandbox; individual API endpoints 25
requests per second unless noted, each named operation its own endpoint (``GET
/v1/prices/{id}`` for different ids counts together), every call also counting against the
global limit; the Search API 20 read requests per second. Stripe may lower them ("treat the
limits as maximums") or raise them for an account on request.
"""

from __future__ import annotations

__all__ = ["ENDPOINT_RATE", "GLOBAL_RATES", "MODES", "SEARCH_RATE"]

GLOBAL_RATES = {"sandbox": 25.0, "live": 100.0}
"""Requests per second per account, by mode."""
MODES = tuple(GLOBAL_RATES)
ENDPOINT_RATE = 25.0
"""Requests per second to one endpoint (method and route), unless noted."""
SEARCH_RATE = 20.0
"""Requests per second to a search endpoint (``GET /v1/prices/search``)."""
