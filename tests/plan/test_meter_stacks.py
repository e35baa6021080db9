"""Meters and payment method configurations are never shared across stacks (issue 12 item
3): they carry no metadata, so each stack records the ones it owns (plan/records.py), and a
stack never changes or deactivates one another stack records or another stack's price uses,
not even with --force."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "apply"))
from apply_helpers import apply_plan, call, load, plan_of, write_manifest

from reconciler.apply import Journal
from reconciler.emulator import Emulator
from reconciler.plan import PlanError
from reconciler.plan.records import chunked, parse, record_id

A = """
    meters:
      calls:
        display_name: API calls
        event_name: api_calls
        default_aggregation: {formula: sum}
      seats:
        display_name: Seats
        event_name: seats
        default_aggregation: {formula: last}
    products:
      api: {name: API}
    prices:
      per-call:
        product: api
        currency: usd
        unit_amount: 1
        recurring: {interval: month, usage_type: metered, meter: calls}
"""


def _stack_a(tmp_path: Path) -> Emulator:
    emu = Emulator()
    manifest = load(write_manifest(tmp_path / "a", A))
    assert apply_plan(emu, plan_of(emu, manifest, stack="a")).ok
    assert not plan_of(emu, manifest, stack="a").has_changes
    return emu


def _b(tmp_path: Path, event_name: str, display_name: str, formula: str = "sum"):
    return load(write_manifest(tmp_path / "b", f"""
        meters:
          mine:
            display_name: {display_name}
            event_name: {event_name}
            default_aggregation: {{formula: {formula}}}
    """))


def _meters(emu: Emulator) -> dict[str, dict]:
    return {m["event_name"]: m for m in call(emu, "GET", "/v1/billing/meters")["data"]}


@pytest.mark.parametrize("event_name, unrecorded, why", [
    ("api_calls", False, "stack 'a' records it as its own"),
    ("seats", False, "stack 'a' records it as its own"),  # no price: only a's record tells
    # applied before records existed: a's metered price reading it tells
    ("api_calls", True, "of stack 'a' uses it"),
])
@pytest.mark.parametrize("force", [False, True])
def test_another_stack_cannot_rename_or_deactivate_a_meter_of_stack_a(
        tmp_path: Path, event_name: str, unrecorded: bool, why: str, force: bool) -> None:
    emu = _stack_a(tmp_path)
    if unrecorded:
        call(emu, "DELETE", f"/v1/products/{record_id('a')}")
    before = _meters(emu)
    for manifest in (_b(tmp_path, event_name, "Renamed by b"),  # an update in place
                     _b(tmp_path, event_name, "Renamed by b", "count")):  # a replacement
        with pytest.raises(PlanError) as refused:
            plan_of(emu, manifest, stack="b", force=force)
        problem, = refused.value.problems
        assert problem.startswith(f"meters.mine: event_name '{event_name}' is held by "
                                  f"{before[event_name]['id']}, which is another stack's")
        assert why in problem and "--force does not change that" in problem
    assert _meters(emu) == before  # a's meters, active, names kept: its price keeps working
    assert not plan_of(emu, load(tmp_path / "a"), stack="a").has_changes


def test_a_meter_no_stack_recorded_is_matched_but_not_changed_unless_adopted(
        tmp_path: Path) -> None:
    emu = Emulator()
    made = call(emu, "POST", "/v1/billing/meters", {
        "display_name": "By hand", "event_name": "by_hand",
        "default_aggregation": {"formula": "sum"}})
    same = _b(tmp_path, "by_hand", "By hand")
    assert not plan_of(emu, same, stack="b").has_changes  # nothing would change it
    renamed = _b(tmp_path, "by_hand", "Renamed")
    with pytest.raises(PlanError) as refused:
        plan_of(emu, renamed, stack="b", force=True)
    assert "which no stack has recorded as its own" in refused.value.problems[0]
    assert "adopt it with --adopt" in refused.value.problems[0]
    adopted = plan_of(emu, renamed, stack="b", adopt=True)
    assert apply_plan(emu, adopted).ok
    assert _meters(emu)["by_hand"]["display_name"] == "Renamed"
    assert not plan_of(emu, renamed, stack="b").has_changes  # recorded: b's now
    with pytest.raises(PlanError, match="stack 'b' records it as its own"):
        plan_of(emu, _b(tmp_path, "by_hand", "Taken"), stack="c", adopt=True)
    assert made["id"] == _meters(emu)["by_hand"]["id"]


def test_record_ids_are_chunked_within_stripes_metadata_limits() -> None:
    ids = {"meters": {f"mtr_{i:024d}" for i in range(100)},
           "payment_method_configurations": {"pmc_1"}}
    metadata = chunked(ids)
    assert all(len(k) <= 40 and len(v) <= 500 for k, v in metadata.items())
    assert len(metadata) <= 48
    stack, found = parse({"metadata": {"reconciler_control": "owned", "stack": "s",
                                       **metadata}}) or ("", {})
    assert stack == "s" and found == ids
    with pytest.raises(ValueError, match="too many ids"):
        chunked({"meters": {f"mtr_{i:024d}" for i in range(1000)}})


def test_a_match_left_unchanged_is_not_recorded(tmp_path: Path) -> None:
    """Stack b states a meter nobody recorded, exactly as it is: the plan lets the match stand
    (nothing changes), but applying it must not record the meter as b's, or its real owner
    could never adopt it again."""
    emu = Emulator()
    made = call(emu, "POST", "/v1/billing/meters", {
        "display_name": "Hand made", "event_name": "hand_made",
        "default_aggregation": {"formula": "sum"}})
    same = _b(tmp_path, "hand_made", "Hand made")
    applied = plan_of(emu, same, stack="b")
    assert not applied.has_changes
    assert apply_plan(emu, applied).ok
    records = [parse(p) for p in call(emu, "GET", "/v1/products")["data"]]
    assert not any(r and made["id"] in r[1]["meters"] for r in records)
    adopted = plan_of(emu, load(write_manifest(tmp_path / "c", """
        meters:
          theirs:
            display_name: Hand made
            event_name: hand_made
            default_aggregation: {formula: sum}
    """)), stack="c", adopt=True)
    assert apply_plan(emu, adopted).ok


PMC_A = """
    payment_method_configurations:
      checkout:
        name: Checkout EU
        card: {display_preference: {preference: "on"}}
