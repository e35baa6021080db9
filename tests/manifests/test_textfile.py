"""Reading a manifest file's text: the size cap, other encodings, the place of a bad byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.manifests import Issue, Location, summarise
from reconciler.manifests.textfile import TextFileError, read_text


def _error(tmp_path: Path, data: bytes, limit: int = 1000) -> TextFileError:
    path = tmp_path / "f.yaml"
    path.write_bytes(data)
    with pytest.raises(TextFileError) as caught:
        read_text(path, limit)
    return caught.value


def test_a_bad_byte_is_placed_in_characters_of_its_line(tmp_path: Path) -> None:
    error = _error(tmp_path, "a: 1\nname: Café ".encode() + b"\xe9t\xe9\n")
    assert (error.line, error.column) == (2, 12)  # 'é' before it is one character
    assert error.message == "not UTF-8: byte 0xe9 cannot be decoded; save the file as UTF-8"


@pytest.mark.parametrize(("text", "encoding", "name"), [
    ("a: 1\n", "utf-16", "UTF-16"), ("a: 1\n", "utf-16-be", "UTF-16"),
    ("a: 1\n", "utf-32", "UTF-32"), ("a: 1\n", "utf-32-be", "UTF-32"),
])
def test_a_byte_order_mark_names_the_encoding(tmp_path: Path, text: str, encoding: str,
                                              name: str) -> None:
    bom = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"")
    error = _error(tmp_path, bom + text.encode(encoding))
    assert error.message == f"file is {name} (BOM); save it as UTF-8"
    assert (error.line, error.column) == (0, 0)


def test_a_utf8_bom_is_text(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_text(path) == "\ufeffa: 1\n"


def test_the_cap_counts_bytes_and_reads_no_further(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 10)
    assert read_text(path, 10) == "x" * 10
    assert "larger than 9 bytes" in _error(tmp_path, b"x" * 10, limit=9).message
    endless = tmp_path / "zero.yaml"
    os.symlink("/dev/zero", endless)  # a file that never ends: refused after 1,001 bytes
    with pytest.raises(TextFileError, match="larger than 1,000 bytes"):
        read_text(endless, 1000)


def test_max_file_bytes_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("products:\n  pro: {name: Pro}\n")
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(tmp_path)],
                           env={"RECONCILER_MAX_FILE_BYTES": "20"})
    assert result.exit_code == 1
    assert "c.yaml: the file is larger than 20 bytes; split it" in result.output
    assert runner.invoke(main, ["validate", str(tmp_path), "--max-file-bytes", "1kB"],
                         env={"RECONCILER_MAX_FILE_BYTES": "20"}).exit_code == 0


def test_a_problem_repeated_at_one_place_is_one_line() -> None:
    here, there = Location("f.yaml", 3, 5), Location("f.yaml", 9, 5)
    issues = [Issue(here, "bad", "products", "a")] * 3 + [Issue(there, "bad", "products", "a")]
    assert summarise(issues) == ["f.yaml:3:5: products.a: bad (and 2 more like it)",
                                 "f.yaml:9:5: products.a: bad"]
