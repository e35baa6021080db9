"""Check and coerce decoded parameters against the reference parameter specifications.

The specifications (``params.<op>`` of a kind in the reference data) drive everything here:
which names exist, their types, enums, required flags, nested properties, arrays, maps and
``emptyable``. The result is plain Python data, with ``None`` meaning "clear this" (an empty
string sent for an emptyable parameter, or a metadata key sent empty).

Error codes, as Stripe answers them:

- a name the operation does not take: ``parameter_unknown`` with ``param`` in bracket form;
- a required name absent: ``parameter_missing``;
- ``""`` for a parameter that cannot be cleared: ``parameter_invalid_empty``;
- a non-integer where an integer is due (also ``limit`` out of range): ``parameter_invalid_integer``;
- a bad enum value, boolean, number, decimal, currency, or a hash/array where a scalar is due
  (and the reverse): ``code`` null, as Stripe does for these; ``param`` always names the field.

Stripe's documented limits (:mod:`reconciler.limits`, laid onto the specs) are checked here
too: a string longer than ``max_length`` ("Invalid string: <value>; must be at most <n>
characters", Stripe's wording as users quote it, polarsource/polar#5429, code null), a list
beyond ``max_items``, a number outside ``minimum``/``maximum``/``exclusive_minimum`` or a
sibling-dependent ``maximum_by`` (integers: ``parameter_invalid_integer``, Stripe's code for a
bad integer; numbers: code null), a ``pattern`` (the fact's ``error_code``, else null), and the
combinations of sibling parameters: ``exclusive`` ("You may only specify one of these
parameters", ``parameters_exclusive``) and ``together`` (``parameter_missing``). Stripe does
not document its wording for items and ranges; the texts here are assumptions.

Currencies are checked against the ISO list shipped with the reference. The reference types
them as plain strings, so a *declared* parameter named ``currency`` or ``*_currency`` is one,
and so is each key of a declared ``currency_options``; the keys of a map (``metadata``) are the
caller's data, never parameter names, whatever they are called. Likewise a declared map named
``metadata`` is held to Stripe's metadata limits (:mod:`.metadata`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler import reference

from . import metadata
from .errors import StripeError, invalid, missing_parameter, unknown_parameter
from .forms import bracket

Spec = Mapping[str, Any]
Path = tuple[str, ...]
Number = int | float
Explain = Callable[[Path], str]
"""Extra words for an unknown parameter (e.g. "it can only be set on create")."""

_INTEGER = re.compile(r"-?\d+\Z")
_MAX_DECIMAL_PLACES = 12


def coerce(tree: Mapping[str, Any], spec: Mapping[str, Spec], explain: Explain | None = None,
           combinations: Sequence[Spec] = ()) -> dict:
    """Validate a whole request's parameters against one operation's specification;
    ``combinations`` are the rules about its top-level parameters."""
    return _object(tree, spec, (), explain or (lambda path: ""), combinations)


def _object(value: Any, props: Mapping[str, Spec], path: Path, explain: Explain,
            combinations: Sequence[Spec] = ()) -> dict:
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash for {bracket(path)}: expected nested parameters.", bracket(path))
    out: dict[str, Any] = {}
    for name, raw in value.items():
        sub = props.get(name)
        here = (*path, name)
        if sub is None:
            raise unknown_parameter(bracket(here), _hint(name, props, here, explain))
        out[name] = _value(raw, _declared(name, sub), here, explain)
    for name, sub in props.items():
        if sub.get("required") and name not in value:
            raise missing_parameter(bracket((*path, name)))
    _combinations(out, combinations, path)
    _bounds_by_sibling(out, props, path)
    return out


def _combinations(out: Mapping[str, Any], rules: Sequence[Spec], path: Path) -> None:
    for rule in rules:
        given = [name for name in rule.get("exclusive", ()) if out.get(name) is not None]
        if len(given) > 1:
            raise invalid(f"You may only specify one of these parameters: {', '.join(given)}.",
                          bracket((*path, given[-1])), rule.get("error_code"))
        pair = rule.get("together", ())
        present = [name for name in pair if name in out]
        if present and len(present) < len(pair):
            absent = next(name for name in pair if name not in out)
            raise missing_parameter(bracket((*path, absent)), (
                f"Missing required param: {bracket((*path, absent))} (it goes with "
                f"{bracket((*path, present[0]))})."))


def _bounds_by_sibling(out: Mapping[str, Any], props: Mapping[str, Spec], path: Path) -> None:
    """A maximum that depends on a sibling's value (``interval_count`` by ``interval``)."""
    for name, spec in props.items():
        bound = spec.get("maximum_by")
        if bound is None or not isinstance(out.get(name), int):
            continue
        maximum = bound["values"].get(out.get(bound["field"]))
        if maximum is not None and out[name] > maximum:
            raise invalid(f"This value must be less than or equal to {maximum} when "
                          f"{bound['field']} is {out[bound['field']]}.", bracket((*path, name)),
                          "parameter_invalid_integer")


