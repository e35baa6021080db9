"""Plan refusals as data (issue 14 step 4): each problem has a code and an address; the
JSON of a refused plan carries them, and docs/troubleshooting.md lists every code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from planner_world import live, owned, plan

from reconciler.plan import Plan, PlanError
from reconciler.plan.problems import CODES, Problem

sys.path.insert(0, str(Path(__file__).parent))
from test_plan_cli import cli

PRODUCT = owned("pro", id="pro", object="product", name="Pro", active=True, type="service")


def test_a_refusal_is_its_message_with_a_code_and_an_address() -> None:
    protected = dict(PRODUCT, metadata={**PRODUCT["metadata"],
                                         "reconciler_prevent_destroy": "true"})
    with pytest.raises(PlanError) as refused:
        plan({"tax_rates": {"vat": {"display_name": "VAT", "percentage": 20,
                                    "inclusive": False}}},
             live({"products": [protected]}), prune=True)
    (problem,) = refused.value.problems
    assert (problem.code, problem.address) == ("prevent-destroy", "products.pro")
    assert problem.startswith("products.pro: cannot remove pro: it was applied with "
                              "prevent_destroy")


def test_the_guard_that_keeps_nothing_has_its_code() -> None:
    with pytest.raises(PlanError) as refused:
        plan({}, live({"products": [PRODUCT]}), prune=True)
    assert [(p.code, p.address) for p in refused.value.problems] == [("keeps-nothing", None)]


def test_a_plan_that_refuses_nothing_keeps_the_codes_in_its_json() -> None:
    reported = plan({}, live({"products": [PRODUCT]}), prune=True, strict=False)
    data = json.loads(json.dumps(reported.to_dict()))
    (problem,) = reported.problems
    assert data["problems"] == [{"code": "keeps-nothing", "address": None,
                                 "message": problem.message, "hint": problem.hint}]
    assert Plan.from_dict(data).problems == (problem,)
    assert Plan.from_dict(data).problems[0].code == "keeps-nothing"


def test_the_fix_is_a_hint_apart_from_the_message_and_the_text_joins_them() -> None:
    with pytest.raises(PlanError) as refused:
        plan({}, live({"products": [PRODUCT]}), prune=True)
    (problem,) = refused.value.problems
    assert problem.hint == "check the manifest paths (and --stack), or pass --force"
    assert "--force" not in problem.message
    assert problem == f"{problem.message}; {problem.hint}"


def test_a_hint_that_is_a_sentence_follows_a_full_stop() -> None:
    problem = Problem.about("unknown-owner", "tax_rates.vat", "it is not changed",
                            "If it is this stack's, adopt it")
    assert problem == "tax_rates.vat: it is not changed. If it is this stack's, adopt it"
    assert Problem("ambiguous-match", "which one?").hint is None


def test_plan_format_json_prints_a_refusal_with_its_codes(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    taken, catalog = tmp_path / "taken.yaml", tmp_path / "catalog.yaml"
    taken.write_text("products:\n  pro: {name: Pro (dashboard)}\n")
    catalog.write_text("products:\n  pro: {name: Pro}\n")
    assert cli(state, "apply", str(taken), "--stack", "other", "--auto-approve").exit_code == 0
    refused = cli(state, "plan", str(catalog), "--format", "json")
    assert refused.exit_code == 1
    (problem,) = json.loads(refused.stdout)["problems"]
    assert (problem["code"], problem["address"]) == ("owned-elsewhere", "products.pro")
    assert problem["message"] in refused.stderr
    assert problem["hint"] is None  # owned elsewhere: nothing this stack can do


def test_plan_format_json_splits_the_fix_from_a_refusal(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("products:\n  pro: {name: Pro}\n")
    made = cli(state, "apply", str(catalog), "--stack", "main", "--auto-approve")
    assert made.exit_code == 0
    catalog.write_text("products: {}\n")
    refused = cli(state, "plan", str(catalog), "--stack", "main", "--prune", "--format", "json")
    assert refused.exit_code == 1
    (problem,) = json.loads(refused.stdout)["problems"]
    assert problem["hint"] == "check the manifest paths (and --stack), or pass --force"
    assert f"{problem['message']}; {problem['hint']}" in refused.stderr


def test_every_code_is_documented() -> None:
    page = (Path(__file__).parents[2] / "docs" / "troubleshooting.md").read_text()
    assert [code for code in CODES if f"| `{code}` |" not in page] == []
    with pytest.raises(AssertionError):
        Problem("no-such-code", "a message")
