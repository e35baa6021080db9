"""Counted nouns in messages, one wording everywhere: "1 problem", "3 problems".

Every command that reports how many problems, entries or objects it found says it with these,
so the same count reads the same in validate, plan, apply, drift and import.
"""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1 (``plural`` for irregular ones)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def problems(n: int) -> str:
    """The count of problems every command prints: "1 problem", "3 problems"."""
    return count(n, "problem")
