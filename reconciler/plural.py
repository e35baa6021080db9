"""Counted nouns in messages, one wording everywhere: "1 problem", "3 problems".

Every command that reports how many problems, entries or objects it found says it with these,
so the same count reads the same in validate, plan, apply, drift and import.
"""

from __future__ import annotations

from collections.abc import Sequence


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1 (``plural`` for irregular ones)."""
    return f"{n} {form(n, noun, plural or noun + 's')}"


def form(n: int, one: str, many: str) -> str:
    """The word that agrees with a count of ``n`` (``is``/``are``, ``it``/``them``), for the
    rest of a sentence that :func:`count` begins, or for a list of ``n`` names."""
    return one if n == 1 else many


def first(items: Sequence[str], shown: int, sep: str = ", ") -> str:
    """The first ``shown`` of ``items`` joined by ``sep``, then how many more: "a, b and 3
    more", "a; b; and 3 more". Long lists in messages are summarised, not printed whole."""
    rest = len(items) - shown
    more = "" if rest <= 0 else f"{' ' if sep == ', ' else sep}and {rest} more"
    return sep.join(items[:shown]) + more


def problems(n: int) -> str:
    """The count of problems every command prints: "1 problem", "3 problems"."""
    return count(n, "problem")
