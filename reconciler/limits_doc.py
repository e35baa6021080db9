"""``docs/limits.md``: the table of Stripe's documented limits, generated from the data.

The page is this module's output, committed; a test fails when it is stale. Regenerate with
``reconciler schema --format limits -o docs/limits.md``.
"""

from __future__ import annotations

from typing import Any

from reconciler import limits
from reconciler.kinds import KINDS

_HEADER = """# Stripe's limits

Generated from `reconciler/data/limits.json` by `reconciler schema --format limits`; do not
edit by hand. Each limit is Stripe's, with its source (an `stripe-python` SDK docstring,
`stripe/params/<file>:<line>`, or a page of Stripe's documentation). `validate` refuses a
manifest that breaks an enforced limit, with the file and line, before any request; the
emulator refuses the request as Stripe does (`invalid_request_error`, the parameter in
`param`). Where Stripe's documentation is silent, the source says *assumption*.

Paths: `a.b` a nested field, `a[]` any item of a list, `a.*` any currency of a
`currency_options` map; a combination on the entry itself has no path.
"""


def _rule(fact: dict[str, Any]) -> str:
    parts = []
    if "max_length" in fact:
        parts.append(f"at most {fact['max_length']} characters")
    if "max_items" in fact:
        parts.append(f"at most {fact['max_items']} items")
    if "exclusive_minimum" in fact:
        parts.append(f"> {fact['exclusive_minimum']}")
    if "minimum" in fact:
        parts.append(f">= {fact['minimum']}")
    if "maximum" in fact:
        parts.append(f"<= {fact['maximum']}")
    if "maximum_by" in fact:
        bound = fact["maximum_by"]
        each = ", ".join(f"{v} when {bound['field']} is {k}" for k, v in bound["values"].items())
        parts.append(f"at most {each}")
    if "pattern" in fact:
        parts.append(fact.get("pattern_text") or f"matches `{fact['pattern']}`")
    if "exclusive" in fact:
        parts.append("only one of " + " and ".join(f"`{n}`" for n in fact["exclusive"]))
    if "together" in fact:
        parts.append("both or neither of " + " and ".join(f"`{n}`" for n in fact["together"]))
    if "note" in fact:
        parts.append(fact["note"])
    if "error_code" in fact:
        parts.append(f"(error code `{fact['error_code']}`)")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _api_rows() -> list[str]:
    api = limits.data()["api"]
    meta = api["metadata"]
    listing = api["list_limit"]
    rows = [
        ("every string parameter", (f"at most {api['string_max_length']['value']} characters, "
         "unless a stricter limit below applies"), "yes", api["string_max_length"]["source"]),
        ("`metadata`", (f"at most {meta['max_keys']} keys (reconciler's tags included), keys of "
         f"at most {meta['max_key_length']} characters without `[` or `]`, values of at most "
         f"{meta['max_value_length']}"), "yes", meta["source"]),
        ("`expand[]`", f"at most {api['expand_max_depth']['value']} levels deep", "emulator",
         api["expand_max_depth"]["source"]),
        ("`limit` of a list", f"{listing['minimum']} to {listing['maximum']}", "emulator",
         listing["source"]),
        ("`Idempotency-Key` header", (f"at most {api['idempotency_key_max_length']['value']} "
         "characters"), "emulator", api["idempotency_key_max_length"]["source"]),
    ]
    return [f"| {a} | {_cell(b)} | {c} | {_cell(d)} |" for a, b, c, d in rows]


def render() -> str:
    lines = [_HEADER, "## Every request", "",
             "| Applies to | Limit | Enforced | Source |", "|---|---|---|---|", *_api_rows()]
    for kind in KINDS.values():
        lines += ["", f"## `{kind.name}` ({kind.stripe_object})", ""]
        facts = limits.facts(kind.stripe_object)
        if not facts:
            lines.append("No limits beyond the ones on every request.")
            continue
        lines += ["| Field | Limit | Enforced | Source |", "|---|---|---|---|"]
        for fact in facts:
            where = f"`{fact['path']}`" if fact["path"] else "(the entry)"
            enforced = "yes" if fact.get("enforced", True) else "no"
            if "checked_by" in fact:
                enforced = f"yes: {fact['checked_by']}"
            lines.append(f"| {where} | {_cell(_rule(fact))} | {enforced} | "
                         f"{_cell(fact['source'])} |")
    return "\n".join(lines) + "\n"
