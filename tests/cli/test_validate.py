import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main
from reconciler.manifests.errors import ISSUE_CODES, Issue

GOOD = "products:\n  pro:\n    name: Pro\n"
BAD = "products:\n  pro:\n    nme: Pro\n"


def test_valid_exits_zero(tmp_path):
    (tmp_path / "c.yaml").write_text(GOOD)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0
    assert "valid: 1 entry in 1 file" in result.output


def test_invalid_exits_one_with_every_problem(tmp_path):
    (tmp_path / "c.yaml").write_text(BAD + "  other:\n    name: 5\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{tmp_path}/c.yaml:2:3: products.pro: missing required field 'name'",
        f"{tmp_path}/c.yaml:3:5: products.pro: unknown field 'nme' (did you mean 'name'?)",
        f"{tmp_path}/c.yaml:5:11: products.other: expected a string, got integer 5",
        "3 problems found: 2 entries in 1 file",
    ]


def test_json_format(tmp_path):
    (tmp_path / "c.yaml").write_text(BAD)
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(tmp_path)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["entries"] == 1
    assert data["errors"][1] == {
        "file": f"{tmp_path}/c.yaml", "line": 3, "column": 5, "kind": "products", "key": "pro",
        "field": "nme", "message": "unknown field 'nme'", "hint": "did you mean 'name'?",
        "code": "schema"}


def test_json_format_parts_the_choices_from_the_message(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "products:\n  pro: {name: Pro}\n"
        "prices:\n  p: {product: pro, currency: usd, unit_amount: 1,\n"
        "              recurring: {interval: montly}}\n")
    text = CliRunner().invoke(main, ["validate", str(tmp_path)])
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(tmp_path)])
    (error,) = json.loads(result.stdout)["errors"]
    assert (error["message"], error["hint"]) == (
        "'montly' is not a valid 'interval'",
        "did you mean 'month'?; one of 'day', 'month', 'week', 'year'")
    assert ("'montly' is not a valid 'interval' (did you mean 'month'?); one of 'day', "
            "'month', 'week', 'year'") in text.stderr
    assert str(Issue.from_dict(error)) in text.stderr


def test_json_format_gives_each_issue_the_code_of_its_check(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "products:\n  pro: {name: Pro, type: good, unit_label: x}\n"
        "prices:\n  p: {product: nope, currency: usd, unit_amount: 1}\n")
    (tmp_path / "bad.yaml").write_text("- a list, not kinds\n")
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(tmp_path)])
    codes = {(e["key"], e["code"]) for e in json.loads(result.stdout)["errors"]}
    assert codes == {(None, "load"), ("pro", "rule"), ("p", "reference")}


def test_every_issue_code_is_documented():
    page = (Path(__file__).parents[2] / "docs" / "troubleshooting.md").read_text()
    assert [code for code in ISSUE_CODES if f"| `{code}` |" not in page] == []


def test_var_option(tmp_path):
    (tmp_path / "c.yaml").write_text("products:\n  pro:\n    name: ${N}\n")
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(tmp_path), "--var", "N=Pro"]).exit_code == 0
    missing = runner.invoke(main, ["validate", str(tmp_path)], env={"N": None})
    assert missing.exit_code == 1 and "variable 'N' is not set" in missing.output
    bad = runner.invoke(main, ["validate", str(tmp_path), "--var", "oops"])
    assert bad.exit_code == 1 and "NAME=VALUE" in bad.output
