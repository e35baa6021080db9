"""The desired state: manifest entries by kind and key, each knowing where it was written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds import ENTRY_OPTIONS, MANIFEST_KINDS

from .errors import Location

Path = tuple[str | int, ...]


@dataclass
class Entry:
    """One object the manifests ask for, as written (references still by manifest key)."""

    kind: str
    key: str
    fields: dict[str, Any]
    location: Location  # where the manifest key is written
    positions: dict[Path, Location] = field(default_factory=dict)  # relative to the entry
    key_positions: dict[Path, Location] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """Where the value at ``path`` (or, with ``key``, its mapping key) is written."""
        if key and path in self.key_positions:
            return self.key_positions[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return self.location

    @property
    def options(self) -> dict[str, Any]:
        """The tool's per-entry options (``prevent_destroy``, ``ignore_changes``)."""
        return {k: v for k, v in self.fields.items() if k in ENTRY_OPTIONS}

    @property
    def spec(self) -> dict[str, Any]:
        """The fields that describe the Stripe object (options left out)."""
        return {k: v for k, v in self.fields.items() if k not in ENTRY_OPTIONS}


@dataclass
class Manifest:
    """All entries of a set of manifest files, merged, in kind dependency order."""

    entries: dict[str, dict[str, Entry]] = field(
        default_factory=lambda: {name: {} for name in MANIFEST_KINDS}
    )
    files: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Entry]:
        for by_key in self.entries.values():
            yield from by_key.values()

    def __len__(self) -> int:
        return sum(len(by_key) for by_key in self.entries.values())

    def get(self, kind_name: str, key: str) -> Entry | None:
        return self.entries.get(kind_name, {}).get(key)

    def as_document(self) -> dict[str, dict[str, Any]]:
        """The merged manifests as one plain mapping, the shape the JSON Schema describes."""
        return {kind_name: {k: e.fields for k, e in by_key.items()}
                for kind_name, by_key in self.entries.items() if by_key}

    @classmethod
    def from_document(cls, document: dict[str, Any], source: str) -> Manifest:
        """The manifests :meth:`as_document` wrote (into a saved plan, named ``source``), to
        plan them again. Every entry is placed at ``source`` itself: the files and lines
        they came from are not kept. TypeError or ValueError if ``document`` is not of that
        shape."""
        manifest = cls(files=[source])
        if not isinstance(document, dict):
            raise TypeError("its manifests are not a mapping of kinds")
        for kind_name, entries in document.items():
            if kind_name not in manifest.entries or not isinstance(entries, dict) or not all(
                    isinstance(key, str) and isinstance(fields, dict)
                    for key, fields in entries.items()):
                raise ValueError(f"its manifests hold {kind_name!r}, which is not a kind's "
                                 "entries")
            for key, fields in entries.items():
                manifest.entries[kind_name][key] = Entry(kind_name, key, fields,
                                                         Location(source, 0, 0))
        return manifest
