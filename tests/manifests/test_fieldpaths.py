"""Which paths ignore_changes may name: the planner's paths of the kind's Stripe fields."""

import pytest

from reconciler.kinds import KINDS
from reconciler.manifests import Variables, load, validate
from reconciler.manifests.fieldpaths import first_miss
from reconciler.manifests.hints import hint


@pytest.mark.parametrize("kind,path", [
    ("prices", "nickname"),
    ("prices", "recurring"),
    ("prices", "recurring.interval"),  # a property of an object
    ("prices", "metadata"),
    ("prices", "metadata.any-key"),  # any key of a mapping
    ("prices", "tiers"),
    ("prices", "tiers[3]"),  # an item of a list, as the planner writes it
    ("prices", "tiers[0].up_to"),
    ("prices", "currency_options.eur.tiers[0].unit_amount"),
    ("products", "active"),
    ("products", "default_price"),
    ("products", "package_dimensions.height"),
    ("payment_method_configurations", "card.display_preference.preference"),
])
def test_paths_the_planner_can_report_are_accepted(kind, path):
    assert first_miss(KINDS[kind], path) is None


@pytest.mark.parametrize("kind,path,suggestion", [
    ("prices", "nicknme", "nickname"),
    ("prices", "recurring.intervl", "recurring.interval"),
    ("prices", "recuring.interval", "recurring.interval"),  # the rest of the path is kept
    ("prices", "tier[0].up_to", "tiers[0].up_to"),
    ("prices", "tiers[0].upto", "tiers[0].up_to"),
    ("prices", "currency_options.eur.unit_amont", "currency_options.eur.unit_amount"),
    ("prices", "product_data", "product"),  # a parameter the manifest may not set
    ("products", "features", None),  # the tool's field: no live value to ignore
    ("products", "prevent_destroy", None),
    ("prices", "metadata.team.lead", None),  # metadata values are text
    ("prices", "nickname[0]", None),  # the name is right; no other name to offer
    ("prices", "recurring[0]", None),
    ("prices", "tiers.up_to", None),
    ("prices", "tiers[x]", "tiers"),
    ("prices", "recurring.", None),
    ("prices", "", None),
])
def test_other_paths_are_refused_with_the_closest_whole_path(kind, path, suggestion):
    miss = first_miss(KINDS[kind], path)
    assert miss is not None
    advice = hint(miss.name, miss.options, before=miss.before, after=miss.after)
    assert advice == (f"did you mean '{suggestion}'?" if suggestion else "")


def test_each_unknown_path_is_reported_at_its_item(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "products:\n  pro:\n    name: Pro\n"
        "    ignore_changes: [name, descripton, 5]\n")  # 5: the schema's to report
    manifest, problems = load([tmp_path / "m.yaml"], variables=Variables({}, {}))
    assert problems == []
    found = [(i.location.line, i.location.column, i.field, f"{i.message}{i.hint}")
             for i in validate(manifest)]
    assert found == [
        (4, 28, "ignore_changes[1]", "ignore_changes names 'descripton', which is not a field "
                                     "of products (did you mean 'description'?)"),
        (4, 40, "ignore_changes[2]", "expected a string, got integer 5"),
    ]
