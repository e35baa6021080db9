"""API keys: who is calling, in which mode, on behalf of which account.

``sk_test_`` / ``rk_test_`` keys work in test mode and ``sk_live_`` / ``rk_live_`` in live mode,
whose objects are separate (and carry ``livemode: true``). Any well-formed key is accepted:
all keys of one emulator belong to its single platform account. ``Stripe-Account: acct_...``
acts on a connected account, with data of its own. Keys are never echoed whole in errors.

A restricted key registered with the emulator (``--restricted-key KEY=PERMS``) may make only
the requests its grants allow (:func:`authorize`); an ``rk_`` key not registered acts as a
secret key, as every key did before restricted keys were emulated.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.permissions import CONNECT, Grants, Resource, permission_name

from .errors import StripeError

_KEY = re.compile(r"(?:sk|rk)_(test|live)_[A-Za-z0-9_]+\Z")
_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]+\Z")
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


# Stripe's wording for both 403s (Stripe's error-handling guide, "permission errors", and
# the messages quoted in issue reports); their type is invalid_request_error, with no code.
_NO_CONNECT = ("You passed a restricted API key with the Stripe-Account header, but the "
               "restricted API key does not have any Connect permissions.")


@dataclass(frozen=True)
class Caller:
    livemode: bool
    account: str | None  # a connected account from Stripe-Account, or None for the platform
    key: str = ""  # masked, for messages
    grants: Grants | None = None  # a registered restricted key's; None: a secret key's


def authenticate(headers: Mapping[str, str],
                 restricted: Mapping[str, Grants] | None = None) -> Caller:
    """The caller of a request (headers with lower-case names), or Stripe's 401; the grants
    of a restricted key come from ``restricted`` (key -> grants)."""
    key = _key(headers.get("authorization", ""))
    if not key:
        raise StripeError(_NO_KEY, status=401, replayable=False)
    found = _KEY.match(key)
    if found is None:
        raise StripeError(f"Invalid API Key provided: {mask(key)}", status=401, replayable=False)
    account = headers.get("stripe-account")
    if account is not None and not _ACCOUNT.match(account):
        raise StripeError(
            f"The provided key '{mask(key)}' does not have access to account '{account}' "
            "(or that account does not exist).",
            status=403, code="account_invalid", replayable=False,
        )
    grants = (restricted or {}).get(key)
    if grants is not None and account is not None and not grants.allows(CONNECT, False):
        raise StripeError(_NO_CONNECT, status=403, replayable=False)
    return Caller(livemode=found.group(1) == "live", account=account, key=mask(key),
                  grants=grants)


def authorize(caller: Caller, resource: Resource, write: bool, account: str) -> None:
    """Stripe's 403 when ``caller`` is a restricted key without the permission the request
    needs: Read for GET, Write for anything else (write includes read)."""
    if caller.grants is None or caller.grants.allows(resource.name, write):
        return
    raise StripeError(
        f"The provided key '{caller.key}' does not have the required permissions for this "
        f"endpoint on account '{account}'. Having the '{permission_name(resource, write)}' "
        "permission would allow this request to continue.",
        status=403, replayable=False)


def mask(key: str) -> str:
    """``sk_test_****abcd``: the key's kind and mode, and its last four characters at most."""
    prefix = re.match(r"(?:sk|rk|pk)_(?:test|live)_", key)
    head = prefix.group(0) if prefix else ""
    tail = key[len(head):]
    return f"{head}****{tail[-4:] if len(tail) > 8 else ''}"


def _key(value: str) -> str:
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":  # curl -u sk_test_...:
        try:
            return base64.b64decode(credentials.strip()).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""
