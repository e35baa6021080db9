"""The Markdown plan as a pull-request comment (issue #8): with the marker the workflow puts
before it, under GitHub's 65,535 characters; the totals always there; every replacement and
removal named, or exactly how many are not when they cannot all be.

Sizes are measured in UTF-16 units, as JavaScript and the renderer count.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from brace_shell import named

from reconciler.plan import Action, Change, FieldDiff, Plan, Step
from reconciler.render import markdown

WORKFLOW = Path(__file__).parents[2] / ".github" / "workflows" / "reconciler.yml"
LONGEST_ENV = "e" * 255  # an overlay directory name


def workflow_marker(stack: str, env: str) -> str:
    """What the workflow's plan job writes before the plan, read from the workflow."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    name = (workflow["env"]["RECONCILER_MARKER"].replace("${{ inputs.stack }}", stack)
            .replace("${{ inputs.env }}", env))
    run = next(s["run"] for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    echo = re.search(r'\{ echo "([^"]*)"; cat plan\.md; \} > comment\.md', run)
    assert echo, "the plan step no longer writes comment.md as marker + plan.md"
    marker = echo[1].replace("$RECONCILER_MARKER", name) + "\n"
    assert "$" not in marker, marker
    return marker


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def comment_size(plan: Plan, out: str) -> int:
    return utf16(workflow_marker(plan.stack, LONGEST_ENV) + out)


def _creates(n: int, prefix: str = "price") -> tuple[Change, ...]:
    return tuple(
        Change("prices", f"{prefix}-{i:05d}", Action.CREATE, ("create",), diffs=(
            FieldDiff("product", None, {"$ref": f"products.product-{i % 50}"}),
            FieldDiff("currency", None, "usd"),
            FieldDiff("unit_amount", None, 1000 + i),
            FieldDiff("recurring.interval", None, "month"),
            FieldDiff("nickname", None, f"Price number {i} of a very large catalog"),
        ), steps=(Step("POST", "/v1/prices", {"currency": "usd"}, produces=True),))
        for i in range(n))


def _plan(changes: tuple[Change, ...], stack: str = "default") -> Plan:
    return Plan("acct_big", False, "2026-10-28.endive", stack, "sha256:0", "sha256:0", changes,
                warnings=("a warning that must survive truncation",))


PRODUCTS = ("analytics-suite", "data-warehouse-pro", "observability", "team-workspace",
            "edge-functions", "vector-search", "realtime-sync", "identity-platform",
            "backup-vault", "ml-inference")
STATES = ("al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in",
          "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv",
          "nh", "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn",
          "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy")
WORDS = ("spring", "summer", "autumn", "winter", "launch", "partner", "loyalty", "referral",
         "student", "nonprofit", "founder", "welcome", "upgrade", "winback", "holiday", "flash")


def _destructive(coupons: int) -> list[tuple[Action, str, str]]:
    """(action, kind, key) as a generated catalog names them: mostly by pattern, up to about 40
    characters, a few hundred irregular, a few ownership tags set by hand."""
    rng = random.Random(5)
    tiers, intervals = ("starter", "growth", "business", "enterprise"), ("monthly", "yearly")
    currencies = ("usd", "eur", "gbp", "jpy", "cad", "aud")
    prices = [f"{p}-{t}-{i}-{c}" for p in PRODUCTS for t in tiers for i in intervals
              for c in currencies]
    out = [(Action.REPLACE, "prices", key) for key in prices]
    out += [(Action.ARCHIVE, "prices", f"{key}-v1") for key in prices if "analytics" in key
            or "vector" in key]
    out += [(Action.ARCHIVE, "products", f"legacy-bundle-{i:04d}-{region}")
            for i in range(1, 201) for region in ("na", "emea", "apac")]
    out += [(Action.DELETE, "coupons", f"partner-campaign-2024-q{i % 4 + 1}-{i:05d}")
            for i in range(2 * coupons) if i % 7][:coupons]
    promos = {f"promo-{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randrange(1000)}"
              for _ in range(300)}
    out += [(Action.ARCHIVE, "promotion_codes", key) for key in sorted(promos)]
    out += [(Action.REPLACE, "tax_rates", f"us-{state}-sales-tax-2025") for state in STATES]
    out += [(Action.DELETE, "product_features", f"{p}/{f}") for p in PRODUCTS
            for f in ("sso", "audit-log", "priority-support", "sandbox", "api-access")]
    out += [(Action.DELETE, "webhook_endpoints", key) for key in
            ("billing-sync", "crm-bridge", "analytics-events", "legacy-hook")]
    out += [(Action.DELETE, "coupons", "Spring Sale, 2024 {old} 🎉"),
            (Action.ARCHIVE, "promotion_codes", "tick`tock\nline")]
    return out


def _change(action: Action, kind: str, key: str, n: int) -> Change:
    actions = {Action.REPLACE: ("create", "delete")}.get(action, ("delete",))
    return Change(kind, key, action, actions, live_id=f"obj_{n:024d}")


@pytest.mark.parametrize("coupons", [1000, 3418], ids=["half-destructive", "all-destructive"])
def test_5000_changes_keep_totals_and_name_every_replacement_and_removal(coupons):
    destructive = [_change(*d, n) for n, d in enumerate(_destructive(coupons))]
    plan = _plan(tuple(destructive) + _creates(5000 - len(destructive)),
                 stack="payments-platform-eu-production")
    assert len(plan.pending) == 5000 and len(destructive) >= 2500
    out = markdown.render(plan)
    assert comment_size(plan, out) <= 65_535
    replaced = sum(c.action is Action.REPLACE for c in destructive)
    assert (f"### reconciler plan: {5000 - len(destructive)} to create, 0 to update, "
            f"{replaced} to replace, {len(destructive) - replaced} to archive/delete.\n") in out
    assert "a warning that must survive truncation" in out
    assert "Details omitted" in out and "not named" not in out
    expected: dict[tuple[str, str], list[str]] = {}
    for change in destructive:
        expected.setdefault((change.action.value, change.kind), []).append(change.key)
    found = named(out)
    assert {group: sorted(keys) for group, (keys, _, _) in found.items()} == {
        group: sorted(keys) for group, keys in expected.items()}
    assert all(shown == total == len(expected[g]) for g, (_, shown, total) in found.items())
    left = 5000 - len(destructive) - out.count("| create |")  # creates get the room left
    assert (f"{left} more changes not shown (" in out) == (left > 0)


def test_keys_are_listed_one_by_one_while_that_fits():
    """Searchable: a reviewer looks for a key as it is written."""
    rng = random.Random(3)
    keys = sorted({f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randrange(10**6)}"
                   for _ in range(1500)})
    plan = _plan(tuple(_change(Action.ARCHIVE, "prices", key, n) for n, key in enumerate(keys)))
    out = markdown.render(plan)
    assert comment_size(plan, out) <= 65_535 and "| archive |" not in out
    assert "brace notation" not in out
    assert named(out) == {("archive", "prices"): (keys, len(keys), len(keys))}
    assert all(f" {key}," in out or f" {key}\n" in out for key in keys)


