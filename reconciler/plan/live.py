"""Reading the live account: one paginated list per kind, read concurrently.

Only the kinds a run needs are read (:func:`needed_kinds`), so a restricted key with Read on
the catalog's kinds is enough; a key that may not read the account is not: the account is
recorded as unknown, with a warning, and the mode is the key's.

Never one GET per object: a catalog of N objects of a kind costs ceil(N/100) requests.
Product features are the exception Stripe imposes (they are listed per product), and are
read only for the products the manifests manage.

Promotion codes are listed with their coupon expanded: a code belongs to the coupon object it
was made for, which Stripe embeds even once deleted, and only that object (its ``created``, its
``valid``) tells it from a coupon re-created under the same id. The code keeps the coupon's id,
as every other layer expects; the embedded coupon is kept beside it (``own_coupons``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds import KINDS, MANIFEST_KINDS, Kind
from reconciler.manifests import Manifest
from reconciler.ownership import is_control, owner
from reconciler.permissions import permission_in
from reconciler.stripe import UNKNOWN_ACCOUNT, Account, StripeClient

from . import records
from .model import digest


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


async def _list_codes(client: StripeClient) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Promotion codes, each with its coupon's id, and the coupon objects they embed."""
    codes = await list_kind(client, KINDS["promotion_codes"], more=("data.promotion.coupon",))
    own = {code["id"]: code["promotion"]["coupon"] for code in codes}
    for code in codes:
        code["promotion"]["coupon"] = own[code["id"]]["id"]
    return codes, own


async def read_live(client: StripeClient, kinds: Iterable[str],
                    products_with_features: Iterable[str] = ()) -> LiveState:
    """The account and every object of ``kinds``; and the feature attachments of the
    products (by id) whose manifest entries state ``features``, read as soon as the products
    are (not after every other kind: the longest list would delay them all)."""
    names = [name for name in kinds if not KINDS[name].parent]
    wanted = set(products_with_features)
    features = KINDS["product_features"]
    attachments: dict[str, list[dict[str, Any]]] = {}
    own_coupons: dict[str, dict[str, Any]] = {}
    control: list[dict[str, Any]] = []
    # A few attachment lists at a time: queued all at once, they would hold the client's
    # rate limiter and concurrency bound (both first come, first served) and stall the
    # longest paginated list, which is what the plan waits for.
    bound = asyncio.Semaphore(max(1, client.max_concurrency // 3))

    async def few(read: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        async with bound:
            return await read

    async def read(name: str) -> list[dict[str, Any]]:
        if name == "promotion_codes":
            codes, own = await _list_codes(client)
            own_coupons.update(own)
            return codes
        objects = await list_kind(client, KINDS[name], control=control)
        if name == "products":
            ids = [p["id"] for p in objects if p["id"] in wanted]
            attached = await asyncio.gather(*(few(list_kind(client, features, pid))
                                              for pid in ids))
            attachments.update(zip(ids, attached))
        return objects

    account, *lists = await asyncio.gather(client.readable_account(),
                                           *(read(name) for name in names))
    read_done(client)
    objects = {name: [] for name in MANIFEST_KINDS} | dict(zip(names, lists))
    if isinstance(account, Account):
        state = LiveState(account.id, account.livemode, objects)
    else:
        mode = "live" if client.key_livemode else "test"
        needs = permission_in(account.message or "")
        warning = (f"the key may not read the account{f' ({needs.name})' if needs else ''}: "
                   f"the account is recorded as unknown and the mode ({mode}) taken from the "
                   "key; a saved plan is still checked against the objects it read")
        state = LiveState(UNKNOWN_ACCOUNT, client.key_livemode, objects, warnings=[warning])
    state.attachments = attachments
    state.own_coupons = own_coupons
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
    natural = {kind.natural_value("", o) for o in objects}
    return any(key not in tagged and (kind.natural_value(key, e.spec) or "\0") not in natural
               for key, e in manifest.entries[kind.name].items())


def _priceless_orphans(manifest: Manifest, objects: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether a managed product that left the manifests shows no current price: it may have
    archived ones, and then Stripe refuses to delete it (it must be archived instead)."""
    priced = {p.get("product") for p in objects.get("prices", [])}
    return any(obj.get("active") is not False and obj["id"] not in priced
               and (key := owner(obj)[1]) is not None and key not in manifest.entries["products"]
               for obj in objects.get("products", []))


def needed_kinds(manifest: Manifest, everything: bool = False) -> list[str]:
    """The kinds a run over ``manifest`` reads: those its entries define and those they refer
    to, in dependency order; every kind with ``everything`` (prune, unmanaged objects)."""
    if everything:
        return list(MANIFEST_KINDS)
    wanted = {name for name, entries in manifest.entries.items() if entries}
    wanted |= {ref.kind for name in list(wanted) for entry in manifest.entries[name].values()
               for ref in KINDS[name].references if ref.values(entry.spec)}
    if wanted & set(records.RECORDED_KINDS):  # whose they are: the records, and prices' meters
        wanted |= {"products", "prices"}
    return [name for name in MANIFEST_KINDS if name in wanted]


async def read_for(manifest: Manifest, client: StripeClient, everything: bool = False
                   ) -> LiveState:
    """Everything a plan of ``manifest`` needs: the kinds of :func:`needed_kinds` (objects
    this stack owns in other kinds are seen only with ``everything``), and the feature
    attachments of the products that state ``features``. Archived prices and features,
    which Stripe lists only on request, are read when an entry finds no current object
    (one more list)."""
    products = KINDS["products"]
    with_features = [value for e in manifest.entries["products"].values()
                     if "features" in e.spec and (value := products.natural_value(e.key, e.spec))]
    kinds = needed_kinds(manifest, everything)
    state = await read_live(client, kinds, with_features)
    await add_archived(client, state, [
        kind for kind in HIDES_ARCHIVED if kind.name in kinds and (
            _unseen(kind, manifest, state.objects[kind.name])
            or (kind.name == "prices" and _priceless_orphans(manifest, state.objects)))])
    return state
