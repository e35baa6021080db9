"""The tags reconciler writes into an object's metadata, as offline validation must count them.

Stripe allows 50 metadata keys per object, and reconciler's ownership tags take some of them:
an entry whose own keys fit in 50 can still be refused at apply once the tags are added. And a
user key with the tags' prefix would pass for a tag (``reconciler_prevent_destroy`` protects
an object whose entry never asked for it; ``reconciler_key`` fakes ownership), so the prefix
is reconciler's alone.

The tag names come from ``reconciler/ownership.py``, the one place that builds them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler import limits
from reconciler.kinds import Finding, Kind
from reconciler.ownership import OWNER_KEY, OWNER_STACK, PREVENT_DESTROY, TAG_PREFIX, record_tag

METADATA_MAX_KEYS: int = limits.api_rule("metadata")["max_keys"]
"""Stripe's limit on the keys of one object's metadata, the tool's tags included."""


def tag_names(kind: Kind, prevent_destroy: bool) -> list[str]:
    """The tags an object of ``kind`` carries for an entry: its owner, ``prevent_destroy``
    when set, and a record of each create-only field Stripe never shows (kept from create)."""
    if not kind.has_metadata:
        return []
    return [OWNER_KEY, OWNER_STACK, *([PREVENT_DESTROY] if prevent_destroy else []),
            *(record_tag(name) for name in sorted(kind.recorded))]


def metadata_findings(kind: Kind, fields: Mapping[str, Any]) -> Iterator[Finding]:
    """Reserved keys in the entry's ``metadata``, and more keys than the tags leave room for.

    More than 50 keys is the schema's to report; saying it twice would only repeat it."""
    metadata = fields.get("metadata")
    if not isinstance(metadata, Mapping):
        return
    for name in metadata:
        if str(name).startswith(TAG_PREFIX):
            message = (f"metadata key '{name}' starts with '{TAG_PREFIX}', a prefix reserved "
                       "for reconciler's own tags")
            yield ("metadata", name), message
    tags = tag_names(kind, bool(fields.get("prevent_destroy")))
    allowed = METADATA_MAX_KEYS - len(tags)
    if allowed < len(metadata) <= METADATA_MAX_KEYS:
        message = (f"metadata has {len(metadata)} keys; reconciler adds {len(tags)} tags of "
                   f"its own ({', '.join(tags)}): at most {allowed} are allowed")
        yield ("metadata",), message
