"""Field-level comparison of what a manifest states with what Stripe holds.

Only what the manifest states is compared, after bringing Stripe's representation to the
manifest's (the kind's ``normalize_live``): a field the manifest leaves out is Stripe's
business, mappings compare by the keys the manifest gives, numbers compare by value
(``"10.00"`` equals ``10``), and lists Stripe does not keep in order compare as sets.
``metadata`` is the exception: an entry that states it manages the whole map, so a key
removed from the manifest is removed from the object; an entry that does not state it leaves
the keys other systems set alone. The tool's own ownership tags are part of the desired
metadata either way. A tag the tool wrote that the desired metadata leaves out (the record
of a field Stripe does not show, such as a webhook endpoint's ``connect``) is kept: that
field compares with it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.kinds import Kind
from reconciler.ownership import decided, recorded
from reconciler.plan.desired import is_ref
from reconciler.plan.model import FieldDiff


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def same_scalar(path: str, new: Any, old: Any) -> bool:
    """Equality as Stripe means it: numbers by value, decimal strings (``*_decimal``) too."""
    if isinstance(new, bool) or isinstance(old, bool):
        return new is old
    if isinstance(new, (int, float)) or isinstance(old, (int, float)) or path.endswith("_decimal"):
        a, b = _number(new), _number(old)
        if a is not None and b is not None:
            return a == b
    return new == old


def _join(base: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{base}[{part}]"
    return f"{base}.{part}" if base else part


def _compare(path: str, new: Any, old: Any, kind: Kind, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(new, dict) and not is_ref(new) and isinstance(old, dict):
        for name, value in new.items():
            _compare(_join(path, name), value, old.get(name), kind, out)
        return
    if isinstance(new, list) and isinstance(old, list):
        if path in kind.unordered:
            if sorted(map(str, new)) != sorted(map(str, old)):
                out.append((path, old, new))
            return
        if len(new) != len(old):
            out.append((path, old, new))
            return
        for i, (a, b) in enumerate(zip(new, old)):
            _compare(_join(path, i), a, b, kind, out)
        return
    if isinstance(new, (dict, list)) or isinstance(old, (dict, list)):
        if new != old:
            out.append((path, old, new))
        return
    if kind.identity.folds(path) and isinstance(new, str) and isinstance(old, str):
        if new.casefold() != old.casefold():
            out.append((path, old, new))
    elif not same_scalar(path, new, old):
        out.append((path, old, new))


def _metadata(new: dict[str, Any], old: dict[str, Any],
              stated: bool) -> list[tuple[str, Any, Any]]:
    keys = sorted(set(new) | {k for k in old if decided(k, stated)})
    return [(f"metadata.{k}", old.get(k), new.get(k)) for k in keys if new.get(k) != old.get(k)]


def diff(kind: Kind, desired: dict[str, Any], live: dict[str, Any],
         ignore: tuple[str, ...] = (), *, metadata_stated: bool = True) -> list[FieldDiff]:
    """The differences between desired params and a live object, field by field.
    ``metadata_stated``: the entry states ``metadata``, so it manages the whole map."""
    view = {**kind.live_view(live), **recorded(kind, live)}
    found: list[tuple[str, Any, Any]] = []
    for name, value in desired.items():
        if name not in view and not kind.observable(name):
            continue  # a parameter Stripe never shows, and no tag recorded it
        if name == "metadata":
            found += _metadata(value or {}, view.get("metadata") or {}, metadata_stated)
        else:
            _compare(name, value, view.get(name), kind, found)
    return [
        FieldDiff(path, old, new, kind.forces_replacement(path, old, new))
        for path, old, new in found
        if kind.observable(path) or path in view
        if not any(path == i or path.startswith((i + ".", i + "[")) for i in ignore)
    ]
