"""The Stripe API client: the only way the rest of reconciler talks to Stripe.

See :mod:`reconciler.stripe.client` for the design (async httpx, rate limit, retries,
redaction), :mod:`.encoding` for the wire format and :mod:`.errors` for what can be raised.
"""

from .account import UNKNOWN_ACCOUNT
from .client import (
    DEFAULT_API_BASE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    Account,
    StripeClient,
    is_live_key,
)
from .encoding import encode, encode_pairs, format_number
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StripeError,
    error_from_response,
)
from .ratelimit import DEFAULT_RATES, TokenBucket
from .redaction import RedactingFilter, install_filter, mask, redact, register_secret
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_RATES",
    "DEFAULT_REQUEST_TIMEOUT",
    "UNKNOWN_ACCOUNT",
    "APIConnectionError",
    "APIError",
    "Account",
    "AuthenticationError",
    "IdempotencyError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedactingFilter",
    "RetryPolicy",
    "StripeClient",
    "StripeError",
    "TokenBucket",
    "encode",
    "encode_pairs",
    "error_from_response",
    "format_number",
    "install_filter",
    "is_live_key",
    "mask",
    "redact",
    "register_secret",
]
