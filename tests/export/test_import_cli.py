"""`reconciler import`: adopt live objects that match manifest entries, with evidence.

--dry-run lists every match and tags nothing; import tags exactly the matches; --kinds
filters. An entry that cannot be imported (two live objects match it equally) is reported
and fails the import, which then tags nothing at all: a CI job sees exit 1, not a half-done
adoption.
"""

from __future__ import annotations

import re
import time

from export_helpers import cli, exported_entries, messy_state, run, shown

from reconciler.apply.lock import LOCK_NAME, Lease, lock_id
from reconciler.emulator import Emulator
from reconciler.kinds import KINDS
from reconciler.plan import OWNER_KEY, OWNER_STACK
from reconciler.plan.records import RECORDED_KINDS


def stored(state) -> dict[str, list[dict]]:
    """Every object in the emulator's state file, by Stripe object type."""
    found: dict[str, list[dict]] = {}
    for bucket in Emulator(state_file=state).state()["accounts"].values():
        for kind, table in bucket["objects"].items():
            found.setdefault(kind, []).extend(r["object"] for r in table.values())
    return found


def tagged(state) -> dict[str, str]:
    """live id -> "stack:key" for every object carrying ownership tags."""
    return {o["id"]: f"{o['metadata'][OWNER_STACK]}:{o['metadata'][OWNER_KEY]}"
            for objs in stored(state).values() for o in objs
            if OWNER_STACK in (o.get("metadata") or {})}


def adopt_lines(text: str) -> dict[str, str]:
    """address -> "live id (evidence)" from import's listing."""
    return dict(re.findall(r"^adopt (\S+) <- (.+)$", text, re.MULTILINE))


def exported(tmp_path):
    state = tmp_path / "state.json"
    messy_state(state)
    out = tmp_path / "catalog"
    result = cli("export", "-o", str(out), state=state)
    assert result.exit_code == 0, shown(result)
    docs = exported_entries(out)
    # meters and payment method configurations are adopted into the stack's ownership
    # record, not tagged; the account's default configuration is no stack's
    adoptable = {f"{k}.{key}" for k, entries in docs.items() for key in entries
                 if KINDS[k].has_metadata or k in RECORDED_KINDS}
    return state, out, adoptable - {"payment_method_configurations.default"}


def test_dry_run_lists_every_match_with_its_evidence_and_tags_nothing(tmp_path):
    state, out, taggable = exported(tmp_path)
    before = stored(state)
    result = cli("import", str(out), "--dry-run", state=state)
    assert result.exit_code == 0, shown(result)
    listed = adopt_lines(result.stdout)
    assert set(listed) == taggable
    assert listed["products.pro"].endswith("(matched by id 'pro')")
    assert listed["prices.pro-monthly"].endswith("(matched by lookup_key 'pro_monthly')")
    assert listed["promotion_codes.welcome"].endswith("(matched by code 'WELCOME')")
    assert re.fullmatch(r"txr_\w+ \(matched by same content: country, display_name, "
                        r"inclusive, percentage\)", listed["tax_rates.vat-21"])
    assert f"{len(taggable)} objects to import (dry run)." in result.stdout
    assert stored(state) == before
    assert tagged(state) == {}


def test_import_tags_the_matches_and_then_plan_is_empty(tmp_path):
    state, out, taggable = exported(tmp_path)
    result = cli("import", str(out), "--stack", "billing", state=state)
    assert result.exit_code == 0, shown(result)
    assert f"Imported {len(taggable)} objects into stack 'billing'." in result.stdout
    owners = tagged(state)
    assert sorted(owners.values()) == sorted(f"billing:{a.split('.', 1)[1]}" for a in taggable
                                             if a.split(".")[0] not in RECORDED_KINDS)
    plan = cli("plan", str(out), "--stack", "billing", "--detailed-exitcode", state=state)
    assert plan.exit_code == 0, shown(plan)
    again = cli("import", str(out), "--stack", "billing", state=state)
    assert again.exit_code == 0 and "0 objects to import." in again.stdout, shown(again)


def test_import_writes_every_tag_the_entry_decides(tmp_path):
    """An entry with prevent_destroy is imported protected (until the next apply, prune could
    remove it otherwise), and the next plan is empty."""
    state, out, _ = exported(tmp_path)
    products = out / "products.yaml"
    text = products.read_text()
    products.write_text(text.replace("  pro:\n", "  pro:\n    prevent_destroy: true\n", 1))
    result = cli("import", str(out), state=state)
    assert result.exit_code == 0, shown(result)
    (pro,) = [o for o in stored(state)["product"] if o["id"] == "pro"]
    assert pro["metadata"]["reconciler_prevent_destroy"] == "true"
    plan = cli("plan", str(out), "--detailed-exitcode", state=state)
    assert plan.exit_code == 0, shown(plan)


def test_kinds_filters_what_is_imported(tmp_path):
    state, out, taggable = exported(tmp_path)
    result = cli("import", str(out), "--kinds", "tax_rates,coupons", state=state)
    assert result.exit_code == 0, shown(result)
    listed = adopt_lines(result.stdout)
    assert listed and {a.split(".")[0] for a in listed} == {"tax_rates", "coupons"}
    assert set(listed) == {a for a in taggable if a.startswith(("tax_rates.", "coupons."))}
    assert len(tagged(state)) == len(listed)
    bad = cli("import", str(out), "--kinds", "taxes", state=state)
    assert bad.exit_code == 1 and "unknown kind taxes; choose from " in bad.stderr, shown(bad)


VAT = {"display_name": "VAT", "inclusive": True, "country": "DE"}
CATALOG = """
tax_rates:
  vat: {display_name: VAT, percentage: 20, inclusive: true, country: DE}
  vat-reduced: {display_name: VAT, percentage: 7, inclusive: true, country: DE}
coupons:
  summer: {percent_off: 10}
"""


