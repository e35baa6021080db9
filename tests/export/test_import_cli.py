"""`reconciler import`: adopt live objects that match manifest entries, with evidence.

--dry-run lists every match and tags nothing; import tags exactly the matches; an entry
that two live objects match equally is reported and neither is adopted; --kinds filters.
"""

from __future__ import annotations

import re
import textwrap

from export_helpers import cli, exported_entries, messy_state, run, shown

from reconciler.emulator import Emulator
from reconciler.kinds import KINDS
from reconciler.plan import OWNER_KEY, OWNER_STACK


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
    taggable = {f"{k}.{key}" for k, entries in docs.items() for key in entries
                if KINDS[k].has_metadata}
    return state, out, taggable


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
    assert f"{len(taggable)} object(s) to import (dry run)." in result.stdout
    assert stored(state) == before
    assert tagged(state) == {}


def test_import_tags_the_matches_and_then_plan_is_empty(tmp_path):
    state, out, taggable = exported(tmp_path)
    result = cli("import", str(out), "--stack", "billing", state=state)
    assert result.exit_code == 0, shown(result)
    assert f"Imported {len(taggable)} object(s) into stack 'billing'." in result.stdout
    owners = tagged(state)
    assert sorted(owners.values()) == sorted(f"billing:{a.split('.', 1)[1]}" for a in taggable)
    plan = cli("plan", str(out), "--stack", "billing", "--detailed-exitcode", state=state)
    assert plan.exit_code == 0, shown(plan)
    again = cli("import", str(out), "--stack", "billing", state=state)
    assert again.exit_code == 0 and "0 object(s) to import." in again.stdout, shown(again)


def test_kinds_filters_what_is_imported(tmp_path):
    state, out, taggable = exported(tmp_path)
    result = cli("import", str(out), "--kinds", "tax_rates,coupons", state=state)
    assert result.exit_code == 0, shown(result)
    listed = adopt_lines(result.stdout)
    assert listed and {a.split(".")[0] for a in listed} == {"tax_rates", "coupons"}
    assert set(listed) == {a for a in taggable if a.startswith(("tax_rates.", "coupons."))}
    assert len(tagged(state)) == len(listed)
    bad = cli("import", str(out), "--kinds", "taxes", state=state)
    assert bad.exit_code == 1 and "unknown kind(s) taxes" in bad.stderr, shown(bad)


def test_an_ambiguous_match_is_reported_and_neither_object_is_adopted(tmp_path):
    state = tmp_path / "state.json"
    emu = Emulator(state_file=state)
    vat = {"display_name": "VAT", "percentage": 20, "inclusive": True, "country": "DE"}

    async def seed(client):
        twins = [await client.create("/v1/tax_rates", vat) for _ in range(2)]
        other = await client.create("/v1/tax_rates", {**vat, "percentage": 7})
        return [t["id"] for t in twins], other["id"]

    twins, other = run(emu, seed)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(textwrap.dedent("""
        tax_rates:
          vat:
            display_name: VAT
            percentage: 20
            inclusive: true
            country: DE
          vat-reduced:
            display_name: VAT
            percentage: 7
            inclusive: true
            country: DE
    """))
    for args in (("--dry-run",), ()):
        result = cli("import", str(catalog), *args, state=state)
        assert result.exit_code == 0, shown(result)
        assert list(adopt_lines(result.stdout)) == ["tax_rates.vat-reduced"]
        assert re.search(rf"not imported: tax_rates\.vat: several unmanaged objects "
                         rf"\({twins[1]}, {twins[0]}\) have exactly the stated fields; cannot "
                         "tell which one to adopt", result.stderr), shown(result)
    assert tagged(state) == {other: "default:vat-reduced"}
