"""The kind registry and the facts each description derives from the reference data."""

import pytest

from reconciler import reference
from reconciler.kinds import KINDS, MANIFEST_KINDS, Identity, Removal, Replacement, Rule

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
    assert KINDS["products"].identity == KINDS["coupons"].identity == Identity.stripe_id()
    assert KINDS["features"].identity == Identity.field("lookup_key")
    assert KINDS["meters"].identity == Identity.field("event_name", label="display_name")
    assert KINDS["payment_method_configurations"].identity.default_flag == "is_default"
    assert KINDS["tax_rates"].identity.rule is Rule.TAG
    assert KINDS["product_features"].identity.rule is Rule.PAIR
    assert KINDS["prices"].replacement is Replacement.CREATE_THEN_ARCHIVE
    assert KINDS["coupons"].replacement is Replacement.DELETE_THEN_CREATE
    assert KINDS["promotion_codes"].replacement is Replacement.ARCHIVE_THEN_CREATE
    assert KINDS["webhook_endpoints"].replacement.actions == ("create", "delete")
    assert KINDS["coupons"].replacement.actions == ("delete", "create")
    assert KINDS["meters"].removal is Removal.DEACTIVATE
    assert KINDS["products"].removal is Removal.DELETE_OR_ARCHIVE


def test_natural_values():
    products = KINDS["products"].identity
    assert products.of_entry("pro", {}) == "pro"
    assert products.of_entry("pro", {"id": "prod_custom"}) == "prod_custom"
    assert products.of_live({"id": "prod_custom"}) == "prod_custom"
    promos = KINDS["promotion_codes"].identity
    assert promos.of_entry("k", {"code": "SPRING"}) == promos.of_live({"code": "Spring"})
    assert promos.folds("code") and not promos.folds("metadata.code")
    assert KINDS["tax_rates"].identity.of_entry("vat", {"percentage": 20}) is None
    assert KINDS["prices"].identity.of_entry("p", {"unit_amount": 5}) is None


@pytest.mark.parametrize("args", [
    {"rule": Rule.TAG, "natural_key": "code"}, {"rule": Rule.FIELD},
    {"rule": Rule.ID, "natural_key": "code"}, {"rule": Rule.ID, "natural_key": "id", "casefold": True},
    {"rule": Rule.PAIR, "label": "name"}])
def test_an_inconsistent_identity_is_refused_when_the_kind_is_written(args):
    with pytest.raises(ValueError, match="inconsistent identity"):
        Identity(**args)


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
