"""Offline validation: schema, per-kind rules, metadata room for the tool's tags (tags.py),
ignore_changes paths, references and uniqueness.

Schema errors from jsonschema are rewritten into messages a person can act on (with "did you
mean" hints) and placed at the file:line:column of the offending key or value. Every problem
of every entry is reported; nothing stops at the first. A reference that resolves is also held
to the rules Stripe applies to the pair it links (a promotion code may not outlast its
coupon); each kind declares those rules with the reference, so no kind is special here.
Hints for a reference only name entries its rules accept; when a rule refuses the target
itself, the most similar accepted entry is named however unlike it is.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from reconciler.kinds import CONTROL_KIND, MANIFEST_KINDS, Link, Reference
from reconciler.ownership import CONTROL_ID_PREFIX
from reconciler.plural import count

from .errors import CHOICES, Hint, Issue
from .fieldpaths import first_miss
from .hints import hint, moved_hint, type_hint
from .model import Entry, Manifest, Path
from .schema import INT64_MAX, INT64_MIN, manifest_schema
from .tags import metadata_findings

_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "true or false",
               "null": "empty"}
_ENUM_LISTED = 8
_Found = tuple[str, Path, bool, Hint]
"""A schema problem: its message, its path in the document, whether to point at the key
rather than the value, and its fix."""


def _is_integer(_: object, value: Any) -> bool:
    """JSON Schema counts 29.0 as an integer; Stripe refuses it ("Invalid integer: 29.0")."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_: object, value: Any) -> bool:
    """Finite numbers only: Stripe has no spelling for NaN or infinity, and JSON neither."""
    return _is_integer(_, value) or (isinstance(value, float) and math.isfinite(value))


_TYPES = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {"integer": _is_integer, "number": _is_number})
_Validator = validators.extend(Draft202012Validator, type_checker=_TYPES)
_INT64 = {INT64_MAX: "<=", INT64_MIN: ">="}


def _literal(value: Any) -> str:
    """A value as the reader wrote it: Python's repr, except YAML's spelling of infinity and NaN."""
    if isinstance(value, float) and math.isinf(value):
        return "-.inf" if value < 0 else ".inf"
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    return repr(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return _TYPE_NAMES["object" if isinstance(value, dict) else "array"]
    if isinstance(value, float) and not math.isfinite(value):
        return _literal(value)
    type_name = {int: "integer", float: "number", str: "string"}.get(type(value),
                                                                  type(value).__name__)
    return f"{type_name} {_literal(value)}"


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_currency(schema: dict[str, Any]) -> bool:
    return schema.get("$ref", "").endswith("/currency") or (
        schema.get("enum") == manifest_schema()["$defs"]["currency"]["enum"])


def _types(schema: dict[str, Any]) -> list[str]:
    if "anyOf" in schema:
        return [t for alt in schema["anyOf"] for t in _types(alt)]
    if "$ref" in schema:
        return ["string"] if _is_currency(schema) else []
    types = schema.get("type", [])
    return types if isinstance(types, list) else [types]


def _expected(schema: dict[str, Any]) -> str:
    if _is_currency(schema):
        return "a lowercase ISO currency code"
    if "anyOf" in schema:
        return " or ".join(_expected(alt) for alt in schema["anyOf"])
    if "enum" in schema and len(schema["enum"]) <= _ENUM_LISTED:
        return " or ".join(repr(v) for v in schema["enum"])
    return " or ".join(_TYPE_NAMES.get(t, t) for t in _types(schema)) or "something else"


def _has_type(value: Any, schema: dict[str, Any]) -> bool:
    types = _types(schema)
    return not types or any(_TYPES.is_type(value, t) for t in types)


def _message(error: ValidationError) -> _Found | None:
    """(message, path inside the document, point at the key?, hint) for one schema error."""
    path: Path = tuple(error.absolute_path)
    value: Any = error.instance
    schema, validator = _schema(error), error.validator
    limit: Any = error.validator_value
    field = path[-1] if path else None
    if validator == "type" or (validator == "anyOf" and not isinstance(value, (dict, list))):
        advice = Hint(type_hint(value, set(_types(schema)), field))
        return f"expected {_expected(schema)}, got {_describe(value)}", path, False, advice
    if validator == "enum":
        if not _has_type(value, schema):
            return None  # the "type" error for the same value says it better
        options = schema["enum"]
        listed = (f"{CHOICES}{', '.join(repr(o) for o in options)}"
                  if len(options) <= _ENUM_LISTED else "")
        owner = path[-2] if len(path) > 1 and isinstance(field, int) else field
        what = f"'{field}'" if isinstance(field, str) else f"item of '{owner}'"
        return (f"{value!r} is not a valid {what}", path, False,
                Hint(hint(str(value), map(str, options)), listed))
    if validator == "required":
        missing = error.message.split("'")[1]
        inside = f" in '{_dotted(path[2:])}'" if len(path) > 2 else ""
        return f"missing required field '{missing}'{inside}", path, True, Hint()
    if validator == "additionalProperties":
        return None  # reported per unknown name by _unknown_fields
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                "exclusiveMaximum": "<"}[validator]
        bound = f"must be {sign} {limit}"
        if _INT64.get(limit) == sign:
            bound += " (Stripe's integers are 64-bit)"
        return f"{_literal(value)} is out of range: {bound}", path, False, Hint()
    if validator in ("maxLength", "minLength"):
        word = "at most" if validator == "maxLength" else "at least"
        size = f"must be {word} {count(limit, 'character')} long"
        return f"{size}, not {len(value)}", path, False, Hint()
    if validator in ("maxItems", "minItems", "maxProperties"):
        word = "at most" if validator.startswith("max") else "at least"
        noun = "key" if validator == "maxProperties" else "item"
        size = f"must have {word} {count(limit, noun)}"
        return f"{size}, not {len(value)}", path, False, Hint()
    if validator == "not" and set(limit) == {"required"}:
        names = " and ".join(f"'{name}'" for name in limit["required"])
        later = limit["required"][-1]
        return f"{names} cannot both be set: Stripe takes only one of them", (*path, later), True, Hint()
    if validator == "dependentRequired":
        given = next(name for name in limit if name in value and limit[name][0] not in value)
        return f"'{given}' needs '{limit[given][0]}': give both or neither", (*path, given), True, Hint()
    if validator == "uniqueItems":
        return "items must not repeat", path, False, Hint()
    if validator == "pattern":
        if "$comment" in schema:
            return f"{value!r} is not allowed: {schema['$comment']}", path, False, Hint()
        return f"{value!r} does not match the pattern {error.validator_value}", path, False, Hint()
    return error.message, path, False, Hint()


