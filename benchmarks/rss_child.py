"""Peak RSS of one plan: ``python -m benchmarks.rss_child URL MANIFEST_DIR``.

Loads and validates the manifests, plans them against the (served, seeded) emulator at URL
with no client-side rate limit, and prints one JSON line: its own peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``, kilobytes on Linux) and the RSS right after imports.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import sys


def _mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from reconciler.manifests import load_valid
    from reconciler.plan import PlanOptions, make_plan
    from reconciler.stripe import StripeClient

    from .run import KEY

    imports = _mb()
    url, directory = sys.argv[1], sys.argv[2]
    manifest = load_valid([directory])

    async def plan():
        async with StripeClient(KEY, api_base=url, rate_limit=math.inf) as client:
            return await make_plan(manifest, client, PlanOptions())

    result = asyncio.run(plan())
    print(json.dumps({"imports_mb": imports, "peak_mb": _mb(), "changes": len(result.changes),
                      "pending": len(result.pending)}))


if __name__ == "__main__":
    main()
