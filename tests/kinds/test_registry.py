"""The kind registry and the facts each description derives from the reference data."""

import pytest

from reconciler import reference
from reconciler.kinds import KINDS, MANIFEST_KINDS, Identity, Removal, Replacement

EXPECTED_KINDS = {
    "products", "prices", "coupons", "promotion_codes", "tax_rates", "shipping_rates",
    "payment_method_configurations", "webhook_endpoints", "features", "meters",
}


def test_every_manifest_kind_is_described_once():
    assert set(MANIFEST_KINDS) == EXPECTED_KINDS
    assert set(KINDS) == EXPECTED_KINDS | {"product_features"}


def test_kinds_come_after_what_they_reference():
    order = list(KINDS)
    for kind in KINDS.values():
        for ref in kind.references:
            if not ref.deferred:
                assert order.index(ref.kind) < order.index(kind.name), (kind.name, ref.kind)
    assert order.index("features") < order.index("products") < order.index("prices")
    assert order.index("coupons") < order.index("promotion_codes")


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda k: k.name)
def test_description_matches_reference(kind):
    facts = reference.api()["kinds"][kind.stripe_object]
    assert kind.path == facts["base_path"]
    assert kind.stripe_deletes == facts["deletable"]
    # a removal by DELETE needs a DELETE endpoint; the others must not claim one
    if kind.removal is Removal.DELETE:
        assert kind.stripe_deletes
    if kind.removal is Removal.ARCHIVE:
        params = {**kind.create_params, **kind.update_params}
        assert "active" in params
    if kind.removal is Removal.DEACTIVATE:
        assert any(e["op"] == "deactivate" for e in facts["endpoints"])
    # every required field can be stated in a manifest
    for name in kind.required:
        assert name in kind.manifest_params or name in kind.extra_fields


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda k: k.name)
def test_references_point_at_known_kinds_and_fields(kind):
    for ref in kind.references:
        assert ref.kind in KINDS
        top = ref.path.split(".")[0].removesuffix("[]")
        assert top in kind.manifest_params or top in kind.extra_fields, ref.path


def test_create_only_fields_force_replacement():
    prices = KINDS["prices"]
    assert prices.forces_replacement("unit_amount")
    assert prices.forces_replacement("recurring.interval")
    assert not prices.forces_replacement("nickname")
    assert not prices.forces_replacement("metadata.plan")
    promos = KINDS["promotion_codes"]
    assert promos.forces_replacement("restrictions.minimum_amount")
    assert not promos.forces_replacement("restrictions.currency_options")
    assert KINDS["tax_rates"].forces_replacement("percentage")
    assert KINDS["webhook_endpoints"].forces_replacement("api_version")
    assert not KINDS["webhook_endpoints"].forces_replacement("url")


def test_identity_and_strategies_follow_the_design():
    assert KINDS["products"].identity is Identity.ID
    assert KINDS["coupons"].identity is Identity.ID
    assert KINDS["features"].identity is Identity.LOOKUP_KEY
    assert KINDS["meters"].identity is Identity.EVENT_NAME
    assert KINDS["payment_method_configurations"].identity is Identity.NAME
    assert KINDS["prices"].replacement is Replacement.CREATE_THEN_ARCHIVE
    assert KINDS["coupons"].replacement is Replacement.DELETE_THEN_CREATE
    assert KINDS["promotion_codes"].replacement is Replacement.ARCHIVE_THEN_CREATE
    assert KINDS["webhook_endpoints"].replacement.actions == ("create", "delete")
    assert KINDS["coupons"].replacement.actions == ("delete", "create")
    assert KINDS["meters"].removal is Removal.DEACTIVATE
    assert KINDS["products"].removal is Removal.DELETE_OR_ARCHIVE


def test_natural_values():
    products = KINDS["products"]
    assert products.natural_value("pro", {}) == "pro"
    assert products.natural_value("pro", {"id": "prod_custom"}) == "prod_custom"
    promos = KINDS["promotion_codes"]
    assert promos.natural_value("k", {"code": "SPRING"}) == "spring"
    assert KINDS["tax_rates"].natural_value("vat", {"percentage": 20}) is None


def test_payment_method_families_are_expanded():
    pmc = KINDS["payment_method_configurations"]
    assert "card" in pmc.manifest_params
    assert not any(name.startswith("<") for name in pmc.manifest_params)
    assert len(pmc.manifest_params) == 3 + len(reference.api()["kinds"][
        "payment_method_configuration"]["payment_method_types"])


def test_enum_references_are_resolved():
    events = KINDS["webhook_endpoints"].manifest_params["enabled_events"]["items"]["enum"]
    assert "invoice.paid" in events and "*" in events
    versions = KINDS["webhook_endpoints"].manifest_params["api_version"]["enum"]
    assert reference.API_VERSION in versions
