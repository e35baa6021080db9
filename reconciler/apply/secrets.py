"""Where webhook signing secrets go: a file of KEY=VALUE lines only its owner can read.

Stripe shows an endpoint's signing secret once, in the create response. The applier hands
each secret over as soon as it arrives, before the journal records the create as finished:
a run killed in between sends the create again (its idempotency key replays the response,
secret included), and a run that skips a finished create has nothing left to save. Each save
rewrites the file atomically (a 0600 file beside it, flushed, then renamed over it), so a
crash leaves the old file or the new one, never half of one; the lines already there are
kept, and a key saved again (an endpoint re-created) gets its new value in place.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile


def secret_name(key: str) -> str:
    """The variable a webhook endpoint entry's secret is saved as."""
    return "STRIPE_WEBHOOK_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


def _name(line: str) -> str:
    return line.split("=", 1)[0]


class SecretsFile:
    def __init__(self, path: str):
        self.path = os.path.realpath(path)  # a symlink keeps pointing at the file

    def _lines(self) -> list[str]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return fh.read().splitlines()
        except FileNotFoundError:
            return []

    def names(self) -> set[str]:
        """The variables the file holds."""
        return {_name(line) for line in self._lines()}

    def save(self, key: str, secret: str) -> None:
        """Save the secret of the webhook endpoint entry ``key``; raises OSError."""
        name = secret_name(key)
        old = self._lines()
        lines = [f"{name}={secret}" if _name(line) == name else line for line in old]
        if name not in map(_name, old):
            lines.append(f"{name}={secret}")
        directory, base = os.path.split(self.path)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".tmp")
        try:  # mkstemp creates the file 0600: the secret is never readable by others
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(f"{line}\n" for line in lines))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        folder = os.open(directory, os.O_RDONLY)
        try:  # the rename itself survives a power loss
            os.fsync(folder)
        finally:
            os.close(folder)
