"""The benchmark harness runs end to end (tiny sizes, no latency); no timing is asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run
from benchmarks.plan_bench import minimum


@pytest.mark.slow
def test_quick_run_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    results = run.main(["--quick", "--sizes", "12,30", "--apply-n", "12", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "| objects |" in printed and "targets:" in printed
    saved = json.loads(out.read_text())
    assert [s["n"] for s in saved["sizes"]] == [12, 30]
    assert saved["machine"]["commit"]
    for size in results["sizes"]:
        plan = size["plan"]
        assert plan["requests"] >= plan["api_minimum"] > plan["minimum"] > 0
        assert plan["requests_429"] == 0
        assert size["plan_rss_mb"] > 0 and size["plan_cpu_s"] >= 0
    [applied] = results["apply"]
    labels = [r["label"] for r in applied["runs"]]
    assert labels == ["cli default", "client at rate", "one at a time"]
    assert len({r["changes"] for r in applied["runs"]}) == 1 and applied["runs"][0]["changes"] > 0
    assert applied["runs"][0]["client_rate"] == 23  # the CLI's pace for a test key


def test_the_issue_minimum_is_kept_apart_from_what_the_api_needs():
    """sum(ceil(N/100)) as the issue states it; the API adds one list per empty kind, the
    account read and one attachment list per product that states features."""
    floor = minimum({"prices": 4000, "products": 1000, "coupons": 0}, featured=100)
    assert floor["minimum"] == 40 + 10 + 0
    assert floor["api_minimum"] == 40 + 10 + 1 + 1 + 100
    assert floor["chain"] == floor["api_chain"] == 40
    small = minimum({"prices": 40, "products": 10}, featured=1)
    assert (small["chain"], small["api_chain"]) == (1, 2)


@pytest.mark.slow
def test_fleet_bench_plans_every_account_both_ways(tmp_path, capsys):
    """Tiny fleet, no latency: both runs plan every seeded account empty, and the printed
    table carries the ratio (no timing asserted)."""
    from benchmarks import fleet_bench

    out = tmp_path / "fleet.json"
    results = fleet_bench.main(["--accounts", "3", "--objects", "12", "--latency-ms", "0",
                                "--rate", "0", "--json", str(out)])
    assert [r["how"] for r in results["runs"]] == ["fan-out", "sequential"]
    fan_out, sequential = results["runs"]
    assert fan_out["requests"] == sequential["requests"] > 3 * 10  # ten kinds per account
    assert "| fan-out | none |" in capsys.readouterr().out
    assert json.loads(out.read_text())["config"]["accounts"] == 3


@pytest.mark.slow  # ~3 s: seeds 250 prices, applies twice, plans in both modes
def test_the_limits_harness_runs(tmp_path):
    """Issue 17's harness end to end: tiny sizes, no latency, no timing asserted."""
    from benchmarks import limits_bench

    results = limits_bench.main(["--latency-ms", "0", "--apply-n", "12", "--account-prices",
                                 "250", "--catalog-n", "12", "--json", str(tmp_path / "l.json")])
    assert [run["ok"] for run in results["apply"]] == [True, True]
    assert [p["mode"] for p in results["plan"]] == ["live", "sandbox"]
    assert all(p["pending"] == 0 and p["requests"] >= p["minimum_pages"] for p in results["plan"])
    assert results["rss"]["plan_rss_mb"] > 0


def test_the_limits_harness_runs_only_the_apply(tmp_path):
    from benchmarks import limits_bench

    results = limits_bench.main(["--only", "apply", "--latency-ms", "0", "--apply-n", "12"])
    assert "plan" not in results and "rss" not in results
    assert [run["ok"] for run in results["apply"]] == [True, True]
    assert all(run["phase_bound_s"] > 0 for run in results["apply"])
    assert all(run["dependency_bound"]["bound_s"] > 0 for run in results["apply"])


def test_the_apply_bound_adds_up_each_phases_longest_budget():
    """Per phase: its requests at 100/s or its busiest endpoint's at 25/s, whichever is
    longer, plus a latency; requests outside the plan's steps are one more phase."""
    from benchmarks.limits_bench import phase_bound
    from reconciler.plan import Action, Change, Plan, Step

    def creates(kind: str, path: str, n: int, phase: int) -> list[Change]:
        return [Change(kind, f"{kind}-{i}", Action.CREATE, ("create",),
                       steps=(Step("POST", path),), phase=phase) for i in range(n)]
    plan = Plan(account_id="acct_1", livemode=True, api_version="v", stack="default",
                manifest_digest="d", live_fingerprint="f", changes=(
                    *creates("products", "/v1/products", 50, 0),
                    *creates("tax_rates", "/v1/tax_rates", 50, 0),
                    *creates("coupons", "/v1/coupons", 10, 2)))
    # phase 0: max(100/100, 50/25) = 2 s; phase 2: max(10/100, 10/25) = 0.4 s; records: 5/25
    assert phase_bound(plan, 0.3, extra=5) == pytest.approx(2.3 + 0.7 + 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("only", ["apply", "plan"])
def test_the_limits_harness_runs_one_part(only: str) -> None:
    from benchmarks import limits_bench

    results = limits_bench.main(["--only", only, "--latency-ms", "0", "--apply-n", "12",
                                 "--account-prices", "150", "--catalog-n", "12",
                                 "--modes", "sandbox"])
    assert ("apply" in results, "plan" in results) == (only == "apply", only == "plan")
    if only == "plan":
        assert results["plan"][0]["chains"] == 16  # the CLI's client, 24 requests in flight


def test_the_dependency_bound_is_the_longest_of_the_budgets_and_the_chain():
    """All requests at 100/s, the busiest endpoint at 25/s, or the longest chain of what
    waits for what (coupons wait for products, not for tax rates), each plus a latency per
    link; requests outside the plan's steps come after."""
    from benchmarks.limits_bench import dependency_bound
    from reconciler.plan import Action, Change, Plan, Step

    def creates(kind: str, path: str, n: int, phase: int) -> list[Change]:
        return [Change(kind, f"{kind}-{i}", Action.CREATE, ("create",),
                       steps=(Step("POST", path),), phase=phase) for i in range(n)]
    plan = Plan(account_id="acct_1", livemode=True, api_version="v", stack="default",
                manifest_digest="d", live_fingerprint="f", changes=(
                    *creates("products", "/v1/products", 25, 0),
                    *creates("tax_rates", "/v1/tax_rates", 50, 0),
                    *creates("coupons", "/v1/coupons", 50, 2)))
    bound = dependency_bound(plan, 0.3, extra=5)
    assert bound["global_s"] == pytest.approx(125 / 100 + 0.3)
    assert bound["busiest_endpoint_s"] == pytest.approx(50 / 25 + 0.3)
    assert bound["chain_s"] == pytest.approx(25 / 25 + 0.3 + 50 / 25 + 0.3)  # products, coupons
    assert bound["bound_s"] == pytest.approx(3.6 + 5 / 25 + 0.3)
