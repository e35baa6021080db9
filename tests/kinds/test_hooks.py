"""The generic engine calls kind hooks and never names a kind (issue 14, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reconciler.account import needed_kinds
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.kinds.hooks.base import Hooks
from reconciler.manifests.loader import load
from reconciler.plan.records import RECORDED_KINDS, Referrers, foreign_use, ours

PACKAGE = Path(__file__).parents[2] / "reconciler"
OWN_KINDS = ("kinds", "emulator")  # the kinds describe themselves; the emulator is Stripe


def test_no_kind_name_literal_outside_the_kinds_and_the_emulator() -> None:
    literal = re.compile(r"""["'](%s)["'.]""" % "|".join(KINDS))
    found = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py"))
             if path.relative_to(PACKAGE).parts[0] not in OWN_KINDS
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if literal.search(line) and "``" not in line]  # a docstring's example
    assert not found, "kind names outside reconciler/kinds/:\n" + "\n".join(found)


def test_every_kind_has_hooks_and_three_kinds_have_rules_of_their_own() -> None:
    assert all(isinstance(kind.hooks, Hooks) for kind in KINDS.values())
    assert {k.name for k in KINDS.values() if type(k.hooks) is not Hooks} == {
        "prices", "promotion_codes", "product_features"}


def test_recorded_kinds_are_the_manifest_kinds_without_metadata() -> None:
    assert RECORDED_KINDS == tuple(n for n, k in MANIFEST_KINDS.items() if not k.has_metadata)
    assert set(RECORDED_KINDS) == {"meters", "payment_method_configurations"}


def _manifest(tmp_path: Path, document: dict):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(document))
    manifest, issues = load([tmp_path])
    assert not issues
    return manifest


def test_whose_a_configuration_is_needs_the_records_not_the_prices(tmp_path: Path) -> None:
    """A record lives in a control product; prices are read only for what refers to the
    recorded kinds (a price reads a meter), which nothing does for configurations."""
    configurations = _manifest(tmp_path / "a", {"payment_method_configurations": {
        "checkout": {"name": "Checkout"}}})
    assert needed_kinds(configurations) == ["payment_method_configurations", "products"]
    meters = _manifest(tmp_path / "b", {"meters": {"calls": {
        "display_name": "Calls", "event_name": "calls",
        "default_aggregation": {"formula": "sum"}}}})
    assert needed_kinds(meters) == ["meters", "products", "prices"]


def test_a_meter_is_whose_prices_read_it() -> None:
    meter = {"id": "mtr_1"}
    price = {"id": "price_1", "recurring": {"meter": "mtr_1"},
             "metadata": {"reconciler_stack": "a"}}
    users = Referrers({"prices": [price]})
    assert foreign_use(KINDS["meters"], meter, "b", {}, users) == \
        "price price_1 of stack 'a' uses it"
    assert foreign_use(KINDS["meters"], meter, "a", {}, users) is None
    assert ours(KINDS["meters"], meter, "a", {}, users)
    assert not ours(KINDS["meters"], meter, "b", {}, users)
    default = {"id": "pmc_1", "is_default": True}
    assert ours(KINDS["payment_method_configurations"], default, "b", {}, Referrers({}))
