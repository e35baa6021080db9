"""Peak RSS of one plan: ``python -m benchmarks.rss_child URL MANIFEST_DIR``.

Loads and validates the manifests, plans them against the (served, seeded) emulator at URL
with no client-side rate limit, and prints one JSON line: its own peak RSS (see ``_mb``) and
the peak right after the imports, and ``ru_maxrss`` for comparison.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import sys


def _mb() -> float:
    """Peak RSS in MB: ``VmHWM`` where /proc has it (Linux), else ``ru_maxrss``.

    ``ru_maxrss`` (RUSAGE_SELF here, or RUSAGE_CHILDREN in the parent) survives ``execve``:
    it keeps the high-water mark of the forked copy of the parent, which holds a seeded
    emulator of 10,000 objects, and so reports the parent's size. ``VmHWM`` belongs to the
    address space, which ``execve`` replaces.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from reconciler.manifests import load_valid
    from reconciler.plan import PlanOptions, make_plan
    from reconciler.stripe import StripeClient

    from .common import KEY

    imports = _mb()
    url, directory = sys.argv[1], sys.argv[2]
    manifest = load_valid([directory])

    async def plan():
        async with StripeClient(KEY, api_base=url, rate_limit=math.inf) as client:
            return await make_plan(manifest, client, PlanOptions())

    result = asyncio.run(plan())
    print(json.dumps({"imports_mb": imports, "peak_mb": _mb(),
                      "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "changes": len(result.changes),
                      "pending": len(result.pending)}))


if __name__ == "__main__":
    main()
