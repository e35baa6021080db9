"""Counted nouns in messages, one wording everywhere: "1 problem", "3 problems".

Every command that reports how many problems, entries or objects it found says it with these,
so the same count reads the same in validate, plan, apply, drift and import.
"""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1 (``plural`` for irregular ones)."""
    return f"{n} {form(n, noun, plural or noun + 's')}"


def form(n: int, one: str, many: str) -> str:
    """The word that agrees with a count of ``n`` (``is``/``are``, ``it``/``them``), for the
    rest of a sentence that :func:`count` begins, or for a list of ``n`` names."""
    return one if n == 1 else many


def problems(n: int) -> str:
    """The count of problems every command prints: "1 problem", "3 problems"."""
    return count(n, "problem")