def _schema(error: ValidationError) -> dict[str, Any]:
    """The failing subschema; ours are always objects (never ``true``/``false``)."""
    return cast(dict[str, Any], error.schema)


def _unknown_fields(error: ValidationError) -> Iterator[_Found]:
    allowed = _schema(error).get("properties", {})
    base: Path = tuple(error.absolute_path)
    instance: Any = error.instance
    for name in instance:
        if name not in allowed:
            advice = (moved_hint(str(base[0]), name, instance[name]) if len(base) == 2 else ""
                      ) or hint(name, allowed)
            yield f"unknown field '{name}'", (*base, name), True, Hint(advice)


def _bad_name(error: ValidationError) -> _Found:
    """A mapping key rejected by ``propertyNames`` (manifest keys, metadata keys,
    currency-keyed maps)."""
    name, base = str(error.instance), tuple(error.absolute_path)
    if error.validator == "enum":  # only currency-keyed maps restrict names to a list
        return (f"'{name}' is not a valid currency", (*base, name), True,
                Hint(hint(name, _schema(error)['enum'])))
    elif error.validator == "maxLength":
        message = (f"key '{name}' is {len(name)} characters long; at most "
                   f"{error.validator_value} are allowed")
    elif "$comment" in _schema(error):  # a pattern that says why (metadata keys)
        message = f"key '{name}' is not allowed: {_schema(error)['$comment']}"
    else:  # the manifest keys' pattern
        message = (f"invalid manifest key '{name}': use letters, digits and _ . : -, "
                   "starting with a letter or digit")
    return message, (*base, name), True, Hint()


def _schema_issues(manifest: Manifest) -> Iterator[Issue]:
    validator = _Validator(manifest_schema())
    for error in validator.iter_errors(manifest.as_document()):
        if error.validator == "additionalProperties":
            found: Iterator[_Found] = _unknown_fields(error)
        elif "propertyNames" in error.schema_path:
            found = iter([_bad_name(error)])
        else:
            one = _message(error)
            found = iter([one] if one else [])
        for message, path, at_key, advice in found:
            yield _place(manifest, path, message, at_key, advice)


def _place(manifest: Manifest, path: Path, message: str, at_key: bool, advice: Hint) -> Issue:
    kind_name, key, rest = path[0], path[1], path[2:]
    entry = manifest.get(str(kind_name), str(key))
    assert entry is not None, path
    field = _dotted(rest) or None
    return Issue(entry.locate(rest, key=at_key), message, entry.kind, entry.key, field,
                 hint=advice)


