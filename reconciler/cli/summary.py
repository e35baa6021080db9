"""GitHub Actions job summaries: plan, apply and drift append their Markdown when run in a
job (``$GITHUB_STEP_SUMMARY`` set), within GitHub's 1 MiB limit per step."""

from __future__ import annotations

import os

LIMIT = 1024 * 1024
TRUNCATED = "\n\n_Truncated by reconciler to fit GitHub's 1 MiB job summary limit._\n"


def append_step_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    used = os.path.getsize(path) if os.path.exists(path) else 0
    data = markdown.encode("utf-8")
    room = LIMIT - used
    if len(data) > room:
        keep = room - len(TRUNCATED.encode())
        if keep <= 0:
            return
        data = data[:keep].decode("utf-8", errors="ignore").encode() + TRUNCATED.encode()
    with open(path, "ab") as fh:
        fh.write(data)
