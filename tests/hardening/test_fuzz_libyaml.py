"""Differential fuzzing: libyaml's composer against PyYAML's pure-Python one (issue 9).

``reconciler/manifests/yamlcompose.py`` composes with libyaml for speed, falling back to
PyYAML for files a cheap check flags and for files libyaml refuses. Whatever the input,
``parse`` must give what PyYAML alone gives: the same values, value and key positions, and
issues (so the same files are refused, with the same message at the same place). Inputs end
in a line break and mostly avoid the flagged characters, so most take the libyaml path;
the figures recorded say how many did. Skipped without libyaml.
"""

from __future__ import annotations

import random

import pytest
from figures_plugin import record
from hardening_helpers import TESTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import runs
from test_fuzz_manifests import LINE, TOKENS, VARIABLES, manifests

from reconciler.manifests import yamlcompose
from reconciler.manifests.yamlsource import parse

pytestmark = pytest.mark.skipif(yamlcompose.FAST_LOADER is None,
                                reason="PyYAML was built without libyaml")

SEEDS = [p.read_bytes().decode("utf-8", "replace")
         for p in sorted([*TESTS.parent.joinpath("examples").rglob("*.y*ml"),
                          *TESTS.joinpath("manifests", "corpus").rglob("*.y*ml")])]


def outcome(text: str) -> tuple:
    doc = parse(text, "f.yaml", VARIABLES.substitute)
    return repr(doc.value), doc.positions, doc.key_positions, [str(i) for i in doc.issues]


def check_same(text: str) -> None:
    fast = outcome(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlcompose, "FAST_LOADER", None)
        pure = outcome(text)
    assert fast == pure
    record("fuzz-libyaml", inputs=1, libyaml_path=int(yamlcompose.libyaml_agrees(text)))


def ending(text: str, plain: bool) -> str:
    """``text`` ending in a line break; with ``plain``, without what sends it to PyYAML."""
    if plain:
        text = yamlcompose._LIBYAML_DIFFERS.sub(" ", text)
    return text if text.endswith("\n") else text + "\n"


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    """An example or corpus manifest with lines cut, duplicated, moved, cut into or spliced."""
    lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True) or [""]
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 4))):
        i = rng.randrange(len(lines))
        op = draw(st.sampled_from(["cut", "dup", "move", "insert", "delete", "indent"]))
        if op == "cut" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "move":
            lines.insert(rng.randrange(len(lines)), lines.pop(i))
        elif op == "insert":
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + draw(TOKENS) + lines[i][at:]
        elif op == "delete":
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + lines[i][at + rng.randint(1, 3):]
        else:
            lines[i] = draw(st.sampled_from(["", " ", "  ", "    "])) + lines[i].lstrip(" ")
    return "".join(lines)


TEXTS = st.one_of(manifests(), mutated_examples(), st.lists(LINE, max_size=30).map("\n".join),
                  st.lists(TOKENS, max_size=60).map("".join))


@pytest.mark.slow
@settings(max_examples=runs(300, 20000), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(TEXTS, st.booleans())
def test_libyaml_and_pyyaml_agree(text: str, plain: bool) -> None:
    check_same(ending(text, plain))


@pytest.mark.parametrize("text", [
    "a: 1\t\n",  # a tab PyYAML refuses
    "a: [x\ufeffy, z]\n",  # a byte order mark inside the text
    "a: {b: c? d}\n",  # '?' in a flow collection
    "a: !\n",  # an empty scalar tagged '!'
    "a: |#\n  x\n",  # a comment right after a block scalar header
    "- {up_to: , unit_amount: 800}\n",  # an empty value in a flow collection
    "a: [b: # c\n  ]\n",  # the same, a comment and a line break before the end
    "a: 1\n---",  # no final line break: the second document's (empty) line
    "a: " + "[" * 600 + "]" * 600 + "\n",  # deeper than PyYAML's recursive composer goes
    "a: \ud800\n",  # a lone surrogate libyaml cannot encode
    "%FOO bar\n---\na: 1\n",  # libyaml refuses an unknown directive PyYAML accepts
])
def test_where_they_differ_pyyaml_decides(text: str) -> None:
    check_same(text)


def test_the_examples_take_the_libyaml_path() -> None:
    """The check is narrow enough for real manifests (and these tests do reach libyaml)."""
    examples = sorted(TESTS.parent.joinpath("examples").rglob("*.y*ml"))
    assert examples
    assert [p for p in examples if not yamlcompose.libyaml_agrees(p.read_text("utf-8"))] == []
