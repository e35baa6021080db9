"""`reconciler export` options, on the messy account: what the round trip does not show.

- Stripe's defaults are left out: every default a kind declares is on some live object, and
  no exported entry states one (a manifest says what was chosen, not what Stripe filled in);
  what differs from the default is kept.
- ``--stack``: objects the stack owns keep the manifest keys their tags record (ahead of any
  readable key they would otherwise get), so re-exporting a managed account changes no key.
- ``--kinds`` exports the kinds asked for and everything they reference, however indirectly,
  so the output validates; ``--include-archived`` adds the archived objects (``active:
  false``). Both through the command line.
- The tool's tags are not user metadata: an object reconciler created comes back as the entry
  it was made from, its options (``prevent_destroy``) and the create-only fields Stripe never
  shows (a webhook endpoint's ``connect``) read from its tags, so the plan of the export is
  empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

import pytest
import yaml
from export_helpers import (
    cli,
    exported_entries,
    load_checked,
    messy_emulator,
    messy_state,
    run,
    shown,
)

from reconciler.apply import apply
from reconciler.emulator import Emulator
from reconciler.export import export, read_account
from reconciler.kinds import KINDS, MANIFEST_KINDS
from reconciler.plan import OWNER_KEY, OWNER_STACK, PlanOptions, make_plan


def nodes(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) for every field of a mapping, nested ones too."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield f"{prefix}{name}", inner
            yield from nodes(inner, f"{prefix}{name}.")


def defaults_in(kind: str, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """(pattern, path) for each path of ``fields`` that holds a default of ``kind``."""
    return [(pattern, path) for path, value in nodes(fields)
            for pattern, default in MANIFEST_KINDS[kind].defaults.items()
            if fnmatchcase(path, pattern) and value == default]


def test_stripe_defaults_are_omitted_and_chosen_values_kept(tmp_path):
    emu = messy_emulator()
    objects, _ = run(emu, lambda c: read_account(c, MANIFEST_KINDS, True))
    seen = {(kind, pattern) for kind, spec in MANIFEST_KINDS.items() for obj in objects[kind]
            for pattern, _ in defaults_in(kind, spec.live_view(obj))}
    unseen = [f"{kind}: {pattern}" for kind, spec in MANIFEST_KINDS.items()
              for pattern in spec.defaults if (kind, pattern) not in seen]
    assert unseen == [], "the account never shows these defaults, so nothing is tested"

    run(emu, lambda c: export(c, tmp_path, include_archived=True))
    docs = exported_entries(tmp_path)
    written = [f"{kind}.{key}: {path}" for kind, entries in docs.items()
               for key, entry in entries.items() for _, path in defaults_in(kind, entry)]
    assert written == []

    prices, products = docs["prices"], docs["products"]
    assert prices["starter-monthly"] == {  # per_unit, licensed, every month, tax unspecified
        "currency": "usd", "lookup_key": "starter_monthly", "nickname": "Starter monthly",
        "product": "starter", "recurring": {"interval": "month"}, "unit_amount": 900}
    assert prices["pro-monthly"]["tax_behavior"] == "exclusive"
    assert prices["pro-monthly"]["currency_options"]["eur"]["tax_behavior"] == "exclusive"
    assert prices["ent-seats"]["billing_scheme"] == "tiered"
    assert prices["api-calls"]["recurring"]["usage_type"] == "metered"
    assert prices["pro-usd-8100-month"]["recurring"]["interval_count"] == 3
    assert products["t-shirt"]["type"] == "good" and "type" not in products["pro"]
    assert {c.get("duration") for c in docs["coupons"].values()} == {
        None, "forever", "repeating"}
    assert docs["promotion_codes"]["hello"]["restrictions"] == {"first_time_transaction": True}
    assert docs["meters"]["build-run"]["customer_mapping"]["event_payload_key"] == "customer"
    assert docs["webhook_endpoints"]["old-example-net-hook"]["disabled"] is True


def owned_state(tmp_path):
    """The messy account after stack 'billing' took three objects under other keys: the
    product ``pro`` as ``pro-plan``, its monthly price as ``pro-m``, and the product
    ``enterprise`` as ``starter`` (the readable key of another product)."""
    emu = messy_emulator()

    async def tag(client):
        objects, _ = await read_account(client, ["products", "prices"], False)
        monthly = next(p for p in objects["prices"] if p.get("lookup_key") == "pro_monthly")
        for kind, live_id, key in [("products", "pro", "pro-plan"),
                                   ("prices", monthly["id"], "pro-m"),
                                   ("products", "enterprise", "starter")]:
            await client.update(KINDS[kind].path, live_id,
                                {"metadata": {OWNER_STACK: "billing", OWNER_KEY: key}})

    run(emu, tag)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(emu.state()), "utf-8")
    return state


def test_stack_keeps_the_keys_of_the_objects_it_owns(tmp_path):
    state = owned_state(tmp_path)
    out = tmp_path / "billing"
    result = cli("export", "-o", str(out), "--stack", "billing", state=state)
    assert result.exit_code == 0, shown(result)
    docs = exported_entries(out)
    products, prices = docs["products"], docs["prices"]
    assert products["pro-plan"]["id"] == "pro"
    assert products["pro"]["id"].startswith("prod_")  # the other "Pro" now reads as "pro"
    assert prices["pro-m"]["lookup_key"] == "pro_monthly" and "pro-monthly" not in prices
    assert prices["pro-m"]["product"] == "pro-plan"  # references follow the kept key
    assert products["pro-plan"]["default_price"] == "pro-m"
    assert products["starter"]["id"] == "enterprise"  # an owned key comes first
    assert products["starter-2"]["id"] == "starter"
    assert OWNER_STACK not in json.dumps(docs)  # the tags themselves are not written

    planned = cli("plan", str(out), "--adopt", "--stack", "billing", "--format", "json",
                  state=state)
    assert planned.exit_code == 0, shown(planned)
    adopted = {c["address"] for c in json.loads(planned.stdout)["changes"]
               if c["action"] == "adopt"}
    assert {"products.pro-plan", "prices.pro-m", "products.starter"}.isdisjoint(adopted)
    assert {"products.starter-2", "prices.starter-monthly"} <= adopted

    other = tmp_path / "default"
    assert cli("export", "-o", str(other), state=state).exit_code == 0
    docs = exported_entries(other)  # billing's keys are not the default stack's
    assert {"pro", "enterprise", "starter"} <= set(docs["products"])
    assert "pro-monthly" in docs["prices"] and "pro-plan" not in docs["products"]


@pytest.mark.parametrize(("kinds", "files"), [
    ("tax_rates", ["tax_rates"]),
    ("prices", ["meters", "prices", "products"]),
    # a promotion code names a coupon, which names products, whose default prices name meters
    ("promotion_codes", ["coupons", "meters", "prices", "products", "promotion_codes"]),
    ("coupons, webhook_endpoints", ["coupons", "meters", "prices", "products",
                                    "webhook_endpoints"]),
])
def test_kinds_exports_them_and_all_they_reference(kinds, files, tmp_path):
    state = messy_state(tmp_path / "state.json")
    out = tmp_path / "catalog"
    result = cli("export", "-o", str(out), "--kinds", kinds, state=state)
    assert result.exit_code == 0, shown(result)
    assert sorted(p.stem for p in out.glob("*.yaml")) == files
    checked = cli("validate", str(out), state=state)
    assert checked.exit_code == 0, shown(checked)


def test_kinds_refuses_an_unknown_kind(tmp_path):
    state = messy_state(tmp_path / "state.json")
    result = cli("export", "-o", str(tmp_path / "out"), "--kinds", "prices,taxes", state=state)
    assert result.exit_code == 1, shown(result)
    assert "unknown kind taxes; choose from features, meters" in result.stderr
    assert not (tmp_path / "out").exists()


def archived(directory) -> set[str]:
    return {f"{kind}.{key}" for kind, entries in exported_entries(directory).items()
            for key, entry in entries.items() if entry.get("active") is False}


def test_include_archived_on_the_command_line(tmp_path):
    state = messy_state(tmp_path / "state.json")
    current, everything = tmp_path / "current", tmp_path / "everything"
    assert cli("export", "-o", str(current), state=state).exit_code == 0
    result = cli("export", "-o", str(everything), "--include-archived", state=state)
    assert result.exit_code == 0, shown(result)
    # without the flag, only what a current object points at (a product's archived feature,
    # the archived product of a price still on sale)
    assert archived(current) == {"features.legacy-reports", "products.retired-add-on"}
    assert archived(everything) > archived(current) | {
        "tax_rates.gst-10", "promotion_codes.partner", "shipping_rates.overnight",
        "prices.pro-usd-1900-month", "products.sunset-plan", "features.beta-ai"}
    assert cli("validate", str(everything), state=state).exit_code == 0

    taxes = tmp_path / "taxes"
    result = cli("export", "-o", str(taxes), "--kinds", "tax_rates", "--include-archived",
                 state=state)
    assert result.exit_code == 0, shown(result)
    assert archived(taxes) == {"tax_rates.gst-10"}


MADE_BY_RECONCILER = """\
products:
  pro: {name: Pro, metadata: {tier: "2"}, prevent_destroy: true}
  team: {name: Team}
webhook_endpoints:
  hooks:
    url: https://example.com/hooks
    enabled_events: [invoice.paid]
    connect: true
    prevent_destroy: true
  billing:
    url: https://example.com/billing
    enabled_events: [invoice.paid]
"""


def test_objects_reconciler_made_export_as_their_entries(tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "catalog.yaml").write_text(MADE_BY_RECONCILER)
    manifest = load_checked(catalog)
    emu = Emulator()
    made = run(emu, lambda c: make_plan(manifest, c, PlanOptions()))
    result = run(emu, lambda c: apply(made, c))
    assert result.ok, [(c.address, str(e)) for c, e in result.failed]
    out = tmp_path / "exported"

    run(emu, lambda c: export(c, out, kinds=["products", "webhook_endpoints"]))
    assert exported_entries(out) == yaml.safe_load(MADE_BY_RECONCILER)
    plan = run(emu, lambda c: make_plan(load_checked(out), c, PlanOptions()))
    assert not plan.has_changes, [(c.address, c.diffs) for c in plan.pending]
    assert not plan.warnings
