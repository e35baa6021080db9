"""$GITHUB_STEP_SUMMARY: what plan, apply and drift append stays within GitHub's 1 MiB a step."""

from __future__ import annotations

import pytest

from reconciler.cli.summary import LIMIT, TRUNCATED, append_step_summary

NOTICE = "_Truncated by reconciler to fit GitHub's 1 MiB job summary limit._"


@pytest.fixture
def summary(tmp_path, monkeypatch):
    path = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def test_the_limit_is_githubs():
    assert LIMIT == 1_048_576 and TRUNCATED.strip() == NOTICE


def test_appends_to_the_summary(summary):
    summary.write_text("earlier step output\n")
    append_step_summary("### reconciler plan: No changes\n")
    assert summary.read_text() == "earlier step output\n### reconciler plan: No changes\n"


def test_nothing_without_a_job(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    append_step_summary("### reconciler plan: No changes\n")
    assert list(tmp_path.iterdir()) == []


def test_a_summary_near_the_cap_gets_what_fits_and_the_notice(summary):
    earlier = b"x" * (LIMIT - 500) + b"\n"
    summary.write_bytes(earlier)
    report = "".join(f"| products.p{i} | create |\n" for i in range(100))  # 2,590 bytes
    append_step_summary(report)
    data = summary.read_bytes()
    assert len(data) <= LIMIT
    assert data.startswith(earlier)
    added = data[len(earlier):].decode()
    assert added.endswith(f"\n\n{NOTICE}\n")
    kept = added.removesuffix(TRUNCATED)
    assert report.startswith(kept) and len(kept) > 300


def test_an_oversize_report_is_cut_to_the_limit(summary):
    """Multi-byte text, cut where a character would be split: the file stays valid UTF-8."""
    report = "| prices.€-monthly | create | ✓ |\n" * 40_000  # about 1.5 MiB
    append_step_summary(report)
    data = summary.read_bytes()
    assert LIMIT - 4 <= len(data) <= LIMIT
    text = data.decode("utf-8")  # raises if a character was cut in half
    assert text.endswith(f"\n\n{NOTICE}\n")
    assert report.startswith(text.removesuffix(TRUNCATED))


def test_a_report_that_fills_the_summary_exactly_is_not_cut(summary):
    summary.write_bytes(b"x" * (LIMIT - 100))
    append_step_summary("y" * 100)
    data = summary.read_bytes()
    assert len(data) == LIMIT and data.endswith(b"y" * 100)


def test_no_room_even_for_the_notice_appends_nothing(summary):
    earlier = b"x" * (LIMIT - len(TRUNCATED) + 1)
    summary.write_bytes(earlier)
    append_step_summary("### reconciler drift: 3 drifted\n" + "| products.pro | changed |\n" * 9)
    assert summary.read_bytes() == earlier
