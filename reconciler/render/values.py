"""How plan values read in text and Markdown: JSON literals, placeholders for ids to come."""

from __future__ import annotations

import json
from typing import Any

from reconciler.ownership import OWNER_KEY, OWNER_STACK, PREVENT_DESTROY, TAG_PREFIX
from reconciler.plan import Action, Change, FieldDiff
from reconciler.plan.desired import is_ref

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.ADOPT: "*",
    Action.ARCHIVE: "-",
    Action.DELETE: "-",
    Action.NOOP: " ",
}
WORDS = {
    "+": "create", "~": "update in place", "*": "adopt (tag as managed, then update)",
    "-/+": "replace: remove, then create", "+/-": "replace: create, then remove",
    "-": "archive or delete",
}
TAGS = f"metadata.{TAG_PREFIX}"
SUMMARY_PARTS = 3  # a Markdown summary cell names this many parts of a change, then counts
SUMMARY_VALUE = 60  # characters of a value in a summary cell before it is cut short (an
# id never is: Stripe ids are shorter)


def legend(used) -> str:
    """The symbols ``used``, explained in a fixed order (Terraform's), not first-seen."""
    return "Legend: " + ", ".join(f"{s} {WORDS[s]}" for s in WORDS if s in used)


def step_notes(change: Change) -> list[str]:
    """The requests of a change that takes several (a replacement, a create that also makes
    itself a product's default price): the order they run in is part of the news."""
    return [step.note for step in change.steps] if len(change.steps) > 1 else []


def symbol(change: Change) -> str:
    if change.action is Action.REPLACE:
        return "+/-" if change.actions[0] == "create" else "-/+"
    return SYMBOLS[change.action]


def _placeholders(value: Any) -> Any:
    if is_ref(value):
        return f"(known after apply: {value['$ref']})"
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def show(value: Any) -> str:
    """A value as JSON, with ids that only exist after apply named as such."""
    if is_ref(value):
        return _placeholders(value)
    return json.dumps(_placeholders(value), ensure_ascii=False, sort_keys=True)


def visible_diffs(change: Change) -> tuple[FieldDiff, ...]:
    """The diffs of the user's fields; the tool's tags are said by ``tag_lines``."""
    return tuple(d for d in change.diffs if not d.path.startswith(TAGS))


def tag_lines(change: Change) -> list[str]:
    """The tool's tags a change sets or clears, as what they mean, not as metadata: who owns
    the object (only news when it is adopted), whether prune and replacement refuse it, and
    the create-only fields recorded because Stripe does not show them."""
    tags = {d.path.removeprefix(TAGS): d for d in change.diffs if d.path.startswith(TAGS)}
    lines = []
    stack, key = tags.pop(OWNER_STACK.removeprefix(TAG_PREFIX), None), tags.pop(
        OWNER_KEY.removeprefix(TAG_PREFIX), None)
    if change.action is Action.ADOPT and (stack or key):
        owned = " as ".join(f"{word} {d.new}" for word, d in (("stack", stack), ("key", key))
                            if d)
        lines.append(f"+ owned by {owned}")
    guard = tags.pop(PREVENT_DESTROY.removeprefix(TAG_PREFIX), None)
    if guard is not None:
        lines.append("+ protected from destroy (prevent_destroy)" if guard.new == "true"
                     else "- no longer protected from destroy (prevent_destroy)")
    for name, d in sorted(tags.items()):
        lines.append(f"+ records {name} = {d.new} (Stripe does not show it)" if d.new is not None
                     else f"- no record of {name}")
    return lines


def moved_lookup_key(change: Change) -> str | None:
    """The lookup key a replacement takes from the object it replaces (a price's)."""
    if change.action is not Action.REPLACE:
        return None
    return next((s.params.get("lookup_key") for s in change.steps
                 if s.params.get("transfer_lookup_key")), None)


def detail_lines(change: Change) -> list[str]:
    """What a change does to the object, line by line: its fields, its tags, and what a
    replacement means to apps that find a price by lookup key."""
    lines = [diff_line(change, d) for d in visible_diffs(change)] + tag_lines(change)
    if (key := moved_lookup_key(change)) is not None:
        lines.append(f"# lookup_key {key} moves to the new price; apps that find prices by "
                     "it get the new one")
    return lines


def headline(change: Change) -> str:
    live = f" ({change.live_id})" if change.live_id else ""
    note = f"   # {change.note}" if change.note else ""
    return f"{symbol(change)} {change.action.value} {change.address}{live}{note}"


def diff_line(change: Change, d: FieldDiff) -> str:
    if change.action is Action.CREATE:
        line = f"+ {d.path} = {show(d.new)}"
    elif d.new is None:
        line = f"- {d.path} = {show(d.old)}"
    elif (moved := list_change(d)) is not None:
        line = f"~ {d.path}: {moved}"
    else:
        line = f"~ {d.path}: {show(d.old)} -> {show(d.new)}"
    return line + ("   # forces replacement" if d.forces_replacement else "")


def list_change(d: FieldDiff) -> str | None:
    """A list of plain values (``enabled_events``) that gained or lost items, as the items
    added and removed; None for any other change (a reordering, lists of objects)."""
    lists = isinstance(d.old, list) and isinstance(d.new, list)
    if not lists or any(isinstance(v, (dict, list)) for v in [*d.old, *d.new]):
        return None
    added = [v for v in d.new if v not in d.old]
    removed = [v for v in d.old if v not in d.new]
    if not added and not removed:
        return None
    return "; ".join(f"{word} {', '.join(map(show, items))}"
                     for word, items in (("added", added), ("removed", removed)) if items)


def summary_cell(change: Change) -> str:
    """A change in a few words, for a table row: ``unit_amount 1500 → 2000; nickname set``.
    The first few parts are named and the rest counted; Details has them all."""
    parts = [_summary_part(change, d) for d in visible_diffs(change)]
    parts += [line[2:] for line in tag_lines(change)]
    if (key := moved_lookup_key(change)) is not None:
        parts.append(f"lookup_key {key} moves to the new price")
    if len(parts) > SUMMARY_PARTS:
        parts[SUMMARY_PARTS:] = [f"{len(parts) - SUMMARY_PARTS} more"]
    return "; ".join(parts)


def _summary_part(change: Change, d: FieldDiff) -> str:
    def short(value: object) -> str:
        text = show(value)
        if len(text) <= SUMMARY_VALUE or is_ref(value):
            return text
        return text[:SUMMARY_VALUE - 1] + "…"

    if change.action is Action.CREATE:
        return f"{d.path} {short(d.new)}"
    if d.old is None:
        return f"{d.path} set"
    if d.new is None:
        return f"{d.path} removed"
    moved = list_change(d)
    return f"{d.path} {moved}" if moved else f"{d.path} {short(d.old)} → {short(d.new)}"


def summary_line(plan) -> str:
    s = plan.summary()
    line = (f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to "
            f"replace, {s['archive'] + s['delete']} to archive/delete")
    return line + (f", {s['adopt']} to adopt." if s["adopt"] else ".")


def digest_line(plan) -> str:
    """The reviewed digest, for a reviewer to match with what ``apply`` prints (and for
    ``apply --expect-digest``)."""
    return f"Reviewed digest: {plan.reviewed_digest}"


def header(plan) -> str:
    return (f"account {plan.account_id} ({plan.mode} mode) · stack {plan.stack} · "
            f"Stripe API {plan.api_version}")
