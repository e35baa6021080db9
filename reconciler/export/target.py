"""Where `export` may write: never over a catalog, never through a symlink.

Export writes a new catalog, one file per kind. Into a folder that already holds manifests
it would replace some files (a ``products.yaml`` losing the ``features:`` section a person
added) and duplicate entries other files define, so such a folder is refused unless
``--force``. A symlinked folder or file would make the write land elsewhere (a planted
``products.yaml -> ../victim.txt``): refused always, naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reconciler import plural
from reconciler.fsutil import UnsafePathError, refuse_symlink
from reconciler.manifests.loader import discover

SHOWN = 5  # manifests named in the refusal; the rest are counted


class ExportTargetError(UnsafePathError):
    """The folder `export -o` names cannot take the export."""


def check_target(directory: Path, files: Iterable[str], *, force: bool) -> None:
    """Raise ExportTargetError unless ``files`` can be written into ``directory``."""
    try:
        refuse_symlink(directory)
        for name in files:
            refuse_symlink(directory / name)
    except UnsafePathError as exc:
        raise ExportTargetError(str(exc)) from None
    if force or not directory.is_dir():
        return
    found = discover([directory], None)[0]
    if found:
        names = plural.first([str(p) for p in found], SHOWN)
        raise ExportTargetError(
            f"{directory} already holds {plural.count(len(found), 'manifest file')}: "
            f"{names}; export writes a new catalog and would replace or duplicate "
            f"{plural.form(len(found), 'its', 'their')} entries. Export to an empty folder and "
            "merge by hand, or pass --force to overwrite")
