"""Ownership records: which meters and payment method configurations a stack owns.

Meters and payment method configurations carry no metadata in Stripe, so no ownership tag:
without a record, a stack that states another stack's event name (or configuration name)
would rename that meter, or deactivate it with ``--force``. Each stack therefore records the
ids it created or adopted of those kinds in a control product of its own,
``reconciler_owned_<hash of the stack>``: inactive (never for sale), hidden from every reader
of the account like the apply lock (:func:`reconciler.ownership.is_control`), the ids in its
metadata. Stripe's metadata limits (50 keys, keys up to 40 characters, values up to 500)
bound it: the ids of a kind are joined by commas and chunked across keys ``<kind>_<n>``.
Apply writes it (:mod:`reconciler.plan.records`), under the apply lock, after the changes
that created or matched such objects; the planner reads every stack's record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler import limits
from reconciler.kinds import CONTROL_KIND, KINDS, MANIFEST_KINDS, Kind
from reconciler.manifests.tags import METADATA_MAX_KEYS
from reconciler.ownership import CONTROL, OWNER_STACK, owner

RECORDED_KINDS = tuple(name for name, kind in MANIFEST_KINDS.items() if not kind.has_metadata)
"""The kinds without metadata, whose ownership only a record can tell."""
RECORD_NAME = "reconciler ownership record — do not use"
_VALUE_MAX: int = limits.api_rule("metadata")["max_value_length"]
_KEYS_MAX = METADATA_MAX_KEYS - 2  # the marker and the stack take two
PRODUCTS = KINDS[CONTROL_KIND].path  # a record is a product


def record_id(stack: str) -> str:
    return "reconciler_owned_" + hashlib.sha256(stack.encode()).hexdigest()[:24]


def parse(obj: Mapping[str, Any]) -> tuple[str, dict[str, set[str]]] | None:
    """(stack, ids by kind) of a record product; None for any other control product."""
    metadata = obj.get("metadata") or {}
    if metadata.get(CONTROL) != "owned" or "stack" not in metadata:
        return None
    ids: dict[str, set[str]] = {kind_name: set() for kind_name in RECORDED_KINDS}
    for key, value in metadata.items():
        kind_name = key.rpartition("_")[0]
        if kind_name in ids and value:
            ids[kind_name] |= set(value.split(","))
    return metadata["stack"], ids


def chunked(ids: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """The metadata keys holding ``ids``: ``<kind>_<n>`` = comma-joined ids, each value at
    most 500 characters. ValueError past 48 keys."""
    metadata: dict[str, str] = {}
    for kind_name in RECORDED_KINDS:
        chunk: list[str] = []
        for object_id in sorted(ids.get(kind_name, ())):
            if chunk and len(",".join([*chunk, object_id])) > _VALUE_MAX:
                n = len([k for k in metadata if k.startswith(kind_name)])
                metadata[f"{kind_name}_{n}"] = ",".join(chunk)
                chunk = []
            chunk.append(object_id)
        if chunk:
            n = len([k for k in metadata if k.startswith(kind_name)])
            metadata[f"{kind_name}_{n}"] = ",".join(chunk)
    if len(metadata) > _KEYS_MAX:
        raise ValueError(f"the ownership record holds too many ids for Stripe's 50 metadata "
                         f"keys ({len(metadata)} keys of ids)")
    return metadata


class Referrers:
    """The live ``objects`` (by kind name) by the objects their references name: a meter's
    prices, found by one pass over the account instead of one per meter an entry matches
    (an account of 100,000 prices and 80 meters read 16 million references)."""

    def __init__(self, objects: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        self._users: dict[tuple[str, str], list[tuple[str, Mapping[str, Any]]]] = {}
        for name, found in objects.items():
            refs = KINDS[name].references
            for user in found if refs else ():
                named = {(ref.kind, value) for ref in refs for _, value in ref.values(user)}
                for target in named:
                    self._users.setdefault(target, []).append((name, user))

    def of(self, kind: Kind, obj: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        """(kind name, object) of the live objects whose references name ``obj``."""
        return self._users.get((kind.name, obj["id"]), [])


def foreign_use(kind: Kind, obj: Mapping[str, Any], stack: str,
                records: Mapping[str, Mapping[str, set[str]]], users: Referrers) -> str | None:
    """Why ``obj`` (a meter or a payment method configuration) is another stack's, or None:
    another stack recorded it, or an object another stack owns refers to it (a price reads
    a meter)."""
    for other, ids in sorted(records.items()):
        if other != stack and obj["id"] in ids.get(kind.name, ()):
            return f"stack '{other}' records it as its own"
    for referrer, user in users.of(kind, obj):
        user_stack = owner(dict(user))[0]
        if user_stack not in (None, stack):
            what = KINDS[referrer].stripe_object.rsplit(".", 1)[-1]
            return f"{what} {user['id']} of stack '{user_stack}' uses it"
    return None


def ours(kind: Kind, obj: Mapping[str, Any], stack: str,
         records: Mapping[str, Mapping[str, set[str]]], users: Referrers) -> bool:
    """Whether ``stack`` may take ``obj`` as its own: recorded by it, or referred to by one
    of its objects (a meter its price reads), or built into the account (the default
    configuration), which no stack created."""
    if obj["id"] in records.get(stack, {}).get(kind.name, ()) or (
            kind.built_in(obj)):
        return True
    return any((user.get("metadata") or {}).get(OWNER_STACK) == stack
               for _, user in users.of(kind, obj))