def _declared(name: str, spec: Spec) -> Spec:
    """The spec of a declared parameter, marked as a currency (or keyed by one) or as metadata
    by its name."""
    if name == "currency" or name.endswith("_currency"):
        return {**spec, "format": "currency"}
    if name == "currency_options":
        return {**spec, "keys": "currency"}
    if name == "metadata":
        return {**spec, "format": "metadata"}
    return spec


def _hint(name: str, props: Mapping[str, Spec], path: Path, explain: Explain) -> str:
    reason = explain(path)
    if reason:
        return reason
    close = difflib.get_close_matches(name, list(props), n=1)
    return f"Did you mean {bracket((*path[:-1], close[0]))}?" if close else ""


def _value(raw: Any, spec: Spec, path: Path, explain: Explain) -> Any:
    name = bracket(path)
    if raw == "":
        if spec.get("emptyable"):
            return None
        raise invalid(
            f"You passed an empty string for '{name}'. We assume empty values are an attempt to "
            f"unset a parameter; however '{name}' cannot be unset. You should remove '{name}' "
            "from your request or supply a non-empty value.",
            name,
            "parameter_invalid_empty",
        )
    if "anyOf" in spec:
        return _any_of(raw, spec, path, explain)
    kind = spec.get("type")
    if kind == "object":
        return _object(raw, spec.get("properties", {}), path, explain,
                       spec.get("combinations", ()))
    if kind == "array":
        return _array(raw, spec, path, explain)
    if kind == "map":
        return _map(raw, spec, path, explain)
    if kind == "any":
        return raw
    if not isinstance(raw, str):
        raise invalid(f"Invalid {kind or 'value'} for {name}: expected a single value.", name)
    return _scalar(raw, spec, name)


def _any_of(raw: Any, spec: Spec, path: Path, explain: Explain) -> Any:
    """The first alternative that accepts the value; else the last error of one of its shape."""
    errors = []
    for alternative in spec["anyOf"]:
        try:
            return _value(raw, alternative, path, explain)
        except StripeError as exc:
            errors.append((_fits(raw, alternative), exc))
    raise max(reversed(errors), key=lambda pair: pair[0])[1]


_SHAPES: dict[str, type | tuple[type, ...]] = {"object": dict, "map": dict, "array": (list, dict)}


def _fits(raw: Any, spec: Spec) -> bool:
    """Whether a value has the shape an alternative expects (a hash, an array, a scalar)."""
    return isinstance(raw, _SHAPES.get(spec.get("type", ""), str))


def _array(raw: Any, spec: Spec, path: Path, explain: Explain) -> list:
    if isinstance(raw, dict) and all(key.isdigit() for key in raw):
        raw = [raw[key] for key in sorted(raw, key=int)]
    if not isinstance(raw, list):
        raise invalid(f"Invalid array for {bracket(path)}.", bracket(path))
    items = spec.get("items", {})
    if "max_items" in spec and len(raw) > spec["max_items"]:
        raise invalid(f"Invalid array: {bracket(path)} must have at most {spec['max_items']} "
                      f"items (got {len(raw)}).", bracket(path))
    return [_value(item, items, (*path, str(i)), explain) for i, item in enumerate(raw)]


