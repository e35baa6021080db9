"""Field paths of a kind, as ``ignore_changes`` names them.

The planner leaves alone every difference at or below an ignored path (``plan/diff.py``), so a
misspelt path ignores nothing, silently. A path is valid when it names something a difference
can be found at: a Stripe parameter of the kind (from the reference data), then a property of
an object (``recurring.interval``), any key of a mapping (``metadata.team``,
``currency_options.eur.unit_amount``) or an item of a list (``tiers[0].up_to``), as the
planner writes its paths. The tool's own fields (a product's ``features``, the entry options)
have no live value to ignore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reconciler.kinds import Kind

_SEGMENT = re.compile(r"(?P<name>[^\[\]]+)(?P<items>(?:\[\d+\])*)")


@dataclass(frozen=True)
class Miss:
    """The first part of a path that names nothing: the name written there, the path around
    it, and the names that would fit in its place."""

    before: str
    name: str
    after: str
    options: tuple[str, ...]


def first_miss(kind: Kind, path: str) -> Miss | None:
    """Where ``path`` stops naming a field of ``kind``; None when all of it does."""
    spec: dict[str, Any] = {"type": "object", "properties": kind.manifest_params}
    segments = path.split(".")
    for i, segment in enumerate(segments):
        child = _child(spec, segment)
        if child is None:
            return _miss(spec, segments, i)
        spec = child
    return None


def _child(spec: dict[str, Any], segment: str) -> dict[str, Any] | None:
    match = _SEGMENT.fullmatch(segment)
    if match is None:
        return None
    child = _member(spec, match["name"])
    for _ in range(match["items"].count("[")):
        child = child.get("items") if child and child.get("type") == "array" else None
    return child


def _member(spec: dict[str, Any], name: str) -> dict[str, Any] | None:
    if spec.get("type") == "object":
        return spec.get("properties", {}).get(name)
    if spec.get("type") == "map":  # any key: metadata keys, currencies
        return spec.get("values", {})
    return None


def _miss(spec: dict[str, Any], segments: list[str], i: int) -> Miss:
    """The miss at ``segments[i]``; a right name with a wrong index offers nothing else."""
    match = _SEGMENT.fullmatch(segments[i])
    name, items = (match["name"], match["items"]) if match else (segments[i], "")
    return Miss(before="".join(f"{s}." for s in segments[:i]), name=name,
                after=items + "".join(f".{s}" for s in segments[i + 1:]),
                options=tuple(o for o in spec.get("properties", {}) if o != name))
