"""reconciler/plural.py: counted nouns and summarised lists, one wording everywhere."""

from __future__ import annotations

import pytest

from reconciler.plural import first


@pytest.mark.parametrize(("items", "sep", "expected"), [
    ([], ", ", ""),
    (["a", "b"], ", ", "a, b"),
    (["a", "b", "c"], ", ", "a, b, c"),
    (["a", "b", "c", "d", "e"], ", ", "a, b, c and 2 more"),
    (["a", "b", "c", "d"], "; ", "a; b; c; and 1 more"),
])
def test_a_long_list_is_summarised_after_the_first_few(items, sep, expected) -> None:
    assert first(items, 3, sep) == expected
