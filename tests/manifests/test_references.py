"""References between entries: a name that resolves is also held to the rules of the pair."""

from reconciler.manifests import Variables, load, validate


def issues(tmp_path, text):
    (tmp_path / "m.yaml").write_text(text)
    manifest, problems = load([tmp_path / "m.yaml"], variables=Variables({}, {}))
    assert problems == []
    return [(i.location.line, i.location.column, i.subject, i.field, f"{i.message}{i.hint}")
            for i in validate(manifest)]


PRICES = """\
prices:
  pro-monthly: {product: pro, currency: usd, unit_amount: 1500}
  team-monthly: {product: team, currency: usd, unit_amount: 4900}
  team-yearly: {product: team, currency: usd, unit_amount: 49000}
"""


def test_default_price_of_another_product_hints_at_the_most_similar_own_price(tmp_path):
    found = issues(tmp_path, "products:\n  pro: {name: Pro}\n"
                             "  team: {name: Team, default_price: pro-monthly}\n" + PRICES)
    assert found == [(3, 22, "products.team", "default_price",
                      "refers to prices 'pro-monthly', which belongs to products 'pro': a "
                      "default_price must be one of this product's own prices "
                      "(did you mean 'team-monthly'?)")]


def test_own_default_price_is_accepted(tmp_path):
    text = ("products:\n  pro: {name: Pro, default_price: pro-monthly}\n"
            "  team: {name: Team, default_price: team-yearly}\n" + PRICES)
    assert issues(tmp_path, text) == []


def test_a_dangling_reference_is_hinted_at_an_entry_it_may_name(tmp_path):
    for product, other, advice in [("pro", "team", ""),  # team-monthly is not pro's
                                   ("team", "pro", " (did you mean 'team-monthly'?)")]:
        found = issues(tmp_path, f"products:\n  {product}: {{name: P, default_price: "
                                 f"team-montly}}\n  {other}: {{name: O}}\n" + PRICES)
        assert [message for *_, message in found] == [
            f"refers to prices 'team-montly', which no manifest defines{advice}"]


def test_promotion_code_limits_point_at_the_code_fields(tmp_path):
    found = issues(tmp_path, """\
coupons:
  launch: {percent_off: 50, max_redemptions: 10, redeem_by: 1800000000}
promotion_codes:
  launch:
    promotion: {type: coupon, coupon: launch}
    max_redemptions: 11
    expires_at: 1800000001
""")
    assert [(line, subject, field) for line, _, subject, field, _ in found] == [
        (6, "promotion_codes.launch", "max_redemptions"),
        (7, "promotion_codes.launch", "expires_at")]
