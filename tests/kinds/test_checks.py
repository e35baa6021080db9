"""The semantic checks each kind module adds beyond the schema."""

import pytest

from reconciler.kinds import KINDS, Link


def messages(kind, entry):
    return [(path, msg) for path, msg in KINDS[kind].semantic_findings(entry)]


def test_coupon_needs_exactly_one_discount():
    assert messages("coupons", {"percent_off": 10}) == []
    assert messages("coupons", {"amount_off": 500, "currency": "usd"}) == []
    assert messages("coupons", {}) == [((), "a coupon needs 'percent_off', or 'amount_off' with 'currency'")]
    # both discounts: Stripe's documented exclusion, which the schema reports (data/limits.json)
    assert messages("coupons", {"percent_off": 10, "amount_off": 5, "currency": "usd"}) == []
    assert messages("coupons", {"amount_off": 5}) == [(("amount_off",), "'amount_off' needs 'currency'")]
    assert messages("coupons", {"percent_off": 5, "currency": "usd"})[0][0] == ("currency",)


def test_coupon_duration_in_months_goes_with_repeating():
    assert messages("coupons", {"percent_off": 5, "duration": "repeating", "duration_in_months": 3}) == []
    assert messages("coupons", {"percent_off": 5, "duration": "repeating"})[0][0] == ("duration",)
    assert messages("coupons", {"percent_off": 5, "duration_in_months": 3})[0][0] == ("duration_in_months",)


@pytest.mark.parametrize("entry,expected", [
    ({"unit_amount": 100}, []),
    ({}, [()]),
    ({"unit_amount": 1, "unit_amount_decimal": "1.5"}, []),  # the schema's (data/limits.json)
    ({"unit_amount": 1, "custom_unit_amount": {"enabled": True}}, [("custom_unit_amount",)]),
    ({"tiers": [{"up_to": "inf", "unit_amount": 1}]}, [("tiers",), ()]),
    ({"billing_scheme": "tiered"}, [("billing_scheme",), ("billing_scheme",)]),
    ({"billing_scheme": "tiered", "tiers_mode": "volume", "unit_amount": 5,
      "tiers": [{"up_to": "inf", "unit_amount": 1}]}, [("unit_amount",)]),
    ({"billing_scheme": "tiered", "tiers_mode": "graduated",
      "tiers": [{"up_to": 10, "unit_amount": 1}, {"up_to": 5, "unit_amount": 1},
                {"up_to": "inf", "unit_amount": 1}]}, [("tiers", 1, "up_to")]),
    ({"billing_scheme": "tiered", "tiers_mode": "graduated",
      "tiers": [{"up_to": "inf", "unit_amount": 1}, {"up_to": 5, "unit_amount": 1}]},
     [("tiers", 0, "up_to"), ("tiers", 1, "up_to")]),
    ({"unit_amount": 5, "recurring": {"interval": "month", "meter": "m"}},
     [("recurring", "meter")]),
])
def test_price_amount_and_tier_rules(entry, expected):
    assert [path for path, _ in messages("prices", entry)] == expected


def test_other_kind_checks():
    assert messages("products", {"type": "good", "unit_label": "kg"})[0][0] == ("unit_label",)
    assert messages("products", {"type": "service", "unit_label": "seat"}) == []
    assert messages("shipping_rates", {"display_name": "x"})[0][0] == ()
    assert messages("webhook_endpoints", {"enabled_events": ["*", "invoice.paid"]})[0][0] == ("enabled_events",)
    assert messages("webhook_endpoints", {"enabled_events": ["*"]}) == []


def link_findings(kind, path, entry, target, key="k", target_key="t"):
    """What the checks of ``kind``'s reference at ``path`` find for one pair of entries."""
    ref = next(r for r in KINDS[kind].references if r.path == path)
    return ref.findings(Link(key, entry, target_key, target))


@pytest.mark.parametrize("code,coupon,expected", [
    ({"max_redemptions": 101}, {"max_redemptions": 100},
     [(("max_redemptions",), ("max_redemptions 101 is above the max_redemptions of coupons "
                             "'t' (100)"))]),
    ({"max_redemptions": 100}, {"max_redemptions": 100}, []),
    ({"max_redemptions": 101}, {}, []),
    ({}, {"max_redemptions": 1}, []),
    ({"expires_at": 1700000001}, {"redeem_by": 1700000000},
     [(("expires_at",), ("expires_at 1700000001 is after the redeem_by of coupons 't' "
                        "(1700000000)"))]),
    ({"expires_at": 1700000000}, {"redeem_by": 1700000000}, []),
    ({"expires_at": 1700000001}, {"max_redemptions": 5}, []),
    # wrong types are the schema's to report, not compared here
    ({"max_redemptions": "500"}, {"max_redemptions": 100}, []),
    ({"max_redemptions": True}, {"max_redemptions": 0}, []),
    ({"expires_at": 1700000001}, {"redeem_by": "2023-11-14"}, []),
])
def test_promotion_code_stays_within_its_coupon(code, coupon, expected):
    assert link_findings("promotion_codes", "promotion.coupon", code, coupon) == expected


@pytest.mark.parametrize("price,expected", [
    ({"product": "pro"}, []),
    ({"product": "team"}, [("default_price",)]),
    ({}, []),  # a price without product is the schema's to report
    ({"product": ["team"]}, []),
])
def test_default_price_belongs_to_the_product(price, expected):
    found = link_findings("products", "default_price", {"name": "Pro"}, price, key="pro",
                          target_key="team-monthly")
    assert [path for path, _ in found] == expected
    if found:
        assert found[0][1] == ("refers to prices 'team-monthly', which belongs to products "
                               "'team': a default_price must be one of this product's own "
                               "prices")
