"""Messages that count say "1 object" and "2 objects", with the words that agree, never
"object(s)": each such message, once with one and once with two."""

from __future__ import annotations

import math
from pathlib import Path
from unittest import mock

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.apply import ApplyResult
from reconciler.cli import main
from reconciler.cli.apply import not_attempted
from reconciler.cli.import_ import not_tagged
from reconciler.drift import Baseline, BaselineError
from reconciler.emulator import Emulator
from reconciler.export.target import ExportTargetError, check_target
from reconciler.plan import Action, Change


def cli(state: Path, *args: str) -> Result:
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(main, ["--emulator", "--emulator-state", str(state), *args],
                                  env={"NO_COLOR": "1", "STRIPE_API_KEY": None,
                                       "STRIPE_API_BASE": None, "RECONCILER_STACK": None},
                                  catch_exceptions=False)


def products(n: int) -> str:
    return "products:\n" + "".join(f"  p{i}: {{name: P{i}}}\n" for i in range(n))


def changes(n: int) -> ApplyResult:
    return ApplyResult(not_attempted=[Change("products", f"p{i}", Action.CREATE, ("create",))
                                      for i in range(n)])


@pytest.mark.parametrize(("n", "text"), [
    (1, "1 change not attempted"), (2, "2 changes not attempted")])
def test_apply_counts_the_changes_not_attempted(n: int, text: str) -> None:
    assert not_attempted(changes(n)) == text


@pytest.mark.parametrize(("n", "text"), [(1, "1 object not tagged"), (2, "2 objects not tagged")])
def test_import_counts_the_objects_not_tagged(n: int, text: str) -> None:
    assert not_tagged(changes(n)) == text


@pytest.mark.parametrize(("n", "text"), [
    (1, ("1 object owned by stack 'default' is no longer in the manifests; plan with --prune "
        "to remove it")),
    (2, ("2 objects owned by stack 'default' are no longer in the manifests; plan with --prune "
        "to remove them"))])
def test_plan_counts_the_objects_left_out(tmp_path: Path, n: int, text: str) -> None:
    state, catalog = tmp_path / "state.json", tmp_path / "c.yaml"
    catalog.write_text(products(3))
    assert cli(state, "apply", str(catalog), "--auto-approve").exit_code == 0
    catalog.write_text(products(3 - n))
    planned = cli(state, "plan", str(catalog))
    assert planned.exit_code == 0, planned.output
    assert f"Warning: {text}\n" in planned.output


@pytest.mark.parametrize(("n", "text"), [(1, "1 object to import"), (2, "2 objects to import")])
def test_import_counts_the_objects_to_import(tmp_path: Path, n: int, text: str) -> None:
    state, catalog = tmp_path / "state.json", tmp_path / "c.yaml"
    with httpx.Client(transport=Emulator(state_file=state).transport(),
                      base_url="https://api.stripe.com",
                      headers={"Authorization": "Bearer sk_test_plural"}) as http:
        for i in range(n):  # made by hand: no stack owns them
            http.post("/v1/products", data={"id": f"p{i}", "name": f"P{i}"}).raise_for_status()
    catalog.write_text("products:\n" + "".join(f"  p{i}: {{id: p{i}, name: P{i}}}\n"
                                               for i in range(n)))
    imported = cli(state, "import", str(catalog), "--dry-run")
    assert imported.exit_code == 0, imported.output
    assert f"\n{text} (dry run).\n" in imported.output


@pytest.mark.parametrize(("n", "text"), [
    (1, ("already holds 1 manifest file: {out}/p0.yaml; export writes a new catalog and would "
        "replace or duplicate its entries.")),
    (2, ("already holds 2 manifest files: {out}/p0.yaml, {out}/p1.yaml; export writes a new "
        "catalog and would replace or duplicate their entries."))])
def test_export_counts_the_manifest_files_in_its_way(tmp_path: Path, n: int, text: str) -> None:
    for i in range(n):
        (tmp_path / f"p{i}.yaml").write_text(products(1))
    with pytest.raises(ExportTargetError) as refused:
        check_target(tmp_path, ["products.yaml"], force=False)
    assert text.format(out=tmp_path) in str(refused.value)


@pytest.mark.parametrize("command", ["export", "import"])
@pytest.mark.parametrize(("kinds", "text"), [
    ("prices,taxes", "unknown kind taxes; choose from features, "),
    ("taxes,prices,fees", "unknown kinds taxes, fees; choose from features, ")])
def test_kinds_names_the_unknown_ones(tmp_path: Path, command: str, kinds: str,
                                      text: str) -> None:
    target = ["-o", str(tmp_path / "out")] if command == "export" else [str(tmp_path)]
    refused = cli(tmp_path / "state.json", command, *target, "--kinds", kinds)
    assert refused.exit_code == 1, refused.output
    assert f"Error: Invalid value for --kinds: {text}" in refused.output


@pytest.mark.parametrize(("keys", "text"), [
    ("ignore: []", "unknown key ignore"), ("ignore: []\nskip: []", "unknown keys ignore, skip")])
def test_a_baseline_names_its_unknown_keys(tmp_path: Path, keys: str, text: str) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(f"accept: []\n{keys}\n")
    with pytest.raises(BaselineError) as refused:
        Baseline.load(path)
    assert str(refused.value) == f"{path}: {text}"
