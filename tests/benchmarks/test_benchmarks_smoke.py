"""The benchmark harness runs end to end (tiny sizes, no latency); no timing is asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run


def test_quick_run_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    results = run.main(["--quick", "--sizes", "12,30", "--apply-n", "12", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "| objects |" in printed and "targets:" in printed
    saved = json.loads(out.read_text())
    assert [s["n"] for s in saved["sizes"]] == [12, 30]
    for size in results["sizes"]:
        plan = size["plan"]
        assert plan["requests"] >= plan["minimum"] > 0
        assert plan["requests_429"] == 0
        assert size["plan_rss_mb"] > 0 and size["plan_cpu_s"] >= 0
    applied = results["apply"]
    assert applied["parallel"]["changes"] == applied["serial"]["changes"] > 0
