"""Machine-readable plan: the Plan's own versioned dictionary (``format_version``)."""

from __future__ import annotations

import json

from reconciler.plan import Plan


def render(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    return json.dumps(plan.to_dict(include_noops=verbose), indent=2) + "\n"
