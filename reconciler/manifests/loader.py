"""Reading manifest files and directories into one :class:`Manifest`.

Only ``.yaml``/``.yml`` files are read. A path that yields none (an empty directory, a named
``plan.json``) is an error, not an empty desired state: an empty state would plan the removal
of everything the stack owns. Files merge into one desired state; a manifest key defined twice (in one file or across
files) is an error naming both places. Environment overlays follow one convention: inside a
manifest directory, ``overlays/<env>/`` holds files applied on top of the base only when
``--env <env>`` is given. An overlay entry deep-merges into the base entry of the same kind
and key (mappings merge, other values replace, ``null`` removes a field) or adds a new entry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path as FsPath
from typing import Any

from reconciler.kinds import MANIFEST_KINDS

from .errors import Hint, Issue, Location
from .hints import alias_hint
from .interpolate import Variables
from .model import Entry, Manifest, Path
from .textfile import DEFAULT_MAX_FILE_BYTES, TextFileError, read_text
from .yamlsource import Document, parse

OVERLAY_DIR = "overlays"
SUFFIXES = (".yaml", ".yml")


def _yaml_files(directory: FsPath) -> list[FsPath]:
    found: list[FsPath] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not (FsPath(root) == directory and d == OVERLAY_DIR))
        found.extend(FsPath(root, f) for f in sorted(files)
                     if f.endswith(SUFFIXES) and not f.startswith("."))
    return found


def discover(paths: Iterable[str | os.PathLike[str]], env: str | None
             ) -> tuple[list[FsPath], list[FsPath], list[Issue]]:
    """Base files and overlay files (for ``env``) under ``paths``, in a stable order."""
    base: list[FsPath] = []
    overlays: list[FsPath] = []
    issues: list[Issue] = []
    for raw in paths:
        path = FsPath(raw)
        if path.is_dir():
            found = _yaml_files(path)
            if not found:
                issues.append(Issue(Location(str(path), 0, 0), "no manifest files (.yaml or "
                                    ".yml) in this directory"))
            base.extend(found)
            if env and (path / OVERLAY_DIR / env).is_dir():
                overlays.extend(_yaml_files(path / OVERLAY_DIR / env))
        elif path.is_file():
            if path.suffix in SUFFIXES:
                base.append(path)
            else:
                issues.append(Issue(Location(str(path), 0, 0), _not_a_manifest(path)))
        else:
            issues.append(Issue(Location(str(path), 0, 0), "no such file or directory"))
    if env and not overlays and not issues:
        issues.append(Issue(Location(str(FsPath(next(iter(map(str, paths)), "."))), 0, 0),
                            f"--env {env}: no {OVERLAY_DIR}/{env}/ directory with YAML files "
                            "in the given directories"))
    return base, overlays, issues


def _not_a_manifest(path: FsPath) -> str:
    saved_plan = " (a saved plan? `reconciler apply` takes one)" if path.suffix == ".json" else ""
    return f"not a manifest file: manifests are .yaml or .yml files{saved_plan}"


def _read(path: FsPath, variables: Variables, max_file_bytes: int) -> Document:
    file = str(path)
    try:
        text = read_text(path, max_file_bytes)
    except TextFileError as exc:
        doc = Document(file)
        doc.issues.append(Issue(Location(file, exc.line, exc.column), exc.message))
        return doc
    except OSError as exc:
        doc = Document(file)
        doc.issues.append(Issue(Location(file, 0, 0), f"cannot read: {exc.strerror}"))
        return doc
    return parse(text, file, variables.substitute)


@cache
def _kind_names() -> dict[str, str]:
    """Names a reader may write for a kind, to the kind: its own, Stripe's resource name
    (``billing_meters``) and each word of either that names one kind only (``webhook``,
    ``endpoints``, ``entitlements``; not ``rates``)."""
    words: dict[str, set[str]] = {}
    names = {name: name for name in MANIFEST_KINDS}
    for name, kind in MANIFEST_KINDS.items():
        resource = kind.path.removeprefix("/v1/").replace("/", "_")
        names.setdefault(resource, name)
        for word in {*resource.split("_"), *name.split("_")}:
            words.setdefault(word, set()).add(name)
    return {**{w: k.pop() for w, k in words.items() if len(k) == 1}, **names}


def _entries(doc: Document) -> tuple[list[Entry], list[Issue]]:
    """The entries a parsed file defines, with positions made relative to each entry."""
    issues: list[Issue] = []
    entries: list[Entry] = []
    if doc.value is None:
        return entries, issues
    if not isinstance(doc.value, dict):
        return entries, [Issue(doc.positions[()], "a manifest file must be a mapping of kinds "
                               f"({', '.join(MANIFEST_KINDS)})")]
    positions, key_positions = _by_entry(doc.positions), _by_entry(doc.key_positions)
    for kind_name, by_key in doc.value.items():
        where = doc.key_positions[(kind_name,)]
        if kind_name not in MANIFEST_KINDS:
            issues.append(Issue(where, f"unknown kind '{kind_name}'",
                                hint=Hint(alias_hint(kind_name, _kind_names()))))
            continue
        if by_key is None:
            continue
        if not isinstance(by_key, dict):
            issues.append(Issue(doc.positions[(kind_name,)],
                                f"'{kind_name}' must map manifest keys to entries",
                                kind=kind_name))
            continue
        for key, fields in by_key.items():
            prefix: Path = (kind_name, key)
            if not isinstance(fields, dict):
                issues.append(Issue(doc.positions[prefix], "an entry must be a mapping of fields",
                                    kind=kind_name, key=key))
                continue
            entries.append(Entry(
                kind=kind_name, key=key, fields=fields, location=doc.key_positions[prefix],
                positions=positions.get(prefix, {}),
                key_positions=key_positions.get(prefix, {}),
            ))
    return entries, issues


def _by_entry(positions: Mapping[Path, Location]) -> dict[Path, dict[Path, Location]]:
    """Positions grouped by entry (kind, key), made relative to it: one pass over the file's
    positions, not one per entry (which made loading quadratic in the entries of a file)."""
    grouped: dict[Path, dict[Path, Location]] = {}
    for p, loc in positions.items():
        if len(p) >= 2:
            grouped.setdefault(p[:2], {})[p[2:]] = loc
    return grouped


def _overlay(base: Entry, over: Entry) -> None:
    """Apply an overlay entry to its base entry in place."""

    def merge(target: dict[str, Any], source: Mapping[str, Any], path: Path) -> None:
        for name, value in source.items():
            here = (*path, name)
            for stale in [p for p in base.positions if p[:len(here)] == here]:
                del base.positions[stale]
            if value is None:
                target.pop(name, None)
            elif isinstance(value, dict) and isinstance(target.get(name), dict):
                base.positions[here] = over.positions[here]
                merge(target[name], value, here)
            else:
                target[name] = value
                base.positions.update(
                    {p: loc for p, loc in over.positions.items() if p[:len(here)] == here})
            if here in over.key_positions:
                base.key_positions[here] = over.key_positions[here]

    merge(base.fields, over.fields, ())


def load(paths: Iterable[str | os.PathLike[str]], *, env: str | None = None,
         variables: Variables | None = None, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
         ) -> tuple[Manifest, list[Issue]]:
    """Read and merge manifests; returns the merged state and every loading problem. A file
    over ``max_file_bytes`` is a problem, not read (see :mod:`.textfile`)."""
    variables = variables or Variables(environ=os.environ)
    base_files, overlay_files, issues = discover(list(paths), env)
    manifest = Manifest(files=[str(f) for f in base_files + overlay_files])

    def entries_of(path: FsPath) -> list[Entry]:
        doc = _read(path, variables, max_file_bytes)
        entries, problems = _entries(doc)
        issues.extend(doc.issues + problems)
        return entries

    for entry in (e for path in base_files for e in entries_of(path)):
        existing = manifest.get(entry.kind, entry.key)
        if existing is not None:
            issues.append(Issue(entry.location, f"manifest key '{entry.key}' is already "
                                f"defined at {existing.location}", entry.kind, entry.key))
        else:
            manifest.entries[entry.kind][entry.key] = entry
    for entry in (e for path in overlay_files for e in entries_of(path)):
        existing = manifest.get(entry.kind, entry.key)
        if existing is None:
            manifest.entries[entry.kind][entry.key] = entry
        else:
            _overlay(existing, entry)
    return manifest, issues
