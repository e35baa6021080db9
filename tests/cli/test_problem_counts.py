"""Every command counts problems with one wording: "1 problem", "3 problems"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler import plural
from reconciler.cli import main

ONE = "products:\n  pro:\n    nme: Pro\n    name: Pro\n"
THREE = "products:\n  pro:\n    nme: Pro\n  other:\n    name: 5\n"


@pytest.mark.parametrize(("n", "text"), [(0, "0 problems"), (1, "1 problem"), (2, "2 problems")])
def test_problem_count_wording(n: int, text: str) -> None:
    assert plural.problems(n) == text


def test_irregular_plural() -> None:
    assert [plural.count(n, "entry", "entries") for n in (1, 2)] == ["1 entry", "2 entries"]


@pytest.mark.parametrize(("manifest", "count"), [(ONE, "1 problem"), (THREE, "3 problems")])
@pytest.mark.parametrize("command", ["validate", "plan", "apply", "drift", "import"])
def test_manifest_problems_are_counted_alike(tmp_path, manifest: str, count: str,
                                             command: str) -> None:
    (tmp_path / "c.yaml").write_text(manifest)
    emulator = [] if command == "validate" else [
        "--emulator", "--emulator-state", str(tmp_path / "state.json")]
    result = CliRunner().invoke(main, [*emulator, command, str(tmp_path)])
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    expected = (f"{count} found: " if command == "validate" else
                f"{count} in the manifests; nothing was read or changed in Stripe")
    assert last.startswith(expected), last
    assert "(s)" not in result.stderr


def test_plan_refusals_are_counted(tmp_path) -> None:
    state = ["--emulator", "--emulator-state", str(tmp_path / "state.json")]
    (tmp_path / "c.yaml").write_text("products:\n  pro:\n    name: Pro\n")
    assert CliRunner().invoke(main, [*state, "apply", str(tmp_path), "--auto-approve"]
                              ).exit_code == 0
    (tmp_path / "c.yaml").write_text("products: {}\n")
    result = CliRunner().invoke(main, [*state, "plan", str(tmp_path), "--prune"])
    assert result.exit_code == 1
    assert result.stderr.endswith("\n1 problem: no plan was made; nothing was changed.\n")
