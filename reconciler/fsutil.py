"""Writing the files the tool owns without ever leaving half of one or writing elsewhere.

Every file the tool writes (exported manifests, the webhook secrets file, the emulator's
state) is replaced in one step: the new content goes to a temporary file in the same folder
(``mkstemp``: created 0600, under a name nobody else can have chosen), then ``os.replace``
renames it over the target. A reader, or a crash, sees the old file or the new one, never
part of one, and a symlink planted at the target is replaced, not followed. Callers refuse a
symlinked target beforehand (:func:`refuse_symlink`), so that nothing is silently unlinked
either.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class UnsafePathError(OSError):
    """A target the tool refuses to write: a symlink, or a file that is not ours to replace."""


def refuse_symlink(path: Path | str) -> None:
    """Raise UnsafePathError if ``path`` is a symlink, dangling or not: writing through it
    would change a file elsewhere (a planted ``products.yaml -> ../victim.txt``)."""
    if os.path.islink(path):
        raise UnsafePathError(f"{path} is a symbolic link; refusing to write through it")


def default_mode() -> int:
    """The mode ``open()`` would give a new file: 0666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path | str, text: str, *, mode: int = 0o600, durable: bool = True
                 ) -> None:
    """Replace ``path`` with ``text`` in one step, the new file having ``mode``.

    ``durable`` flushes the file and the folder's entry to disk before returning (a power
    loss keeps the new content); the emulator's state, rewritten on every request and only
    ever test data, skips it."""
    directory, base = os.path.split(os.fspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory or ".", prefix=f".{base}.", suffix=".tmp")
    try:  # mkstemp creates the file 0600: nothing is readable by others while it is written
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            if mode != 0o600:
                os.fchmod(fh.fileno(), mode)
            if durable:
                os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if durable:
        folder = os.open(directory or ".", os.O_RDONLY)
        try:  # the rename itself survives a power loss
            os.fsync(folder)
        finally:
            os.close(folder)


def write_output(path: Path | str, text: str) -> None:
    """Write a file the user asked for (``plan -o``, ``drift -o``, ``schema -o``) as export
    writes its files: never through a symlink, replaced in one step, with the mode ``open()``
    would give it (a plan or report is for sharing, not a secret)."""
    refuse_symlink(path)
    write_atomic(path, text, mode=default_mode())


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by its owner only (0700); a folder
    that exists already is left as it is: it is the user's."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
