"""Product features: the attachment of an entitlement feature to a product.

A sub-resource under `/v1/products/{product}/features` with no update endpoint. It has no
manifest key of its own: a product entry lists its features, and the pair is the identity.
"""

from .base import Kind, Reference, Removal, Replacement
from .identity import Identity

KIND = Kind(
    name="product_features",
    stripe_object="product_feature",
    summary="Attachments of entitlement features to products, listed under `features` of a product.",
    identity=Identity.pair(),
    removal=Removal.DELETE,
    replacement=Replacement.DELETE_THEN_CREATE,
    references=(Reference("entitlement_feature", "features"),),
    parent="products",
    listed_in="features",
    hooks_module="product_features",
)