"""


def _pmc_b(tmp_path: Path, fields: str):
    return load(write_manifest(tmp_path / "b", f"""
        payment_method_configurations:
          mine:
            name: Checkout EU
            {fields}
    """))


def _configurations(emu: Emulator) -> dict[str, dict]:
    return {c["name"]: c for c in
            call(emu, "GET", "/v1/payment_method_configurations")["data"] if c.get("name")}


@pytest.mark.parametrize("force", [False, True])
def test_another_stack_cannot_change_or_deactivate_a_configuration_of_stack_a(
        tmp_path: Path, force: bool) -> None:
    """The configuration's name is its identity, so stack b stating the same name means
    a's object: b may neither change its display preferences nor deactivate it, --force or
    not, and a's plan stays empty."""
    emu = Emulator()
    a = load(write_manifest(tmp_path / "a", PMC_A))
    assert apply_plan(emu, plan_of(emu, a, stack="a")).ok
    before = _configurations(emu)
    for fields in ('card: {display_preference: {preference: "off"}}',  # a change
                   "active: false"):  # deactivation
        with pytest.raises(PlanError) as refused:
            plan_of(emu, _pmc_b(tmp_path, fields), stack="b", force=force)
        problem, = refused.value.problems
        assert problem.startswith(
            "payment_method_configurations.mine: name 'Checkout EU' is held by "
            f"{before['Checkout EU']['id']}, which is another stack's (stack 'a' records it "
            "as its own)")
        assert "--force does not change that" in problem
        with pytest.raises(PlanError, match="stack 'a' records it as its own"):
            plan_of(emu, _pmc_b(tmp_path, fields), stack="b", adopt=True)
    assert _configurations(emu) == before
    assert not plan_of(emu, a, stack="a").has_changes


class Killed(BaseException):
    """SIGKILL, as far as the run is concerned: nothing after it runs."""


def test_a_meter_created_by_a_killed_run_is_recorded_when_its_journal_finishes_it(
        tmp_path: Path) -> None:
    """The run that created the meter died before writing the stack's record; the run that
    finishes the saved plan from its journal skips that create and must still record the
    meter, or another stack could rename or deactivate it."""
    emu = Emulator()
    plan = plan_of(emu, load(write_manifest(tmp_path / "a", A)), stack="a")
    journal_file = tmp_path / "plan.json.journal"
    with mock.patch("reconciler.apply.executor._record", side_effect=Killed), \
            pytest.raises(Killed):
        apply_plan(emu, plan, journal=Journal(journal_file, plan.fingerprint))
    assert call(emu, "GET", "/v1/products", {"ids": [record_id("a")]})["data"] == []
    resumed = apply_plan(emu, plan, journal=Journal(journal_file, plan.fingerprint))
    assert resumed.ok and not resumed.applied and resumed.already_applied
    record = parse(call(emu, "GET", f"/v1/products/{record_id('a')}"))
    assert record is not None
    assert record[1]["meters"] == {m["id"] for m in _meters(emu).values()}
    with pytest.raises(PlanError, match="stack 'a' records it as its own"):
        plan_of(emu, _b(tmp_path, "seats", "Renamed by b"), stack="b", force=True)


def test_whose_meters_are_is_read_in_one_pass_over_the_prices() -> None:
    """Each meter an entry matched looked through every price: 80 meters and 100,000
    prices read 16 million references."""
    sys.path.insert(0, str(Path(__file__).parent))
    from planner_world import live, plan

    from reconciler.kinds.base import Reference

    def references_read(meters: int) -> int:
        specs = {f"m{i}": {"display_name": f"M{i}", "event_name": f"e{i}",
                           "default_aggregation": {"formula": "sum"}} for i in range(meters)}
        account = live({
            "meters": [{"id": f"mtr_{i}", "status": "active", **spec}
                       for i, spec in enumerate(specs.values())],
            "prices": [{"id": f"price_{j}", "product": "prod_x", "recurring": None}
                       for j in range(200)]})
        with mock.patch.object(Reference, "values", autospec=True,
                               side_effect=Reference.values) as read:
            result = plan({"meters": specs}, account, adopt=True)
        assert {c.action.value for c in result.changes} == {"adopt"}
        return read.call_count

    assert references_read(8) == references_read(1)
