"""The shape of a kind description.

A :class:`Kind` is the one place that says how a Stripe resource is managed: its endpoint,
how a manifest entry finds its live object, which fields can change in place and which force
a replacement, how it is removed, and what it references. The Stripe facts (parameters, types,
create-only fields) are not restated here: they are read from the reference data, so a kind
module only adds what the reference cannot know, such as identity and removal strategy.
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reconciler import reference

from .identity import Identity

if TYPE_CHECKING:
    from .hooks.base import Hooks

Path = tuple[str | int, ...]
Finding = tuple[Path, str]
"""A semantic problem in one entry: the path of the offending value, and a message."""

Check = Callable[[Mapping[str, Any]], Iterable[Finding]]
LiveNormalizer = Callable[[dict[str, Any]], dict[str, Any]]
ReplacementRule = Callable[[str, Any, Any], bool]


class Removal(enum.Enum):
    """What removing an object from the manifests does to it in Stripe."""

    DELETE = "delete"
    ARCHIVE = "archive"  # active=false
    DEACTIVATE = "deactivate"  # POST .../deactivate
    DELETE_OR_ARCHIVE = "delete-or-archive"  # delete when nothing depends on it, else archive


class Replacement(enum.Enum):
    """How a change to a create-only field is carried out."""

    CREATE_THEN_ARCHIVE = "create-then-archive"
    ARCHIVE_THEN_CREATE = "archive-then-create"
    DELETE_THEN_CREATE = "delete-then-create"
    CREATE_THEN_DELETE = "create-then-delete"
    REFUSE = "refuse"  # Stripe offers no safe way: the plan explains and stops

    @property
    def creates_first(self) -> bool:
        """Whether the new object exists before the old one goes (a forced replacement of a
        refusing kind removes first: its natural key is free only then)."""
        return self in (Replacement.CREATE_THEN_ARCHIVE, Replacement.CREATE_THEN_DELETE)

    @property
    def actions(self) -> tuple[str, str]:
        """Terraform-style action pair for plan JSON."""
        return ("create", "delete") if self.creates_first else ("delete", "create")


@dataclass(frozen=True)
class Link:
    """One reference between two manifest entries, as a :data:`LinkCheck` sees it."""

    key: str  # manifest key of the entry that holds the reference
    entry: Mapping[str, Any]
    target_key: str
    target: Mapping[str, Any]  # the entry the reference names


LinkCheck = Callable[[Link], Iterable[Finding]]
"""A rule Stripe applies to a pair of objects, which neither entry can be checked for alone.
Its findings are paths in the referring entry; a finding at the reference itself means the
entry may not name that target."""


@dataclass(frozen=True)
class Reference:
    """A manifest field whose value names an entry of another kind by its manifest key.

    ``path`` is dotted; ``[]`` marks list items (``applies_to.products[]``). A ``deferred``
    reference is set by an update after both objects exist, so it does not order creation
    (a product's ``default_price`` points at a price that itself needs the product).
    ``checks`` are Stripe's rules about the pair, run once the target is found.
    """

    path: str
    kind: str
    deferred: bool = False
    tool_field: bool = False  # the field is ours, not a Stripe parameter (product `features`)
    # Stripe refuses to delete the target while this object exists (a product with prices):
    # a DELETE_OR_ARCHIVE target held by one is archived instead
    pins: bool = False
    checks: tuple[LinkCheck, ...] = ()

    def findings(self, link: Link) -> list[Finding]:
        return [finding for check in self.checks for finding in check(link)]

    def values(self, entry: Mapping[str, Any]) -> list[tuple[Path, str]]:
        """Every (path, manifest key) this reference holds in one entry."""
        found: list[tuple[Path, Any]] = [((), entry)]
        for part in self.path.split("."):
            is_list = part.endswith("[]")
            name = part[:-2] if is_list else part
            nxt: list[tuple[Path, Any]] = []
            for path, value in found:
                if isinstance(value, Mapping) and name in value:
                    child = value[name]
                    if is_list and isinstance(child, list):
                        nxt.extend(((*path, name, i), item) for i, item in enumerate(child))
                    elif not is_list:
                        nxt.append(((*path, name), child))
            found = nxt
        return [(path, value) for path, value in found if isinstance(value, str)]


@dataclass(frozen=True)
class Permission:
    """What a restricted key needs to read or write a kind: Stripe names the permission
    ``rak_<stem>_read`` / ``rak_<stem>_write`` in its errors, and the Dashboard ``label``."""

    stem: str
    label: str
    known: bool = True  # the rak_ name was seen in Stripe's own messages (else assumed)


ENTRY_OPTIONS: dict[str, dict[str, Any]] = {
    "prevent_destroy": {
        "type": "boolean",
        "description": ("Refuse any plan that would delete, archive or replace this object, "
                        "also once the entry is deleted (the object carries a "
                        "reconciler_prevent_destroy tag): take the option off and apply "
                        "before deleting the entry."),
    },
    "ignore_changes": {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
        "description": "Dotted field paths whose live value is never diffed or changed.",
    },
}
"""Per-entry options the tool adds to every kind: not Stripe parameters (prevent_destroy is
kept on the object as a metadata tag, for the plan that prunes it)."""


@dataclass(frozen=True)
class Kind:
    """One managed Stripe resource, described once for every layer."""

    # -- required: what it is, and the three choices every kind makes --
    name: str  # manifest top-level key: "prices"
    stripe_object: str  # reference key and Stripe `object`: "price", "billing.meter"
    summary: str
    # how an entry finds its live object: the matching rule, and the natural key it goes by
    # (a field Stripe keeps unique within the kind) with Stripe's case rule
    identity: Identity
    removal: Removal  # the tool decides, within what Stripe offers
    replacement: Replacement  # the tool decides, within what Stripe offers

    # -- what Stripe says (the rest is read from the reference data, see `facts`) --
    permission: Permission | None = None  # a sub-resource needs its parent's
    references: tuple[Reference, ...] = ()
    constraints: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # dotted path -> schema
    checks: tuple[Check, ...] = ()
    list_expand: tuple[str, ...] = ()  # fields Stripe returns only when expanded
    # the list filter that shows archived objects, for kinds whose list leaves them out
    archived_filter: Mapping[str, str] = field(default_factory=dict)
    parent: str | None = None  # sub-resources live under a parent kind's object
    unordered: frozenset[str] = frozenset()  # list fields whose order Stripe does not keep
    normalize_live: LiveNormalizer | None = None  # Stripe's representation -> manifest's
    replaces_when: ReplacementRule | None = None  # (path, old, new): mutable-but-one-way fields
    defaults: Mapping[str, Any] = field(default_factory=dict)  # what Stripe sets when omitted
    # Stripe returns a secret of the object once, in the create response (a webhook signing
    # secret): apply keeps it, or says that it is lost
    issues_secret: bool = False
    # fields Stripe's API moved: old field -> (the new shape, a format of `{value}`; version)
    moved: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    # -- what the tool decides --
    hidden_params: frozenset[str] = frozenset()  # Stripe params a manifest may not set
    extra_fields: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    extra_required: tuple[str, ...] = ()
    replacement_note: str = ""
    create_warnings: tuple[str, ...] = ()  # said in a plan that creates one
    replace_warnings: tuple[str, ...] = ()  # said in a plan that replaces one
    # create-only parameters Stripe never shows, with the value Stripe gives when one is left
    # out: a tag records each at create (reconciler/ownership.py), and the plan compares with it
    recorded: Mapping[str, Any] = field(default_factory=dict)
    # a sub-resource: the field of its parent's entry that lists them (product `features`)
    listed_in: str | None = None
    # what names an object to a person, for the manifest key `export` gives it: the object and
    # the keys already given (kind -> live id -> key); used when neither its id (a Stripe id
    # identity) nor its natural key gives one
    export_name: Callable[[dict[str, Any], Mapping[str, Mapping[str, str]]], Any] | None = None
    # module under reconciler.kinds.hooks defining HOOKS, for rules the data above cannot
    # say (see reconciler/kinds/hooks/__init__.py); loaded on first use, as hooks work on
    # plans and the plan layer reads the kinds
    hooks_module: str | None = None

    @cached_property
    def hooks(self) -> Hooks:
        """The kind's :class:`reconciler.kinds.hooks.Hooks` (the defaults when it has none)."""
        module = importlib.import_module(f"reconciler.kinds.hooks.{self.hooks_module or 'base'}")
        hooks: Hooks = module.HOOKS
        return hooks

    @property
    def needs(self) -> frozenset[str]:
        """The kinds whose changes must finish before this kind's start: those its
        references name, and its parent. Not a deferred reference (an update sets it once
        both objects exist), nor a tool field's (a product's ``features`` are attached by
        another kind, product features, which needs both sides itself)."""
        named = {ref.kind for ref in self.references if not (ref.deferred or ref.tool_field)}
        return frozenset(named | ({self.parent} if self.parent else set()))

    @property
    def top_level(self) -> bool:
        """Whether the kind has its own top-level key in manifests."""
        return self.parent is None

    @cached_property
    def facts(self) -> dict[str, Any]:
        return reference.kind_facts(self.stripe_object)

    @property
    def path(self) -> str:
        return self.facts["base_path"]

    def built_in(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` is one every account has, which Stripe made (a kind's default
        object, marked by its identity's ``default_flag``) and no stack created."""
        flag = self.identity.default_flag
        return bool(flag and obj.get(flag))

    @property
    def partitioned_list(self) -> bool:
        """Whether the list filters on ``created`` (Stripe's list parameters, in the reference
        data), so a long list is read in parallel time ranges (reconciler/stripe/partition.py)."""
        return "created" in self.facts["params"].get("list", {})

    @property
    def has_metadata(self) -> bool:
        return bool(self.facts["has_metadata"])

    @property
    def prunable(self) -> bool:
        """Whether an object that left the manifests is found to remove: only the ownership
        tags, which live in metadata, say that a stack owns an object no entry names."""
        return self.has_metadata

    @property
    def force_replaces(self) -> bool:
        """Whether ``--force`` carries out a replacement the kind refuses: not where the
        manifest key is the Stripe id, which the old object keeps even once archived."""
        return self.replacement is Replacement.REFUSE and not self.identity.is_stripe_id

    @property
    def replacement_removal(self) -> Removal:
        """How a replacement removes the old object: the delete strategies delete; the others
        use the kind's removal, archiving where that would depend on the object's prices."""
        if self.replacement in (Replacement.DELETE_THEN_CREATE, Replacement.CREATE_THEN_DELETE):
            return Removal.DELETE
        return Removal.ARCHIVE if self.removal is Removal.DELETE_OR_ARCHIVE else self.removal

    @property
    def stripe_deletes(self) -> bool:
        """Whether Stripe has a DELETE endpoint for this kind."""
        return bool(self.facts["deletable"])

    @cached_property
    def create_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.facts["params"]["create"].items() if k != "expand"}

    @cached_property
    def update_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.facts["params"].get("update", {}).items() if k != "expand"}

    @cached_property
    def manifest_params(self) -> dict[str, Any]:
        """Stripe parameters a manifest entry may state: create and update, less hidden ones."""
        params = {**self.update_params, **self.create_params}
        return {k: v for k, v in sorted(params.items()) if k not in self.hidden_params}

    @cached_property
    def required(self) -> tuple[str, ...]:
        req = [p for p in self.facts["required_on_create"] if p not in self.hidden_params]
        return tuple(sorted({*req, *self.extra_required}))

    @cached_property
    def create_only(self) -> frozenset[str]:
        """Dotted paths that Stripe accepts on create only: changing one forces replacement."""
        return frozenset(self.facts["create_only_params"]) | frozenset(
            self.facts["create_only_nested_paths"]
        )

    @cached_property
    def update_only(self) -> frozenset[str]:
        return frozenset(self.facts["update_only_params"])

    def forces_replacement(self, path: str, old: Any = None, new: Any = None) -> bool:
        """Whether changing the field at dotted ``path`` from ``old`` to ``new`` needs a new
        object: a create-only field, or a one-way field moved the wrong way."""
        parts = path.replace("[", ".[").split(".")
        if any(".".join(parts[:i]) in self.create_only for i in range(1, len(parts) + 1)):
            return True
        return bool(self.replaces_when and self.replaces_when(path, old, new))

    @cached_property
    def unobservable(self) -> frozenset[str]:
        """Parameter paths Stripe never shows in its objects (``*`` any map key, ``[]`` any
        list item): a live value cannot be compared with them."""
        return frozenset(_unseen(self.manifest_params, self.facts["response_fields"], ""))

    def observable(self, path: str) -> bool:
        parts = re.sub(r"\[\d+\]", ".[]", path).split(".")
        for pattern in self.unobservable:
            wanted = pattern.replace("[]", ".[]").split(".")
            if len(wanted) <= len(parts) and all(
                    w in ("*", p) for w, p in zip(wanted, parts)):
                return False
        return True

    def live_view(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A live object in manifest terms (see ``normalize_live``)."""
        return self.normalize_live(obj) if self.normalize_live else obj

    def semantic_findings(self, entry: Mapping[str, Any]) -> list[Finding]:
        return [finding for check in self.checks for finding in check(entry)]


def _unseen(params: Mapping[str, Any], response: Mapping[str, Any], prefix: str) -> list[str]:
    found = []
    for name, spec in params.items():
        seen = response.get(name)
        if seen is None:
            found.append(prefix + name)
            continue
        json_type = spec.get("type")
        if json_type == "object" and seen.get("type") == "object":
            found += _unseen(spec.get("properties", {}), seen.get("properties", {}),
                             f"{prefix}{name}.")
        elif json_type == "map" and seen.get("type") == "map":
            found += _unseen(spec["values"].get("properties", {}),
                             seen["values"].get("properties", {}), f"{prefix}{name}.*.")
        elif json_type == "array" and seen.get("type") == "array":
            found += _unseen(spec["items"].get("properties", {}),
                             seen["items"].get("properties", {}), f"{prefix}{name}[].")
    return found
