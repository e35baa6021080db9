"""YAML reading that keeps the position of every value and refuses what PyYAML lets pass.

PyYAML silently keeps the last of two equal mapping keys and expands aliases without bound
(a "billion laughs" file exhausts memory). This module composes the node graph (with
libyaml where it reads the file as PyYAML does: ``yamlcompose``) and builds plain Python
values itself: duplicate keys are errors, alias expansion is capped relative to
the file's size (in nodes and in characters of text), a tag the safe loader does not make is
an error wherever it stands, every value and key gets a file:line:column, and ``${VAR}`` references in
string scalars are substituted on the way.
"""

from __future__ import annotations

import datetime
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import yaml

from .errors import Issue, Location
from .yamlcompose import MAX_DEPTH, compose

Path = tuple[str | int, ...]

# Aliases may expand a file to twice its distinct nodes (at least MIN_EXPANSION_BUDGET) and
# to twice its characters of scalar text (at least MIN_TEXT_BUDGET). Anchors in a catalog
# share small blocks (a metadata map, a recurring interval), which adds far less. A factor
# of 20, the bound before, let a 1.6 MB file expand to 3.8 million nodes (35 s, 1.5 GB), and
# a count of nodes alone let one long string aliased 20,000 times through (2 GB of text from
# a 400 kB file, and a validation message for each copy).
MIN_EXPANSION_BUDGET = 200_000
EXPANSION_FACTOR = 2
MIN_TEXT_BUDGET = 1_000_000
TEXT_FACTOR = 2
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
# The only tags a list or mapping may carry: manifests hold plain lists and mappings, and the
# builder makes nothing else (a '!!set', '!!omap' or '!!python/...' tag would be ignored).
COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"})


@dataclass
class Document:
    """A parsed file: its value, and where each value and mapping key came from."""

    file: str
    value: Any = None
    positions: dict[Path, Location] = field(default_factory=dict)
    key_positions: dict[Path, Location] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


class _Abort(Exception):
    """Stops building a document whose structure cannot be trusted."""


Substitute = Callable[[str, Location], tuple[Any, str | None]]
"""Interpolation hook: (text, where) -> (value, error message or None)."""


