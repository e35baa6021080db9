"""Issue #7 acceptance: the HTML drift report renders in a real browser.

`reconciler drift --format html` writes the report; headless Chromium (Debian's `chromium`)
takes a screenshot of it and dumps the DOM it built: the run must succeed, the screenshot
must be a real picture, and the DOM must hold the summary and one section per kind.
Skipped only where Chromium is not installed; `scripts/test.sh` installs it as root.

``DRIFT_SCREENSHOT=path.png`` keeps a copy of the screenshot to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from drift_helpers import cli, scenario, shown
from optional_tools import binary, needs

from reconciler.kinds import KINDS

CHROMIUM = binary("chromium") or binary("chromium-browser")
pytestmark = needs("chromium", CHROMIUM, "apt-get install chromium")
WIDTH, HEIGHT = 1280, 2000


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


class _Outline(HTMLParser):
    """Ids of sections and the classes and text of what matters in the report."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.verdict = ""
        self._in_verdict = False
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section" and attributes.get("id"):
            self.sections.append(attributes["id"] or "")
        if tag == "p" and "verdict" in (attributes.get("class") or ""):
            self._in_verdict = True
        if tag == "tr":
            self.rows += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_verdict = False

    def handle_data(self, data: str) -> None:
        if self._in_verdict:
            self.verdict += data


@pytest.fixture
def report(tmp_path) -> Path:
    state, catalog, _ = scenario(tmp_path)
    path = tmp_path / "drift report.html"  # a space: file URLs must be quoted
    result = cli("drift", str(catalog), "--include-unmanaged", "--format", "html",
                 "-o", str(path), state=state)
    assert result.exit_code == 2, shown(result)
    return path


@pytest.mark.slow
def test_the_html_report_renders_in_headless_chromium(report, tmp_path):
    png = tmp_path / "report.png"
    run = chromium(f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}",
                   report.as_uri(), profile=tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-3000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    assert len(data) > 30_000, f"suspiciously small screenshot ({len(data)} bytes): blank?"
    if os.environ.get("DRIFT_SCREENSHOT"):
        shutil.copy(png, os.environ["DRIFT_SCREENSHOT"])


def test_the_browser_dom_has_the_summary_and_one_section_per_kind(report, tmp_path):
    run = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-3000:]
    outline = _Outline()
    outline.feed(run.stdout)
    compared = sorted(KINDS)  # the catalog uses every kind, and products state features
    assert outline.sections == ["summary", *(f"kind-{k}" for k in compared), "coverage"]
    assert outline.verdict == ("Drift: 3 changed, 2 missing, 4 archived, 1 untagged, "
                               "1 orphaned, 2 unmanaged.")
    assert outline.rows >= 13 + 1 + len(KINDS)  # items, coverage rows, headers
    assert "https://example.org/new|hook" in run.stdout
