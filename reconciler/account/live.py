"""Reading the live account: one paginated list per kind, read concurrently.

Only the kinds a run needs are read (:func:`needed_kinds`), so a restricted key with Read on
the catalog's kinds is enough; a key that may not read the account is not: the account is
recorded as unknown, with a warning, and the mode is the key's.

Never one GET per object: a catalog of N objects of a kind costs ceil(N/100) requests.
Sub-resources (product features) are the exception Stripe imposes (they are listed per
parent), and are read only for the parents whose entries list them. A kind may read its list
its own way (its ``read`` hook: promotion codes with their coupon expanded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.digests import digest
from reconciler.kinds import CONTROL_KIND, KINDS, MANIFEST_KINDS, Kind
from reconciler.manifests import Manifest
from reconciler.ownership import is_control, owner
from reconciler.permissions import permission_in
from reconciler.stripe import UNKNOWN_ACCOUNT, Account, StripeClient

from . import records


def in_use(obj: Mapping[str, Any]) -> bool:
    """Not archived (``active: false``) nor deactivated (a meter's ``status``)."""
    return obj.get("active", True) is not False and obj.get("status") != "inactive"


@dataclass
class LiveState:
    account_id: str
    livemode: bool
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by kind name
    attachments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by product id
    own_coupons: dict[str, dict[str, Any]] = field(default_factory=dict)  # by promotion code id
    warnings: list[str] = field(default_factory=list)  # what could not be read, and why
    records: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # see records.py

    def fingerprint(self) -> str:
        """Identifies everything read, to tell later whether the account changed."""
        return digest({
            "objects": {k: sorted(objs, key=lambda o: o["id"]) for k, objs in
                        sorted(self.objects.items())},
            "attachments": {p: sorted(a, key=lambda o: o["id"]) for p, a in
                            sorted(self.attachments.items())},
        })


async def list_kind(client: StripeClient, kind: Kind, parent_id: str | None = None,
                    more: tuple[str, ...] = (), control: list[dict[str, Any]] | None = None
                    ) -> list[dict[str, Any]]:
    """Every catalog object of ``kind`` (under a parent), with its ``list_expand`` and
    ``more``: the tool's control objects (the apply lock, ownership records) are left out
    here, once for every reader (plan, drift, the staleness check, export, import), and put
    in ``control`` when given."""
    path = kind.path.replace("{product}", parent_id) if parent_id else kind.path
    found = []
    for obj in await _read_list(client, kind, path, {}, kind.list_expand + more):
        if not is_control(obj):
            found.append(obj)
        elif control is not None:
            control.append(obj)
    return found


async def read_live(client: StripeClient, kinds: Iterable[str],
                    products_with_features: Iterable[str] | None = ()) -> LiveState:
    """The account and every object of ``kinds``; and the sub-resources (feature
    attachments) of the parents (products, by id) whose manifest entries list them (of every
    parent read, given None: export describes them all), read as soon as the parents are
    (not after every other kind: the longest list would delay them all)."""
    names = [name for name in kinds if not KINDS[name].parent]
    wanted = None if products_with_features is None else set(products_with_features)
    children = {kind.parent: kind for kind in KINDS.values() if kind.parent}
    state = LiveState(UNKNOWN_ACCOUNT, client.key_livemode)
    control: list[dict[str, Any]] = []
    # A few attachment lists at a time: queued all at once, they would hold the client's
    # rate limiter and concurrency bound (both first come, first served) and stall the
    # longest paginated list, which is what the plan waits for.
    bound = asyncio.Semaphore(max(1, client.max_concurrency // 3))

    async def few(read: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        async with bound:
            return await read

    async def read(name: str) -> list[dict[str, Any]]:
        kind = KINDS[name]
        objects = await kind.hooks.read(kind, client, state, control)
        if (child := children.get(name)) is not None:
            ids = [p["id"] for p in objects if wanted is None or p["id"] in wanted]
            attached = await asyncio.gather(*(few(list_kind(client, child, pid))
                                              for pid in ids))
            state.attachments.update(zip(ids, attached))
        return objects

    account, *lists = await asyncio.gather(client.readable_account(),
                                           *(read(name) for name in names))
    read_done(client)
    state.objects = {name: [] for name in MANIFEST_KINDS} | dict(zip(names, lists))
    if isinstance(account, Account):
        state.account_id, state.livemode = account.id, account.livemode
    else:
        mode = "live" if client.key_livemode else "test"
        needs = permission_in(account.message or "")
        warning = (f"the key may not read the account{f' ({needs.name})' if needs else ''}: "
                   f"the account is recorded as unknown and the mode ({mode}) taken from the "
                   "key; a saved plan is still checked against the objects it read")
        state.warnings.append(warning)
    state.records = dict(record for obj in control if (record := records.parse(obj)))
    return state



HIDES_ARCHIVED = [kind for kind in KINDS.values() if kind.archived_filter]
"""Kinds whose list leaves archived objects out unless asked (``archived_filter``)."""


async def list_inactive(client: StripeClient, kind: Kind) -> list[dict[str, Any]]:
    return [obj for obj in await _read_list(client, kind, kind.path, kind.archived_filter,
                                            kind.list_expand)
            if not is_control(obj)]


def read_done(client: StripeClient) -> None:
    """A read is over: its progress display, if any, ends (before the plan is printed)."""
    if client.read_progress is not None:
        client.read_progress.done()


async def _read_list(client: StripeClient, kind: Kind, path: str, params: Mapping[str, str],
                     expand: tuple[str, ...]) -> list[dict[str, Any]]:
    """One list, in parallel time ranges where the kind's list allows it (a long one then
    takes a fraction of the round trips of one chain of pages)."""
    if kind.partitioned_list:
        return await client.list_partitioned(path, params, expand=expand)
    return [obj async for obj in client.list_all(path, params, expand=expand)]


async def add_archived(client: StripeClient, state: LiveState, kinds: list[Kind]) -> None:
    """Read the archived objects of ``kinds`` into ``state`` (one more list each)."""
    lists = await asyncio.gather(*(list_inactive(client, kind) for kind in kinds))
    read_done(client)
    for kind, extra in zip(kinds, lists):
        state.objects[kind.name] += extra


def _unseen(kind: Kind, manifest: Manifest, objects: list[dict[str, Any]]) -> bool:
    """Whether an entry finds no current object by its tag or natural key: it may be archived
    (by hand, or exported with --include-archived), so the archived list is read too."""
    tagged = {owner(o)[1] for o in objects}
    natural = {kind.identity.of_live(o) for o in objects}
    return any(key not in tagged and (kind.identity.of_entry(key, e.spec) or "\0") not in natural
               for key, e in manifest.entries[kind.name].items())


def referenced(objects: Mapping[str, list[dict[str, Any]]], *,
               pins_only: bool = False) -> set[tuple[str, str]]:
    """The objects, as (kind, id), that the live ``objects`` name in their references: of
    two objects tagged with one key, the one in use is kept (see match.py). ``pins_only``:
    those a reference keeps from being deleted (``Reference.pins``: a product with prices).
    As pairs: a product and a coupon may share an id."""
    return {(ref.kind, value) for name, found in objects.items()
            for ref in KINDS[name].references if ref.pins or not pins_only
            for other in found for _, value in ref.values(other)}


def _unpinned_orphans(kind: Kind, manifest: Manifest,
                      objects: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether a managed object that left the manifests, of a kind ``kind`` pins, shows no
    current object pinning it: archived ones may (a product's archived prices), and then
    Stripe refuses to delete it (it must be archived instead)."""
    held = referenced(objects, pins_only=True)
    return any(obj.get("active") is not False and (ref.kind, obj["id"]) not in held
               and (key := owner(obj)[1]) is not None and key not in manifest.entries[ref.kind]
               for ref in kind.references if ref.pins for obj in objects.get(ref.kind, []))


def needed_kinds(manifest: Manifest, everything: bool = False) -> list[str]:
    """The kinds a run over ``manifest`` reads: those its entries define and those they refer
    to, in dependency order; every kind with ``everything`` (prune, unmanaged objects)."""
    if everything:
        return list(MANIFEST_KINDS)
    wanted = {name for name, entries in manifest.entries.items() if entries}
    wanted |= {ref.kind for name in list(wanted) for entry in manifest.entries[name].values()
               for ref in KINDS[name].references if ref.values(entry.spec)}
    if recorded := wanted & set(records.RECORDED_KINDS):
        # whose they are: the records (control products), and the objects referring to them
        wanted |= {CONTROL_KIND} | {name for name, kind in MANIFEST_KINDS.items() if any(
            ref.kind in recorded for ref in kind.references)}
    return [name for name in MANIFEST_KINDS if name in wanted]


async def read_for(manifest: Manifest, client: StripeClient, everything: bool = False
                   ) -> LiveState:
    """Everything a plan of ``manifest`` needs: the kinds of :func:`needed_kinds` (objects
    this stack owns in other kinds are seen only with ``everything``), and the feature
    sub-resources of the parents that list them. Archived prices and features, which Stripe
    lists only on request, are read when an entry finds no current object (one more list),
    or when an object left the manifests that such objects may pin."""
    kinds = needed_kinds(manifest, everything)
    state = await read_live(client, kinds, listing_parents(manifest))
    await add_archived(client, state, [
        kind for kind in HIDES_ARCHIVED if kind.name in kinds and (
            _unseen(kind, manifest, state.objects[kind.name])
            or _unpinned_orphans(kind, manifest, state.objects))])
    return state


def listing_parents(manifest: Manifest) -> list[str]:
    """The ids of the parents whose entries list sub-resources (products stating
    ``features``)."""
    return [value for child in KINDS.values() if child.parent and child.listed_in
            for e in manifest.entries[child.parent].values() if child.listed_in in e.spec
            and (value := KINDS[child.parent].identity.of_entry(e.key, e.spec))]
