"""A crash-safe record of a saved plan's progress, kept beside the plan file.

Before each request the journal notes the step it is about to send, and after it the id the
step produced, each line flushed to disk. Re-running the same saved plan after a crash then
knows which changes it may already have touched (their objects legitimately differ from the
plan's snapshot): a change it finished is not sent again, and one it left part-way resumes,
its finished steps replaying through their idempotency keys, so nothing happens twice.

It also notes that the plan was verified (planned again from its manifests, see
:mod:`.verify`) before its first request: a resumed run cannot plan it again (the account
holds what the first run did) and trusts that note instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Journal:
    def __init__(self, path: Path | str, plan_fingerprint: str):
        self.path = Path(path)
        self.fingerprint = plan_fingerprint
        self.touched: set[int] = set()
        self.finished_steps: set[tuple[int, int]] = set()  # (change, step) known to be done
        self.produced: dict[str, str] = {}
        self.verified = False  # this exact plan was verified before any of its requests
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        for line in self.path.read_text("utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by the crash
            if record.get("plan") != self.fingerprint:
                continue
            if record.get("event") == "verified":
                self.verified = True
                continue
            self.touched.add(record["change"])
            if record.get("event") == "done":
                self.finished_steps.add((record["change"], record["step"]))
            if record.get("address") and record.get("id"):
                self.produced[record["address"]] = record["id"]

    def _write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"plan": self.fingerprint, **record}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def verified_now(self) -> None:
        """Note that this plan was verified; call before its first request."""
        self.verified = True
        self._write({"event": "verified"})

    def started(self, change: int, step: int) -> None:
        self.touched.add(change)
        self._write({"change": change, "step": step, "event": "start"})

    def finished(self, change: int, step: int, address: str | None, new_id: str | None) -> None:
        self.finished_steps.add((change, step))
        record: dict[str, Any] = {"change": change, "step": step, "event": "done"}
        if address:
            record.update(address=address, id=new_id)
        self._write(record)
