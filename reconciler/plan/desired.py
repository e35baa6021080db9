"""What a manifest entry asks Stripe for: its parameters with references resolved.

References name entries by manifest key. When the target already exists in Stripe the
reference becomes its id; when it will only be created by this plan it stays a
``{"$ref": "kind.key"}`` placeholder that the applier fills in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from reconciler.kinds import Kind, Path
from reconciler.manifests import Entry
from reconciler.ownership import records, tags

Resolver = Callable[[str, str], Any]
"""(kind, manifest key) -> live id, or a ``{"$ref": ...}`` placeholder."""


def ref(kind_name: str, key: str) -> dict[str, str]:
    return {"$ref": f"{kind_name}.{key}"}


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$ref"}


def _set(target: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def desired(kind: Kind, entry: Entry, resolve: Resolver, stack: str) -> dict[str, Any]:
    """The full desired state of an entry, in Stripe's parameter names.

    Tool fields (a product's ``features``) and deferred references (a product's
    ``default_price``) are left out: they are separate changes or steps.
    """
    params = copy.deepcopy(entry.spec)
    for reference in kind.references:
        for path, target in reference.values(params):
            if reference.deferred or reference.tool_field:
                continue
            _set(params, path, resolve(reference.kind, target))
    for reference in kind.references:
        if reference.deferred or reference.tool_field:
            params.pop(reference.path.split(".")[0].removesuffix("[]"), None)
    if kind.identity.is_stripe_id:
        params["id"] = kind.identity.of_entry(entry.key, entry.spec)
    if kind.has_metadata:
        params["metadata"] = {**(params.get("metadata") or {}),
                              **tags(stack, entry.key, bool(entry.options.get("prevent_destroy")))}
    return params


def create_params(kind: Kind, params: dict[str, Any], *,
                  transfer: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split desired params into (create request, follow-up update for update-only fields).

    ``transfer``: the new object takes its lookup key from the object it replaces. A plain
    create never does: a price that took the key after planning is not ours to strip, so
    Stripe's refusal stops the apply instead. The create also tags what the object is
    created with where Stripe will not show it (the kind's ``recorded`` fields).
    """
    create = {k: v for k, v in params.items() if k in kind.create_params}
    if kind.recorded:
        create["metadata"] = {**(create.get("metadata") or {}), **records(kind, params)}
    later = {k: v for k, v in params.items() if k not in kind.create_params}
    if transfer and "lookup_key" in create and "transfer_lookup_key" in kind.create_params:
        create["transfer_lookup_key"] = True  # take the key from the replaced price
    return create, later
