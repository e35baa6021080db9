"""Plans a reviewer can read (issue 13.11), on small in-memory plans: what a price
replacement does to its lookup key, list fields as items added and removed, the tool's tags
as what they mean, and a Markdown table that summarises each change."""

from __future__ import annotations

from reconciler.plan import Action, Change, FieldDiff, Plan, Step
from reconciler.render import markdown, text


def plan_of(*changes: Change) -> Plan:
    return Plan("acct_1", False, "2026-10-28.endive", "default", "", "", changes)


REPLACE_PRICE = Change(
    "prices", "pro-monthly", Action.REPLACE, ("create", "delete"), "price_old",
    (FieldDiff("unit_amount", 1500, 2000, forces_replacement=True),
     FieldDiff("nickname", None, "Pro")),
    (Step("POST", "/v1/prices", {"lookup_key": "pro_monthly", "transfer_lookup_key": True,
                                 "unit_amount": 2000}, produces=True, note="create price"),
     Step("POST", "/v1/prices/price_old", {"active": False}, note="archive price price_old")))
EVENTS = Change(
    "webhook_endpoints", "hooks", Action.UPDATE, ("update",), "we_1",
    (FieldDiff("enabled_events", ["charge.failed", "invoice.paid"],
               ["invoice.paid", "invoice.payment_failed"]),))
ADOPT = Change(
    "coupons", "vip", Action.ADOPT, ("update",), "vip",
    (FieldDiff("name", None, "VIP"), FieldDiff("metadata.reconciler_key", None, "vip"),
     FieldDiff("metadata.reconciler_stack", None, "billing")))
PROTECT = Change(
    "tax_rates", "vat", Action.UPDATE, ("update",), "txr_1",
    (FieldDiff("metadata.reconciler_prevent_destroy", None, "true"),))
UNPROTECT = Change(
    "tax_rates", "gst", Action.UPDATE, ("update",), "txr_2",
    (FieldDiff("metadata.reconciler_prevent_destroy", "true", None),))
RECORD = Change(
    "webhook_endpoints", "alerts", Action.ADOPT, ("update",), "we_2",
    (FieldDiff("metadata.reconciler_connect", None, "false"),))


def both(plan: Plan) -> list[str]:
    return [text.render(plan), markdown.render(plan)]


def test_a_price_replacement_says_the_lookup_key_moves():
    for out in both(plan_of(REPLACE_PRICE)):
        assert ("# lookup_key pro_monthly moves to the new price; apps that find prices by it "
                "get the new one") in out
    without_key = Change("prices", "p", Action.REPLACE, ("create", "delete"), "price_2",
                         REPLACE_PRICE.diffs, (Step("POST", "/v1/prices", {}, True),))
    assert "lookup_key" not in text.render(plan_of(without_key))


def test_a_list_field_shows_the_items_added_and_removed():
    for out in both(plan_of(EVENTS)):
        assert ('~ enabled_events: added "invoice.payment_failed"; removed "charge.failed"'
                in out)
        assert "->" not in out.split("enabled_events")[1].split("\n")[0]
    reordered = Change("webhook_endpoints", "h", Action.UPDATE, ("update",), "we_1",
                       (FieldDiff("enabled_events", ["a", "b"], ["b", "a"]),))
    assert '~ enabled_events: ["a", "b"] -> ["b", "a"]' in text.render(plan_of(reordered))


def test_the_tools_tags_read_as_what_they_mean():
    out = text.render(plan_of(ADOPT, PROTECT, UNPROTECT, RECORD))
    assert "+ owned by stack billing as key vip" in out
    assert "+ protected from destroy (prevent_destroy)" in out
    assert "- no longer protected from destroy (prevent_destroy)" in out
    assert "+ records connect = false (Stripe does not show it)" in out
    assert "metadata.reconciler_" not in out
    assert "metadata.reconciler_" not in markdown.render(plan_of(ADOPT, PROTECT, RECORD))


def test_the_markdown_table_summarises_each_change():
    out = markdown.render(plan_of(REPLACE_PRICE, EVENTS, ADOPT, PROTECT))
    rows = {line.split("`")[3]: line for line in out.splitlines() if line.startswith("| `")}
    assert rows["prices.pro-monthly"].endswith(
        "| unit_amount 1500 → 2000; nickname set; lookup_key pro_monthly moves to the new "
        "price |")
    assert rows["webhook_endpoints.hooks"].endswith(
        '| enabled_events added "invoice.payment_failed"; removed "charge.failed" |')
    assert rows["coupons.vip"].endswith("| name set; owned by stack billing as key vip |")
    assert rows["tax_rates.vat"].endswith("| protected from destroy (prevent_destroy) |")


def test_a_long_summary_names_the_first_parts_and_counts_the_rest():
    many = Change("products", "pro", Action.UPDATE, ("update",), "pro",
                  tuple(FieldDiff(f"f{i}", "a|b", "c") for i in range(5)))
    out = markdown.render(plan_of(many))
    assert '| f0 "a\\|b" → "c"; f1 "a\\|b" → "c"; f2 "a\\|b" → "c"; 2 more |' in out
