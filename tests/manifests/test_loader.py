"""Files and directories merged into one manifest; overlays; duplicate keys across files."""

from reconciler.manifests import Variables, load, load_valid, ManifestError, validate

import pytest
from catalogs import PRO_MONTHLY


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


PRODUCT = "products:\n  pro:\n    name: Pro\n"
PRICE = "prices:\n" + PRO_MONTHLY


def test_directory_files_merge(tmp_path):
    write(tmp_path / "a.yaml", PRODUCT)
    write(tmp_path / "sub" / "b.yml", PRICE)
    write(tmp_path / "notes.txt", "ignored")
    manifest = load_valid([tmp_path])
    assert [e.key for e in manifest] == ["pro", "pro-monthly"]
    assert manifest.files == [str(tmp_path / "a.yaml"), str(tmp_path / "sub" / "b.yml")]
    assert manifest.get("prices", "pro-monthly").locate(("unit_amount",)).line == 5


def test_duplicate_manifest_key_across_files(tmp_path):
    write(tmp_path / "a.yaml", PRODUCT)
    write(tmp_path / "b.yaml", "products:\n  pro:\n    name: Other\n")
    _, issues = load([tmp_path])
    assert [str(i) for i in issues] == [
        f"{tmp_path}/b.yaml:2:3: products.pro: manifest key 'pro' is already defined at "
        f"{tmp_path}/a.yaml:2:3"]


def test_missing_path_and_unknown_kind(tmp_path):
    write(tmp_path / "a.yaml", "prodcts:\n  pro: {name: x}\n")
    _, issues = load([tmp_path / "nope.yaml", tmp_path / "a.yaml"])
    assert [str(i) for i in issues] == [
        f"{tmp_path}/nope.yaml: no such file or directory",
        f"{tmp_path}/a.yaml:1:1: unknown kind 'prodcts' (did you mean 'products'?)",
    ]


def test_overlays_apply_only_with_their_env(tmp_path):
    write(tmp_path / "catalog.yaml", PRODUCT + PRICE.replace("prices:", "prices:", 1))
    write(tmp_path / "overlays" / "live" / "live.yaml",
          "products:\n  pro:\n    description: Live\n    metadata: null\n"
          "prices:\n  pro-monthly:\n    unit_amount: 2000\n    recurring: {interval_count: 1}\n"
          "features:\n  sso: {name: SSO, lookup_key: sso}\n")
    base = load_valid([tmp_path])
    assert base.get("prices", "pro-monthly").fields["unit_amount"] == 1500
    assert base.get("features", "sso") is None
    live = load_valid([tmp_path], env="live")
    price = live.get("prices", "pro-monthly")
    assert price.fields["unit_amount"] == 2000
    assert price.fields["recurring"] == {"interval": "month", "interval_count": 1}
    assert price.locate(("unit_amount",)).file.endswith("live.yaml")
    assert price.locate(("currency",)).file.endswith("catalog.yaml")
    assert live.get("products", "pro").fields == {"name": "Pro", "description": "Live"}
    assert live.get("features", "sso") is not None


def test_unknown_env_is_an_error(tmp_path):
    write(tmp_path / "catalog.yaml", PRODUCT)
    _, issues = load([tmp_path], env="lvie")
    assert "no overlays/lvie/ directory" in issues[0].message


def test_overlay_null_removes_a_field_and_errors_point_at_the_overlay(tmp_path):
    write(tmp_path / "catalog.yaml", PRODUCT + PRICE)
    write(tmp_path / "overlays" / "test" / "o.yaml",
          "prices:\n  pro-monthly:\n    unit_amount: null\n    nickname: 5\n")
    manifest, issues = load([tmp_path], env="test")
    assert issues == []
    problems = [str(i) for i in validate(manifest)]
    assert problems == [
        f"{tmp_path}/catalog.yaml:5:3: prices.pro-monthly: a price needs one of unit_amount, "
        "unit_amount_decimal or custom_unit_amount (or billing_scheme: tiered with tiers)",
        f"{tmp_path}/overlays/test/o.yaml:4:15: prices.pro-monthly: expected a string, got integer 5",
    ]


def test_interpolation_from_variables(tmp_path):
    write(tmp_path / "c.yaml", "products:\n  pro:\n    name: ${NAME}\n")
    manifest = load_valid([tmp_path], variables=Variables({"NAME": "Pro"}, {}))
    assert manifest.get("products", "pro").fields["name"] == "Pro"
    with pytest.raises(ManifestError) as err:
        load_valid([tmp_path], variables=Variables({}, {}))
    assert "variable 'NAME' is not set" in str(err.value)


def test_entry_options_are_split_from_the_stripe_fields(tmp_path):
    write(tmp_path / "c.yaml", "products:\n  pro:\n    name: Pro\n    prevent_destroy: true\n"
          "    ignore_changes: [description]\n")
    entry = load_valid([tmp_path]).get("products", "pro")
    assert entry.options == {"prevent_destroy": True, "ignore_changes": ["description"]}
    assert entry.spec == {"name": "Pro"}


def test_a_named_file_that_is_not_yaml_is_an_error(tmp_path):
    write(tmp_path / "a.yaml", PRODUCT)
    readme = write(tmp_path / "README.md", "# not yaml: [")
    plan = write(tmp_path / "plan.json", "{}")
    manifest, issues = load([tmp_path / "a.yaml", readme, plan])
    assert manifest.files == [str(tmp_path / "a.yaml")]
    assert [str(i) for i in issues] == [
        f"{readme}: not a manifest file: manifests are .yaml or .yml files",
        f"{plan}: not a manifest file: manifests are .yaml or .yml files (a saved plan? "
        "`reconciler apply` takes one)"]


@pytest.mark.parametrize("other", [None, "notes.txt", ".hidden.yaml", "overlays/live/o.yaml"])
def test_a_directory_without_manifests_is_an_error(tmp_path, other):
    """An empty manifest set would plan the removal of everything the stack owns."""
    if other:
        write(tmp_path / other, PRODUCT)
    _, issues = load([tmp_path], env="live" if other and "overlays" in other else None)
    assert [str(i) for i in issues] == [
        f"{tmp_path}: no manifest files (.yaml or .yml) in this directory"]


def test_one_empty_directory_among_others_is_named(tmp_path):
    write(tmp_path / "catalog" / "a.yaml", PRODUCT)
    (tmp_path / "empty").mkdir()
    _, issues = load([tmp_path / "catalog", tmp_path / "empty"])
    assert [i.location.file for i in issues] == [str(tmp_path / "empty")]


@pytest.mark.parametrize(("written", "kind"), [
    ("prodcuts", "products"), ("webhooks", "webhook_endpoints"), ("endpoints", "webhook_endpoints"),
    ("tax", "tax_rates"), ("taxes", "tax_rates"), ("billing_meters", "meters"),
    ("entitlements", "features"), ("payment_methods", "payment_method_configurations"),
    ("promo_codes", "promotion_codes"),
])
def test_unknown_kind_suggests_the_kind_by_its_other_names(tmp_path, written, kind):
    path = write(tmp_path / "a.yaml", f"{written}:\n  x: {{name: x}}\n")
    _, issues = load([path])
    assert [(i.message, i.hint.fix) for i in issues] == [
        (f"unknown kind '{written}'", f"did you mean '{kind}'?")]
