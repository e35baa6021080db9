"""The phase of each change: what, in an apply, it may have to wait for.

A kind's changes get the phase of its dependency depth (:func:`reconciler.kinds.depths`), not
one phase per kind: every kind that needs no other (products, features, meters, tax
rates...) is in the first phase. The applier (:mod:`reconciler.apply.schedule`) starts a
create, update or replacement of kind K once every change of an earlier phase whose kind is
K or one K needs, transitively (:func:`reconciler.kinds.needed`), has finished, and a removal
once every change of an earlier phase has: a change starts only after every change it may
depend on has finished. Changes of one phase never wait for each other, so a phase must hold
only changes that do not need each other; after the first failure nothing new starts.

Why kinds of one depth are independent: none needs another (:attr:`reconciler.kinds.Kind.needs`
is their references and parent), and what the kinds' rules add reaches only a kind of
another depth that one of the two needs, so the other's changes wait for it:

- a product's ``features`` are attached by product features, one depth deeper than both
  products and features (a product's own requests never name a feature);
- prices' default-price steps write products, which prices need: the step ``settle`` adds
  is part of the product's own change, and the steps of a price's change (``then``,
  ``release``) run once every product change has finished;
- a price replacement that ``waits`` for its product's new default price runs in the phase
  between its depth and the next one: after the other prices, and before any kind that
  needs prices;
- the lookup key a new price takes over (``transfer_lookup_key``) is another price's: one
  kind, one phase, as before;
- promotion codes re-created because their coupon was (``recreated``) are one depth deeper
  than coupons;
- the stack's records of meters and payment method configurations are written once every
  change has finished (:mod:`reconciler.apply.executor`).

Removals come after every other change, in reverse depth: an object goes before the objects
it references (a price before its product, which Stripe deletes only without prices).
"""

from __future__ import annotations

from reconciler.kinds import depths

_PER_DEPTH = 2  # a depth's own phase, and the one after it for changes that wait


def change_phase(kind_name: str) -> int:
    """The phase of a change (create, update, replace) of ``kind_name``."""
    return _PER_DEPTH * depths()[kind_name]


def waiting_phase(kind_name: str) -> int:
    """The phase of a change of ``kind_name`` that must wait for the others of its depth
    (:meth:`reconciler.kinds.hooks.base.Planning.waits`): after them, before the next
    depth's."""
    return change_phase(kind_name) + 1


def removal_phase(kind_name: str) -> int:
    """The phase of a removal of an object of ``kind_name``: after every other change, the
    deepest kinds' first."""
    depth = depths()
    deepest = max(depth.values())
    return _PER_DEPTH * (deepest + 1) + deepest - depth[kind_name]
