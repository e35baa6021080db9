"""How plan values read in text and Markdown: JSON literals, placeholders for ids to come."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan import OWNER_KEY, OWNER_STACK, Action, Change

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
TAG_PATHS = {f"metadata.{OWNER_KEY}", f"metadata.{OWNER_STACK}"}
"""The owner tags, news only when an object is adopted. The prevent_destroy tag is not among
them: adding or removing the option is an update of its own, and the tag is all it changes."""


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
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            return f"(known after apply: {value['$ref']})"
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def show(value: Any) -> str:
    """A value as JSON, with ids that only exist after apply named as such."""
    if isinstance(value, dict) and set(value) == {"$ref"}:
        return _placeholders(value)
    return json.dumps(_placeholders(value), ensure_ascii=False, sort_keys=True)


def visible_diffs(change: Change):
    """The diffs worth a reader's time: ownership tags only where they are the news."""
    if change.action is Action.ADOPT:
        return change.diffs
    return tuple(d for d in change.diffs if d.path not in TAG_PATHS)


def headline(change: Change) -> str:
    live = f" ({change.live_id})" if change.live_id else ""
    note = f"   # {change.note}" if change.note else ""
    return f"{symbol(change)} {change.action.value} {change.address}{live}{note}"


def diff_line(change: Change, d) -> str:
    if change.action is Action.CREATE:
        line = f"+ {d.path} = {show(d.new)}"
    elif d.new is None:
        line = f"- {d.path} = {show(d.old)}"
    else:
        line = f"~ {d.path}: {show(d.old)} -> {show(d.new)}"
    return line + ("   # forces replacement" if d.forces_replacement else "")


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
