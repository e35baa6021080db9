"""Ownership tags: how an object in Stripe says which manifest entry and stack own it.

There is no state file: every object the tool creates carries its manifest key and stack in
metadata, so the live account itself records what is managed. Several stacks (repositories)
can manage disjoint parts of one account; an object owned by another stack is never touched.

The same metadata also records, at create, the create-only parameters Stripe accepts but
never shows (a webhook endpoint's ``connect``, the kind's ``recorded`` fields): without the
record a change to one could not be seen, and the object would silently keep the old value.
Every tag starts with ``reconciler_``; tags are the tool's, not part of the user's metadata.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.kinds import Kind

TAG_PREFIX = "reconciler_"
OWNER_KEY = f"{TAG_PREFIX}key"
OWNER_STACK = f"{TAG_PREFIX}stack"
PREVENT_DESTROY = f"{TAG_PREFIX}prevent_destroy"
ENTRY_TAGS = frozenset({OWNER_KEY, OWNER_STACK, PREVENT_DESTROY})
"""The tags an entry decides; the others record how the object was created."""
DEFAULT_STACK = "default"
CONTROL = f"{TAG_PREFIX}control"
"""Metadata key that marks the tool's own control objects (the apply lock): they are not
catalog objects, so the account-reading layer leaves them out of plans, drift and export."""
CONTROL_KEY_PREFIX = "reconciler-control-"
"""Starts the idempotency key of every write of a control object, and of no other."""
CONTROL_ID_PREFIX = TAG_PREFIX
"""Product ids starting with it are reserved for control objects (``validate`` refuses them)."""


def tags(stack: str, key: str, prevent_destroy: bool = False) -> dict[str, str]:
    """The entry's tags. ``prevent_destroy`` stays on the object when the entry leaves the
    manifests, so prune can still refuse to remove it."""
    return {OWNER_STACK: stack, OWNER_KEY: key,
            **({PREVENT_DESTROY: "true"} if prevent_destroy else {})}


def decided(metadata_key: str, stated: bool) -> bool:
    """Whether the desired metadata decides a live key, so that leaving it out removes it:
    the entry's tags always; the user's own keys when the entry states ``metadata`` (it then
    manages the whole map; else the keys are other systems' business); the records of a
    create never."""
    if metadata_key.startswith(TAG_PREFIX):
        return metadata_key in ENTRY_TAGS
    return stated


SECRET_UNSAVED = f"{TAG_PREFIX}secret_unsaved"
"""On a webhook endpoint whose signing secret ``apply --secrets-out`` could not save: the
fact, never the secret, recorded where every later run, on any machine, reads it."""


def secret_unsaved(obj: dict[str, Any]) -> bool:
    return (obj.get("metadata") or {}).get(SECRET_UNSAVED) == "true"


def protected(obj: dict[str, Any]) -> bool:
    return (obj.get("metadata") or {}).get(PREVENT_DESTROY) == "true"


def is_control(obj: dict[str, Any]) -> bool:
    return CONTROL in (obj.get("metadata") or {})


def owner(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    """(stack, manifest key) recorded on a live object, or (None, None)."""
    metadata = obj.get("metadata") or {}
    return metadata.get(OWNER_STACK), metadata.get(OWNER_KEY)


def record_tag(field: str) -> str:
    return f"{TAG_PREFIX}{field}"


def records(kind: Kind, params: dict[str, Any]) -> dict[str, str]:
    """The tags a create writes for the kind's recorded fields: the value each one is
    created with (Stripe's default when the entry does not state it)."""
    return {record_tag(name): json.dumps(params.get(name, default))
            for name, default in sorted(kind.recorded.items())}


def recorded(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    """The recorded fields a live object's tags say it was created with. A field whose tag
    is missing (the object was not created by reconciler) or unreadable is left out: its
    value is unknown, not guessed."""
    metadata = obj.get("metadata") or {}
    found = {}
    for name in kind.recorded:
        try:
            found[name] = json.loads(metadata[record_tag(name)])
        except (KeyError, ValueError):
            continue
    return found


def unrecorded(kind: Kind, obj: dict[str, Any]) -> list[str]:
    """The kind's recorded fields whose value on ``obj`` is unknown (see ``recorded``)."""
    return sorted(set(kind.recorded) - set(recorded(kind, obj)))
