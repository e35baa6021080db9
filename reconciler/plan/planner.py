"""Building a Plan from the desired state (manifests) and the live state (Stripe).

Kinds are planned in dependency order, so by the time an entry is planned every entry it
references is known to be unchanged (its live id is used), or to be created or replaced (a
placeholder the applier resolves); each change's phase (:mod:`.phases`) says when it runs.
Safety rules (conflicts, refused replacements, ``prevent_destroy``, the bulk guard) raise
:class:`PlanError` listing every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reconciler import __version__, plural
from reconciler.account import LiveState, read_for, referenced
from reconciler.kinds import KINDS, MANIFEST_KINDS, Kind, Removal, Replacement
from reconciler.manifests import Entry, Manifest
from reconciler.ownership import (
    DEFAULT_STACK,
    PREVENT_DESTROY,
    owner,
    protected,
    record_tag,
    secret_unsaved,
    unrecorded,
)
from reconciler.reference import API_VERSION
from reconciler.stripe import StripeClient

from . import records, recreated, steps
from .context import PlanContext
from .desired import desired, is_ref, ref
from .diff import diff
from .guards import check_guards
from .match import Matches, match_kind
from .model import Action, Change, FieldDiff, Plan, Step, digest
from .phases import change_phase, removal_phase, waiting_phase
from .problems import Problem

if TYPE_CHECKING:
    from reconciler.kinds.hooks.base import Planning


class PlanError(Exception):
    """The plan cannot be made (or would be unsafe); ``problems`` says why, all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class PlanOptions:
    stack: str = DEFAULT_STACK
    prune: bool = False
    adopt: bool = False
    force: bool = False
    bulk_threshold: float = 0.3  # share of a kind's managed objects a plan may remove
    bulk_minimum: int = 10  # the guard applies from this many managed objects
    strict: bool = True  # False (drift): report unsafe or impossible changes, don't refuse

    def saved(self) -> dict[str, Any]:
        """The options that shape a plan, as a saved plan records them (the stack apart):
        enough to plan its manifests again exactly as they were planned."""
        return {"prune": self.prune, "adopt": self.adopt, "force": self.force,
                "bulk_threshold": self.bulk_threshold, "bulk_minimum": self.bulk_minimum}

    @classmethod
    def from_saved(cls, stack: str, saved: dict[str, Any]) -> PlanOptions:
        """The options :meth:`saved` recorded; ValueError if they are not exactly those."""
        expected = cls().saved()
        if set(saved) != set(expected) or any(
                isinstance(saved[k], bool) is not isinstance(v, bool)
                or not isinstance(saved[k], (bool, int, float)) for k, v in expected.items()):
            raise ValueError(f"its options {saved!r} are not those a plan records "
                             f"({', '.join(expected)})")
        return cls(stack=stack, **saved)


def _flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and not is_ref(value) and value:
        return [item for k, v in value.items()
                for item in _flatten(v, f"{path}.{k}" if path else k)]
    return [(path, value)]


def _unverified(kind: Kind, entry: Entry, live: dict[str, Any],
                ignore: tuple[str, ...]) -> tuple[str, ...]:
    """Stated fields that Stripe does not show and no tag recorded: said, not guessed."""
    warnings = []
    for name in unrecorded(kind, live):
        if name in entry.spec and name not in ignore:
            message = (f"{name} cannot be verified: Stripe does not show it, and {live['id']} "
                       f"has no '{record_tag(name)}' tag (reconciler did not create it); if "
                       "the manifest is right, add that metadata key with the value true or "
                       f"false, or list {name} in ignore_changes")
            warnings.append(message)
    return tuple(warnings)


UNSAVED_SECRET = (
    "{id} was created, but its signing secret was not saved (tag reconciler_secret_unsaved). "
    "Stripe shows it only in the Dashboard now (Developers > Webhooks > the endpoint > "
    "Signing secret: reveal it, or roll it), or delete the endpoint and apply with "
    "--secrets-out FILE to create it again with a new secret that is saved. Once the "
    "receiving service has the secret, remove the tag: metadata[reconciler_secret_unsaved]= "
    "on the endpoint (docs/troubleshooting.md)")


