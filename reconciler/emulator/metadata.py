"""Stripe's limits on ``metadata``, for every kind that has it, on create and on update.

The numbers are read from ``data/limits.json``. Stripe's API reference
(https://docs.stripe.com/api/metadata): "You can specify up to 50 keys,
with key names up to 40 characters long and values up to 500 characters long. [...] you can't
use square brackets ([ and ]) in keys." On update the keys merge, so the limit on the number
of keys applies to the merged result, which :class:`~.resource.Resource` checks again.

Stripe refuses with a 400 ``invalid_request_error``, ``param`` ``metadata`` and no code. The
texts are Stripe's as users quote them: "Invalid key: <key> must be a string under 40
characters" and "Invalid val: <value> must be a string under 500 characters"
(stripe/stripe-php#246, houndci/hound#817), "Metadata can have up to 50 keys, but you've set
51." (FlowFuse/flowfuse#1948; Stripe adds an e-mail address for support). Stripe's text for
a key with square brackets is not documented; this one is worded like the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler import limits

from .errors import invalid

_RULE = limits.api_rule("metadata")
MAX_KEYS: int = _RULE["max_keys"]
MAX_KEY_LENGTH: int = _RULE["max_key_length"]
MAX_VALUE_LENGTH: int = _RULE["max_value_length"]
FORBIDDEN_KEY_CHARACTERS: str = _RULE["forbidden_key_characters"]


def check(metadata: Mapping[str, str | None], param: str) -> None:
    """Refuse metadata beyond Stripe's limits (``None`` marks a key being removed)."""
    kept = sum(value is not None for value in metadata.values())
    if kept > MAX_KEYS:
        raise invalid(f"Metadata can have up to {MAX_KEYS} keys, but you've set {kept}.", param)
    for key, value in metadata.items():
        if len(key) > MAX_KEY_LENGTH:
            raise invalid(f"Invalid key: {key} must be a string under {MAX_KEY_LENGTH} characters",
                          param)
        if any(c in key for c in FORBIDDEN_KEY_CHARACTERS):
            raise invalid(f"Invalid key: {key} must not contain square brackets ([ or ])", param)
        if value is not None and len(value) > MAX_VALUE_LENGTH:
            raise invalid(f"Invalid val: {value} must be a string under {MAX_VALUE_LENGTH} "
                          "characters", param)
