"""How a manifest entry finds its live object: the one description of it for every layer.

There is no state file (docs/concepts.md, "Identity"), so each run matches entries to
objects again. An entry of a kind with metadata first matches the object this stack tagged
with the entry's manifest key (reconciler/ownership.py); failing that, and for kinds without
metadata always, the object holding its natural key: a field unique within the kind that
Stripe keeps. Which field that is, and how Stripe compares it, is said here once; matching
(plan/match.py), the create request, validation's uniqueness check, export's keys and the
manifest reference all read it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Rule(enum.Enum):
    """What an entry is matched by, besides this stack's ownership tag."""

    TAG = "tag"  # nothing else: Stripe holds no field unique within the kind
    ID = "id"  # the Stripe id, which the manifest key (or an explicit `id:`) gives at create
    FIELD = "field"  # a field unique within the kind that the entry states and Stripe keeps
    PAIR = "pair"  # a sub-resource: its parent and its target, listed in the parent's entry


@dataclass(frozen=True)
class Identity:
    """A kind's matching rule and the natural key it goes by. Build one with the class
    methods, which keep the rule and the field consistent."""

    rule: Rule
    natural_key: str | None = None  # the field that holds the natural key ("id" for Rule.ID)
    casefold: bool = False  # Stripe compares the natural key case-insensitively
    # an entry without the natural key is the live object with this flag set (the account's
    # default object, which Stripe creates and which has no name of its own)
    default_flag: str | None = None
    # a mutable field users keep when they change a permanent natural key of a kind without
    # metadata (a meter's display name): it finds the live object that natural key left
    # behind, to name it in the plan's refusal, never as a match (plan/match.py)
    label: str | None = None

    def __post_init__(self) -> None:
        keyed = self.rule in (Rule.ID, Rule.FIELD)
        if keyed != (self.natural_key is not None) or (
                self.rule is Rule.ID and self.natural_key != "id") or (
                self.rule is not Rule.FIELD and (self.casefold or self.default_flag
                                                 or self.label)):
            raise ValueError(f"inconsistent identity: {self}")

    @classmethod
    def tag(cls) -> Identity:
        """Only the ownership tag finds the object (a tax rate, a webhook endpoint)."""
        return cls(Rule.TAG)

    @classmethod
    def stripe_id(cls) -> Identity:
        """The object's id is chosen by the manifest (a product, a coupon)."""
        return cls(Rule.ID, "id")

    @classmethod
    def field(cls, name: str, *, casefold: bool = False, default_flag: str | None = None,
              label: str | None = None) -> Identity:
        """The entry's ``name`` field finds the object (a lookup key, an event name)."""
        return cls(Rule.FIELD, name, casefold, default_flag, label)

    @classmethod
    def pair(cls) -> Identity:
        """A sub-resource is the (parent, target) pair its parent's entry lists."""
        return cls(Rule.PAIR)

    @property
    def is_stripe_id(self) -> bool:
        """Whether the manifest key is the Stripe id: a create sets it, and an archived
        object keeps it, so a replacement cannot take it over."""
        return self.rule is Rule.ID

    def of_entry(self, key: str, spec: Mapping[str, Any]) -> str | None:
        """The natural key the entry ``key`` stating ``spec`` goes by, as compared (None:
        it has none, so only its tag, or its default flag, can find its object)."""
        if self.natural_key is None:
            return None
        if self.rule is Rule.ID:
            return str(spec.get("id", key))
        return self._compared(spec.get(self.natural_key))

    def of_live(self, obj: Mapping[str, Any]) -> str | None:
        """The natural key a live object holds, as compared with :meth:`of_entry`."""
        return self._compared(obj.get(self.natural_key)) if self.natural_key else None

    def _compared(self, value: Any) -> str | None:
        if value is None:
            return None
        return str(value).casefold() if self.casefold else str(value)

    def folds(self, path: str) -> bool:
        """Whether the field at dotted ``path`` is a natural key Stripe compares without case
        (a promotion code's ``code``): a change of case alone is no change."""
        return self.casefold and path == self.natural_key
