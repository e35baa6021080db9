"""Matching manifest entries to live objects (docs/concepts.md, "Identity").

An entry first matches the object this stack tagged with its manifest key; failing that, the
object holding its natural key (product or coupon id, lookup key, event name, promotion
code, configuration name): the kind's ``identity`` (reconciler/kinds/identity.py) says which. A natural-key match that this stack does not own is a conflict,
or an adoption when the user asked for one; an object owned by another stack is never taken.
Kinds without metadata (meters, payment method configurations) cannot carry ownership, so
they match by natural key alone and are never pruned. A meter whose permanent event name
changed in the manifest therefore matches nothing; its label (the identity's ``label``, a
meter's display name) finds the one meter that name may have left behind, but only to
explain the plan's refusal: that meter may as well be another stack's or hand-made, and
nothing on it can say otherwise, so it is never matched (nor deactivated).

Several objects tagged with one manifest key are what an interrupted replacement leaves
(the new object exists, the old one was not yet removed), or a copy made with the tags:
one is the match and the other active ones are ``superseded``, to be removed whatever
``--prune`` says. The match is the one with the entry's fields (the replacement, so it is
finished, not repeated), else the one in use (a product's default price), else the oldest:
the copy is what goes, and ``kept`` says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.account import in_use
from reconciler.kinds import Kind
from reconciler.manifests import Entry
from reconciler.ownership import owner

from .problems import Problem


@dataclass
class Matches:
    live: dict[str, dict[str, Any]] = field(default_factory=dict)  # manifest key -> object
    adopted: set[str] = field(default_factory=set)
    orphans: list[dict[str, Any]] = field(default_factory=list)  # owned, matched by no entry
    superseded: list[dict[str, Any]] = field(default_factory=list)  # older twins of a match
    conflicts: list[Problem] = field(default_factory=list)
    conflicted: set[str] = field(default_factory=set)  # manifest keys with a conflict
    evidence: dict[str, str] = field(default_factory=dict)  # adopted key -> why it matched
    by_label: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> namesake
    kept: dict[str, str] = field(default_factory=dict)  # key with superseded twins -> why


# what an entry without natural key goes by where that is the default object (the kind's
# ``identity.default_flag``): no natural key can hold it
_DEFAULT = "\0default"


def _tagged(kind: Kind, obj: dict[str, Any], stack: str) -> str | None:
    """The manifest key ``stack`` tagged ``obj`` with (kinds without metadata carry none)."""
    obj_stack, obj_key = owner(obj)
    return obj_key if kind.has_metadata and obj_stack == stack else None


def matched_by(kind: Kind, key: str, spec: Mapping[str, Any], stack: str,
               obj: dict[str, Any]) -> Literal["tag", "natural key"] | None:
    """What would match the live ``obj`` to the entry ``key`` (stating ``spec``, or the
    parameters it is created with) in a plan of ``stack``: this stack's tag with its key, or
    its natural key, whoever holds it (then a conflict or an adoption); None if nothing.
    The rules :func:`match_kind` applies, for one object."""
    if _tagged(kind, obj, stack) == key:
        return "tag"
    value = kind.identity.of_entry(key, spec)
    return "natural key" if value is not None and kind.identity.of_live(obj) == value else None


def _preferin_use(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    active = [o for o in objects if in_use(o)]
    return active or objects


SameContent = Callable[[Entry, dict[str, Any]], bool]


def _keep(objects: list[dict[str, Any]], entry: Entry, same_content: SameContent | None,
          used: Collection[str]) -> tuple[dict[str, Any], str]:
    """The one of several objects tagged with one key that stays the match, and why (see
    the module's docstring). ``objects`` are in Stripe's list order, newest first, also
    within one second of ``created``."""
    reasons = ((lambda o: not in_use(o), "the active one"),
               (lambda o: not (same_content and same_content(entry, o)),
                "it has the entry's fields"),
               (lambda o: o["id"] not in used, "it is in use (another live object refers to it)"))
    newest_first = [o["id"] for o in objects]
    ranked = sorted(objects, key=lambda o: (
        *(rank(o) for rank, _ in reasons), o.get("created") or 0, -newest_first.index(o["id"])))
    kept, runner_up = ranked[0], ranked[1]
    why = next((why for rank, why in reasons if rank(kept) != rank(runner_up)), "the oldest")
    return kept, why


def match_kind(kind: Kind, entries: dict[str, Entry], objects: list[dict[str, Any]],
               stack: str, adopt: bool, same_content: SameContent | None = None,
               used: Collection[tuple[str, str]] = ()) -> Matches:
    """Match every entry of one kind. With ``adopt``, an entry that has no natural key to
    go by (a tax rate, a webhook endpoint, a price without lookup key) adopts the one
    unmanaged object whose fields equal everything the entry states. ``used``: the objects,
    as (kind, id), other live objects point to, which a twin in use keeps."""
    result = Matches()
    owned: dict[str, list[dict[str, Any]]] = defaultdict(list)
    natural: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        if tagged := _tagged(kind, obj, stack):
            owned[tagged].append(obj)
        value = kind.identity.of_live(obj)
        if value is not None:
            natural[value].append(obj)
    if flag := kind.identity.default_flag:
        natural[_DEFAULT] = [o for o in objects if o.get(flag)]

    taken: set[str] = set()
    unmatched: dict[str, Entry] = {}
    for key, entry in entries.items():
        before = len(result.conflicts)
        if len(owned.get(key, [])) > 1:
            kept, result.kept[key] = _keep(owned[key], entry, same_content,
                                           {i for k, i in used if k == kind.name})
            result.superseded += [o for o in owned[key] if o is not kept and in_use(o)]
            owned[key] = [kept]
        match = _match_entry(kind, key, entry, owned, natural, entries, stack, adopt, result)
        if len(result.conflicts) > before:
            result.conflicted.add(key)
        if match is not None:
            result.live[key] = match
            taken.add(match["id"])
        elif adopt and key not in result.conflicted:
            unmatched[key] = entry
    if unmatched and same_content:  # after every natural-key match: none is matched twice
        _match_content(kind, unmatched, objects, taken, same_content, result)
    if kind.identity.label:
        _match_label(kind, entries, objects, taken, result)
    if kind.prunable:
        twins = {o["id"] for o in result.superseded}
        result.orphans = [o for objs in owned.values() for o in objs
                          if o["id"] not in taken and o["id"] not in twins]
    return result


def _match_label(kind: Kind, entries: dict[str, Entry], objects: list[dict[str, Any]],
                 taken: set[str], result: Matches) -> None:
    """Find, for an entry that matched nothing, the one active object with its label that no
    entry's natural key claims: perhaps the natural key was changed in the manifest, perhaps
    it is an unrelated object. Not a match (these kinds carry no tags to tell): the planner
    only names it. A label shared by several such entries or objects finds nothing."""
    label = kind.identity.label
    assert label is not None
    claimed = {kind.identity.of_entry(k, e.spec) for k, e in entries.items()}
    free: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        if in_use(obj) and obj["id"] not in taken and kind.identity.of_live(obj) not in claimed:
            free[obj.get(label)].append(obj)
    waiting: dict[Any, list[str]] = defaultdict(list)
    for key, entry in entries.items():
        if key not in result.live and key not in result.conflicted:
            waiting[entry.spec.get(label)].append(key)
    for value, keys in waiting.items():
        found = free.get(value, [])
        if value is None or len(keys) != 1 or len(found) != 1:
            continue
        result.by_label[keys[0]] = found[0]
        taken.add(found[0]["id"])


def _match_content(kind: Kind, entries: dict[str, Entry], objects: list[dict[str, Any]],
                   taken: set[str], same_content: SameContent, result: Matches) -> None:
    """Adopt by content: an entry matches the unmanaged objects with every field it states.

    Matches are settled like a puzzle, never guessed: an entry left with a single candidate
    takes it (so "mug" and "mug, nickname Again" each find their own price), and entries
    left with the very same candidates share them out in creation order when there are no
    more candidates than entries (two identical prices exported as two entries). More
    candidates than entries is ambiguous: reported, and nothing is adopted."""
    oldest_first = {o["id"]: i for i, o in enumerate(reversed(objects))}
    candidates = {
        key: [o for o in objects if owner(o)[0] is None and o["id"] not in taken
              and in_use(o) is (entry.spec.get("active") is not False)
              and same_content(entry, o)]
        for key, entry in entries.items()
        if kind.identity.of_entry(key, entry.spec) is None and kind.has_metadata}
    while True:
        candidates = {k: [o for o in found if o["id"] not in taken]
                      for k, found in candidates.items()}
        candidates = {k: found for k, found in candidates.items() if found}
        groups: dict[frozenset[str], list[str]] = defaultdict(list)
        for key, found in candidates.items():
            groups[frozenset(o["id"] for o in found)].append(key)
        settled = [keys for ids, keys in groups.items() if len(ids) <= len(keys)]
        if not settled:
            break
        keys = min(settled, key=lambda keys: (len(candidates[keys[0]]), keys[0]))
        found = sorted(candidates[keys[0]], key=lambda o: oldest_first[o["id"]])
        for key, obj in zip(keys, found):
            result.live[key] = obj
            result.adopted.add(key)
            result.evidence[key] = "same content: " + ", ".join(sorted(entries[key].spec))
            taken.add(obj["id"])
        for key in keys:
            del candidates[key]
    for key, found in candidates.items():
        ids = ", ".join(o["id"] for o in found)
        result.conflicts.append(Problem.about(
            "ambiguous-adoption", f"{kind.name}.{key}", f"several unmanaged objects ({ids}) "
            "have exactly the stated fields; cannot tell which one to adopt"))
        result.conflicted.add(key)


def _match_entry(kind: Kind, key: str, entry: Entry, owned: dict[str, list[dict[str, Any]]],
                 natural: dict[str, list[dict[str, Any]]], entries: dict[str, Entry],
                 stack: str, adopt: bool, result: Matches) -> dict[str, Any] | None:
    address = f"{kind.name}.{key}"
    if owned.get(key):
        return owned[key][0]  # the one kept of several: see match_kind
    identity = kind.identity
    value = identity.of_entry(key, entry.spec)
    if identity.default_flag and value is None:
        value = _DEFAULT
    candidates = _preferin_use(natural.get(value, [])) if value is not None else []
    if not candidates:
        return None
    natural_key = identity.natural_key or "id"
    what = (f"{natural_key} '{entry.spec.get(natural_key, key)}'" if value != _DEFAULT
            else f"the default {kind.stripe_object.replace('_', ' ')}")
    if len(candidates) > 1:
        ids = ", ".join(o["id"] for o in candidates)
        result.conflicts.append(Problem.about(
            "ambiguous-match", address,
            f"{what} matches several live objects ({ids}); cannot tell which one is meant"))
        return None
    obj = candidates[0]
    if not kind.has_metadata:
        return obj
    obj_stack, obj_key = owner(obj)
    if obj_stack == stack and (obj_key == key or obj_key not in entries):
        return obj  # ours; possibly renamed in the manifests, so it is re-tagged
    if obj_stack is None:
        if adopt:
            result.adopted.add(key)
            result.evidence[key] = what
            return obj
        result.conflicts.append(Problem.about(
            "unmanaged-holder", address,
            f"{what} is held by {obj['id']}, which reconciler does not manage",
            "adopt it with --adopt (or `reconciler import`), or change the manifest"))
        return None
    holder = f"stack '{obj_stack}'" if obj_stack != stack else f"{kind.name}.{obj_key}"
    result.conflicts.append(Problem.about(
        "owned-elsewhere", address, f"{what} is held by {obj['id']}, which is managed by "
        f"{holder}; one object cannot have two owners"))
    return None