def test_an_entry_that_cannot_be_imported_fails_the_import_and_nothing_is_tagged(tmp_path):
    """All or nothing: one ambiguous entry (two identical live tax rates) stops the import,
    dry run or not, and is named with both candidates; the other matches are listed but not
    tagged. Leaving its kind out, or the entry, lets the rest be imported."""
    state = tmp_path / "state.json"

    async def seed(client):
        twins = [await client.create("/v1/tax_rates", {**VAT, "percentage": 20})
                 for _ in range(2)]
        reduced = await client.create("/v1/tax_rates", {**VAT, "percentage": 7})
        summer = await client.create("/v1/coupons", {"id": "summer", "percent_off": 10})
        return [t["id"] for t in twins], reduced["id"], summer["id"]

    twins, reduced, summer = run(Emulator(state_file=state), seed)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    for args in (("--dry-run",), ()):
        result = cli("import", str(catalog), *args, state=state)
        assert result.exit_code == 1, shown(result)
        assert sorted(adopt_lines(result.stdout)) == ["coupons.summer", "tax_rates.vat-reduced"]
        assert re.search(rf"^not imported: tax_rates\.vat: several unmanaged objects "
                         rf"\({twins[1]}, {twins[0]}\) have exactly the stated fields; cannot "
                         "tell which one to adopt$", result.stderr, re.MULTILINE), shown(result)
        assert result.stderr.endswith(
            "Error: 1 problem: 1 entry cannot be imported, so nothing is tagged; resolve them (or "
            "leave their kinds out with --kinds) and import again.\n"), shown(result)
        assert "Imported" not in result.stdout and "to import" not in result.stdout
        assert tagged(state) == {}

    coupons = cli("import", str(catalog), "--kinds", "coupons", state=state)
    assert coupons.exit_code == 0 and coupons.stderr == "", shown(coupons)
    assert tagged(state) == {summer: "default:summer"}

    catalog.write_text(CATALOG.replace(
        "  vat: {display_name: VAT, percentage: 20, inclusive: true, country: DE}\n", ""))
    rest = cli("import", str(catalog), state=state)
    assert rest.exit_code == 0, shown(rest)
    assert "Imported 1 object into stack 'default'." in rest.stdout
    assert tagged(state) == {summer: "default:summer", reduced: "default:vat-reduced"}


def test_a_natural_key_that_several_live_objects_hold_is_refused_naming_them_all(tmp_path):
    """Stripe lets two payment method configurations share a name, and a promotion code be
    reused once the first is archived: an entry naming that value could mean either object,
    so the import names both and tags nothing (never the newest, never the first found)."""
    state = tmp_path / "state.json"

    async def seed(client):
        checkout = [(await client.create("/v1/payment_method_configurations",
                                         {"name": "Checkout"}))["id"] for _ in range(2)]
        await client.create("/v1/coupons", {"id": "spring", "percent_off": 10})
        spring = []
        for _ in range(2):  # a campaign run twice, the code archived after each
            code = await client.create("/v1/promotion_codes", {
                "code": "SPRING", "promotion": {"type": "coupon", "coupon": "spring"}})
            await client.update("/v1/promotion_codes", code["id"], {"active": False})
            spring.append(code["id"])
        return checkout, spring

    checkout, spring = run(Emulator(state_file=state), seed)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("""
payment_method_configurations:
  checkout: {name: Checkout}
coupons:
  spring: {percent_off: 10}
promotion_codes:
  spring:
    code: SPRING
    promotion: {type: coupon, coupon: spring}
    active: false
""")
    result = cli("import", str(catalog), state=state)
    assert result.exit_code == 1, shown(result)
    refused = re.findall(r"^not imported: (.*)$", result.stderr, re.MULTILINE)
    assert refused == [
        f"{address}: {value} matches several live objects ({ids[1]}, {ids[0]}); "
        "cannot tell which one is meant"
        for address, value, ids in [
            ("payment_method_configurations.checkout", "name 'Checkout'", checkout),
            ("promotion_codes.spring", "code 'SPRING'", spring)]], shown(result)
    assert "Error: 2 problems: 2 entries cannot be imported" in result.stderr
    assert list(adopt_lines(result.stdout)) == ["coupons.spring"]
    assert tagged(state) == {}


def test_an_import_while_an_apply_holds_the_lock_fails_naming_it_and_tags_nothing(tmp_path):
    """Import writes (tags, the ownership record), so two writers of one stack must not
    overlap: it takes the apply lock, and a held one stops it before any tag. --dry-run
    writes nothing and takes no lock."""
    state, out, _ = exported(tmp_path)
    holder = Lease.new("billing", time.time(), 120)  # this process: alive, not expired
    run(Emulator(state_file=state), lambda c: acquire_lease(c, holder))
    before = stored(state)
    result = cli("import", str(out), "--stack", "billing", state=state)
    assert result.exit_code == 1, shown(result)
    assert (f"Error: another apply of stack 'billing' holds the apply lock: "
            f"{holder.describe()}.") in result.stderr
    assert "Nothing was changed by this run." in result.stderr
    assert stored(state) == before
    dry = cli("import", str(out), "--stack", "billing", "--dry-run", state=state)
    assert dry.exit_code == 0, shown(dry)
    other = cli("import", str(out), "--stack", "other", state=state)
    assert other.exit_code == 0, shown(other)
    assert not [p for p in stored(state)["product"] if p["id"] == lock_id("other")]


async def acquire_lease(client, lease):
    await client.create("/v1/products", {"id": lock_id(lease.stack), "name": LOCK_NAME,
                                         "active": False, "metadata": lease.metadata()})
