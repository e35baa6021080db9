"""Issue #7 acceptance: the drift report in all four formats, against golden files.

A day of dashboard edits touches every category at once; the report is rendered by
`reconciler drift` in text, JSON, Markdown and HTML and compared with
``tests/drift/golden/*`` after the emulator's random ids are normalised. The scenario is
built three times from scratch and must render identically each time. The HTML loads
nothing from outside the file (``self_contained.py``).

``UPDATE_GOLDENS=1 pytest tests/drift`` rewrites the golden files.
"""

from __future__ import annotations

import json

import pytest
from drift_helpers import (
    FORMATS,
    check_golden,
    cli,
    converged,
    normalise,
    save_state,
    scenario,
    shown,
)
from self_contained import external_resources


def reports(tmp_path) -> dict[str, str]:
    """name -> normalised output, for every golden file; exit codes checked on the way."""
    state, catalog, baseline = scenario(tmp_path)
    clean_emu, _, clean_catalog = converged(tmp_path / "clean")
    clean_state = save_state(clean_emu, tmp_path / "clean" / "state.json")
    out: dict[str, str] = {}
    for fmt, ext in FORMATS.items():
        for name, args, st, code in [
            ("drift", [str(catalog), "--include-unmanaged"], state, 2),
            ("accepted", [str(catalog), "--include-unmanaged", "--baseline", str(baseline)],
             state, 2),
            ("clean", [str(clean_catalog)], clean_state, 0),
        ]:
            result = cli("drift", *args, "--format", fmt, state=st)
            assert result.exit_code == code, (name, fmt, shown(result))
            out[f"{name}.{ext}"] = normalise(result.stdout)
    return out


def test_reports_match_the_golden_files_and_are_stable(tmp_path):
    runs = [reports(tmp_path / f"run{n}") for n in range(3)]
    assert runs[0] == runs[1] == runs[2]
    for name, text in sorted(runs[0].items()):
        if name.endswith(".html"):  # self-contained, before it can become a golden file
            assert external_resources(text) == [], name
        check_golden(name, text)


def test_the_json_report_is_the_data_behind_the_others(tmp_path):
    state, catalog, baseline = scenario(tmp_path)
    result = cli("drift", str(catalog), "--include-unmanaged", "--baseline", str(baseline),
                 "--format", "json", state=state)
    data = json.loads(result.stdout)
    assert data["format_version"] == "1" and data["drift"] is True
    assert data["counts"] == {"changed": 2, "missing": 2, "archived": 3, "untagged": 1,
                              "orphaned": 1, "unmanaged": 1}
    categories = {(i["category"], i["kind"], i["key"] or i["live_id"]): i
                  for i in data["items"]}
    vat = categories["archived", "tax_rates", "vat"]
    assert vat["accepted"] and vat["diffs"] == [
        {"path": "active", "manifest": True, "live": False, "accepted": True}]
    pro = categories["changed", "products", "pro"]
    assert not pro["accepted"]
    assert [(d["path"], d["accepted"]) for d in pro["diffs"]] == [
        ("description", False), ("metadata.note", True), ("metadata.owner", True),
        ("metadata.tier", True)]
    assert categories["changed", "prices", "pro-monthly"]["accepted"]
    assert categories["unmanaged", "coupons", "summer"]["accepted"]
    assert data["coverage"]["coupons"] == {"managed": 0, "total": 2}  # loyal is orphaned
    assert list(data["coverage"]) == sorted(data["coverage"])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_out_writes_the_report_to_a_file(fmt, tmp_path):
    state, catalog, _ = scenario(tmp_path)
    target = tmp_path / f"report.{FORMATS[fmt]}"
    result = cli("drift", str(catalog), "--format", fmt, "-o", str(target), state=state)
    assert result.exit_code == 2, shown(result)
    assert result.stdout == ""
    assert f"Drift report written to {target}." in result.stderr
    printed = cli("drift", str(catalog), "--format", fmt, state=state).stdout
    assert normalise(target.read_text()) == normalise(printed)
