"""Reading a manifest file's text: bounded in size, UTF-8 only, with the place of a bad byte.

Why a size cap: the cost of reading grows with the file, and the densest files cost most per
byte (on two busy cores, 2 MB of one-line invalid entries took 4 to 7.5 s of CPU and 250 MB;
5 MB of them, 17 s; 50 MB, 49 s and 1.45 GB), so an unbounded file (a generated dump, a
mistaken glob, ``/dev/zero`` behind a symlink) would hold a run for minutes and gigabytes.
The default, 2 MB, keeps any file under 20 s and 1 GB and holds about 15,000 prices (a
realistic 4,000-price file is 520 kB); a larger catalog can be split across files (the cap
is per file) or the cap raised.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 2_000_000

# Byte order marks of encodings that are not UTF-8 (UTF-32's first: it starts like UTF-16's).
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


class TextFileError(Exception):
    """A file that cannot be read as manifest text; ``line`` and ``column`` (1-based) place
    the problem, or are 0 when it is the file as a whole."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The file's text. Raises :class:`TextFileError` for a file over ``max_bytes`` (read no
    further than that, whatever the file claims to be), in another encoding, or unreadable
    (``OSError`` passes through)."""
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TextFileError(f"the file is larger than {max_bytes:,} bytes; split it into "
                            "several files, or raise --max-file-bytes (or "
                            "RECONCILER_MAX_FILE_BYTES)")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise TextFileError(f"file is {encoding} (BOM); save it as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8")) + 1
        raise TextFileError(f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; save "
                            "the file as UTF-8", line, column) from None
