"""Field diffs compare only what the manifest states, in Stripe's terms."""

from reconciler.kinds import KINDS
from reconciler.plan.diff import diff, same_scalar

PRICE_LIVE = {
    "id": "price_1", "object": "price", "active": True, "currency": "usd",
    "unit_amount": 1500, "unit_amount_decimal": "1500", "nickname": None,
    "recurring": {"interval": "month", "interval_count": 1, "meter": None,
                  "trial_period_days": None, "usage_type": "licensed"},
    "tiers": None, "tax_behavior": "unspecified", "metadata": {"a": "1"},
}


def paths(kind, desired, live, ignore=(), **options):
    return [(d.path, d.old, d.new, d.forces_replacement)
            for d in diff(KINDS[kind], desired, live, ignore, **options)]


def test_only_stated_fields_compare():
    desired = {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"},
               "metadata": {"a": "1"}}
    assert paths("prices", desired, PRICE_LIVE) == []


def test_create_only_change_forces_replacement():
    desired = {"unit_amount": 2000, "recurring": {"interval": "year"}, "nickname": "x",
               "metadata": {"a": "1"}}
    assert paths("prices", desired, PRICE_LIVE) == [
        ("unit_amount", 1500, 2000, True),
        ("recurring.interval", "month", "year", True),
        ("nickname", None, "x", False),
    ]


def test_stated_metadata_is_managed_whole():
    assert paths("prices", {"metadata": {"b": "2"}}, PRICE_LIVE) == [
        ("metadata.a", "1", None, False), ("metadata.b", None, "2", False)]


TAGGED = {"a": "1", "reconciler_stack": "default", "reconciler_key": "old",
          "reconciler_prevent_destroy": "true", "reconciler_connect": "true"}


def test_unstated_metadata_is_left_alone_but_the_entry_tags_are_managed():
    """The entry's tags (key, stack, prevent_destroy) follow the desired metadata; other
    keys are left alone unless the entry states metadata; a create's records never go."""
    live = dict(PRICE_LIVE, metadata=TAGGED)
    tags = {"reconciler_stack": "default", "reconciler_key": "new"}
    entry_tags = [("metadata.reconciler_key", "old", "new", False),
                  ("metadata.reconciler_prevent_destroy", "true", None, False)]
    assert paths("prices", {"metadata": tags}, live, metadata_stated=False) == entry_tags
    assert paths("prices", {"metadata": tags}, live) == [
        ("metadata.a", "1", None, False), *entry_tags]


def test_decimal_strings_and_numbers_compare_by_value():
    assert same_scalar("unit_amount_decimal", "10.00", "10")
    assert same_scalar("percentage", 20, 20.0)
    assert not same_scalar("unit_amount_decimal", "10.5", "10")
    assert not same_scalar("name", "10.0", "10")
    assert not same_scalar("active", True, 1)


def test_inf_tiers_and_tax_behavior_one_way():
    live = dict(PRICE_LIVE, billing_scheme="tiered", tiers=[
        {"up_to": 10, "unit_amount": 100, "flat_amount": None},
        {"up_to": None, "unit_amount": 50, "flat_amount": None}], tax_behavior="exclusive")
    desired = {"tiers": [{"up_to": 10, "unit_amount": 100}, {"up_to": "inf", "unit_amount": 50}]}
    assert paths("prices", desired, live) == []
    assert paths("prices", {"tax_behavior": "inclusive"}, live) == [
        ("tax_behavior", "exclusive", "inclusive", True)]
    assert paths("prices", {"tax_behavior": "inclusive"}, PRICE_LIVE) == [
        ("tax_behavior", "unspecified", "inclusive", False)]


def test_unordered_lists_and_webhook_status():
    live = {"enabled_events": ["invoice.paid", "charge.failed"], "status": "disabled"}
    assert paths("webhook_endpoints", {"enabled_events": ["charge.failed", "invoice.paid"],
                                       "disabled": True}, live) == []
    assert paths("webhook_endpoints", {"disabled": False}, live) == [("disabled", True, False, False)]


def test_ordered_lists_compare_item_by_item():
    live = {"images": ["a", "b"], "marketing_features": [{"name": "x"}]}
    assert paths("products", {"images": ["b", "a"]}, live) == [
        ("images[0]", "a", "b", False), ("images[1]", "b", "a", False)]
    assert paths("products", {"images": ["a"]}, live) == [("images", ["a", "b"], ["a"], False)]


def test_promotion_codes_compare_case_insensitively():
    assert paths("promotion_codes", {"code": "spring"}, {"code": "SPRING"}) == []


def test_ignore_changes():
    desired = {"nickname": "x", "metadata": {"a": "2"}}
    assert paths("prices", desired, PRICE_LIVE, ignore=("nickname", "metadata")) == []
    assert paths("prices", desired, PRICE_LIVE, ignore=("nick",)) == [
        ("nickname", None, "x", False), ("metadata.a", "1", "2", False)]