class _Builder:
    def __init__(self, doc: Document, substitute: Substitute, budget: int, text_budget: int):
        self.doc = doc
        self.substitute = substitute
        self.budget = budget
        self.text_budget = text_budget
        self.constructor = yaml.SafeLoader("")

    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.doc.file, mark.line + 1, mark.column + 1)

    def fail(self, node: yaml.Node, message: str) -> None:
        self.doc.issues.append(Issue(self.loc(node), message))

    def build(self, node: yaml.Node, path: Path, ancestors: tuple[int, ...] = ()) -> Any:
        self.budget -= 1
        if isinstance(node, yaml.ScalarNode):
            self.text_budget -= len(node.value)
        if self.budget < 0 or self.text_budget < 0:
            self.fail(node, "aliases expand to too large a document; refusing to expand it")
            raise _Abort
        if id(node) in ancestors:
            self.fail(node, "an alias refers to a value that contains it")
            raise _Abort
        if len(path) > MAX_DEPTH:
            self.fail(node, f"values are nested deeper than {MAX_DEPTH} levels")
            raise _Abort
        self.doc.positions[path] = self.loc(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        inner = (*ancestors, id(node))
        if node.tag not in COLLECTION_TAGS:
            self.fail(node, f"unsupported YAML tag '{_short(node.tag)}'")
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), inner) for i, child in enumerate(node.value)]
        return self.mapping(cast(yaml.MappingNode, node), path, inner)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == STR_TAG:  # most values: the text, as PyYAML's constructor would give
            value: Any = node.value
        else:
            try:
                value = self.constructor.construct_object(node)
            except yaml.constructor.ConstructorError:  # a tag PyYAML's safe loader lacks
                self.fail(node, f"unsupported YAML tag '{_short(node.tag)}'")
                return node.value
            except Exception:  # noqa: BLE001 - "!!int abc", "!!bool x", "!!timestamp a": any
                # failure to build one scalar of its tag is a bad value, not a crash
                if node.tag == "tag:yaml.org,2002:timestamp" and not node.style:
                    return node.value  # looks like a date (2026-02-30), is not one: the text
                tag = node.tag.removeprefix("tag:yaml.org,2002:")
                self.fail(node, f"'{node.value}' is not a valid !!{tag} value")
                return node.value
        if isinstance(value, (datetime.date, datetime.datetime)):
            return node.value
        if isinstance(value, bytes):
            return node.value
        if isinstance(value, str) and "$" in value:
            substituted, error = self.substitute(value, self.loc(node))
            if error:
                self.fail(node, error)
                return value
            if not node.style and substituted != value and "${" in value:  # plain: None or ""
                return _resolve_plain(substituted)
            return substituted
        return value

    def mapping(self, node: yaml.MappingNode, path: Path, ancestors: tuple[int, ...]) -> dict:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                self.merge(value_node, path, ancestors, result, explicit)
                continue
            if key_node.tag not in self.constructor.yaml_constructors:  # a key is read as
                # text, its tag never built: '!!python/name:os.system' is no key a manifest means
                self.fail(key_node, f"unsupported YAML tag '{_short(key_node.tag)}'")
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, "mapping keys must be plain strings")
                continue
            key = key_node.value
            if key in explicit:
                first = self.doc.key_positions[(*path, key)]
                self.fail(key_node, f"duplicate key '{key}' (first defined at line {first.line})")
                continue
            explicit.add(key)
            self.doc.key_positions[(*path, key)] = self.loc(key_node)
            result[key] = self.build(value_node, (*path, key), ancestors)
        return result

    def merge(self, node: yaml.Node, path: Path, ancestors: tuple[int, ...],
              result: dict, explicit: set[str]) -> None:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.fail(source, "'<<' merges mappings only")
                continue
            merged = self.build(source, path, ancestors)
            for key, value in merged.items():
                if key not in explicit and key not in result:
                    result[key] = value


def _short(tag: str) -> str:
    """A tag as it is written: ``!!set`` for ``tag:yaml.org,2002:set``."""
    return tag.replace("tag:yaml.org,2002:", "!!")


def _resolve_plain(text: str) -> Any:
    """Type a substituted plain scalar as YAML would have typed the text (``1500`` -> int)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (str, int, float, bool)) else text


def parse(text: str, file: str, substitute: Substitute) -> Document:
    """Parse one YAML document; problems are recorded in ``Document.issues``.

    The cyclic garbage collector is paused meanwhile: composing and building allocate
    several objects per value, all still in use until the file is read, and the collections
    that allocation would trigger only rescan them (half the reading time of 10,000 entries).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, file, substitute)
    finally:
        if enabled:
            gc.enable()


def _parse(text: str, file: str, substitute: Substitute) -> Document:
    doc = Document(file)
    try:
        documents = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        doc.issues.append(Issue(where, f"invalid YAML: {problem}"))
        return doc
    except (yaml.YAMLError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        doc.issues.append(Issue(Location(file, 1, 1), f"invalid YAML: {message}"))
        return doc
    if not documents:
        return doc
    if len(documents) > 1:
        second = documents[1][0].start_mark
        doc.issues.append(Issue(Location(file, second.line + 1, second.column + 1),
                                "a manifest file holds one YAML document; split it into files"))
        return doc
    root, count = documents[0]
    budget = max(MIN_EXPANSION_BUDGET, EXPANSION_FACTOR * count)
    text_budget = max(MIN_TEXT_BUDGET, TEXT_FACTOR * len(text))
    try:
        doc.value = _Builder(doc, substitute, budget, text_budget).build(root, ())
    except _Abort:
        doc.value = None
    except RecursionError:
        doc.issues.append(Issue(Location(file, 1, 1), "values are nested too deeply"))
        doc.value = None
    return doc
