"""Fuzzing the manifest loader and validator (issue 9, hardening).

Whatever a manifest file holds (arbitrary bytes, arbitrary text, YAML-looking token soup,
or documents built from the JSON Schema's shape and then mutated), reading and validating it

- raises nothing: every problem comes back as an :class:`Issue`, and ``reconciler validate``
  exits 0 or 1 with no traceback;
- finishes within a time bound per input (:data:`BOUND` seconds; a hang fails the example);
- places every issue: it names the file it was read from and a line/column that exist
  (line 0 means the whole file).

Short mode runs about 200 examples per strategy; long mode (``--long`` or
``RECONCILER_LONG=1``) runs many more. atheris (coverage-guided) runs in
``test_fuzz_atheris.py`` when it is installed.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from figures_plugin import record
from hardening_helpers import time_bound
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import runs

from reconciler.cli import main
from reconciler.manifests import Issue, Variables, load, validate
from reconciler.manifests.schema import manifest_schema

BOUND = 10.0  # seconds per input: generous for a busy 2-core CI machine; typical is < 50 ms
VARIABLES = Variables(overrides={"X": "1500", "NAME": "Pro"}, environ={})


def _settings(short: int, long: int) -> settings:
    return settings(max_examples=runs(short, long), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# -- the checks ----------------------------------------------------------------------------------

def check_issues(issues: list[Issue], path: Path, text: str | None) -> None:
    lines = (text.count("\n") + 1) if text is not None else None
    for issue in issues:
        assert isinstance(issue, Issue), issue
        assert issue.message, issue
        where = issue.location
        assert where.file == str(path), issue
        assert where.line >= 0 and where.column >= 0, issue
        if lines is not None:
            assert where.line <= lines + 1, (issue, lines)
        str(issue)
        json.dumps(issue.as_dict())


def check_file(path: Path, text: str | None = None) -> list[Issue]:
    """Load and validate one file as ``reconciler validate`` would."""
    with time_bound(BOUND, f"loading {path.name}"):
        manifest, issues = load([path], variables=VARIABLES)
        issues = issues + validate(manifest)
    check_issues(issues, path, text)
    record("fuzz", inputs=1, rejected=bool(issues))
    return issues


def check_bytes(data: bytes) -> list[Issue]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(data)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return check_file(path, text)


def check_text(text: str) -> list[Issue]:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: not writable as UTF-8, as bytes instead
        data = text.encode("utf-8", "surrogatepass")
        text = None  # type: ignore[assignment]
    return check_bytes(data) if text is None else _check_text_file(text, data)


def _check_text_file(text: str, data: bytes) -> list[Issue]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(data)
        # line numbers count "\n"; other line breaks YAML knows (\r, \x85, \u2028) add lines
        breaks = sum(text.count(c) for c in "\r\x85\u2028\u2029")
        issues = check_file(path, text + "\n" * breaks)
    return issues


def check_cli(text: str) -> None:
    """``reconciler validate`` in-process: exit 0 or 1, never an exception."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        for fmt in ("text", "json"):
            with time_bound(BOUND, "reconciler validate"):
                result = CliRunner().invoke(main, ["validate", str(path), "--format", fmt])
            assert result.exit_code in (0, 1), (result.output, result.exception)
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                result.exception)
            assert "Traceback" not in result.output
            if fmt == "json" and result.output.strip():
                json.loads(result.output)


# -- inputs: bytes and text ----------------------------------------------------------------------

@_settings(200, 5000)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    check_bytes(data)


@_settings(200, 5000)
@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    check_text(text)


# -- inputs: YAML-looking token soup -------------------------------------------------------------

