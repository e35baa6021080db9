"""Planning rules on in-memory manifests and live state (no emulator): see planner_world."""

from __future__ import annotations

import pytest
from planner_world import live, owned, plan

from reconciler.plan import Action, PlanError


def _product(**fields):
    return owned("pro", id="pro", object="product", name="Pro", active=True, type="service",
                 **fields)


def test_a_new_entry_is_created_with_its_tags() -> None:
    (change,) = plan({"tax_rates": {"vat": {"display_name": "VAT", "percentage": 20,
                                            "inclusive": False}}}).pending
    assert (change.address, change.action) == ("tax_rates.vat", Action.CREATE)
    (step,) = change.steps
    assert (step.method, step.path, step.produces) == ("POST", "/v1/tax_rates", True)
    assert step.params["metadata"]["reconciler_key"] == "vat"


def test_a_pruned_product_its_price_pins_is_archived_not_deleted() -> None:
    """Stripe refuses to delete a product with prices (Reference.pins on a price's product)."""
    price = owned("pro-monthly", id="price_1", object="price", product="pro", active=False,
                  currency="usd", unit_amount=100)
    removal = plan({}, live({"products": [_product()], "prices": [price]}), prune=True,
                   force=True).pending
    assert [(c.address, c.action) for c in removal] == [("products.pro", Action.ARCHIVE)]


def test_a_pruned_product_without_prices_is_deleted() -> None:
    (removal,) = plan({}, live({"products": [_product()]}), prune=True, force=True).pending
    assert removal.action is Action.DELETE and removal.steps[0].method == "DELETE"


def test_a_product_pointed_at_its_stated_default_price_once_that_price_exists() -> None:
    """Prices' `settle` hook: the product's change sets the default price that stays."""
    price = owned("monthly", id="price_1", object="price", product="pro", active=True,
                  currency="usd", unit_amount=100, billing_scheme="per_unit",
                  tax_behavior="unspecified", type="one_time")
    document = {"products": {"pro": {"name": "Pro", "default_price": "monthly"}},
                "prices": {"monthly": {"product": "pro", "currency": "usd",
                                       "unit_amount": 100}}}
    changes = {c.address: c for c in plan(document, live({
        "products": [_product(default_price=None)], "prices": [price]})).pending}
    product = changes["products.pro"]
    assert product.action is Action.UPDATE
    assert product.steps[-1].params == {"default_price": "price_1"}


def _configuration(id: str, **fields):
    return {"id": id, "object": "payment_method_configuration", "active": True,
            "card": {"display_preference": {"preference": "on", "value": "on"}}, **fields}


def test_an_entry_without_name_is_the_accounts_default_configuration() -> None:
    """The identity's default flag: no name to go by, the entry is the object Stripe marks."""
    document = {"payment_method_configurations": {"main": {
        "card": {"display_preference": {"preference": "on"}}}}}
    account = live({"payment_method_configurations": [
        _configuration("pmc_other", name="Other"), _configuration("pmc_1", is_default=True)]})
    (change,) = plan(document, account).changes
    assert (change.action, change.live_id) == (Action.NOOP, "pmc_1")
    with pytest.raises(PlanError, match=r"main: the default payment method configuration "
                       r"matches several live objects \(pmc_1, pmc_2\)"):
        plan(document, live({"payment_method_configurations": [
            _configuration("pmc_1", is_default=True), _configuration("pmc_2", is_default=True)]}))