def _unsaved(live: dict[str, Any]) -> tuple[str, ...]:
    """Said by every plan until it is resolved: an earlier apply could not save the secret."""
    return (UNSAVED_SECRET.format(id=live["id"]),) if secret_unsaved(live) else ()


class _Planner:
    def __init__(self, manifest: Manifest, live: LiveState, options: PlanOptions):
        self.manifest = manifest
        self.live = live
        self.options = options
        self.ids: dict[tuple[str, str], Any] = {}  # (kind, key) -> id or placeholder
        self.changes: list[Change] = []
        self.problems: list[Problem] = []
        self.matches: dict[str, Matches] = {}
        self.warnings: list[str] = []
        context = PlanContext(manifest, live, self.matches, self.resolve, options.prune,
                              options.stack)
        self.hooks: dict[str, Planning] = {
            name: kind.hooks.planning(kind, context) for name, kind in KINDS.items()}
        self.used = referenced(live.objects)
        self.pinned = referenced(live.objects, pins_only=True)
        self._referrers: records.Referrers | None = None  # made when a claim needs it

    def resolve(self, kind_name: str, key: str) -> Any:
        return self.ids.get((kind_name, key), ref(kind_name, key))

    def run(self) -> list[Change]:
        for name, kind in KINDS.items():
            phase = change_phase(name)
            hooks = self.hooks[name]
            if kind.parent:
                self.changes += hooks.changes(phase)
                continue
            entries = self.manifest.entries[name]
            found = match_kind(kind, entries, self.live.objects.get(name, []),
                               self.options.stack, self.options.adopt, self.same_content(kind),
                               self.used)
            self.matches[name] = found
            self.problems += found.conflicts
            for entry in entries.values():
                change = self.plan_entry(kind, entry, found, phase)
                if change is not None:
                    self.changes.append(change)
            self.changes = hooks.settle(self.changes, self.ids)
        self.changes += self.plan_removals()
        return self.changes

    def same_content(self, kind: Kind):
        def same(entry: Entry, obj: dict[str, Any]) -> bool:
            params = desired(kind, entry, self.resolve, self.options.stack)
            params["metadata"] = {**(obj.get("metadata") or {}), **(entry.spec.get("metadata") or {})}
            return not diff(kind, params, obj)
        return same

    def plan_entry(self, kind: Kind, entry: Entry, found: Matches, phase: int) -> Change | None:
        live = found.live.get(entry.key)
        params = desired(kind, entry, self.resolve, self.options.stack)
        hooks = self.hooks[kind.name]
        then = hooks.then(entry.key)
        if live is None:
            if entry.key in found.conflicted or not self.namesake_allows(kind, entry, found):
                return None
            fields = tuple(FieldDiff(p, None, v) for p, v in _flatten(params))
            return Change(kind.name, entry.key, Action.CREATE, ("create",), None, fields,
                          tuple(steps.create(kind, params) + then), kind.create_warnings,
                          phase=phase)
        claim = self.claim(kind, entry, live, found)
        if claim is False:
            return None
        self.ids[(kind.name, entry.key)] = live["id"]
        ignore = tuple(entry.options.get("ignore_changes", ()))
        desired_live = dict(params)
        if "active" in kind.update_params and "active" not in desired_live:
            desired_live["active"] = True  # a managed object archived out of band comes back
        diffs = diff(kind, desired_live, live, ignore,
                     metadata_stated="metadata" in entry.spec)
        diffs = hooks.diffs(live, diffs)
        if conflict := hooks.conflict(entry.key, params, live, diffs):
            self.problems.append(conflict)
            return None
        if claim is None and diffs:
            self.problems.append(self.unknown_owner(kind, entry, live, diffs))
            return None
        common = {"live_id": live["id"], "live_digest": digest(live), "phase": phase}
        replacing = [d for d in diffs if d.forces_replacement]
        if replacing:
            common["note"] = recreated.why(kind, live, diffs, self.manifest, self.changes,
                                           hooks)
            then = hooks.then(entry.key, replaced=live)
            if hooks.waits(entry.key, live):
                common["phase"] = waiting_phase(kind.name)
            return self.plan_replace(kind, entry, params, diffs, replacing, then, live, common)
        common["warnings"] = _unverified(kind, entry, live, ignore) + _unsaved(live)
        if entry.key in found.adopted:
            # a kind without metadata is adopted by the stack's record alone (records.py),
            # which apply writes after the changes
            adopt = (steps.update(kind, live["id"], desired_live, diffs),) if diffs or \
                kind.has_metadata else ()
            return Change(kind.name, entry.key, Action.ADOPT, ("update",), diffs=tuple(diffs),
                          steps=adopt, note=f"matched by {found.evidence[entry.key]}",
                          **common)
        if not diffs:
            return Change(kind.name, entry.key, Action.NOOP, ("no-op",), **common)
        step = steps.update(kind, live["id"], desired_live, diffs)
        return Change(kind.name, entry.key, Action.UPDATE, ("update",), diffs=tuple(diffs),
                      steps=(step,), **common)

    def claim(self, kind: Kind, entry: Entry, live: dict[str, Any], found: Matches
              ) -> bool | None:
        """For a kind without metadata (see records.py), whether this stack may take the
        object its entry matched by natural key: False when it is another stack's (refused,
        also with --force), True when it is this stack's (or adopted), None when nothing says
        whose it is: then it may be matched as long as nothing would change it."""
        if kind.name not in records.RECORDED_KINDS:
            return True
        if self._referrers is None:
            self._referrers = records.Referrers(self.live.objects)
        users = self._referrers
        stack, natural = self.options.stack, kind.identity.natural_key or "name"
        taken = records.foreign_use(kind, live, stack, self.live.records, users)
        if taken:
            self.problems.append(Problem.about(
                "foreign-record", f"{kind.name}.{entry.key}",
                f"{natural} '{live.get(natural)}' is held by "
                f"{live['id']}, which is another stack's ({taken}); "
                f"{kind.name.replace('_', ' ')} carry no metadata, so the stacks' records "
                "tell: one object cannot have two owners, and --force does not change that",
                f"Give the entry another {natural}"))
            found.conflicted.add(entry.key)
            return False
        if records.ours(kind, live, stack, self.live.records, users):
            return True
        if self.options.adopt:
            found.adopted.add(entry.key)
            found.evidence[entry.key] = f"{natural} '{live.get(natural)}'"
            return True
        return None

    def unknown_owner(self, kind: Kind, entry: Entry, live: dict[str, Any],
                      diffs: list[FieldDiff]) -> Problem:
        natural = kind.identity.natural_key or "name"
        fields = ", ".join(d.path for d in diffs)
        return Problem.about(
                "unknown-owner", f"{kind.name}.{entry.key}",
                f"{natural} '{live.get(natural)}' is held by "
                f"{live['id']}, which no stack has recorded as its own and no entry of stack "
                f"'{self.options.stack}' created ({kind.name.replace('_', ' ')} carry no "
                f"metadata): it may be another stack's or made by hand, so its {fields} is "
                "not changed", "If it is this stack's, adopt it with --adopt (or `reconciler "
                f"import`); if not, give the entry another {natural}")

    def plan_replace(self, kind: Kind, entry: Entry, params: dict[str, Any],
                     diffs: list[FieldDiff], replacing: list[FieldDiff], then: list[Step],
                     live: dict[str, Any], common: dict[str, Any]) -> Change | None:
        address = f"{kind.name}.{entry.key}"
        fields = ", ".join(d.path for d in replacing)
        del self.ids[(kind.name, entry.key)]  # dependents see the replacement as new
        refusal = None
        if entry.key in self.matches[kind.name].adopted:
            refusal = Problem.about("adopt-differs", address, (
                f"cannot adopt {live['id']}: it differs in {fields}, which cannot change in "
                "place"), "align the manifest with it first")
        elif entry.options.get("prevent_destroy"):
            refusal = Problem.about("prevent-destroy", address, (
                f"changing {fields} would replace {live['id']}, but the entry has "
                "prevent_destroy"))
        elif kind.replacement is Replacement.REFUSE and not (
                self.options.force and kind.force_replaces):
            note = f" ({common['note']})" if common["note"] else ""
            refusal = Problem.about("replacement-refused", address,
                                    f"cannot change {fields}: {kind.replacement_note}{note}")
        if refusal:
            self.problems.append(refusal)
            if self.options.strict:
                return None
            # reported, not planned: the change has no steps
            return Change(kind.name, entry.key, Action.REPLACE, ("delete", "create"),
                          diffs=tuple(diffs), **common)
        warnings = kind.create_warnings + kind.replace_warnings
        actions = (kind.replacement.actions if kind.replacement is not Replacement.REFUSE
                   else ("delete", "create"))
        return Change(kind.name, entry.key, Action.REPLACE, actions, diffs=tuple(diffs),
                      steps=tuple(steps.replace(kind, live["id"], params, then)),
                      warnings=warnings, **common)

    def namesake_allows(self, kind: Kind, entry: Entry, found: Matches) -> bool:
        """Whether a new entry may be created beside the live object with its label (a meter
        with its display name, see match.py): refused, with the reason, unless forced; and
        when forced, the namesake is left alone, as nothing says it was this entry's."""
        namesake = found.by_label.get(entry.key)
        if namesake is None:
            return True
        what = kind.stripe_object.rsplit(".", 1)[-1]
        natural, label = kind.identity.natural_key, kind.identity.label
        assert natural is not None and label is not None
        found_it = (f"{kind.name}.{entry.key}: no live {what} has {natural} "
                    f"'{entry.spec.get(natural)}', but {namesake['id']} has the "
                    f"{label} '{namesake.get(label)}' with {natural} '{namesake.get(natural)}'")
        if self.options.force:
            self.warnings.append(
                f"{found_it}; a new {what} is created and {namesake['id']} stays active: "
                f"reconciler cannot tell whether it was this entry's ({what}s carry no "
                "metadata); if it was, deactivate it yourself")
            return True
        self.problems.append(Problem(
            "namesake",
            found_it, f"{kind.name}.{entry.key}",
            f"a {what}'s {natural} is permanent: if {namesake['id']} is this "
            f"entry's, put its {natural} back, or deactivate it yourself and plan again; if "
            f"it is another {what}, give the entry another {label}. --force creates the new "
            f"{what} and leaves {namesake['id']} active"))
        return False

    def plan_removals(self) -> list[Change]:
        removals: list[Change] = []
        leftovers = 0
        for name, kind in reversed(MANIFEST_KINDS.items()):
            found = self.matches.get(name)
            if found is None:
                continue
            phase = removal_phase(name)
            for obj in found.superseded:
                if not self.retired(kind, obj):
                    removals += self.duplicate(kind, obj, found, phase)
            for obj in found.orphans:
                if obj.get("active") is False or self.retired(kind, obj):
                    continue
                if not self.options.prune:
                    leftovers += 1
                elif protected(obj):
                    self.problems.append(Problem.about(
                        "prevent-destroy", f"{name}.{owner(obj)[1]}",
                        f"cannot remove {obj['id']}: it was applied "
                        f"with prevent_destroy (metadata {PREVENT_DESTROY})", "to remove it, put "
                        "the entry back without prevent_destroy and apply, then delete it"))
                    if not self.options.strict:  # drift lists it as orphaned
                        removals.append(self.removal(kind, obj, phase, refused=True))
                else:
                    removals.append(self.removal(kind, obj, phase))
        if leftovers:
            self.warnings.append(
                f"{plural.count(leftovers, 'object')} owned by stack '{self.options.stack}' "
                f"{plural.form(leftovers, 'is', 'are')} no longer in the manifests; plan with "
                f"--prune to remove {plural.form(leftovers, 'it', 'them')}")
        return removals

    def duplicate(self, kind: Kind, obj: dict[str, Any], found: Matches,
                  phase: int) -> list[Change]:
        """The removal of a twin of an entry's match (see match.py), saying which one is
        kept and why; refused when the twin or the entry is protected."""
        key = owner(obj)[1] or ""
        kept = found.live[key]
        note = f"a duplicate of {kept['id']}, which is kept: {found.kept[key]}"
        entry = self.manifest.entries[kind.name].get(key)
        guard = ("it was applied with prevent_destroy" if protected(obj) else
                 "the entry has prevent_destroy" if entry and entry.options.get(
                     "prevent_destroy") else "")
        if not guard:
            return [replace(self.removal(kind, obj, phase, kept), note=note)]
        self.problems.append(Problem.about(
            "prevent-destroy", f"{kind.name}.{key}",
            f"cannot remove {obj['id']}, {note}; {guard}", "Remove the "
            "reconciler_key tag from the one that should not be this entry's, or archive "
            "it yourself"))
        if self.options.strict:
            return []
        return [replace(self.removal(kind, obj, phase, refused=True), note=note)]

    def retired(self, kind: Kind, obj: dict[str, Any]) -> bool:
        return self.hooks[kind.name].retired(obj)

    def removal(self, kind: Kind, obj: dict[str, Any], phase: int,
                successor: dict[str, Any] | None = None, *, refused: bool = False) -> Change:
        """Archive or delete ``obj``; ``refused``: reported (drift), not planned, so the
        change has no steps, as a refused replacement has none."""
        removal = kind.removal
        if removal is Removal.DELETE_OR_ARCHIVE:
            held = (kind.name, obj["id"]) in self.pinned
            removal = Removal.ARCHIVE if held else Removal.DELETE
        action = Action.DELETE if removal is Removal.DELETE else Action.ARCHIVE
        key = owner(obj)[1] or obj["id"]
        diffs = (FieldDiff("active", True, False),) if action is Action.ARCHIVE else ()
        if refused:
            return Change(kind.name, key, action, ("delete",), obj["id"], diffs,
                          live_digest=digest(obj), phase=phase)
        before, problems = self.hooks[kind.name].release(obj, key, successor)
        self.problems += problems
        return Change(kind.name, key, action, ("delete",), obj["id"], diffs,
                      (*before, steps.remove(kind, obj["id"], removal)),
                      live_digest=digest(obj), phase=phase)


