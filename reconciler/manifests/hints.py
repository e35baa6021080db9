"""Hints for the person reading an error: 'did you mean' names, and how to write a value."""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.kinds import KINDS

from .schema import is_amount

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ].*)?$")


def did_you_mean(value: str, options: Iterable[str], cutoff: float = 0.7) -> str | None:
    """The closest option to ``value``: case differences first, then the one option that
    ``value`` begins, then the most similar spelling (at least ``cutoff`` alike); or None."""
    options = list(options)
    folded = value.casefold()
    by_fold = {o.casefold(): o for o in options}
    if folded in by_fold:
        return by_fold[folded]
    longer = [o for f, o in by_fold.items() if folded and f.startswith(folded)]
    if len(longer) == 1:
        return longer[0]
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=cutoff)
    return by_fold[close[0]] if close else None


def hint(value: str, options: Iterable[str], cutoff: float = 0.7, *, before: str = "",
         after: str = "") -> str:
    """``did you mean 'x'?`` or an empty string. A ``cutoff`` of 0 always names the most
    similar option: for a choice among entries that are all acceptable. ``value`` may be one
    part of a longer name (a dotted path): ``before`` and ``after`` complete the suggestion."""
    match = did_you_mean(value, options, cutoff)
    return f"did you mean '{before}{match}{after}'?" if match else ""


def alias_hint(value: str, aliases: Mapping[str, str]) -> str:
    """``did you mean 'x'?`` where ``aliases`` maps other names of a thing (Stripe's
    resource names, words of the name) to the name to write; singular forms are tried too."""
    match = did_you_mean(value, aliases) or did_you_mean(value.removesuffix("s"), aliases)
    return f"did you mean '{aliases[match]}'?" if match else ""


def moved_hint(kind_name: str, name: str, value: Any) -> str:
    """How to write a field Stripe's API has moved since (an old tutorial's shape), or an
    empty string."""
    described = KINDS.get(kind_name)
    if described is None or name not in described.moved:
        return ""
    shape, version = described.moved[name]
    written = value if isinstance(value, str) else f"<{name}>"
    return f"Stripe's API moved it in {version}: write {shape.format(value=written)}"


def type_hint(value: Any, expected: set[str], field: object) -> str:
    """How to write ``value`` as one of the ``expected`` JSON types, when YAML typing (or a
    habit from other tools) is the likely cause; or an empty string."""
    if isinstance(value, bool):
        if "string" in expected:
            return ("YAML reads unquoted true/false, yes/no and on/off as booleans: "
                    "quote the text")
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "Stripe accepts only finite numbers"
    if isinstance(value, float) and "integer" in expected:
        if is_amount(str(field)):
            cents = round(value * 100)
            return f"amounts are in the currency's smallest unit: {cents} for {cents / 100:.2f} USD"
        if value.is_integer():
            return f"write {int(value)}, without a decimal point"
    if isinstance(value, str) and expected & {"integer", "number"}:
        if _NUMBER.match(value):
            return "write the number without quotes"
        if _DATE.match(value) and "integer" in expected:
            return _timestamp_hint(value)
    return ""


def _timestamp_hint(text: str) -> str:
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return f"timestamps are Unix seconds: {text} UTC is {int(when.timestamp())}"
