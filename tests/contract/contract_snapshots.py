"""Snapshots of normalised Stripe responses, recorded once and compared on every run.

The model is LocalStack's snapshot testing: a test states what it saw with
``snapshot.match(name, value)``; values are normalised first (ids, timestamps, secrets and
the stack name replaced by stable placeholders, so the same id is the same placeholder
wherever it appears and the relations between objects survive); one JSON file per test
module keeps ``recorded-content`` under the test's name, with where it was recorded from.

With ``RECONCILER_SNAPSHOT_UPDATE=1`` a run records instead of comparing. Recorded against
a Stripe sandbox (``STRIPE_SANDBOX_KEY``), the files are Stripe's own answers and the
emulator's runs are held to them; ``docs/contributing.md`` says how.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.reference import API_VERSION

UPDATE_ENV = "RECONCILER_SNAPSHOT_UPDATE"
# Stripe's ids: a prefix, then at least 8 letters and digits, one a digit or capital (which
# tells an id from an enum value such as payment_method_configuration)
_ID = re.compile(r"^([a-z]+(?:_[a-z]+)?)_(?=[a-z]*[0-9A-Z])[A-Za-z0-9]{8,}$")
_SECRET = re.compile(r"^(whsec|sk|rk)_")
_REQUEST_ID = re.compile(r"\breq_[A-Za-z0-9]+")  # in messages: one per request
_TIME_KEYS = {"created", "updated"}


@dataclass
class Normaliser:
    """Placeholders that stay the same for the same value within one test."""

    stack: str
    seen: dict[str, str] = field(default_factory=dict)

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [self(item, key) for item in value]
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and (key in _TIME_KEYS or key.endswith("_at")):
            return "<timestamp>"
        if not isinstance(value, str) or key == "object":
            return value
        if _SECRET.match(value) or key == "secret":
            return "<secret>"
        if value == self.stack or (self.stack and self.stack in value):
            return value.replace(self.stack, "<stack>")
        match = _ID.match(value)
        if match and match[1] not in ("sk", "rk"):
            return self._placeholder(value, match[1])
        return _REQUEST_ID.sub("<request-id>", value)

    def _placeholder(self, value: str, prefix: str) -> str:
        if value not in self.seen:
            count = sum(1 for v in self.seen.values() if v.startswith(f"<{prefix}:"))
            self.seen[value] = f"<{prefix}:{count + 1}>"
        return self.seen[value]


@dataclass
class Snapshot:
    """One test's snapshot: what it matched, compared with (or recorded into) ``path``."""

    path: Path
    name: str
    against: str  # "emulator" or "stripe"
    normalise: Normaliser
    recording: bool = field(default_factory=lambda: os.environ.get(UPDATE_ENV) == "1")
    observed: dict[str, Any] = field(default_factory=dict)
    skip: tuple[str, ...] = ()  # dotted paths not compared (known, documented differences)

    def match(self, key: str, value: Any) -> None:
        assert key not in self.observed, f"{key} matched twice"
        self.observed[key] = self.normalise(value)

    def recorded(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text()).get(self.name)

    def finish(self) -> None:
        """Record, or compare everything matched with the recording."""
        if self.recording:
            document = json.loads(self.path.read_text()) if self.path.exists() else {}
            document[self.name] = {
                "recorded-against": self.against,
                "recorded-date": datetime.now(UTC).strftime("%Y-%m-%d"),
                "api-version": API_VERSION,
                "recorded-content": self.observed,
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
            return
        recorded = self.recorded()
        assert recorded is not None, (
            f"no snapshot '{self.name}' in {self.path}: record it with {UPDATE_ENV}=1")
        differences = diff(recorded["recorded-content"], self.observed, "", self.skip)
        assert not differences, (
            f"{self.name} departs from its snapshot (recorded against "
            f"{recorded['recorded-against']}):\n" + "\n".join(differences[:20]))


def diff(expected: Any, actual: Any, where: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Every difference between two normalised values, as ``path: expected != actual``."""
    if where in skip:
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            here = f"{where}.{key}" if where else key
            if here in skip:
                continue
            if key not in actual:
                found.append(f"{here}: missing")
            elif key not in expected:
                found.append(f"{here}: not in the snapshot")
            else:
                found += diff(expected[key], actual[key], here, skip)
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items != {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in diff(e, a, f"{where}[{i}]", skip)]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]
