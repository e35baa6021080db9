"""Where webhook signing secrets go: a file of KEY=VALUE lines only its owner can read.

Stripe shows an endpoint's signing secret once, in the create response. The applier hands
each secret over as soon as it arrives, before the journal records the create as finished:
a run killed in between sends the create again (its idempotency key replays the response,
secret included), and a run that skips a finished create has nothing left to save. Each save
rewrites the file atomically (:func:`reconciler.fsutil.write_atomic`, mode 0600), so a crash
leaves the old file or the new one, never half of one; the lines already there are kept, and
a key saved again (an endpoint re-created) gets its new value in place.

The file is checked before anything is written to Stripe (:meth:`SecretsFile.check`): a
secret that cannot be saved is a secret lost once its create is finished. So the folder must
exist and be writable, and a file already there must be a regular file of the user's own:
never a symlink (the secret would land wherever it points) and never another user's file
(replacing it would hand its lines to us and take them from its owner).
"""

from __future__ import annotations

import os
import re

from reconciler.fsutil import UnsafePathError, refuse_symlink, write_atomic


def secret_name(key: str) -> str:
    """The variable a webhook endpoint entry's secret is saved as."""
    return "STRIPE_WEBHOOK_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


def _name(line: str) -> str:
    return line.split("=", 1)[0]


class SecretsFile:
    def __init__(self, path: str):
        self.path = path

    def check(self) -> None:
        """Raise UnsafePathError unless a secret can be saved to the file (see the module)."""
        folder = os.path.dirname(self.path) or "."
        if not os.path.isdir(folder):
            raise UnsafePathError(f"{self.path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UnsafePathError(f"{self.path}: the folder {folder} is not writable")
        refuse_symlink(self.path)
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return
        if not os.path.isfile(self.path):
            raise UnsafePathError(f"{self.path} is not a regular file")
        if found.st_uid != os.getuid():
            raise UnsafePathError(f"{self.path} belongs to another user (uid {found.st_uid})")

    def _lines(self) -> list[str]:
        try:  # O_NOFOLLOW: a symlink planted since the check is not read through either
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return []
        with os.fdopen(fd, encoding="utf-8") as fh:
            return fh.read().splitlines()

    def names(self) -> set[str]:
        """The variables the file holds."""
        return {_name(line) for line in self._lines()}

    def save(self, key: str, secret: str) -> None:
        """Save the secret of the webhook endpoint entry ``key``; raises OSError."""
        self.check()  # again: the file may have changed since the run started
        name = secret_name(key)
        old = self._lines()
        lines = [f"{name}={secret}" if _name(line) == name else line for line in old]
        if name not in map(_name, old):
            lines.append(f"{name}={secret}")
        write_atomic(self.path, "".join(f"{line}\n" for line in lines))
