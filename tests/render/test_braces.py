"""The brace notation names exactly the keys given, each once, as bash expands it, and is
short for the patterned keys of generated catalogs."""

from __future__ import annotations

from brace_shell import expand, split_items
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.render.braces import compress, wrap

PATTERNED = st.builds(
    lambda word, number, padded, tail: f"{word}-{number:03d}{tail}" if padded
    else f"{word}-{number}{tail}",
    st.sampled_from(["pro", "team", "a.b", "x_1"]), st.integers(0, 120), st.booleans(),
    st.sampled_from(["", "-usd", "-eur", ":v/2", "-"]))
FREE = st.from_regex(r"[a-c0-9][a-c0-9_./:-]{0,10}", fullmatch=True)
ODD = st.text(max_size=6)  # ownership tags set by hand: anything, even empty


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(PATTERNED, FREE, ODD), max_size=80))
def test_names_exactly_the_keys_each_once(keys):
    assert sorted(expand(compress(keys))) == sorted(set(keys))


def test_generated_keys_collapse():
    prices = [f"{product}-{tier}-{interval}-{currency}"
              for product in ("analytics-suite", "vector-search")
              for tier in ("growth", "enterprise")
              for interval in ("monthly", "yearly")
              for currency in ("usd", "eur", "gbp")]
    assert compress(prices) == ["analytics-suite-{enterprise,growth}-{monthly,yearly}-{eur,gbp,usd}",
                                "vector-search-{enterprise,growth}-{monthly,yearly}-{eur,gbp,usd}"]
    assert compress(f"price-{i:05d}" for i in range(1, 2501)) == ["price-{00001..02500}"]
    assert compress(["v8", "v9", "v10", "v11", "v13"]) == ["v{{8..11},13}"]


def test_ranges_keep_what_bash_pads():
    # {08..100} would pad 100's width onto 08 and 99, naming 008 and 099
    assert compress(["n-08", "n-09", "n-10", "n-99", "n-100", "n-101", "n-102"]) == [
        "n-{{08..10},{99..102}}"]
    assert compress(["n-9", "n-010", "n-011", "n-012"]) == ["n-{9,{010..012}}"]
    assert compress(f"n-{i:02d}" for i in range(8, 103)) == ["n-{{08..99},{100..102}}"]


def test_keys_with_other_characters_are_quoted_not_abbreviated():
    keys = ["spring-sale", "Spring Sale, 2024 {old}", "tick`tock\nline", ""]
    assert compress(keys) == [
        "spring-sale", '""', '"Spring Sale, 2024 {old}"', '"tick`tock\\nline"']


def test_keys_of_hundreds_of_tokens_need_no_recursion():
    keys = ["a-" * k + "end" for k in range(1, 400)]
    assert sorted(expand(compress(keys))) == sorted(keys)


def test_long_expressions_wrap_after_commas_and_quoted_keys_never_break():
    items = compress([f"coupon-{i:05d}" for i in range(0, 3000, 3)])
    items += ['"a key, set by hand, longer than one line of forty"', "x-1"]
    lines = wrap(items, 40)
    assert len(lines) > 100
    assert all(len(line) <= 40 for line in lines if '"' not in line)
    assert '"a key, set by hand, longer than one line of forty",' in lines
    assert split_items("".join(lines)) == items
