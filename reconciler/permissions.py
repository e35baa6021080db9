"""Restricted keys: the resources a key may be given None, Read or Write on, and their names.

Stripe's restricted keys (``rk_live_…``, ``rk_test_…``) carry one level per resource; a
request the key may not make is answered 403 naming the missing permission, e.g. ``Having the
'rak_product_write' permission would allow this request to continue``. The emulator enforces
the grants below; the CLI reads the names back out of Stripe's message to explain a 403, and
``reconciler doctor`` lists what each command needs.

Resources are the manifest kinds, plus ``account`` (``GET /v1/account``) and ``connect``
(the ``Stripe-Account`` header). Write includes read. Product feature attachments count as
their product's.

Stripe publishes no list of ``rak_`` names. Those marked ``known`` below appear verbatim in
Stripe's 403 messages and restricted-key forms quoted in public code (prices still use the
permission of the older Plans, ``rak_plan_…``); the others follow the same pattern and are an
assumption. docs/troubleshooting.md lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.kinds import KINDS, MANIFEST_KINDS, Kind
from reconciler.stripe import PermissionDeniedError

LEVELS = ("read", "write")

ACCOUNT = "account"
CONNECT = "connect"


@dataclass(frozen=True)
class Resource:
    name: str  # what --restricted-key and doctor call it: a manifest kind, account, connect
    stem: str  # rak_<stem>_read / rak_<stem>_write
    label: str  # the dashboard's name, for "give the key Write on Prices"
    known: bool  # the rak_ name was seen in Stripe's own messages


def _resource(kind: Kind) -> Resource:
    assert kind.permission is not None, f"{kind.name} needs a permission"
    return Resource(kind.name, kind.permission.stem, kind.permission.label,
                    kind.permission.known)


RESOURCES: dict[str, Resource] = {r.name: r for r in (
    *(_resource(kind) for kind in MANIFEST_KINDS.values()),
    Resource(ACCOUNT, "accounts_kyc_basic", "Account", True),
    Resource(CONNECT, "connect", "Connect", False),
)}
assert set(MANIFEST_KINDS) <= set(RESOURCES), "every manifest kind needs a permission"

_BY_STEM = {r.stem: r for r in RESOURCES.values()}
_BY_OBJECT = {kind.stripe_object: kind.name for kind in KINDS.values()}
_PERMISSION = re.compile(r"'(rak_[a-z_]+?_(read|write))'")


def resource_of(kind_name: str) -> Resource:
    """The resource a kind's requests need (a product feature attachment: its product's)."""
    return RESOURCES[KINDS[kind_name].parent or kind_name]


def resource_of_object(stripe_object: str) -> Resource:
    """The resource of a Stripe object type (``price``, ``billing.meter``)."""
    return resource_of(_BY_OBJECT[stripe_object])


def permission_name(resource: Resource, write: bool) -> str:
    return f"rak_{resource.stem}_{LEVELS[write]}"


@dataclass(frozen=True)
class Permission:
    """One permission a 403 named: the resource (None when the name is not one of ours)."""

    name: str
    write: bool
    resource: Resource | None

    @property
    def fix(self) -> str:
        """The smallest change that allows the request: ``give the key Write on Prices``."""
        what = self.resource.label if self.resource else f"the resource of {self.name}"
        return f"give the key {LEVELS[self.write].capitalize()} on {what}"


def permission_in(message: str) -> Permission | None:
    """The permission Stripe's 403 message names (``Having the 'rak_…' permission``)."""
    found = _PERMISSION.search(message)
    if found is None:
        return None
    name, level = found.group(1), found.group(2)
    stem = name[len("rak_"):-len(level) - 1]
    return Permission(name, level == "write", _BY_STEM.get(stem))


@dataclass(frozen=True)
class Grants:
    """What one restricted key may do: a level per resource; anything unlisted is None."""

    levels: Mapping[str, str] = field(default_factory=dict)

    def allows(self, resource: str, write: bool) -> bool:
        level = self.levels.get(resource)
        return level == "write" or (level == "read" and not write)

    def __str__(self) -> str:
        return ",".join(f"{name}:{level}" for name, level in self.levels.items())


def parse_grants(text: str) -> Grants:
    """``products:write,prices:read``; ``all:read`` is every resource but ``connect``, which
    Stripe's dashboard also sets apart. A later item raises an earlier one, never lowers it.
    Raises ValueError saying what is wrong."""
    levels: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, level = (s.strip().lower() for s in item.partition(":"))
        if not sep or level not in LEVELS:
            raise ValueError(f"{item!r} is not RESOURCE:LEVEL (LEVEL read or write)")
        if name != "all" and name not in RESOURCES:
            raise ValueError(f"unknown resource {name!r}; choose from all, "
                             f"{', '.join(RESOURCES)}")
        for target in [r for r in RESOURCES if r != CONNECT] if name == "all" else [name]:
            if levels.get(target) != "write":
                levels[target] = level
    return Grants(levels)


def parse_restricted_key(text: str) -> tuple[str, Grants]:
    """``KEY=PERMS``, as ``--restricted-key`` takes it. Raises ValueError."""
    key, sep, perms = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"rk_(test|live)_[A-Za-z0-9_]+", key):
        raise ValueError("expected KEY=PERMS with KEY a restricted key (rk_test_… or "
                         "rk_live_…)")
    return key, parse_grants(perms)


def describe(names: Iterable[str]) -> str:
    """Resources as the dashboard names them, for messages."""
    return ", ".join(RESOURCES[n].label for n in names)


def _pattern(kind_name: str) -> str:
    return re.sub(r"\{[^}]+\}", "[^/]+", KINDS[kind_name].path)


def _kind_of_path(path: str) -> str | None:
    """The kind (or ``account``) a request path is for, most specific path first."""
    for name in sorted(KINDS, key=lambda name: -len(KINDS[name].path)):
        if re.match(_pattern(name) + r"(/|$)", path):
            return name
    return ACCOUNT if path == "/v1/account" else None


def _doing(method: str, path: str, kind_name: str) -> str:
    """What the request was for: ``create prices``, ``read meters``."""
    what = "the account" if kind_name == ACCOUNT else kind_name.replace("_", " ")
    if method == "GET":
        return f"read {what}"
    if method == "DELETE":
        return f"delete {what}"
    return f"create {what}" if re.fullmatch(_pattern(kind_name), path) else f"update {what}"


def explain(error: PermissionDeniedError) -> str:
    """A 403 in one line: the request, the missing permission (from Stripe's message, else
    from the request), what the request was for, and the smallest change to the key."""
    message = error.message or ""
    request = f"Stripe refused {error.method} {error.path}" if error.path else "Stripe refused"
    ref = f" [{error.request_id}]" if error.request_id else ""
    if "Connect permissions" in message:
        return (f"{request}: the restricted key has no Connect permission, which "
                f"--stripe-account needs: give the key a Connect permission, or run without "
                f"--stripe-account{ref}")
    needed = permission_in(message)
    if needed is None:  # another 403, e.g. an account the key cannot reach: Stripe's words
        return f"{request}: {message or 'HTTP 403'}{ref}"
    kind_name = _kind_of_path(error.path or "")
    purpose = (f", needed to {_doing(error.method or 'GET', error.path or '', kind_name)}"
               if kind_name else "")
    return f"{request}: the key lacks the '{needed.name}' permission{purpose}; {needed.fix}{ref}"
