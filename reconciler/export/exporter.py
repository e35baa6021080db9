"""Read the account, convert every object, write one file per kind.

The output is meant to be committed: stable ordering, readable keys, references by key,
no secrets, and it passes ``reconciler validate``. Objects other exported objects point at
are exported even when archived, so references never dangle.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from reconciler.account import HIDES_ARCHIVED, add_archived, in_use, read_live
from reconciler.fsutil import default_mode, write_atomic
from reconciler.kinds import KINDS, MANIFEST_KINDS, Kind
from reconciler.manifests.schema import render as render_schema
from reconciler.stripe import StripeClient

from .convert import to_entry
from .keys import assign
from .target import check_target

_CHILDREN = [kind for kind in KINDS.values() if kind.parent]

HEADER = ("# yaml-language-server: $schema={schema}\n"
          "# Exported by `reconciler export`. Review before committing.\n")


async def read_account(client: StripeClient, kinds: Iterable[str], include_archived: bool
                       ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """(objects by kind, sub-resources (feature attachments) by parent (product) id), read
    through the account layer as plan reads them, with every parent's sub-resources and,
    given ``include_archived``, the archived objects Stripe lists only on request."""
    names = list(kinds)
    state = await read_live(client, names, products_with_features=None)
    if include_archived:
        await add_archived(client, state, [k for k in HIDES_ARCHIVED if k.name in names])
    objects = {name: state.objects[name] for name in names}
    known = {(k, o["id"]) for k, found in objects.items() for o in found}
    for child in _CHILDREN:
        # an archived feature still attached is listed with its product
        attached = [state.attachments.get(p["id"], []) for p in objects.get(child.parent or "", [])]
        for kind_name, target in (t for found in attached for a in found for t in _named(child, a)):
            if kind_name in objects and (kind_name, target["id"]) not in known:
                objects[kind_name].append(target)
                known.add((kind_name, target["id"]))
    return objects, state.attachments


def _named(child: Kind, obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(kind, object) of what a sub-resource names, which Stripe embeds in it (the feature
    of an attachment)."""
    return [(ref.kind, obj[ref.path]) for ref in child.references
            if isinstance(obj.get(ref.path), dict)]


def _needed(objects: dict[str, list[dict[str, Any]]], include_archived: bool,
            attachments: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The objects to export: current ones (or all that a manifest can describe: a
    deactivated meter has no ``active`` to write), plus whatever those reference (an archived
    feature still attached to a product too, or the product would detach it)."""
    keep = {k: {o["id"] for o in objs if in_use(o) or (
                include_archived and "active" in MANIFEST_KINDS[k].manifest_params)}
            for k, objs in objects.items()}
    for child in _CHILDREN:
        for parent in keep.get(child.parent or "", ()):
            for kind_name, target in (t for a in attachments.get(parent, [])
                                      for t in _named(child, a)):
                if kind_name in keep:
                    keep[kind_name].add(target["id"])
    for kind_name, objs in objects.items():
        for ref in MANIFEST_KINDS[kind_name].references:
            if ref.tool_field or ref.kind not in keep:
                continue
            for obj in objs:
                if obj["id"] in keep[kind_name]:
                    keep[ref.kind] |= {v for _, v in ref.values(obj)}
    return {k: [o for o in objs if o["id"] in keep[k]] for k, objs in objects.items()}


def to_documents(objects: dict[str, list[dict[str, Any]]],
                 attachments: dict[str, list[dict[str, Any]]], *, stack: str,
                 include_archived: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
    """kind name -> manifest key -> fields, for every exported object."""
    chosen = _needed(objects, include_archived, attachments)
    key_of: dict[str, dict[str, str]] = {}
    for kind_name in MANIFEST_KINDS:  # dependency order: products are keyed before prices
        if kind_name in chosen:
            key_of[kind_name] = assign(kind_name, chosen[kind_name], key_of, stack)
    documents: dict[str, dict[str, dict[str, Any]]] = {}
    for kind_name, objs in chosen.items():
        kind = MANIFEST_KINDS[kind_name]
        entries = {}
        for obj in objs:
            key = key_of[kind_name][obj["id"]]
            entry = to_entry(kind, obj, key, key_of)
            for child in (c for c in _CHILDREN if c.parent == kind_name and c.listed_in):
                listed = [key_of.get(target_kind, {}).get(target["id"])
                          for a in attachments.get(obj["id"], [])
                          for target_kind, target in _named(child, a)]
                if any(listed):
                    entry[str(child.listed_in)] = sorted(k for k in listed if k)
            entries[key] = entry
        if entries:
            documents[kind_name] = dict(sorted(entries.items()))
    return documents


def file_names(schema: str = "manifest.schema.json") -> list[str]:
    """Every file an export may write into its folder."""
    return [f"{kind_name}.yaml" for kind_name in MANIFEST_KINDS] + [schema]


def write_documents(documents: dict[str, dict[str, dict[str, Any]]], directory: Path,
                    schema: str = "manifest.schema.json", *, force: bool = False) -> list[Path]:
    """One file per kind, each written atomically; refused (ExportTargetError) through a
    symlink, or over manifests without ``force``."""
    check_target(directory, file_names(schema), force=force)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind_name in MANIFEST_KINDS:
        if kind_name not in documents:
            continue
        path = directory / f"{kind_name}.yaml"
        body = yaml.safe_dump({kind_name: documents[kind_name]}, sort_keys=False,
                              allow_unicode=True, default_flow_style=False, width=100)
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
