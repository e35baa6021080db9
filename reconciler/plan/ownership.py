"""Ownership tags: how an object in Stripe says which manifest entry and stack own it.

There is no state file: every object the tool creates carries its manifest key and stack in
metadata, so the live account itself records what is managed. Several stacks (repositories)
can manage disjoint parts of one account; an object owned by another stack is never touched.
"""

from __future__ import annotations

from typing import Any

OWNER_KEY = "reconciler_key"
OWNER_STACK = "reconciler_stack"
DEFAULT_STACK = "default"


def tags(stack: str, key: str) -> dict[str, str]:
    return {OWNER_STACK: stack, OWNER_KEY: key}


def owner(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    """(stack, manifest key) recorded on a live object, or (None, None)."""
    metadata = obj.get("metadata") or {}
    return metadata.get(OWNER_STACK), metadata.get(OWNER_KEY)


def is_owned_by(obj: dict[str, Any], stack: str) -> bool:
    return owner(obj)[0] == stack
