"""Stripe's bracket-notation form decoding, for POST bodies and query strings alike.

``recurring[interval]=month`` becomes ``{"recurring": {"interval": "month"}}``; ``a[]=x``
appends to a list; ``tiers[0][up_to]=inf`` keeps ``"0"`` as a dict key, because only the
parameter specification knows whether digits index an array or name a map entry
(``metadata[0]`` is a legitimate metadata key). :mod:`.params` makes that call. Values stay
strings: types are also the specification's business.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid

Tree = dict[str, Any]


def decode(raw: bytes | str) -> Tree:
    """Decode ``application/x-www-form-urlencoded`` data into nested dicts and lists."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    root: Tree = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = split_key(key)
        _put(root, parts, value, key)
    return root


def split_key(key: str) -> list[str]:
    """``a[b][0]`` → ``["a", "b", "0"]``; ``a[]`` → ``["a", ""]``; malformed keys stay whole."""
    head, sep, rest = key.partition("[")
    if not sep or not head:
        return [key]
    parts = [head]
    rest = "[" + rest
    while rest:
        if not rest.startswith("[") or "]" not in rest:
            return [key]
        inner, _, rest = rest[1:].partition("]")
        parts.append(inner)
    return parts


def bracket(path: list[str] | tuple[str, ...]) -> str:
    """The wire name of a nested parameter: ``("recurring", "foo")`` → ``recurring[foo]``."""
    first, *rest = path
    return first + "".join(f"[{p}]" for p in rest)


def _put(node: Tree, parts: list[str], value: str, key: str) -> None:
    head, rest = parts[0], parts[1:]
    existing = node.get(head)
    if not rest:
        if isinstance(existing, (dict, list)):
            raise invalid(f"Invalid value for {key}: it is also given as a hash or array.", key)
        node[head] = value
        return
    if rest[0] == "":
        seq = node.setdefault(head, [])
        if not isinstance(seq, list):
            raise invalid(f"Invalid array: {key} mixes [] with other forms.", key)
        if len(rest) == 1:
            seq.append(value)
            return
        # a[][k]=v: a new element starts when the last one already holds that key (Rack's rule).
        if not seq or not isinstance(seq[-1], dict) or _holds(seq[-1], rest[1:]):
            seq.append({})
        _put(seq[-1], rest[1:], value, key)
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise invalid(f"Invalid hash: {key} mixes nested keys with a plain value.", key)
    _put(child, rest, value, key)


def _holds(node: Tree, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
