"""Many keys in little room, in shell brace notation: ``pro-{monthly,yearly}-{eur,usd}``.

A Markdown plan too large for a comment must still name every replacement and removal, and
thousands of 40-character keys listed one by one do not fit. Large catalogs are generated, so
their keys follow patterns: a trie of key tokens, with siblings whose remainders are the same
merged (``{monthly,yearly}-{eur,usd}``) and consecutive numbers as ranges (``{0001..2500}``),
names them in a few characters each. The notation is bash's, so a reviewer can expand it with
``echo``. A key with a character outside ``PLAIN`` (an ownership tag set by hand) is quoted
as JSON instead, never abbreviated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

PLAIN = re.compile(r"[A-Za-z0-9_.:/-]+")
_TOKEN = re.compile(r"[0-9]+|[^0-9_.:/-]+|[_.:/-]")
_END = ""  # the trie edge of a key that ends at this node

Node = dict[str, "Node"]


def quote(key: str) -> str:
    """A key as it can stand in a list of keys: as it is when plain, else as JSON."""
    return key if PLAIN.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def compress(keys: Iterable[str]) -> list[str]:
    """Items that together name exactly ``keys``: brace expressions, then quoted keys."""
    unique = set(keys)
    plain = {k for k in unique if PLAIN.fullmatch(k)}
    quoted = sorted(map(quote, unique - plain))
    root: Node = {}
    for key in plain:
        node = root
        for token in _TOKEN.findall(key):
            node = node.setdefault(token, {})
        node[_END] = {}
    return (_alternatives(root, _rendered(root)) if root else []) + quoted


def _rendered(root: Node) -> dict[int, str]:
    """Every node's remainders as one expression, children before parents, without
    recursion: a key of hundreds of tokens would exceed Python's recursion limit."""
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.values())
    rendered: dict[int, str] = {}
    for node in reversed(order):
        if len(node) == 1:  # most nodes, below where keys part: the quick way
            ((token, child),) = node.items()
            rendered[id(node)] = token + rendered[id(child)]
            continue
        alternatives = _alternatives(node, rendered)
        rendered[id(node)] = (alternatives[0] if len(alternatives) == 1
                              else "{" + ",".join(alternatives) + "}")
    return rendered


def _alternatives(node: Node, rendered: dict[int, str]) -> list[str]:
    if not node:
        return [""]
    tokens_by_rest: dict[str, list[str]] = {}
    for token, child in node.items():
        tokens_by_rest.setdefault(rendered[id(child)], []).append(token)
    return sorted(_choice(tokens) + rest for rest, tokens in tokens_by_rest.items())


def _choice(tokens: list[str]) -> str:
    """``tokens`` as one expression; three or more consecutive numbers as a range."""
    if len(tokens) == 1:
        return tokens[0]
    pieces = sorted(t for t in tokens if not t.isdigit())
    run: list[str] = []
    for token in sorted((t for t in tokens if t.isdigit()), key=lambda t: (int(t), len(t))):
        if run and not _continues(run, token):
            pieces += [f"{{{run[0]}..{run[-1]}}}"] if len(run) >= 3 else run
            run = []
        run.append(token)
    pieces += [f"{{{run[0]}..{run[-1]}}}"] if len(run) >= 3 else run
    return pieces[0] if len(pieces) == 1 else "{" + ",".join(pieces) + "}"


def _continues(run: list[str], token: str) -> bool:
    """Whether bash's ``{first..token}`` still spells each number of the run as written:
    zero-padded ranges keep one width, unpadded ones have no leading zeros."""
    if int(token) != int(run[-1]) + 1:
        return False
    if _padded(run[0]):
        return len(token) == len(run[0])
    return not _padded(token)


def _padded(number: str) -> bool:
    return len(number) > 1 and number.startswith("0")


def wrap(items: list[str], width: int = 100) -> list[str]:
    """``items`` comma-separated in lines of about ``width``. A brace expression may break
    after any of its commas (one can be thousands of characters); a quoted key never breaks,
    so a line break is never part of a key."""
    pieces: list[str] = []
    for n, item in enumerate(items):
        parts = [item] if item.startswith('"') else re.split(r"(?<=,)", item)
        if n < len(items) - 1:
            parts[-1] += ", "
        pieces += parts
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines[-1]) + len(piece.rstrip()) > width:
            lines.append("")
        lines[-1] += piece
    return [line.rstrip() for line in lines if line]
