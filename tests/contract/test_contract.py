"""The contract suite: end-to-end scenarios through the command line, each observation of the
account normalised and compared with a snapshot (tests/contract/snapshots/).

Every scenario runs twice: against the emulator, offline, always; and against a Stripe
sandbox when ``STRIPE_SANDBOX_KEY`` is set (skipped otherwise, refused with a live key), in a
stack of its own that is pruned at the end. Both compare with the same snapshot file, so a
snapshot recorded against the sandbox (``RECONCILER_SNAPSHOT_UPDATE=1``, see
docs/contributing.md) holds the emulator to Stripe's own answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_snapshots import Normaliser, Snapshot
from contract_target import Target, emulator_target, sandbox_target

SNAPSHOTS = Path(__file__).parent / "snapshots" / "scenarios.json"
# Fields only Stripe shows, or shows differently, that no scenario asserts on: none yet; a
# recording against the sandbox adds the ones the emulator does not model, each with a reason.
SKIP: tuple[str, ...] = ()

Scenario = Callable[[Target, Snapshot], None]


def scenario_apply_example(name: str) -> Scenario:
    def run(target: Target, snapshot: Snapshot) -> None:
        catalog = target.catalog(name)
        target.apply(catalog)
        snapshot.match("applied", target.observe())
        again = target.cli("plan", str(catalog), "--stack", target.stack, "--detailed-exitcode")
        assert again.exit_code == 0, again.output
    return run


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def lifecycle(target: Target, snapshot: Snapshot) -> None:
    """Change in place, replace, prune and drift, on the saas example."""
    catalog = target.catalog("saas")
    target.apply(catalog)
    _edit(catalog / "products.yaml", lambda d: d["products"]["pro"].update(name="Pro (renamed)"))
    target.apply(catalog)
    snapshot.match("changed", target.observe())
    prices = yaml.safe_load((catalog / "prices.yaml").read_text())["prices"]
    first = next(key for key, entry in prices.items() if "unit_amount" in entry)
    _edit(catalog / "prices.yaml",
          lambda d: d["prices"][first].update(unit_amount=d["prices"][first]["unit_amount"] + 100))
    target.apply(catalog)
    snapshot.match("replaced", target.observe())
    _edit(catalog / "discounts.yaml", lambda d: d.pop("promotion_codes", None))
    target.apply(catalog, "--prune")
    snapshot.match("pruned", target.observe())
    pro = next(o for o in target.observe()["products"]
               if o["metadata"]["reconciler_key"] == "pro")
    target.update(f"/v1/products/{pro['id']}", {"description": "changed outside reconciler"})
    drift = target.cli("drift", str(catalog), "--stack", target.stack, "--format", "json")
    assert drift.exit_code == 2, drift.output
    snapshot.match("drift", json.loads(drift.output))


def round_trip(target: Target, snapshot: Snapshot) -> None:
    """Export the account and plan the exported catalog: nothing to change."""
    target.apply(target.catalog("shop"))
    out = target.work / "exported"
    exported = target.cli("export", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    files = {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.yaml"))}
    snapshot.match("exported", files)
    checked = target.cli("validate", str(out))
    assert checked.exit_code == 0, checked.output


def restricted_key(target: Target, snapshot: Snapshot) -> None:
    """A read-only restricted key: the plan is made, the apply refused before any write."""
    if target.read_only_key is None:
        pytest.skip("no read-only restricted key for this account")
    before = target.observe()
    refused = target.cli("apply", str(target.catalog("saas")), "--stack", target.stack,
                         "--auto-approve", key=target.read_only_key)
    assert refused.exit_code == 1, refused.output
    assert target.observe() == before
    snapshot.match("refusal", refused.output.strip().splitlines())


SCENARIOS: dict[str, Scenario] = {
    "apply-saas": scenario_apply_example("saas"),
    "apply-shop": scenario_apply_example("shop"),
    "apply-usage-based": scenario_apply_example("usage-based"),
    "lifecycle": lifecycle,
    "round-trip": round_trip,
    "restricted-key": restricted_key,
}
TARGETS: dict[str, Callable[[Path], AbstractContextManager[Target]]] = {
    "emulator": emulator_target, "sandbox": sandbox_target}


@pytest.fixture(params=list(TARGETS))
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with TARGETS[request.param](tmp_path) as target:
        yield target


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_matches_its_snapshot(target: Target, name: str) -> None:
    snapshot = Snapshot(SNAPSHOTS, name, target.against, Normaliser(target.stack), skip=SKIP)
    SCENARIOS[name](target, snapshot)
    snapshot.finish()
