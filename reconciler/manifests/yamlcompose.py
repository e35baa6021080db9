"""Composing YAML into nodes with libyaml where it reads a file as PyYAML does.

PyYAML's pure-Python parser takes most of the time of ``reconciler validate`` (2.7 of 3.4 s
for 10,000 objects); libyaml's composes about 8x faster. But libyaml does not read every
file as PyYAML does (differential fuzzing, ``tests/hardening/test_fuzz_libyaml.py``), and the
project's messages, positions and accepted files are PyYAML's. So libyaml composes a file
only when a cheap check finds none of the constructs they read differently, and when it
accepts the file; otherwise PyYAML composes it, as it always has (its error message, its
position). Without libyaml, PyYAML composes every file.
"""

from __future__ import annotations

import re

import yaml

MAX_DEPTH = 64
# libyaml's composer, when PyYAML was built with it; None: the pure-Python one only
FAST_LOADER: type | None = getattr(yaml, "CSafeLoader", None)

# What libyaml reads differently: it accepts tabs PyYAML refuses, counts a byte order mark
# as a column, takes '?' in a flow collection as part of a plain scalar, types an empty
# scalar tagged '!' as a string (PyYAML: null), accepts a comment right after a block
# scalar header ('|#'), and places an empty value in a flow collection ('{a: , b: 1}') at
# the next token rather than after its ':'. It also places the nodes that close a file
# without a final line break on a line after it.
_LIBYAML_DIFFERS = re.compile(r"[\t\ufeff?!]|[|>][-+0-9]*#"
                              r"|:(?:\s|#[^\n\r\x85\u2028\u2029]*+)*+[,\]}]")


def libyaml_agrees(text: str) -> bool:
    """Whether libyaml composes ``text`` as PyYAML does, as far as a cheap check can tell."""
    return text.endswith("\n") and not _LIBYAML_DIFFERS.search(text)


def shape(root: yaml.Node) -> tuple[int, int]:
    """The number of distinct nodes under ``root`` and how deeply they nest.

    Nodes are visited in document order, so each is first reached where it is written
    (an anchor comes before its aliases): the depth is the composer's recursion depth.
    """
    seen: set[int] = set()
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        deepest = max(deepest, depth)
        depth += 1
        if isinstance(node, yaml.SequenceNode):
            stack.extend([(child, depth) for child in reversed(node.value)])
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.extend(((value, depth), (key, depth)))
    return len(seen), deepest


def compose(text: str) -> list[tuple[yaml.Node, int]]:
    """The file's documents, each with its number of distinct nodes.

    Raises what PyYAML raises for a file it refuses: ``yaml.YAMLError``, or
    ``RecursionError`` for one nested deeper than its recursive composer goes. A file that
    libyaml composes nested deeper than :data:`MAX_DEPTH` (refused anyway) is composed again
    by PyYAML, which may give up on it with that ``RecursionError``.
    """
    if FAST_LOADER is not None and libyaml_agrees(text):
        try:
            shapes = [(node, shape(node)) for node in yaml.compose_all(text, Loader=FAST_LOADER)]
        except (yaml.YAMLError, UnicodeEncodeError):  # the latter: lone surrogates
            shapes = []  # as for an empty file, which costs nothing to read again
        if shapes and all(depth <= MAX_DEPTH for _, (_, depth) in shapes):
            return [(node, count) for node, (count, _) in shapes]
    return [(node, shape(node)[0]) for node in yaml.compose_all(text, Loader=yaml.SafeLoader)]
