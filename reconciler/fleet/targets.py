"""Targets: which accounts a fleet run reaches, from a targets file or the platform's
connected accounts, and the stable shard of them one CI job takes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from reconciler.manifests.errors import Location
from reconciler.manifests.yamlsource import parse
from reconciler.stripe import StripeClient

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://reconciler.dev/schemas/targets.schema.json",
    "title": "reconciler targets file (--accounts)",
    "type": "object",
    "additionalProperties": False,
    "required": ["targets"],
    "properties": {"targets": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                     "description": "Display name, unique in the file; names the target's "
                     "journal beside a saved plan."},
            "account": {"type": "string", "pattern": "^acct_[A-Za-z0-9]+$",
                        "description": "A connected account, reached with the key of the run "
                        "(or api_key_env's) and the Stripe-Account header."},
            "api_key_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                            "description": "Environment variable holding this account's own "
                            "key (the key itself never goes in the file)."},
            "vars": {"type": "object", "description": "Variables for ${NAME} in the manifests, "
                     "over --var and the environment.",
                     "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "env": {"type": "string", "description": "Overlay (overlays/ENV/) for this target, "
                    "instead of --env."},
        },
    }}},
}
"""The targets file's JSON Schema; schemas/targets.schema.json is this, written out."""


class TargetsError(Exception):
    """A targets file, shard or account filter that cannot be used; the message says where."""


@dataclass(frozen=True)
class Target:
    name: str
    account: str | None = None  # acct_..., sent as Stripe-Account
    api_key_env: str | None = None  # None: the run's own key
    vars: Mapping[str, str] = field(default_factory=dict)
    env: str | None = None

    @property
    def identity(self) -> str:
        """What a shard hashes: the account (or the key's variable), not the display name,
        so renaming a target never moves it to another CI job."""
        return self.account or f"key:{self.api_key_env or ''}:{self.name}"

    @property
    def budget(self) -> str:
        """Targets with the same budget share one rate limit: those reached with one key.
        Stripe measures limits per account and does not say whether a request made with
        Stripe-Account counts against the platform or the connected account; the
        conservative reading, taken here, is the platform's, shared by all its targets."""
        return self.api_key_env or ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for name in ("account", "api_key_env", "env"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.vars:
            out["vars"] = dict(self.vars)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        return cls(name=data["name"], account=data.get("account"),
                   api_key_env=data.get("api_key_env"), env=data.get("env"),
                   vars={k: _text(v) for k, v in data.get("vars", {}).items()})


def _text(value: Any) -> str:
    """A variable's value as ``--var`` would give it."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def load_targets(path: str) -> list[Target]:
    """The targets of a file, or :class:`TargetsError` listing every problem with its
    file:line:column."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetsError(f"{path}: cannot read the targets file: {exc}") from None
    doc = parse(text, path, lambda value, where: (value, None))
    problems = [str(issue) for issue in doc.issues]
    if not problems:
        for error in sorted(Draft202012Validator(SCHEMA).iter_errors(doc.value),
                            key=lambda e: [str(p) for p in e.absolute_path]):
            where = _where(doc.positions, doc.key_positions, tuple(error.absolute_path), path)
            subject = ".".join(str(p) for p in error.absolute_path) or "the file"
            problems.append(f"{where}: {subject}: {error.message}")
    if problems:
        raise TargetsError("\n".join(problems))
    targets = [Target.from_dict(entry) for entry in doc.value["targets"]]
    seen: dict[str, int] = {}
    for index, target in enumerate(targets):
        if target.name in seen:
            where = _where(doc.positions, {}, ("targets", index, "name"), path)
            problems.append(f"{where}: targets.{index}.name: '{target.name}' is also the name "
                            f"of target {seen[target.name] + 1}; names must be unique")
        seen.setdefault(target.name, index)
    if problems:
        raise TargetsError("\n".join(problems))
    return targets


def _where(positions: Mapping[Any, Location], keys: Mapping[Any, Location],
           path: tuple[Any, ...], file: str) -> str:
    """The position of the value at ``path``, else of its nearest parent."""
    while path:
        found = positions.get(path) or keys.get(path)
        if found:
            return str(found)
        path = path[:-1]
    return str(positions.get((), Location(file, 1, 1)))


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` (1-based) as (I, N)."""
    index, _, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise TargetsError(f"--shard {text!r}: expected I/N, e.g. 1/4") from None
    if not 1 <= i <= n:
        raise TargetsError(f"--shard {text!r}: I must be between 1 and N")
    return i, n


def shard(targets: Sequence[Target], index: int, count: int) -> list[Target]:
    """The targets of shard ``index`` of ``count``: a target's shard depends only on its
    identity, so N jobs with the same file cover every target exactly once, whatever order
    or other targets the file has."""
    def bucket(target: Target) -> int:
        return int(hashlib.sha256(target.identity.encode()).hexdigest(), 16) % count
    return [t for t in targets if bucket(t) == index - 1]


def parse_filters(filters: Sequence[str]) -> list[tuple[str, str]]:
    """``FIELD=VALUE`` filters of ``--account-filter``; FIELD is dotted (metadata.region)."""
    parsed = []
    for text in filters:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise TargetsError(f"--account-filter {text!r}: expected FIELD=VALUE, e.g. "
                               "metadata.region=eu or country=DE")
        parsed.append((name, value))
    return parsed


def _field(account: Mapping[str, Any], path: str) -> Any:
    value: Any = account
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


async def connected_targets(client: StripeClient, filters: Sequence[tuple[str, str]] = ()
                            ) -> list[Target]:
    """The platform's connected accounts (``GET /v1/accounts``) that match every filter, as
    targets named by their id."""
    found = []
    async for account in client.list_all("/v1/accounts"):
        if all(str(_field(account, name)) == value for name, value in filters):
            found.append(Target(name=account["id"], account=account["id"]))
    return found
