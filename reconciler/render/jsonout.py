"""Machine-readable plan: the Plan's own versioned dictionary (``format_version``).

Strict JSON: a NaN or infinity reaching a plan is a bug upstream (validation refuses them), and
raising here beats writing a bare ``NaN`` that other JSON readers reject."""

from __future__ import annotations

import json

from reconciler.plan import Plan


def render(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    return json.dumps(plan.to_dict(include_noops=verbose), indent=2, allow_nan=False) + "\n"
