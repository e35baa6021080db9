"""Stripe's form encoding: nested parameters in bracket notation.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies (and query strings for
GET) where nesting is spelled with brackets::

    {"recurring": {"interval": "month"}}          recurring[interval]=month
    {"lookup_keys": ["a", "b"]}                   lookup_keys[0]=a&lookup_keys[1]=b
    {"tiers": [{"up_to": "inf", "unit_amount": 5}]}
                                                  tiers[0][unit_amount]=5&tiers[0][up_to]=inf
    {"active": False}                             active=false
    {"description": ""}                           description=          (clears the field)
    {"nickname": None}                            (omitted)

Rules, in one place:

* mappings nest as ``key[sub]``; sequences (list/tuple) are always indexed ``key[i]``, whether
  their items are scalars, mappings or sequences;
* ``True``/``False`` are ``true``/``false``; ``None`` is omitted (at any depth, and a list
  item that encodes to nothing takes no index, so indexes stay dense); ``""`` is sent
  as an empty value, which is how Stripe clears an emptyable field or a metadata key;
* integers, :class:`~decimal.Decimal` and floats are written in plain positional notation,
  never scientific (``1e-7`` is ``0.0000001``; ``Decimal("1E+3")`` is ``1000``); NaN and
  infinities are refused (``up_to: "inf"`` is the *string* ``"inf"``);
* ``datetime`` values become Unix timestamps;
* an empty mapping or sequence encodes to nothing (as in Stripe's own SDKs): to clear a list
  or all metadata, send ``""`` explicitly;
* keys of mappings are emitted in sorted order, so equal parameters always give the same
  body. That keeps request bodies byte-stable, which matters for idempotent replays (Stripe
  rejects a reused Idempotency-Key whose body differs).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

__all__ = ["encode", "encode_pairs", "format_number"]


def format_number(value: float | Decimal) -> str:
    """A number in plain positional notation, as Stripe parses it."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot send non-finite number {value!r} to Stripe")
        # repr() is the shortest string that round-trips; Decimal keeps it exact.
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send non-finite number {value!r} to Stripe")
        text = format(value, "f")
        if text.startswith("-") and not value:  # -0 and -0.00 are just zero
            text = text[1:]
        return text
    raise TypeError(f"not a number: {value!r}")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give it a timezone before sending it to Stripe")
        return str(int(value.timestamp()))
    if isinstance(value, _dt.date):
        raise TypeError("dates have no Stripe encoding; send a Unix timestamp")
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError(f"cannot form-encode a {type(value).__name__}: {value!r}")


def _walk(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub in sorted(value, key=str):
            yield from _walk(f"{prefix}[{sub}]", value[sub])
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        # Indexes stay dense: items that encode to nothing (None, {}) take no index.
        index = 0
        for item in value:
            pairs = list(_walk(f"{prefix}[{index}]", item))
            if pairs:
                index += 1
                yield from pairs
    else:
        yield prefix, _scalar(value)


def encode_pairs(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Flatten ``params`` into (key, value) string pairs in bracket notation, sorted by key."""
    if not params:
        return []
    if not isinstance(params, Mapping):
        raise TypeError("Stripe parameters must be a mapping at the top level")
    pairs: list[tuple[str, str]] = []
    for key in sorted(params, key=str):
        pairs.extend(_walk(str(key), params[key]))
    return pairs


def encode(params: Mapping[str, Any] | None) -> str:
    """``params`` as an ``application/x-www-form-urlencoded`` string."""
    return urlencode(encode_pairs(params))
