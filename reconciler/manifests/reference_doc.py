"""The manifest reference (Markdown), generated from the kind descriptions like the schema.

``docs/manifest-reference.md`` is this module's output, committed; a test fails when it is
stale. Regenerate with ``reconciler schema --format markdown -o docs/manifest-reference.md``.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import (
    ENTRY_OPTIONS,
    KINDS,
    MANIFEST_KINDS,
    Kind,
    Removal,
    Replacement,
    Rule,
)

TAGS = "ownership tags in metadata"
REMOVED = {
    Removal.DELETE: "deleted",
    Removal.ARCHIVE: "archived (`active: false`)",
    Removal.DEACTIVATE: "deactivated (`/deactivate`)",
    Removal.DELETE_OR_ARCHIVE: "deleted when no price uses it, otherwise archived",
}
FAMILY_THRESHOLD = 12  # fields sharing one spec beyond this are listed as one row


def _type(spec: dict[str, Any]) -> str:
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    type_name = spec.get("type", "any")
    if "enum" in spec:
        values = spec["enum"]
        shown = ", ".join(f"`{v}`" for v in values[:6])
        return f"one of {shown}" + (f" … ({len(values)} values)" if len(values) > 6 else "")
    if type_name == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if type_name == "map":
        return "mapping"
    if type_name == "object":
        return "mapping: " + ", ".join(f"`{k}`" for k in spec.get("properties", {}))
    if spec.get("format") == "decimal":
        return "decimal string"
    return type_name


def _change(kind: Kind, name: str) -> str:
    if kind.forces_replacement(name):
        return "forces replacement"
    nested = sorted(p for p in kind.create_only if p.startswith(f"{name}."))
    if nested:
        return "in place, except " + ", ".join(f"`{p}` (forces replacement)" for p in nested)
    if name in kind.update_only:
        return "in place (set after creation)"
    return "in place"


def _rows(kind: Kind) -> list[str]:
    required = set(kind.required)
    refs = {r.path.removesuffix("[]"): r for r in kind.references if "." not in r.path}
    groups: dict[str, list[str]] = {}
    for name, spec in kind.manifest_params.items():
        groups.setdefault(repr(spec), []).append(name)
    rows = []
    for name, spec in kind.manifest_params.items():
        family = groups[repr(spec)]
        if len(family) > FAMILY_THRESHOLD:
            if name != family[0]:
                continue
            label = f"`<method>`, one of {len(family)}: {', '.join(family)}"
        else:
            label = f"`{name}`"
        note = f"manifest key of a `{refs[name].kind}` entry" if name in refs else _type(spec)
        rows.append(f"| {label} | {note} | {'yes' if name in required else ''} | "
                    f"{_change(kind, name)} |")
    for name, spec in {**kind.extra_fields, **ENTRY_OPTIONS}.items():
        rows.append(f"| `{name}` | {spec['description']} | | tool option |")
    return rows


def _noun(kind_name: str) -> str:
    return KINDS[kind_name].stripe_object.rsplit(".", 1)[-1].replace("_", " ")


def _identity(kind: Kind) -> str:
    """How an entry finds its live object, from the kind's ``identity`` that matching reads:
    the tags first where the kind has metadata, then the natural key."""
    identity, natural = kind.identity, kind.identity.natural_key
    if identity.rule is Rule.PAIR:
        assert kind.parent is not None
        return f"the ({_noun(kind.parent)}, {_noun(kind.references[0].kind)}) pair"
    if natural is None:
        return f"{TAGS} only"
    if identity.is_stripe_id:
        said = "the Stripe id, which is the manifest key (or an explicit `id`)"
    else:
        notes = [note for note, holds in (("required", natural in kind.required),
                                          ("permanent", kind.forces_replacement(natural)),
                                          ("case-insensitive", identity.casefold)) if holds]
        said = f"its `{natural}`" + (f" ({', '.join(notes)})" if notes else "")
        if identity.default_flag:
            said += f"; without one, the account's default {_noun(kind.name)}"
        elif natural not in kind.required:
            said += " when the entry has one"
    return f"{TAGS}, else {said}" if kind.has_metadata else said


def _removal(kind: Kind) -> str:
    """What ``--prune`` does, from the same properties the planner reads."""
    if not kind.prunable:
        return ("never pruned: it carries no metadata, so no ownership tag says which stack "
                "owns it; archive it yourself")
    cannot = "; Stripe cannot delete it" if not kind.stripe_deletes else ""
    return f"{REMOVED[kind.removal]}{cannot} (only with `--prune`)"


def _replacement(kind: Kind) -> str:
    """What a change to a create-only field does, as the planner carries it out."""
    removed = REMOVED[kind.replacement_removal].split(" (")[0]
    if kind.replacement is Replacement.REFUSE:
        text = (f"refused; with `--force`, the old object is {removed}, then a new one "
                "created" if kind.force_replaces else "refused, also with `--force`")
    elif kind.replacement.creates_first:
        text = f"a new object is created, then the old one {removed}"
    else:
        text = f"the old object is {removed}, then a new one created"
        if kind.identity.is_stripe_id:
            text += " with the same id"
    return f"{text}: {kind.replacement_note}" if kind.replacement_note else text


def _section(kind: Kind) -> list[str]:
    lines = [f"## `{kind.name}`", "", kind.summary, "",
             f"- Stripe: `{kind.path}` (`{kind.stripe_object}`)",
             f"- Identity: {_identity(kind)}",
             f"- Removed from the manifests: {_removal(kind)}",
             f"- Changing a field that forces replacement: {_replacement(kind)}"]
    if kind.references:
        refs = ", ".join(f"`{r.path}` → `{r.kind}`" for r in kind.references)
        lines.append(f"- References: {refs}")
    lines += ["", "| field | value | required | change |", "|---|---|---|---|", *_rows(kind), ""]
    return lines


def render() -> str:
    lines = ["# Manifest reference", "",
             "Generated from the kind descriptions in `reconciler/kinds/` (do not edit by hand;",
             "run `reconciler schema --format markdown -o docs/manifest-reference.md`).",
             ("Field names are Stripe's API parameter names; see Stripe's API reference for "
             "their meaning."), "",
             ("\"Forces replacement\" means Stripe accepts the field only at creation: changing it "
             "creates a new object as the kind's replacement strategy says."), ""]
    lines += [f"- [`{name}`](#{name})" for name in MANIFEST_KINDS] + [""]
    for kind in MANIFEST_KINDS.values():
        lines += _section(kind)
    for attach in KINDS.values():
        if attach.parent is None:
            continue
        lines += [f"## {attach.name.replace('_', ' ').capitalize()}", "", attach.summary, "",
                  f"- Identity: {_identity(attach)}",
                  (f"- Attaching and detaching follow a {KINDS[attach.parent].stripe_object}'s "
                   f"`{attach.listed_in}` list; there is no update, any change is a detach "
                   "and an attach."), ""]
    return "\n".join(lines)
