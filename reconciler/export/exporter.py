"""Read the account, convert every object, write one file per kind.

The output is meant to be committed: stable ordering, readable keys, references by key,
no secrets, and it passes ``reconciler validate``. Objects other exported objects point at
are exported even when archived, so references never dangle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from reconciler.fsutil import default_mode, write_atomic
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.manifests.schema import render as render_schema
from reconciler.plan.live import list_inactive, list_kind, read_done
from reconciler.stripe import StripeClient

from .convert import to_entry
from .keys import assign
from .target import check_target

HEADER = ("# yaml-language-server: $schema={schema}\n"
          "# Exported by `reconciler export`. Review before committing.\n")


async def _list(client: StripeClient, kind: str, include_archived: bool) -> list[dict[str, Any]]:
    spec = KINDS[kind]
    objects = await list_kind(client, spec)
    if include_archived and spec.archived_filter:
        objects += await list_inactive(client, spec)
    return objects


def _live(obj: dict[str, Any]) -> bool:
    return obj.get("active", True) is not False and obj.get("status") != "inactive"


async def read_account(client: StripeClient, kinds: Iterable[str], include_archived: bool
                       ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """(objects by kind, feature attachments by product id)."""
    names = list(kinds)
    lists = await asyncio.gather(*(_list(client, k, include_archived) for k in names))
    objects = dict(zip(names, lists))
    products = [p["id"] for p in objects.get("products", [])]
    attached = await asyncio.gather(
        *(list_kind(client, KINDS["product_features"], pid) for pid in products))
    if "features" in objects:  # an archived feature still attached is listed with its product
        known = {f["id"] for f in objects["features"]}
        for attachment in (a for found in attached for a in found):
            feature = attachment["entitlement_feature"]
            if feature["id"] not in known:
                objects["features"].append(feature)
                known.add(feature["id"])
    read_done(client)
    return objects, dict(zip(products, attached))


def _needed(objects: dict[str, list[dict[str, Any]]], include_archived: bool,
            attachments: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The objects to export: current ones (or all that a manifest can describe: a
    deactivated meter has no ``active`` to write), plus whatever those reference (an archived
    feature still attached to a product too, or the product would detach it)."""
    keep = {k: {o["id"] for o in objs if _live(o) or (
                include_archived and "active" in MANIFEST_KINDS[k].manifest_params)}
            for k, objs in objects.items()}
    if "features" in keep:
        keep["features"] |= {a["entitlement_feature"]["id"] for product in keep.get("products", ())
                             for a in attachments.get(product, [])}
    for kind, objs in objects.items():
        for ref in MANIFEST_KINDS[kind].references:
            if ref.tool_field or ref.kind not in keep:
                continue
            for obj in objs:
                if obj["id"] in keep[kind]:
                    keep[ref.kind] |= {v for _, v in ref.values(obj)}
    return {k: [o for o in objs if o["id"] in keep[k]] for k, objs in objects.items()}


def to_documents(objects: dict[str, list[dict[str, Any]]],
                 attachments: dict[str, list[dict[str, Any]]], *, stack: str,
                 include_archived: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
    """kind -> manifest key -> fields, for every exported object."""
    chosen = _needed(objects, include_archived, attachments)
    key_of: dict[str, dict[str, str]] = {}
    for kind in MANIFEST_KINDS:  # dependency order: products are keyed before prices
        if kind in chosen:
            key_of[kind] = assign(kind, chosen[kind], key_of.get("products", {}), stack)
    documents: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, objs in chosen.items():
        spec = MANIFEST_KINDS[kind]
        entries = {}
        for obj in objs:
            key = key_of[kind][obj["id"]]
            entry = to_entry(spec, obj, key, key_of)
            if kind == "products":
                features = [key_of.get("features", {}).get(a["entitlement_feature"]["id"])
                            for a in attachments.get(obj["id"], [])]
                if any(features):
                    entry["features"] = sorted(f for f in features if f)
            entries[key] = entry
        if entries:
            documents[kind] = dict(sorted(entries.items()))
    return documents


def file_names(schema: str = "manifest.schema.json") -> list[str]:
    """Every file an export may write into its folder."""
    return [f"{kind}.yaml" for kind in MANIFEST_KINDS] + [schema]


def write_documents(documents: dict[str, dict[str, dict[str, Any]]], directory: Path,
                    schema: str = "manifest.schema.json", *, force: bool = False) -> list[Path]:
    """One file per kind, each written atomically; refused (ExportTargetError) through a
    symlink, or over manifests without ``force``."""
    check_target(directory, file_names(schema), force=force)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in MANIFEST_KINDS:
        if kind not in documents:
            continue
        path = directory / f"{kind}.yaml"
        body = yaml.safe_dump({kind: documents[kind]}, sort_keys=False, allow_unicode=True,
                              default_flow_style=False, width=100)
        write_atomic(path, HEADER.format(schema=schema) + body, mode=default_mode())
        written.append(path)
    write_atomic(directory / schema, render_schema(), mode=default_mode())
    return written


def _with_references(kinds: Iterable[str]) -> list[str]:
    """The kinds asked for and every kind they reference, however indirectly (a promotion
    code's coupon names products, whose default prices name meters): no reference dangles."""
    wanted = set(kinds)
    pending = list(wanted)
    while pending:
        for reference in MANIFEST_KINDS[pending.pop()].references:
            if not reference.tool_field and reference.kind not in wanted:
                wanted.add(reference.kind)
                pending.append(reference.kind)
    return [k for k in MANIFEST_KINDS if k in wanted]


async def export(client: StripeClient, directory: Path, *, kinds: Iterable[str] | None = None,
                 include_archived: bool = False, stack: str = "default",
                 schema: str = "manifest.schema.json", force: bool = False) -> list[Path]:
    check_target(directory, file_names(schema), force=force)  # before reading the account
    names = _with_references(kinds or MANIFEST_KINDS)
    objects, attachments = await read_account(client, names, include_archived)
    documents = to_documents(objects, attachments, stack=stack, include_archived=include_archived)
    return write_documents(documents, directory, schema, force=force)
