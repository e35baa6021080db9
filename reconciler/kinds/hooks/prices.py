"""Prices' hooks. A product's ``default_price``: the one relation that points from products to prices.

Products are planned before prices, yet a product can only point at a price that exists, and
Stripe refuses to archive a price that is some product's default. So the relation is not a
field of the product change alone: a new or replacing price points its products at itself
once it exists, a price replaced under a product that states no default takes the product
along, an old default is released before it is archived (or the plan says why it cannot
be), a pruned product's default is unset so that the price is archived with it, and a
default price goes out of use with a product archived outside this stack's reach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.kinds import KINDS, Kind
from reconciler.ownership import owner
from reconciler.plan import steps
from reconciler.plan.match import Matches
from reconciler.plan.model import SELF, Action, Change, FieldDiff, Step
from reconciler.plan.problems import Problem

from .base import Hooks, PlanContext, Planning

_PRODUCTS = KINDS["products"]


class DefaultPrices(Planning):
    """The default-price rules of one plan, and the lookup keys prices move.

    Products are matched before any price is planned, so every question about prices sees
    them in the planner's matches.
    """

    def __init__(self, kind: Kind, plan: PlanContext):
        super().__init__(kind, plan)
        self.manifest = plan.manifest
        self.live = plan.live
        self.prune = plan.prune
        self.named: dict[str, list[str]] = {}  # price key -> keys of products naming it
        for product in self.manifest.entries["products"].values():
            if isinstance(price_key := product.spec.get("default_price"), str):
                self.named.setdefault(price_key, []).append(product.key)

    @property
    def products(self) -> Matches:
        return self.plan.matches.get("products") or Matches()

    def then(self, key: str, replaced: dict[str, Any] | None = None) -> list[Step]:
        """Steps to run once a new price for entry ``key`` exists: it becomes the default
        price of the products naming it, and of the products whose default was the price
        it ``replaced`` and whose manifests state no default (else the old price could not
        be archived)."""
        steps_ = [Step("POST", steps.object_path(_PRODUCTS, self.plan.resolve("products", product)),
                       {"default_price": SELF},
                       note=f"make it the default price of products.{product}")
                  for product in self.named.get(key, ())]
        if replaced is not None:
            stated = self._stating_default()
            steps_ += [Step("POST", steps.object_path(_PRODUCTS, product["id"]),
                            {"default_price": SELF},
                            note=f"make it the default price of {product['id']}, "
                                 "as the old one was")
                       for product in self._default_of(replaced) if product["id"] not in stated]
        return steps_

    def waits(self, key: str, replaced: dict[str, Any]) -> bool:
        """Whether the replacement of ``replaced`` must wait for the other changes of
        prices' depth: the old price can only be archived once its product points at the
        price its manifest names, which another price change may create."""
        moving = self._stating_default(other_than=key)
        return any(p["id"] in moving for p in self._default_of(replaced))

    def settle(self, changes: list[Change], ids: Mapping[tuple[str, str], Any]) -> list[Change]:
        """``changes`` with products pointed at default prices that exist and stay.

        A default price that the plan creates or replaces is set by that price's own change
        (``then``); ``ids`` holds the prices that exist and stay, and pointing at one
        of them is an update of the product, added to its change here because prices are
        planned after products.
        """
        changes = list(changes)
        index = {c.address: i for i, c in enumerate(changes)}
        for product in self.manifest.entries["products"].values():
            price_id = ids.get(("prices", str(product.spec.get("default_price"))))
            live = self.products.live.get(product.key)
            position = index.get(f"products.{product.key}")
            if (price_id is None or live is None or position is None
                    or live.get("default_price") == price_id):
                continue
            change = changes[position]
            extra = FieldDiff("default_price", live.get("default_price"), price_id)
            step = Step("POST", steps.object_path(_PRODUCTS, live["id"]),
                        {"default_price": price_id}, note="set the default price")
            noop = change.action is Action.NOOP
            changes[position] = replace(
                change, action=Action.UPDATE if noop else change.action,
                actions=("update",) if noop else change.actions,
                diffs=(*change.diffs, extra), steps=(*change.steps, step))
        return changes

    def retired(self, price: dict[str, Any]) -> bool:
        """Whether ``price`` is left to go out of use with its archived product: the
        default price of a product that no entry describes and this plan does not prune
        (else ``release`` unsets the default and the price is archived)."""
        matched = {o["id"] for o in self.products.live.values()}
        products = self._default_of(price)
        return bool(products) and all(
            p["id"] not in matched and p.get("active") is False and p["id"] not in self._pruned
            for p in products)

    def release(self, price: dict[str, Any], key: str,
                successor: dict[str, Any] | None) -> tuple[list[Step], list[Problem]]:
        """Steps that let ``price`` be archived, and the problems that forbid it.

        Stripe refuses to archive a product's default price: the product is pointed at
        another price first (the one its manifest states, by ``settle`` or the new default's
        own change; or the price that superseded this one), its default is unset when the
        product is pruned too, or the plan says why it cannot be.
        """
        stated = self._stating_default()
        release: list[Step] = []
        problems: list[Problem] = []
        for product in self._default_of(price):
            if product["id"] in stated:
                continue
            if product["id"] in self._pruned:  # the product goes too: it needs no default
                release.append(Step(
                    "POST", steps.object_path(_PRODUCTS, product["id"]), {"default_price": ""},
                    note=f"unset the default price of {product['id']}, which is pruned"))
                continue
            if successor is not None:
                release.append(Step(
                    "POST", steps.object_path(_PRODUCTS, product["id"]),
                    {"default_price": successor["id"]},
                    note=f"make {successor['id']} the default price of {product['id']}"))
                continue
            problems.append(Problem.about(
                "default-price", f"prices.{key}",
                f"cannot archive {price['id']}: it is the default price of "
                f"product {product['id']}, and Stripe does not archive a product's default "
                "price", "state another default_price for the product, or keep the price"))
        return release, problems

    @property
    def _pruned(self) -> set[str]:
        """Ids of the products this stack owns that no entry describes, when pruning: the
        plan archives (or deletes) them, or they are archived already."""
        return {o["id"] for o in self.products.orphans} if self.prune else set()

    def _default_of(self, price: dict[str, Any]) -> list[dict[str, Any]]:
        """The live products whose default price ``price`` is."""
        return [p for p in self.live.objects.get("products", [])
                if p.get("default_price") == price["id"]]

    def _stating_default(self, other_than: str | None = None) -> set[str]:
        """Ids of live products whose manifest entry names a default price (other than the
        price entry ``other_than``)."""
        return {o["id"] for k, o in self.products.live.items()
                if self.manifest.entries["products"][k].spec.get("default_price")
                not in (None, other_than)}

    def conflict(self, key: str, params: dict[str, Any], live: dict[str, Any],
                 diffs: Sequence[FieldDiff]) -> Problem | None:
        """A price that moves to a lookup key another price holds takes it over
        (``transfer_lookup_key``): only from a price this stack owns. Held by anything
        else, it is a conflict, as it is for a new price."""
        lookup_key = params.get("lookup_key")
        if lookup_key is None or not any(d.path == "lookup_key" for d in diffs):
            return None
        for other in self.live.objects.get("prices", []):
            if other.get("lookup_key") != lookup_key or other["id"] == live["id"]:
                continue
            stack = owner(other)[0]
            if stack == self.plan.stack:
                continue
            holder = ("which reconciler does not manage" if stack is None
                      else f"which is managed by stack '{stack}'")
            return Problem.about(
                "unmanaged-holder" if stack is None else "owned-elsewhere", f"prices.{key}",
                f"lookup_key '{lookup_key}' is held by {other['id']}, {holder}; one lookup "
                "key cannot have two owners")
        return None


class PriceHooks(Hooks):
    planning = DefaultPrices


HOOKS = PriceHooks()
