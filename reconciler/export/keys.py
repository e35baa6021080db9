"""Readable, stable manifest keys for exported objects.

An object this tool already manages keeps its recorded key. Otherwise the key comes from
what identifies the object (the kind's ``identity``): its id where the id is the manifest key
(a product id Stripe generated gives way to the product's name, the id then written as
``id:``), else its natural key (a lookup key, an event name, a code, a name), else the kind's
``export_name``. Collisions are resolved in Stripe's creation order: the oldest object keeps
the plain key, the others get ``-2``, ``-3``...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.kinds import KINDS, Rule
from reconciler.manifests.schema import MANIFEST_KEY_PATTERN
from reconciler.ownership import owner

_KEY = re.compile(MANIFEST_KEY_PATTERN)
_GENERATED_PRODUCT_ID = re.compile(r"prod_[A-Za-z0-9]{14}\Z")  # Stripe's; the name reads better


def slug(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:60].rstrip("-")


def base_key(kind_name: str, obj: dict[str, Any],
             key_of: Mapping[str, Mapping[str, str]]) -> str:
    """The key an object would get if nothing else claimed it: its id where that is the
    manifest key, else its natural key, else what names it to a person (``export_name``)."""
    kind = KINDS[kind_name]
    identity = kind.identity
    if (identity.is_stripe_id and _KEY.match(obj["id"]) and len(obj["id"]) <= 200
            and not _GENERATED_PRODUCT_ID.match(obj["id"])):
        return obj["id"]
    field = identity.natural_key if identity.rule is Rule.FIELD else None
    name = obj.get(field) if field else None
    if not name and kind.export_name:
        name = kind.export_name(obj, key_of)
    return slug(str(name or "")) or kind_name.rstrip("s")


def assign(kind_name: str, objects: list[dict[str, Any]],
           key_of: Mapping[str, Mapping[str, str]], stack: str) -> dict[str, str]:
    """live id -> manifest key for every object of one kind (``key_of``: the keys given to
    the kinds before it, which a key may be made of)."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for obj in objects:
        obj_stack, obj_key = owner(obj)
        if obj_stack == stack and obj_key and obj_key not in taken:
            keys[obj["id"]] = obj_key
            taken.add(obj_key)
    # Stripe lists newest first; within one second of ``created`` that order decides
    oldest_first = sorted((o for o in reversed(objects) if o["id"] not in keys),
                          key=lambda o: o.get("created") or 0)
    for obj in oldest_first:
        key = base = base_key(kind_name, obj, key_of)
        n = 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        keys[obj["id"]] = key
        taken.add(key)
    return keys
