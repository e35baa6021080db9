"""Problems found in manifests, each tied to a place in a file.

Loading and validation collect every problem before reporting, so one run shows them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        if self.line == 0:  # the file as a whole (missing, unreadable)
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


ISSUE_CODES = {
    "load": "a file, its YAML, or its shape (kinds, entries, manifest keys) cannot be read",
    "schema": "a field or value the JSON Schema refuses",
    "rule": "a rule of the kind that the schema cannot say",
    "metadata": "a metadata key or value Stripe refuses, or one of the tool's tags",
    "ignore-changes": "an ignore_changes path that names no field",
    "reference": "a reference to a missing entry, or to one Stripe refuses to pair",
    "uniqueness": "a natural key or id used by two entries",
    "reserved-id": "an id reserved for the tool's control objects",
}
"""Every issue code (``validate --format json``), with what it means."""


@dataclass(frozen=True, order=True)
class Hint:
    """The fix for a problem, apart from what is wrong, so ``validate --format json`` gives it
    its own field. The text says ``aside`` in parentheses after the message (a "did you
    mean") and ``choices`` after a semicolon ("one of 'a', 'b'")."""

    aside: str = ""
    choices: str = ""

    def __post_init__(self) -> None:
        assert "; " not in self.aside, self.aside  # "; " parts the two in ``fix``

    def __str__(self) -> str:
        return (f" ({self.aside})" if self.aside else "") + (f"; {self.choices}"
                                                             if self.choices else "")

    @property
    def fix(self) -> str | None:
        """The hint as one text (the aside, then the choices, parted by "; "), or None."""
        return "; ".join(part for part in (self.aside, self.choices) if part) or None

    @classmethod
    def from_fix(cls, fix: str | None) -> Hint:
        """The hint whose :attr:`fix` is ``fix``: the JSON's hint read back."""
        if not fix:
            return cls()
        aside, _, choices = fix.partition("; ")
        return cls("", aside) if aside.startswith(CHOICES) else cls(aside, choices)


CHOICES = "one of "
"""How ``choices`` begins; an aside never does."""


@dataclass(frozen=True, order=True)
class Issue:
    """One problem: where it is, which entry it belongs to, and what is wrong."""

    location: Location
    message: str
    kind: str | None = None
    key: str | None = None
    field: str | None = None  # dotted path inside the entry, when the problem is a value
    code: str = "load"  # which check found it: ISSUE_CODES
    hint: Hint = Hint()

    @property
    def subject(self) -> str:
        if self.kind and self.key:
            return f"{self.kind}.{self.key}"
        return self.kind or ""

    def __str__(self) -> str:
        subject = f"{self.subject}: " if self.subject else ""
        return f"{self.location}: {subject}{self.message}{self.hint}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "kind": self.kind,
            "key": self.key,
            "field": self.field,
            "message": self.message,
            "code": self.code,
            "hint": self.hint.fix,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        """The issue :meth:`as_dict` wrote (``validate --format json``)."""
        return cls(Location(data["file"], data["line"], data["column"]), data["message"],
                   data["kind"], data["key"], data["field"], data["code"],
                   Hint.from_fix(data["hint"]))


class ManifestError(Exception):
    """Manifests that cannot be used; carries every issue found."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def summarise(issues: Iterable[Issue]) -> list[str]:
    """The lines that report ``issues``: a problem repeated at one place (an invalid value
    behind an alias used 20,000 times is placed at the anchor each time) is one line with a
    count, not 20,000 lines; the list keeps the order of first appearance."""
    counts: dict[str, int] = {}
    for issue in issues:
        line = str(issue)
        counts[line] = counts.get(line, 0) + 1
    return [line + (f" (and {n - 1:,} more like it)" if n > 1 else "")
            for line, n in counts.items()]
