"""The API requests that carry out each action, per the kind's removal and replacement rules.

Each step is one request, so an interrupted apply resumes at the next step instead of
repeating finished ones. Paths use ``{self}`` for the object the change's create produced and
``{ref:kind.key}`` for an object another change creates.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import Kind, Removal

from .desired import create_params, is_ref
from .model import SELF, FieldDiff, Step


def object_path(kind: Kind, object_id: Any, parent_id: Any = None) -> str:
    base = kind.path
    if kind.parent:
        base = base.replace("{product}", path_id(parent_id))
    return f"{base}/{path_id(object_id)}"


def path_id(value: Any) -> str:
    """A path segment for a live id or a reference placeholder."""
    if is_ref(value):
        return "{ref:" + value["$ref"] + "}"
    return str(value)


def create(kind: Kind, params: dict[str, Any], parent_id: Any = None, *,
           transfer: bool = False) -> list[Step]:
    now, later = create_params(kind, params, transfer=transfer)
    path = kind.path.replace("{product}", path_id(parent_id)) if kind.parent else kind.path
    steps = [Step("POST", path, now, produces=True, note=f"create {kind.stripe_object}")]
    if later:
        steps.append(Step("POST", f"{kind.path}/{SELF}", later,
                          note="set fields Stripe only accepts on update"))
    return steps


def update(kind: Kind, live_id: str, desired: dict[str, Any], diffs: list[FieldDiff]) -> Step:
    """A partial update sending only the fields that differ (metadata key by key)."""
    params: dict[str, Any] = {}
    for d in diffs:
        top = d.path.split(".")[0].split("[")[0]
        if top == "metadata":
            params.setdefault("metadata", {})[d.path[len("metadata."):]] = (
                "" if d.new is None else d.new)
        else:
            # Stripe clears a list or mapping with "", and ignores an empty one
            value = _updatable(kind, top, desired[top])
            params[top] = value if value not in ([], {}) else ""
    if "lookup_key" in params and "transfer_lookup_key" in kind.update_params:
        params["transfer_lookup_key"] = True
    return Step("POST", object_path(kind, live_id), params, note=f"update {kind.stripe_object}")


def _updatable(kind: Kind, name: str, value: Any) -> Any:
    """``value`` without the nested fields Stripe accepts only on create (a shipping rate's
    ``fixed_amount.amount`` beside its updatable ``fixed_amount.currency_options``)."""
    if not isinstance(value, dict):
        return value
    fixed = {p.split(".", 1)[1] for p in kind.create_only if p.startswith(f"{name}.")}
    return {k: v for k, v in value.items() if k not in fixed}


def remove(kind: Kind, live_id: str, removal: Removal, parent_id: Any = None) -> Step:
    what = kind.stripe_object
    if removal is Removal.DELETE:
        return Step("DELETE", object_path(kind, live_id, parent_id), note=f"delete {what} {live_id}")
    if removal is Removal.DEACTIVATE:
        return Step("POST", f"{object_path(kind, live_id)}/deactivate",
                    note=f"deactivate {what} {live_id}")
    return Step("POST", object_path(kind, live_id), {"active": False},
                note=f"archive {what} {live_id}")


def replace(kind: Kind, live_id: str, params: dict[str, Any], then: list[Step]) -> list[Step]:
    """Steps of a replacement, in the order the kind's strategy requires.

    ``then`` are steps to run once the new object exists (re-pointing a product's default
    price), always before the old object goes.
    """
    old = remove(kind, live_id, kind.replacement_removal)
    new = create(kind, params, transfer=True) + then
    return [*new, old] if kind.replacement.creates_first else [old, *new]
