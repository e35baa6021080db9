"""atheris (coverage-guided, libFuzzer) target for the manifest loader and validator.

Run by ``test_fuzz_atheris.py``; by hand::

    python tests/hardening/fuzz_atheris_target.py -runs=100000 -timeout=10 [CORPUS_DIR]

Each input is written to a file and read as ``reconciler validate`` reads it; any exception
(or libFuzzer's ``-timeout`` per input) is a crash, and every issue must be placed in that
file at a line that exists.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["reconciler", "yaml", "jsonschema"]):
    from reconciler.manifests import Variables, load, validate

VARIABLES = Variables(overrides={"X": "1500"}, environ={})
PATH = Path(tempfile.mkdtemp(prefix="atheris-")) / "fuzz.yaml"


def test_one_input(data: bytes) -> None:
    PATH.write_bytes(data)
    manifest, issues = load([PATH], variables=VARIABLES)
    issues = issues + validate(manifest)
    try:
        text = data.decode("utf-8")
        # YAML also breaks lines at \r, \x85, \u2028 and \u2029
        lines = sum(text.count(c) for c in "\n\r\x85\u2028\u2029") + 1
    except UnicodeDecodeError:
        lines = None
    for issue in issues:
        where = issue.location
        assert where.file == str(PATH) and issue.message, issue
        assert where.line >= 0 and where.column >= 0, issue
        assert lines is None or where.line <= lines, (issue, lines)
        json.dumps(issue.as_dict())


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
