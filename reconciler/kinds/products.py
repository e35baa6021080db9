"""Products: the Stripe id is the manifest key, so a product keeps its id across accounts.

A product with prices cannot be deleted, only archived; its `default_price` names a price
entry and is set once that price exists. Entitlement features attach through `features`.
"""

from collections.abc import Mapping
from typing import Any

from .base import Finding, Kind, Link, Permission, Reference, Removal, Replacement
from .identity import Identity


def _service_only_fields(entry: Mapping[str, Any]) -> list[Finding]:
    if entry.get("type") != "good":
        return []
    return [
        ((name,), f"'{name}' may only be set on products of type 'service'")
        for name in ("statement_descriptor", "unit_label")
        if name in entry
    ]


def _own_price(link: Link) -> list[Finding]:
    """Stripe refuses a default price of another product ("The price must belong to this
    product"). Both sides are manifest keys: the price's `product` and this entry's key."""
    owner = link.target.get("product")
    if not isinstance(owner, str) or owner == link.key:
        return []
    return [(("default_price",), (
        f"refers to prices '{link.target_key}', which belongs to products '{owner}': a "
        "default_price must be one of this product's own prices"))]


KIND = Kind(
    name="products",
    permission=Permission("product", "Products"),
    stripe_object="product",
    summary="Products: what you sell. Keyed by their Stripe id.",
    identity=Identity.stripe_id(),
    removal=Removal.DELETE_OR_ARCHIVE,
    replacement=Replacement.REFUSE,
    replacement_note=(
        "a product's id and type cannot change, and a product with prices cannot be deleted "
        "and re-created; give the new product a new manifest key instead"
    ),
    references=(
        Reference("default_price", "prices", deferred=True, checks=(_own_price,)),
        Reference("features[]", "features", tool_field=True),
    ),
    hidden_params=frozenset({"default_price_data"}),
    extra_fields={
        "features": {
            "type": "array",
            "items": {"type": "string"},
            "uniqueItems": True,
            "description": "Manifest keys of entitlement features attached to this product.",
        },
    },
    checks=(_service_only_fields,),
    export_name=lambda obj, _: obj.get("name"),
    defaults={"type": "service"},
)
