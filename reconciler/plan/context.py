"""What a kind's planning hooks see of the plan being made (reconciler/kinds/hooks/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.account import LiveState
from reconciler.manifests import Manifest

from .desired import Resolver
from .match import Matches


@dataclass
class PlanContext:
    """``matches`` is the planner's own mapping, filled in as kinds are matched (in
    dependency order), so a kind's hooks see the kinds it depends on."""

    manifest: Manifest
    live: LiveState
    matches: Mapping[str, Matches]
    resolve: Resolver
    prune: bool
    stack: str
