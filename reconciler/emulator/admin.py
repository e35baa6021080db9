"""Test controls under ``/_emulator/``, outside Stripe's API (no key, no faults, not counted).

- ``GET  /_emulator/state``     the whole state (what a state file holds)
- ``POST /_emulator/reset``     empty every account, forget idempotency keys and counts
- ``GET  /_emulator/faults``    the fault settings
- ``POST /_emulator/faults``    JSON body, e.g. ``{"fail_rate": 0.1, "seed": 7}``: settings not
  named keep their value; the random sequence restarts from the seed
- ``GET  /_emulator/requests``  request counts per method and path template:
  ``{"counts": {...}}``; with ``?log=true`` also ``"log"``, the request log oldest first (see
  :class:`~.requestlog.LoggedRequest` for the fields), and ``&limit=N`` keeps its last N
- ``DELETE /_emulator/requests`` reset the counts and the log
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

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
        if action == ("GET", "faults"):
            return Outcome(200, emulator.faults.to_json())
        if action == ("POST", "faults"):
            emulator.set_faults(_faults(emulator.faults, body))
            return Outcome(200, emulator.faults.to_json())
        if action == ("GET", "requests"):
            return Outcome(200, _requests(emulator, query))
        if action == ("DELETE", "requests"):
            emulator.reset_request_counts()
            return Outcome(200, {"counts": {}})
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


def _faults(current: Faults, body: bytes) -> Faults:
    try:
        changes: Any = json.loads(body or b"{}")
        if not isinstance(changes, dict):
            raise TypeError("expected a JSON object")
        return Faults.from_json({**current.to_json(), **changes})
    except (ValueError, TypeError) as exc:
        raise StripeError(f"Invalid fault settings: {exc}") from None
