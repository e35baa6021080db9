"""Planning rules on in-memory manifests and live state (no emulator): see planner_world."""

from __future__ import annotations

import pytest
from planner_world import live, owned, plan

from reconciler.plan import Action, PlanError
from reconciler.plan.phases import waiting_phase


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


MIXED = {
    "features": {"sso": {"name": "SSO", "lookup_key": "sso"}},
    "tax_rates": {"vat": {"display_name": "VAT", "percentage": 20, "inclusive": False}},
    "webhook_endpoints": {"hooks": {"url": "https://example.com/h",
                                    "enabled_events": ["invoice.paid"]}},
    "products": {"pro": {"name": "Pro", "features": ["sso"]}},
    "coupons": {"spring": {"percent_off": 10, "duration": "once"}},
    "prices": {"monthly": {"product": "pro", "currency": "usd", "unit_amount": 100}},
    "promotion_codes": {"spring-code": {"code": "SPRING",
                                        "promotion": {"type": "coupon", "coupon": "spring"}}},
}


def test_kinds_of_one_dependency_depth_share_a_phase_and_dependents_come_later() -> None:
    """Phases follow dependency depth, not one per kind: the kinds that need no other create
    at once (a product does not need the features it lists: their attachments do)."""
    phase = {c.address: c.phase for c in plan(MIXED).pending}
    first = {phase[a] for a in ("features.sso", "tax_rates.vat", "webhook_endpoints.hooks",
                                "products.pro")}
    second = {phase[a] for a in ("coupons.spring", "prices.monthly", "product_features.pro/sso")}
    assert len(first) == len(second) == 1, phase
    assert first.pop() < second.pop() < phase["promotion_codes.spring-code"]


def test_removals_come_last_and_a_referring_object_goes_before_its_target() -> None:
    """In reverse depth, after every other change (a price before its product, which Stripe
    deletes only without prices); kinds of one depth together."""
    price = owned("old", id="price_1", object="price", product="legacy", active=True,
                  currency="usd", unit_amount=100)
    legacy = owned("legacy", id="legacy", object="product", name="Legacy", active=True,
                   type="service")
    vat = owned("vat", id="txr_1", object="tax_rate", display_name="VAT", percentage=20,
                inclusive=False, active=True)
    pending = plan(MIXED | {"tax_rates": {}}, live({"products": [legacy], "prices": [price],
                                                    "tax_rates": [vat]}),
                   prune=True, force=True).pending
    removals = {c.address: c.phase for c in pending if c.action.removes}
    assert removals["prices.old"] < removals["products.legacy"] == removals["tax_rates.vat"]
    assert min(removals.values()) > max(c.phase for c in pending if not c.action.removes)
    assert min(removals.values()) > waiting_phase("promotion_codes")  # the deepest kind's last


def test_a_price_replacement_that_waits_runs_between_its_depth_and_the_next() -> None:
    """Prices' `waits`: the old default price is archived only once the product points at
    the new default its manifest names, which another price change creates; no kind that
    needs prices may start beside it."""
    old = owned("monthly", id="price_1", object="price", product="pro", active=True,
                currency="usd", unit_amount=100, billing_scheme="per_unit",
                tax_behavior="unspecified", type="one_time")
    document = {**MIXED, "products": {"pro": {"name": "Pro", "default_price": "yearly"}},
                "prices": {"monthly": {"product": "pro", "currency": "usd", "unit_amount": 200},
                           "yearly": {"product": "pro", "currency": "usd", "unit_amount": 900}}}
    phase = {c.address: (c.action, c.phase) for c in plan(document, live({
        "products": [_product(default_price="price_1")], "prices": [old]})).pending}
    assert phase["prices.monthly"][0] is Action.REPLACE
    assert phase["prices.yearly"][1] < phase["prices.monthly"][1] < phase[
        "promotion_codes.spring-code"][1]


def test_a_twin_is_in_use_only_by_a_reference_to_its_own_kind() -> None:
    """Two tax rates tagged `vat`; a promotion code names a coupon whose id is the newer
    rate's (ids are unique per kind only): the older rate is kept, as the oldest, not the
    newer one as "in use"."""
    rate = {"object": "tax_rate", "display_name": "VAT", "percentage": 20, "inclusive": False,
            "active": True}
    older = owned("vat", id="txr_a", created=1, **rate)
    newer = owned("vat", id="txr_b", created=2, **rate)
    coupon = {"id": "txr_b", "object": "coupon", "percent_off": 10, "duration": "once",
              "valid": True}
    code = {"id": "promo_1", "object": "promotion_code", "code": "X", "active": True,
            "promotion": {"type": "coupon", "coupon": "txr_b"}}
    document = {"tax_rates": {"vat": {"display_name": "VAT", "percentage": 20,
                                      "inclusive": False}}}
    removals = [c for c in plan(document, live({"tax_rates": [older, newer],
                                                "coupons": [coupon],
                                                "promotion_codes": [code]})).pending
                if c.action.removes]
    assert [(c.live_id, c.note) for c in removals] == [
        ("txr_b", "a duplicate of txr_a, which is kept: the oldest")]
