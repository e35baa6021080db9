"""Stripe's documented limits (reconciler/data/limits.json) in `validate`: for every enforced
fact a manifest may state, an entry just inside the limit is clean and one just outside gets an
issue at the field, with its file and line. The cases are generated from the data
(tests/limit_cases.py); facts about parameters a manifest never states (a price's inline
`product_data`, a product's `default_price_data`) are the emulator's alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from limit_cases import Case, apply, cases

from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import Variables, load, validate

BY_OBJECT = {kind.stripe_object: kind for kind in MANIFEST_KINDS.values()}
# A minimal valid entry of each kind, and the entries they name.
BASE: dict[str, dict[str, Any]] = {
    "product": {"name": "Pro"},
    "price": {"product": "pro", "currency": "usd", "unit_amount": 1200},
    "coupon": {"percent_off": 10},
    "promotion_code": {"code": "LAUNCH", "promotion": {"type": "coupon", "coupon": "ten"}},
    "tax_rate": {"display_name": "VAT", "percentage": 20, "inclusive": False},
    "shipping_rate": {"display_name": "Standard", "type": "fixed_amount",
                      "fixed_amount": {"amount": 500, "currency": "usd"}},
    "entitlements.feature": {"name": "Seats", "lookup_key": "seats"},
}
NAMED = {"products": {"pro": {"name": "Pro"}}, "coupons": {"ten": {"percent_off": 10}}}


def _stated(kind: str, path: str) -> bool:
    described = BY_OBJECT.get(kind)
    if described is None:
        return False
    names = [path.split(".")[0].removesuffix("[]")] if path else []
    return all(name in described.manifest_params for name in names)


CASES = cases(_stated)


def _issues(tmp_path: Path, kind: str, entry: dict[str, Any]) -> list[tuple[str | None, int]]:
    name = BY_OBJECT[kind].name
    document = {**NAMED, name: {**NAMED.get(name, {}), "t": entry}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    manifest, problems = load([tmp_path / "m.yaml"], variables=Variables({}, {}))
    assert problems == []
    return [(issue.field, issue.location.line) for issue in validate(manifest)
            if issue.key == "t"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_just_inside_is_clean_and_just_outside_is_an_issue(tmp_path: Path, case: Case) -> None:
    assert _issues(tmp_path, case.kind, apply(BASE[case.kind], case.inside)) == []
    found = _issues(tmp_path, case.kind, apply(BASE[case.kind], case.outside))
    assert case.wire[1] in [field for field, _ in found], found
    assert all(line > 0 for _, line in found)


def test_every_kind_with_stated_facts_has_cases() -> None:
    assert {c.kind for c in CASES} >= {"product", "price", "coupon", "promotion_code",
                                       "tax_rate", "shipping_rate", "entitlements.feature"}


@pytest.mark.parametrize(("key", "refused"), [("plan_tier", False), ("a[b]", True),
                                              ("tier]", True)])
def test_a_metadata_key_with_square_brackets_is_refused_as_stripe_refuses_it(
        tmp_path: Path, key: str, refused: bool) -> None:
    """The emulator refused such keys at apply time; validate let them through."""
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(
        {"products": {"t": {"name": "T", "metadata": {key: "x"}}}}))
    manifest, problems = load([tmp_path / "m.yaml"], variables=Variables({}, {}))
    assert problems == []
    messages = [str(issue) for issue in validate(manifest)]
    assert bool(messages) is refused, messages
    if refused:
        assert f"key '{key}' is not allowed: Stripe refuses square brackets" in messages[0]