@pytest.mark.slow
def test_what_cannot_be_named_is_counted_exactly_deletions_first():
    rng = random.Random(8)
    changes = tuple(
        _change(action, kind, f"{rng.getrandbits(160):040x}", n)
        for n, (action, kind) in enumerate([(Action.DELETE, "coupons")] * 2000
                                           + [(Action.ARCHIVE, "prices")] * 3000))
    plan = _plan(changes)
    out = markdown.render(plan)
    assert comment_size(plan, out) <= 65_535
    assert "0 to replace, 5000 to archive/delete." in out
    left = re.search(r"\*\*(\d+) of 5000 replacements and removals are not named here\*\*", out)
    assert left, out[:2000]
    assert "`plan.json` artifact" in out and "`reconciler plan --format text`" in out
    found = named(out)
    keys = {c.address: c for c in changes}
    shown = [f"{kind}.{key}" for (_, kind), (listed, _, _) in found.items() for key in listed]
    assert len(shown) == len(set(shown)) and set(shown) <= set(keys)
    assert len(shown) + int(left[1]) == 5000
    assert len(shown) > 1300  # the room is used: about 1,450 such keys fit
    (deleted, n_deleted, of_deleted), (archived, n_archived, of_archived) = (
        found["delete", "coupons"], found["archive", "prices"])
    assert (len(deleted), n_deleted, of_deleted) == (len(shown), len(shown), 2000)
    assert (archived, n_archived, of_archived) == ([], 0, 3000)


def _padded(plan: Plan, extra: str) -> Plan:
    first, *rest = plan.changes
    diffs = tuple(replace(d, new=d.new + extra) if d.path == "nickname" else d
                  for d in first.diffs)
    return replace(plan, changes=(replace(first, diffs=diffs), *rest))


def test_a_plan_that_just_fits_is_rendered_in_full():
    plan = _plan(_creates(120))
    room = 65_535 - len(workflow_marker(plan.stack, LONGEST_ENV))
    extra = room - utf16(markdown.render(plan)) - 20
    full = markdown.render(_padded(plan, "🎉" * 10 + "x" * extra))  # 🎉 counts 2 in UTF-16
    assert utf16(full) == room and "<details>" in full
    over = markdown.render(_padded(plan, "🎉" * 10 + "x" * (extra + 1)))
    assert "<details>" not in over and "Details omitted" in over and utf16(over) <= room
    assert over.count("| create |") == 120


def test_margin_is_the_workflow_marker_for_the_plans_stack():
    for stack in ("default", "payments-" * 55):
        assert markdown.room(stack) == 65_535 - len(workflow_marker(stack, LONGEST_ENV))


def test_markdown_of_a_huge_plan_fits_a_comment_and_says_what_is_left_out():
    plan = _plan(_creates(3000), stack="s" * 500)  # a stack as long as Stripe metadata allows
    out = markdown.render(plan)
    assert comment_size(plan, out) <= 65_535
    assert "Details omitted" in out
    assert "3000 to create" in out
    assert "a warning that must survive truncation" in out
    shown = out.count("| create |")
    assert 0 < shown < 3000
    assert f"{3000 - shown} more changes not shown" in out
    small = markdown.render(_plan(_creates(20)))
    assert "Details omitted" not in small and "<details>" in small


def test_destructive_changes_that_fit_as_rows_keep_their_ids():
    destructive = tuple(
        Change("prices", f"old-{i}", action, actions, live_id=f"price_old{i}")
        for i, (action, actions) in enumerate(
            [(Action.REPLACE, ("create", "delete")), (Action.ARCHIVE, ("delete",))] * 50))
    plan = _plan(_creates(4900) + destructive)
    out = markdown.render(plan)
    assert comment_size(plan, out) <= 65_535
    assert "4900 to create, 0 to update, 50 to replace, 50 to archive/delete" in out
    for change in destructive:
        assert f"| `{change.address}` | {change.live_id} |" in out
    assert "more changes not shown (" in out and " create)" in out