def _issue(entry: Entry, path: Path, message: str, advice: Hint = Hint()) -> Issue:  # noqa: B008 (frozen)
    return Issue(entry.locate(path, key=True), message, entry.kind, entry.key,
                 _dotted(path) or None, hint=advice)


def _semantic_issues(manifest: Manifest) -> Iterator[Issue]:
    for entry in manifest:
        for path, message in MANIFEST_KINDS[entry.kind].semantic_findings(entry.fields):
            yield _issue(entry, path, message)


def _metadata_issues(manifest: Manifest) -> Iterator[Issue]:
    for entry in manifest:
        for path, message in metadata_findings(MANIFEST_KINDS[entry.kind], entry.fields):
            yield _issue(entry, path, message)


def _reference_issues(manifest: Manifest) -> Iterator[Issue]:
    for entry in manifest:
        for ref in MANIFEST_KINDS[entry.kind].references:
            targets = manifest.entries[ref.kind]
            for path, target in ref.values(entry.fields):
                if target not in targets:
                    advice = Hint(hint(target, _accepted(ref, entry, path, targets)))
                    yield _issue(entry, path, f"refers to {ref.kind} '{target}', which no "
                                 "manifest defines", advice)
                    continue
                link = Link(entry.key, entry.fields, target, targets[target].fields)
                for where, message in ref.findings(link):
                    # the target itself refused: name the closest one it accepts
                    advice = Hint(hint(target, _accepted(ref, entry, path, targets), cutoff=0)
                                  if where == path else "")
                    yield _issue(entry, where, message, advice)


def _accepted(ref: Reference, entry: Entry, path: Path, targets: dict[str, Entry]) -> list[str]:
    """The targets ``entry`` may name at ``path`` by the reference's rules: what a hint offers."""
    return [key for key, target in targets.items()
            if all(where != path for where, _ in
                   ref.findings(Link(entry.key, entry.fields, key, target.fields)))]


def _ignore_changes_issues(manifest: Manifest) -> Iterator[Issue]:
    for entry in manifest:
        paths = entry.fields.get("ignore_changes")
        for i, path in enumerate(paths if isinstance(paths, list) else []):
            miss = first_miss(MANIFEST_KINDS[entry.kind], path) if isinstance(path, str) else None
            if miss is not None:
                advice = Hint(hint(miss.name, miss.options, before=miss.before,
                                   after=miss.after))
                yield _issue(entry, ("ignore_changes", i), f"ignore_changes names '{path}', "
                             f"which is not a field of {entry.kind}", advice)


def _uniqueness_issues(manifest: Manifest) -> Iterator[Issue]:
    for name, kind in MANIFEST_KINDS.items():
        natural = kind.identity.natural_key
        if natural is None:
            continue
        seen: dict[str, list[Entry]] = defaultdict(list)
        for entry in manifest.entries[name].values():
            value = kind.identity.of_entry(entry.key, entry.fields)
            if value is not None:
                seen[value].append(entry)
        for entries in seen.values():
            first = entries[0]
            for dup in entries[1:]:
                value, other = (str(e.fields.get(natural, e.key)) for e in (dup, first))
                case = "" if value == other else (
                    f", as '{other}': Stripe compares them case-insensitively")
                yield _issue(dup, (natural,),
                             f"{natural} '{value}' is also used by {name}.{first.key} "
                             f"({first.location}){case}")


def _reserved_id_issues(manifest: Manifest) -> Iterator[Issue]:
    """Product ids with the prefix of the tool's control products (the apply lock): such an
    entry would collide with one, and plans never show those."""
    products = MANIFEST_KINDS[CONTROL_KIND]
    for entry in manifest.entries[CONTROL_KIND].values():
        value = products.identity.of_entry(entry.key, entry.fields)
        if value is not None and value.startswith(CONTROL_ID_PREFIX):
            where: Path = ("id",) if "id" in entry.fields else ()
            yield _issue(entry, where, f"product id '{value}' starts with "
                         f"'{CONTROL_ID_PREFIX}', a prefix reserved for reconciler's own "
                         "control products (the apply lock)")


def validate(manifest: Manifest) -> list[Issue]:
    """Every problem in the merged manifests, sorted by location."""
    checks = {"schema": _schema_issues, "rule": _semantic_issues,
              "metadata": _metadata_issues, "ignore-changes": _ignore_changes_issues,
              "reference": _reference_issues, "uniqueness": _uniqueness_issues,
              "reserved-id": _reserved_id_issues}
    return sorted({replace(issue, code=code) for code, check in checks.items()
                   for issue in check(manifest)})
