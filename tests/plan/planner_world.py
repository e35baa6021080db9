"""Plans made in memory: manifests and a live account as plain data, no emulator.

The planning rules are pure functions of (manifests, live state, options), so their tests
build both here and call :func:`reconciler.plan.build_plan` directly; the emulator stays for
end-to-end tests.
"""

from __future__ import annotations

from typing import Any

from reconciler.account import LiveState
from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import Entry, Manifest
from reconciler.manifests.errors import Location
from reconciler.ownership import OWNER_KEY, OWNER_STACK
from reconciler.plan import Plan, PlanOptions, build_plan


def manifest(document: dict[str, dict[str, dict[str, Any]]]) -> Manifest:
    """``{kind: {key: fields}}`` as loaded manifests (every kind present, as the loader does)."""
    entries: dict[str, dict[str, Entry]] = {name: {} for name in MANIFEST_KINDS}
    for kind, by_key in document.items():
        for line, (key, fields) in enumerate(by_key.items(), 1):
            entries[kind][key] = Entry(kind, key, fields, Location("memory.yaml", line, 1))
    return Manifest(entries=entries, files=["memory.yaml"])


def owned(key: str, stack: str = "default", **fields: Any) -> dict[str, Any]:
    """A live object this stack's entry ``key`` owns (its ownership tags)."""
    metadata = {OWNER_STACK: stack, OWNER_KEY: key, **fields.pop("metadata", {})}
    return {"metadata": metadata, **fields}


def live(objects: dict[str, list[dict[str, Any]]] | None = None, **state: Any) -> LiveState:
    return LiveState("acct_memory", False, {name: [] for name in MANIFEST_KINDS} | (objects or {}),
                     **state)


def plan(document: dict[str, Any], account: LiveState | None = None, **options: Any) -> Plan:
    return build_plan(manifest(document), account or live(), PlanOptions(**options))
