"""Product features' hooks: the (product, feature) attachments a product entry lists.

A product that states ``features`` owns its whole list: features missing from it are
detached, new ones attached. A product that does not state it is left alone. Attachments
have no update: any change is a detach and an attach.
"""

from __future__ import annotations

from reconciler.kinds import Removal
from reconciler.plan import steps
from reconciler.plan.model import Action, Change, FieldDiff, digest

from .base import Hooks, Planning


class Attachments(Planning):
    def changes(self, phase: int) -> list[Change]:
        kind, plan = self.kind, self.plan
        assert kind.parent is not None and kind.listed_in is not None
        target = kind.references[0]  # the feature an attachment names
        products = plan.matches.get(kind.parent)
        changes: list[Change] = []
        for entry in plan.manifest.entries[kind.parent].values():
            if kind.listed_in not in entry.spec:
                continue
            product = products.live.get(entry.key) if products else None
            attached = plan.live.attachments.get(product["id"], []) if product else []
            by_feature = {a[target.path]["id"]: a for a in attached}
            wanted = {key: plan.resolve(target.kind, key) for key in entry.spec[kind.listed_in]}
            parent = plan.resolve(kind.parent, entry.key)
            for key, feature_id in wanted.items():
                if isinstance(feature_id, str) and feature_id in by_feature:
                    continue
                params = {target.path: feature_id}
                changes.append(Change(
                    kind.name, f"{entry.key}/{key}", Action.CREATE, ("create",),
                    diffs=(FieldDiff(target.path, None, feature_id),),
                    steps=tuple(steps.create(kind, params, parent_id=parent)), phase=phase,
                    parent_key=entry.key, parent_id=product["id"] if product else None))
            keep = {v for v in wanted.values() if isinstance(v, str)}
            for feature_id, attachment in by_feature.items():
                assert product is not None  # attachments are only read for live products
                if feature_id in keep:
                    continue
                name = attachment[target.path].get("lookup_key") or feature_id
                changes.append(Change(
                    kind.name, f"{entry.key}/{name}", Action.DELETE, ("delete",),
                    live_id=attachment["id"],
                    diffs=(FieldDiff(target.path, feature_id, None),),
                    steps=(steps.remove(kind, attachment["id"], Removal.DELETE,
                                        parent_id=product["id"]),),
                    live_digest=digest(attachment), phase=phase,
                    parent_key=entry.key, parent_id=product["id"]))
        return changes


class AttachmentHooks(Hooks):
    planning = Attachments


HOOKS = AttachmentHooks()