def _map(raw: Any, spec: Spec, path: Path, explain: Explain) -> dict:
    if not isinstance(raw, dict):
        raise invalid(f"Invalid hash for {bracket(path)}.", bracket(path))
    values = spec.get("values", {})
    out: dict[str, Any] = {}
    for key, item in raw.items():
        if item == "" and values.get("type") == "string":
            out[key] = None  # metadata[k]= removes that key
            continue
        if spec.get("keys") == "currency":
            key = _currency(key, bracket((*path, key)))
        out[key] = _value(item, values, (*path, key), explain)
    if spec.get("format") == "metadata":
        metadata.check(out, bracket(path))
    return out


def _scalar(raw: str, spec: Spec, name: str) -> Any:
    kind = spec.get("type")
    if kind == "integer":
        if not _INTEGER.match(raw):
            raise invalid(f"Invalid integer: {raw}", name, "parameter_invalid_integer")
        return _in_range(int(raw), spec, name, "parameter_invalid_integer")
    if kind == "number":
        return _in_range(_number(raw, name), spec, name, None)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise invalid(f"Invalid boolean: {raw}", name)
        return raw == "true"
    allowed = spec.get("enum") or (reference.api()[spec["enum_ref"]] if "enum_ref" in spec else None)
    if allowed is not None and raw not in allowed:
        choices = ", ".join(map(str, allowed)) if len(allowed) <= 12 else "the documented values"
        raise invalid(f"Invalid {name}: must be one of {choices}", name)
    if spec.get("format") == "decimal":
        return _decimal(raw, name)
    if spec.get("format") == "currency":
        return _currency(raw, name)
    return _text(raw, spec, name)


def _text(raw: str, spec: Spec, name: str) -> str:
    limit = spec.get("max_length")
    if limit is not None and len(raw) > limit:
        shown = raw if len(raw) <= 23 else f"{raw[:10]}...{raw[-10:]}"
        raise invalid(f"Invalid string: {shown}; must be at most {limit} characters", name)
    if "pattern" in spec and not re.search(spec["pattern"], raw):
        raise invalid(f"Invalid {name}: {raw!r}: {spec.get('pattern_text', spec['pattern'])}.",
                      name, spec.get("error_code"))
    return raw


def _in_range(number: Number, spec: Spec, name: str, code: str | None) -> Number:
    if "minimum" in spec and number < spec["minimum"]:
        raise invalid(f"This value must be greater than or equal to {spec['minimum']}.", name,
                      code)
    if "exclusive_minimum" in spec and number <= spec["exclusive_minimum"]:
        raise invalid(f"This value must be greater than {spec['exclusive_minimum']}.", name, code)
    if "maximum" in spec and number > spec["maximum"]:
        raise invalid(f"This value must be less than or equal to {spec['maximum']}.", name, code)
    return number


def _number(raw: str, name: str) -> int | float:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {raw}", name) from None
    if not number.is_finite():
        raise invalid(f"Invalid decimal: {raw}", name)
    return int(number) if number == number.to_integral_value() else float(number)


def _decimal(raw: str, name: str) -> str:
    """Stripe's decimal strings: validated, at most 12 places, written without exponent."""
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {raw}", name) from None
    if not number.is_finite() or number.as_tuple().exponent < -_MAX_DECIMAL_PLACES:  # type: ignore[operator]
        raise invalid(f"Invalid decimal: {raw}", name)
    return decimal_string(number)


def decimal_string(number: Decimal | int) -> str:
    return format(Decimal(number).normalize(), "f")


def _currency(raw: str, name: str) -> str:
    code = raw.lower()
    if code not in reference.currencies():
        raise invalid(f"Invalid currency: {raw}. Stripe currencies are three-letter ISO codes.", name)
    return code
