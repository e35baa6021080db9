"""The limits data (reconciler/data/limits.json): every fact has a source and names a real
parameter, and docs/limits.md is its current rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import limits, reference
from reconciler.limits_doc import render

ROOT = Path(__file__).parents[2]
FACTS = [(kind, fact) for kind in reference.api()["kinds"] for fact in limits.facts(kind)]


def test_every_kind_is_surveyed() -> None:
    assert set(limits.data()["kinds"]) == set(reference.api()["kinds"])


@pytest.mark.parametrize("kind,fact", FACTS, ids=[f"{k}:{f['path'] or '(request)'}" for k, f in FACTS])
def test_each_fact_has_a_source_and_names_a_parameter(kind: str, fact: dict) -> None:
    assert fact["source"].strip()
    rules = set(fact) & {*limits.SCALAR_RULES, *limits.COMBINATION_RULES, "note"}
    assert rules, fact
    params = reference.kind_facts(kind)["params"]
    assert any(limits.resolves(kind, fact["path"], ops) for ops in params.values()), fact["path"]
    if not fact.get("enforced", True):
        assert fact["note"]


def test_api_wide_rules_have_sources() -> None:
    for name, rule in limits.data()["api"].items():
        assert rule["source"].strip(), name


def test_committed_limits_page_is_up_to_date() -> None:
    assert (ROOT / "docs" / "limits.md").read_text() == render(), (
        "docs/limits.md is stale: run `reconciler schema --format limits -o docs/limits.md`")