SCHEMA = manifest_schema()
KINDS = sorted(SCHEMA["properties"])
FIELDS = sorted({name for d in SCHEMA["$defs"].values() for name in d.get("properties", {})})
SYNTAX = [": ", ":", "- ", "-", "\n", "\n  ", "\n    ", "\n- ", "  ", "{", "}", "[", "]", ", ",
          "&a ", "*a", "&b ", "*b", "<<: *a", "<<: [*a, *b]", "!!int ", "!!str ", "!!float ",
          "!!bool ", "!!null ", "!!map ", "!!seq ", "!!binary ", "!!timestamp ", "!!set ",
          "!!omap ", "!!python/object:os.system ", "!foo ", "!<tag:x> ", "? ", "|", "|-", ">",
          "'", '"', "\\", "# c", "---", "...", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
          "${X}", "${X:-7}", "${MISSING}", "${", "$${", "${bad name}", "\t", "\r\n", "\ufeff",
          "\x00", "\x85", "\u2028", "null", "~", "true", "no", "1e3", "1e999", "-1", "0x1F",
          "0o17", "0b101", "1_000", ".inf", "-.inf", ".nan", "12:30:00", "2001-02-30",
          "2026-01-01", "2026-01-01T00:00:00Z", "@", "`", "%", "é", "\U0001f600", "0" * 40]
WORDS = ["a", "pro", "basic", "usd", "eur", "month", "inf", "x" * 60, "", "id", "key"]
TOKENS = st.sampled_from([*SYNTAX, *KINDS, *FIELDS, *WORDS]) | st.text(max_size=5)


@_settings(200, 5000)
@given(st.lists(TOKENS, max_size=80).map("".join))
def test_yaml_token_soup(text: str) -> None:
    check_text(text)


TAGS = ["", "", "", "!!int ", "!!str ", "!!float ", "!!bool ", "!!null ", "!!timestamp ",
        "!!binary ", "!!map ", "!!seq ", "!foo ", "!!python/name:os.system ", "&a ", "*a "]
VALUES = st.sampled_from([*WORDS, "null", "~", "true", "1", "-1", "1e999", ".nan", "0x1F",
                          "2026-02-30", "2026-01-01", "12:30", "${X}", "${MISSING}", "'q'",
                          '"\\x"', "[a, b]", "{a: 1}", "*a", "*b", "|", ">"]) | st.text(max_size=6)
LINE = st.tuples(
    st.integers(0, 4).map(lambda n: "  " * n), st.sampled_from(["", "", "- ", "? "]),
    st.sampled_from([*KINDS, *FIELDS, *WORDS, "<<"]), st.sampled_from([": ", ":", ": ", " "]),
    st.sampled_from(TAGS), VALUES,
).map("".join)


@_settings(200, 5000)
@given(st.lists(LINE, max_size=30).map("\n".join))
def test_yaml_lines(text: str) -> None:
    """Lines of YAML's shape (indent, key, tag, anchor, value) in random nesting."""
    check_text(text)


# -- inputs: documents of the schema's shape, mutated --------------------------------------------

REFERENCE_KEYS = ["a", "b", "pro", "basic-monthly"]  # values that sometimes resolve


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = {**SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]],
                  **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


MUTANTS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["", "inf", "-1", "1.5", "usd", "USD", "a" * 600, "${X}", "${MISSING}",
                     "2026-13-01", "*", "\x00"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=3),
    st.recursive(st.integers(), lambda inner: st.lists(inner, max_size=2), max_leaves=200),
)
ODD_KEYS = st.one_of(st.text(max_size=45), st.sampled_from(
    ["", " ", "-x", "a b", "x" * 201, "ünïcode", "1", "true", "null", "id", "metadata",
     "prevent_destroy", "ignore_changes", "<<"]))


