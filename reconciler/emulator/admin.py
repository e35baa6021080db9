"""Test controls under ``/_emulator/``, outside Stripe's API (no key, no faults, not counted).

- ``GET  /_emulator/state``     the whole state (what a state file holds)
- ``POST /_emulator/reset``     empty every account, forget idempotency keys and counts
- ``GET  /_emulator/faults``    the fault settings
- ``POST /_emulator/faults``    JSON body, e.g. ``{"fail_rate": 0.1, "seed": 7}``: settings not
  named keep their value; the random sequence restarts from the seed
- ``GET|POST /_emulator/faults?account=acct_...``  the same for requests made with that
  ``Stripe-Account`` only, met on top of the platform-wide ones (a connected account with a
  broken network, or its own rate budget)
- ``GET  /_emulator/requests``  request counts per method and path template:
  ``{"counts": {...}}``; with ``?log=true`` also ``"log"``, the request log oldest first (see
  :class:`~.requestlog.LoggedRequest` for the fields), and ``&limit=N`` keeps its last N
- ``DELETE /_emulator/requests`` reset the counts and the log
- ``GET  /_emulator/restricted_keys``  the registered restricted keys (masked) and their
  permissions: ``{"restricted_keys": {"rk_test_****abcd": "products:write,prices:read"}}``
- ``POST /_emulator/restricted_keys``  JSON body ``{"rk_test_...": "products:write,..."}``
  (PERMS as ``--restricted-key`` takes them): registers the keys, replacing the permissions of
  a key given again
- ``DELETE /_emulator/restricted_keys`` forget them all (``rk_`` keys act as secret keys)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from reconciler.permissions import Grants, parse_restricted_key

from .auth import mask
from .errors import StripeError, unrecognized_url
from .faults import Faults
from .outcome import Outcome

if TYPE_CHECKING:
    from .app import Emulator

PREFIX = "/_emulator/"


def handle(emulator: Emulator, method: str, path: str, query: str, body: bytes,
           request_id: str) -> Outcome:
    action = (method, path[len(PREFIX):].strip("/"))
    try:
        if action == ("GET", "state"):
            return Outcome(200, emulator.state())
        if action == ("POST", "reset"):
            emulator.reset()
            return Outcome(200, {"reset": True})
        account = parse_qs(query).get("account", [None])[-1]
        if action == ("GET", "faults"):
            current = emulator.account_faults(account) if account else emulator.faults
            return Outcome(200, current.to_json())
        if action == ("POST", "faults") and account:
            emulator.set_account_faults(account, _faults(emulator.account_faults(account), body))
            return Outcome(200, emulator.account_faults(account).to_json())
        if action == ("POST", "faults"):
            emulator.set_faults(_faults(emulator.faults, body))
            return Outcome(200, emulator.faults.to_json())
        if action == ("GET", "requests"):
            return Outcome(200, _requests(emulator, query))
        if action == ("DELETE", "requests"):
            emulator.reset_request_counts()
            return Outcome(200, {"counts": {}})
        if action == ("POST", "restricted_keys"):
            emulator.set_restricted_keys(_restricted_keys(body))
            return Outcome(200, _keys(emulator))
        if action == ("GET", "restricted_keys"):
            return Outcome(200, _keys(emulator))
        if action == ("DELETE", "restricted_keys"):
            emulator.clear_restricted_keys()
            return Outcome(200, _keys(emulator))
        raise unrecognized_url(method, path)
    except StripeError as error:
        return Outcome.error(error, request_id)


def _requests(emulator: Emulator, query: str) -> dict[str, Any]:
    options = {name: values[-1] for name, values in parse_qs(query).items()}
    answer: dict[str, Any] = {"counts": emulator.request_counts()}
    if options.get("log", "false").lower() not in ("true", "1"):
        return answer
    log = emulator.request_log()
    if "limit" in options:
        try:
            limit = int(options["limit"])
            if limit < 0:
                raise ValueError
        except ValueError:
            raise StripeError("Invalid limit: must be a non-negative integer") from None
        log = log[-limit:] if limit else []
    answer["log"] = [entry.to_json() for entry in log]
    return answer


def _keys(emulator: Emulator) -> dict[str, Any]:
    return {"restricted_keys": {mask(key): str(grants)
                                for key, grants in emulator.restricted_keys().items()}}


def _restricted_keys(body: bytes) -> dict[str, Grants]:
    try:
        given: Any = json.loads(body or b"{}")
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise TypeError('expected a JSON object {"rk_test_...": "RESOURCE:LEVEL,..."}')
        return dict(parse_restricted_key(f"{key}={perms}") for key, perms in given.items())
    except (ValueError, TypeError) as exc:
        raise StripeError(f"Invalid restricted keys: {exc}") from None


def _faults(current: Faults, body: bytes) -> Faults:
    try:
        changes: Any = json.loads(body or b"{}")
        if not isinstance(changes, dict):
            raise TypeError("expected a JSON object")
        return Faults.from_json({**current.to_json(), **changes})
    except (ValueError, TypeError) as exc:
        raise StripeError(f"Invalid fault settings: {exc}") from None
