"""What adding a kind takes: one module defining ``KIND``. The kind below is that module,
registered as the registry would register it, then planned; it reuses tax rates' Stripe
object, as a new kind's ``stripe_object`` must be in the reference data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reconciler.kinds import KINDS, MANIFEST_KINDS, Identity, Kind, Permission, Removal, Replacement
from reconciler.plan import Action

sys.path.insert(0, str(Path(__file__).parents[1] / "plan"))
from planner_world import live, owned, plan

KIND = Kind(
    name="toy_rates",
    stripe_object="tax_rate",
    summary="A toy kind: what one module states is all the layers need.",
    permission=Permission("tax_rate", "Tax rates"),
    identity=Identity.tag(),
    removal=Removal.ARCHIVE,
    replacement=Replacement.CREATE_THEN_ARCHIVE,
    export_name=lambda obj, _: obj.get("display_name"),
)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, KIND.name, KIND)
    monkeypatch.setitem(MANIFEST_KINDS, KIND.name, KIND)


VAT = {"display_name": "VAT", "percentage": 20, "inclusive": False}


def test_a_toy_entry_is_created() -> None:
    (change,) = plan({"toy_rates": {"vat": VAT}}).pending
    assert (change.address, change.action) == ("toy_rates.vat", Action.CREATE)
    assert change.steps[0].path == "/v1/tax_rates"


def test_a_toy_object_is_matched_updated_replaced_and_pruned_by_the_generic_rules() -> None:
    rate = owned("vat", id="txr_1", object="tax_rate", active=True, display_name="Old",
                 percentage=20, inclusive=False)
    (update,) = plan({"toy_rates": {"vat": VAT}}, live({"toy_rates": [rate]})).pending
    assert update.action is Action.UPDATE and update.steps[0].params == {"display_name": "VAT"}
    (replace,) = plan({"toy_rates": {"vat": {**VAT, "display_name": "Old", "percentage": 19}}},
                      live({"toy_rates": [rate]})).pending
    assert replace.action is Action.REPLACE and replace.actions == ("create", "delete")
    (prune,) = plan({}, live({"toy_rates": [rate]}), prune=True, force=True).pending
    assert prune.action is Action.ARCHIVE