@st.composite
def shaped(draw: st.DrawFn, schema: dict[str, Any], depth: int = 0, mutate: float = 0.1) -> Any:
    """A value of ``schema``'s shape; with probability ``mutate`` (per node) something else."""
    if draw(st.floats(0, 1)) < mutate or depth > 8:
        return draw(MUTANTS)
    schema = _resolve(schema)
    if "anyOf" in schema:
        return draw(shaped(draw(st.sampled_from(schema["anyOf"])), depth + 1, mutate))
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    types = schema.get("type", ["string", "integer", "object"])
    kind = draw(st.sampled_from(types if isinstance(types, list) else [types]))
    if kind == "null":
        return None
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "integer":
        return draw(st.integers(-5, 10**6) | st.sampled_from([0, 1, 100, 10**12]))
    if kind == "number":
        return draw(st.floats(-10, 1e6, allow_nan=False) | st.integers(0, 100))
    if kind == "string":
        return draw(st.sampled_from(REFERENCE_KEYS) | st.text(string.printable, max_size=20)
                    | st.sampled_from(["12.50", "inf", "month", "usd", "https://example.com"]))
    if kind == "array":
        return draw(st.lists(shaped(schema.get("items", {}), depth + 1, mutate), max_size=3))
    out: dict[Any, Any] = {}
    props = schema.get("properties", {})
    required = [p for p in schema.get("required", []) if draw(st.floats(0, 1)) >= mutate]
    chosen = draw(st.lists(st.sampled_from(sorted(props)), unique=True, max_size=6)) \
        if props else []
    for name in dict.fromkeys([*required, *chosen]):
        out[name] = draw(shaped(props[name], depth + 1, mutate))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        names = schema.get("propertyNames", {})
        key_strategy = (st.sampled_from(_resolve(names)["enum"][:20]) if "enum" in _resolve(names)
                        else st.sampled_from(REFERENCE_KEYS) | st.text(
                            string.ascii_letters + string.digits + "_-.:", min_size=1,
                            max_size=12))
        for key in draw(st.lists(key_strategy, unique=True, max_size=3)):
            out[key] = draw(shaped(extra, depth + 1, mutate))
    if draw(st.floats(0, 1)) < mutate:
        out[draw(ODD_KEYS)] = draw(MUTANTS)
    return out


@st.composite
def manifests(draw: st.DrawFn) -> str:
    doc = draw(shaped(SCHEMA, mutate=draw(st.sampled_from([0.0, 0.05, 0.2]))))
    style = draw(st.sampled_from([False, None, True]))
    try:
        text = yaml.safe_dump(doc, default_flow_style=style, sort_keys=draw(st.booleans()),
                              allow_unicode=draw(st.booleans()))
    except (yaml.YAMLError, ValueError):
        text = repr(doc)
    if draw(st.booleans()):  # a textual mutation as well: cut, splice or duplicate a line
        lines = text.splitlines(keepends=True)
        if lines:
            i = draw(st.integers(0, len(lines) - 1))
            op = draw(st.sampled_from(["cut", "dup", "splice", "indent", "truncate"]))
            if op == "cut":
                del lines[i]
            elif op == "dup":
                lines.insert(i, lines[i])
            elif op == "splice":
                lines.insert(i, draw(TOKENS) + "\n")
            elif op == "indent":
                lines[i] = "  " + lines[i]
            else:
                lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
            text = "".join(lines)
    return text


@pytest.mark.slow
@_settings(200, 5000)
@given(manifests())
def test_schema_shaped_manifests(text: str) -> None:
    check_text(text)


@_settings(50, 1000)
@given(st.one_of(manifests(), st.lists(TOKENS, max_size=40).map("".join)))
def test_validate_command_never_crashes(text: str) -> None:
    check_cli(text)


# -- regressions the fuzzer found ----------------------------------------------------------------
# (a tag on a mapping or list is ignored, as before: only scalars are constructed by tag)

FOUND = {
    # an explicit tag PyYAML cannot construct, or a typed scalar that is not of its type:
    # ConstructorError / ValueError escaped the loader as a traceback
    "unknown-scalar-tag": "products:\n  pro:\n    name: !foo Pro\n",
    "python-tag": "products:\n  pro:\n    name: !!python/object:os.system x\n",
    "bad-int": "prices:\n  p:\n    unit_amount: !!int abc\n",
    "bad-float": "tax_rates:\n  t:\n    percentage: !!float x\n",
    "bad-explicit-timestamp": "coupons:\n  c:\n    redeem_by: !!timestamp 2026-13-45\n",
    "bad-timestamp-shape": "coupons: !!timestamp a\n",  # AttributeError (long mode found it)
    # a plain scalar that looks like a date but is not one (February 30th)
    "impossible-date": "coupons:\n  c:\n    percent_off: 10\n    redeem_by: 2026-02-30\n",
}


@pytest.mark.parametrize("text", FOUND.values(), ids=FOUND.keys())
def test_found_inputs(text: str) -> None:
    issues = check_text(text)
    assert issues, "each of these files is invalid"
    check_cli(text)