async def read_for_plan(manifest: Manifest, client: StripeClient,
                        options: PlanOptions) -> LiveState:
    """What a plan with ``options`` reads (the same for ``apply``'s rebuild of a saved plan):
    the kinds the manifests define and refer to; with ``prune`` every kind, so objects this
    stack owns in a kind that left the manifests entirely are pruned too."""
    return await read_for(manifest, client, everything=options.prune)


async def make_plan(manifest: Manifest, client: StripeClient,
                    options: PlanOptions | None = None) -> Plan:
    """Read the live account and plan against it."""
    options = options or PlanOptions()
    return build_plan(manifest, await read_for_plan(manifest, client, options), options)


def build_plan(manifest: Manifest, live: LiveState, options: PlanOptions | None = None) -> Plan:
    """The plan that makes the live account match the manifests. Raises PlanError."""
    options = options or PlanOptions()
    planner = _Planner(manifest, live, options)
    changes = planner.run()
    problems = planner.problems + check_guards(changes, planner.matches, options)
    if problems and options.strict:
        raise PlanError(problems)
    warnings = live.warnings + planner.warnings + [
        w if w.startswith(c.address) else f"{c.address}: {w}" for c in changes for w in c.warnings]
    return Plan(
        account_id=live.account_id, livemode=live.livemode, api_version=API_VERSION,
        stack=options.stack, manifest_digest=digest(manifest.as_document()),
        live_fingerprint=live.fingerprint(),
        changes=tuple(sorted(changes, key=lambda c: c.phase)),
        options=options.saved(), warnings=tuple(warnings), tool_version=__version__,
        problems=tuple(problems), manifest=manifest.as_document(),
    )
