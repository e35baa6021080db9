"""Stripe's documented limits, read from ``data/limits.json`` and laid onto parameter specs.

Each fact in the file names its source (an SDK docstring or a page of Stripe's docs), so a
limit is data, not a special case in code. :func:`annotate` copies the facts of one kind onto
the reference parameter specifications (``max_length``, ``max_items``, ``minimum``,
``maximum``, ``exclusive_minimum``, ``pattern``, ``maximum_by``, and ``combinations`` on the
object that holds the parameters); the manifest schema (what ``validate`` checks) and the
emulator's parameter checks both read those specs, so the two cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

SCALAR_RULES = ("max_length", "max_items", "minimum", "maximum", "exclusive_minimum",
                "pattern", "maximum_by")
"""The rules that bound one parameter's value."""
COMBINATION_RULES = ("exclusive", "together")
"""The rules about sibling parameters, kept on the object that holds them."""
_CARRIED = ("pattern_text", "error_code")


@cache
def data() -> dict[str, Any]:
    """The whole limits document."""
    text = resources.files("reconciler.data").joinpath("limits.json").read_text("utf-8")
    return json.loads(text)


def api_rule(name: str) -> dict[str, Any]:
    """One API-wide rule (``metadata``, ``list_limit``, ``string_max_length``...)."""
    return dict(data()["api"][name])


def facts(stripe_object: str) -> list[dict[str, Any]]:
    """The recorded facts of one kind, enforced or not."""
    return [dict(fact) for fact in data()["kinds"][stripe_object]]


def enforced(stripe_object: str) -> list[dict[str, Any]]:
    """The facts the generic checks enforce: not the ones marked ``enforced: false``, nor the
    ones ``checked_by`` code of their own (rules that need another object or a value)."""
    return [fact for fact in facts(stripe_object)
            if fact.get("enforced", True) and "checked_by" not in fact]


def annotate(stripe_object: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` (one operation's specs, already copied) with the kind's limits laid on.

    Strings without a limit of their own get the API-wide one. The request's own
    combinations are returned under the key ``""`` of :func:`request_combinations`, since the
    top level of a request is not an object spec."""
    default = data()["api"]["string_max_length"]["value"]
    for spec in _walk(params):
        if spec.get("type") == "string" and "enum" not in spec and "format" not in spec:
            spec.setdefault("max_length", default)
    if params.get("limit", {}).get("type") == "integer":  # the page size of a list or search
        bounds = data()["api"]["list_limit"]
        params["limit"].update(minimum=bounds["minimum"], maximum=bounds["maximum"])
    for fact in enforced(stripe_object):
        if fact["path"] == "":
            continue
        for spec in _find(params, fact["path"]):
            _lay(spec, fact)
    return params


def request_combinations(stripe_object: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The combination rules about a request's top-level parameters that this operation takes."""
    return [_combination(fact) for fact in enforced(stripe_object)
            if fact["path"] == "" and _takes(params, fact)]


def _takes(props: Mapping[str, Any], fact: Mapping[str, Any]) -> bool:
    names = next(fact[rule] for rule in COMBINATION_RULES if rule in fact)
    return all(name in props for name in names)


def _combination(fact: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fact.items() if k in (*COMBINATION_RULES, *_CARRIED)}


def _lay(spec: dict[str, Any], fact: Mapping[str, Any]) -> None:
    if any(rule in fact for rule in COMBINATION_RULES):
        if _takes(spec.get("properties", {}), fact):
            spec.setdefault("combinations", []).append(_combination(fact))
        return
    spec.update({k: v for k, v in fact.items() if k in (*SCALAR_RULES, *_CARRIED)})


def _find(props: Mapping[str, Any], path: str) -> Iterator[dict[str, Any]]:
    """The spec at a dotted path (``[]`` list items, ``*`` map values), if the op has it."""
    node: Any = {"type": "object", "properties": props}
    for part in path.split("."):
        if part == "*":
            node = node.get("values") if node.get("type") == "map" else None
        else:
            node = node.get("properties", {}).get(part.removesuffix("[]"))
            if node is not None and part.endswith("[]"):
                node = node.get("items")
        if node is None:
            return
    yield node


def _walk(props: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for spec in props.values():
        yield from _walk_spec(spec)


def _walk_spec(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield spec
    for alternative in spec.get("anyOf", ()):
        yield from _walk_spec(alternative)
    if "properties" in spec:
        yield from _walk(spec["properties"])
    for key in ("items", "values"):
        if isinstance(spec.get(key), dict):
            yield from _walk_spec(spec[key])


def resolves(stripe_object: str, path: str, params: Mapping[str, Any]) -> bool:
    """Whether a fact's path names a parameter of this operation (tests hold every fact to
    naming one in some operation: a typo would otherwise enforce nothing)."""
    return path == "" or any(True for _ in _find(params, path))
