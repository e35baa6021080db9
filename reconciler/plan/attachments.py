"""Product features: the (product, feature) attachments a product entry lists.

A product that states ``features`` owns its whole list: features missing from it are
detached, new ones attached. A product that does not state it is left alone. Attachments
have no update: any change is a detach and an attach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.kinds import KINDS, Removal
from reconciler.manifests import Manifest

from . import steps
from .live import LiveState
from .match import Matches
from .model import Action, Change, FieldDiff, digest


def plan_attachments(manifest: Manifest, live: LiveState, resolve: Callable[[str, str], Any],
                     products: Matches | None, phase: int) -> list[Change]:
    kind = KINDS["product_features"]
    changes: list[Change] = []
    for entry in manifest.entries["products"].values():
        if "features" not in entry.spec:
            continue
        product = products.live.get(entry.key) if products else None
        attached = live.attachments.get(product["id"], []) if product else []
        by_feature = {a["entitlement_feature"]["id"]: a for a in attached}
        wanted = {key: resolve("features", key) for key in entry.spec["features"]}
        parent = resolve("products", entry.key)
        for key, feature_id in wanted.items():
            if isinstance(feature_id, str) and feature_id in by_feature:
                continue
            params = {"entitlement_feature": feature_id}
            changes.append(Change(
                kind.name, f"{entry.key}/{key}", Action.CREATE, ("create",),
                diffs=(FieldDiff("entitlement_feature", None, feature_id),),
                steps=tuple(steps.create(kind, params, parent_id=parent)), phase=phase))
        keep = {v for v in wanted.values() if isinstance(v, str)}
        for feature_id, attachment in by_feature.items():
            assert product is not None  # attachments are only read for live products
            if feature_id in keep:
                continue
            name = attachment["entitlement_feature"].get("lookup_key") or feature_id
            changes.append(Change(
                kind.name, f"{entry.key}/{name}", Action.DELETE, ("delete",),
                live_id=attachment["id"],
                diffs=(FieldDiff("entitlement_feature", feature_id, None),),
                steps=(steps.remove(kind, attachment["id"], Removal.DELETE,
                                    parent_id=product["id"]),),
                live_digest=digest(attachment), phase=phase))
    return changes
