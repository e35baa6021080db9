"""Changes carry their intent as data (issue 14 step 2): a sub-resource's parent is a field,
never parsed back out of a request path; references are told by ``is_ref`` alone."""

from __future__ import annotations

from reconciler.plan import Action, Change, Plan, Step
from reconciler.plan.desired import is_ref, ref
from reconciler.render.values import show


def _attach(parent: str | None) -> Change:
    # the path names the product by a placeholder: only the field says which live product
    step = Step("POST", "/v1/products/{ref:products.pro}/features",
                {"entitlement_feature": "feat_1"}, produces=True)
    return Change("product_features", "pro/reports", Action.CREATE, ("create",),
                  steps=(step,), parent_key="pro", parent_id=parent)


def _plan(*changes: Change) -> Plan:
    return Plan(account_id="acct_1", livemode=False, api_version="v", stack="default",
                manifest_digest="d", live_fingerprint="f", changes=changes)


def test_a_saved_plan_keeps_the_parent_and_other_changes_stay_as_they_were() -> None:
    other = Change("products", "pro", Action.NOOP, ("no-op",), live_id="pro")
    data = _plan(_attach("prod_live"), other).to_dict(include_noops=True)
    attach, product = data["changes"]
    assert (attach["parent_key"], attach["parent_id"]) == ("pro", "prod_live")
    assert "parent_key" not in product and "parent_id" not in product
    again = Plan.from_dict(data)
    assert again.changes[0].parent_id == "prod_live" and again.changes[1].parent_key is None


def test_only_a_placeholder_is_a_reference() -> None:
    assert is_ref(ref("prices", "pro"))
    assert not is_ref({"$ref": "prices.pro", "other": 1})
    assert show(ref("prices", "pro")) == "(known after apply: prices.pro)"
