"""The kind registry: every module in this package that defines ``KIND`` is a managed kind.

Adding a kind means adding one module here. The registry orders kinds by their references
(a kind comes after the kinds it points at), which is the order they are planned in, and
gives each its dependency depth (:func:`depths`), which orders applying: changes of kinds of
one depth share a phase, removals come in reverse depth; a change starts once the changes of
the kinds it needs (:func:`needed`) have finished.
"""

from __future__ import annotations

import importlib
import pkgutil
from graphlib import TopologicalSorter

from .base import (
    ENTRY_OPTIONS,
    Check,
    Finding,
    Kind,
    Link,
    LinkCheck,
    Path,
    Permission,
    Reference,
    Removal,
    Replacement,
)
from .identity import Identity, Rule

__all__ = [
    "CONTROL_KIND",
    "ENTRY_OPTIONS",
    "KINDS",
    "MANIFEST_KINDS",
    "Check",
    "Finding",
    "Identity",
    "Kind",
    "Link",
    "LinkCheck",
    "Path",
    "Permission",
    "Reference",
    "Removal",
    "Replacement",
    "Rule",
    "depths",
    "get",
    "needed",
]


def _discover() -> dict[str, Kind]:
    found: dict[str, Kind] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, Kind):
            found[kind.name] = kind
    graph: dict[str, set[str]] = {}
    for kind in found.values():
        deps = {ref.kind for ref in kind.references if not ref.deferred}
        if kind.parent:
            deps.add(kind.parent)
        graph[kind.name] = deps
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return {name: found[name] for name in order}


KINDS: dict[str, Kind] = _discover()
"""All kinds, in dependency order."""

MANIFEST_KINDS: dict[str, Kind] = {name: k for name, k in KINDS.items() if k.top_level}
"""Kinds with a top-level key in manifests."""


def depths() -> dict[str, int]:
    """Each kind's dependency depth: 0 for a kind that needs no other (:attr:`Kind.needs`),
    else one more than the deepest kind it needs; kinds of one depth never need each other.
    Read from :data:`KINDS` as it is (a kind registered later, as a test does, has one)."""
    depth: dict[str, int] = {}
    for name, kind in KINDS.items():  # dependency order: every kind it needs comes first
        depth[name] = 1 + max((depth[n] for n in kind.needs), default=-1)
    return depth


def needed() -> dict[str, frozenset[str]]:
    """Each kind's needs, transitively (a promotion code needs its coupon, which needs the
    products it applies to): the kinds whose changes an apply finishes before starting one of
    the kind's, since what a kind needs must exist, with all it needs in turn."""
    closure: dict[str, frozenset[str]] = {}
    for name, kind in KINDS.items():  # dependency order, as in depths
        closure[name] = kind.needs.union(*(closure[n] for n in kind.needs))
    return closure


CONTROL_KIND = "products"
"""The kind of the tool's control objects (the apply lock, ownership records): an inactive
product holds metadata, and nothing can sell it."""


def get(name: str) -> Kind:
    return KINDS[name]
