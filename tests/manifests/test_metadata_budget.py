"""Stripe's 50 metadata keys are shared with reconciler's tags, whose prefix is reserved.

A product with 48 keys and ``prevent_destroy: true`` used to validate, then fail at apply with
Stripe's "Metadata can have up to 50 keys, but you've set 51". These tests hold validate to the
tags the planner really writes (reconciler/ownership.py, plan/desired.py) and to the emulator's
copy of Stripe's limit, so a new tag that validate does not count fails here.
"""

from __future__ import annotations

import pytest

from reconciler import ownership
from reconciler.emulator import metadata as stripe_metadata
from reconciler.emulator.errors import StripeError
from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import Variables, load, validate
from reconciler.manifests.schema import manifest_schema
from reconciler.manifests.tags import METADATA_MAX_KEYS, TAG_PREFIX, tag_names
from reconciler.plan.desired import create_params, desired, ref

ENTRIES = {  # kind -> an otherwise valid entry, as YAML lines under its key
    "products": ["name: Pro"],
    "webhook_endpoints": ["url: https://example.com/hooks",
                          "enabled_events: [checkout.session.completed]"],
}


def _yaml(kind: str, keys: int, *, prevent_destroy: bool = False, extra: str = "") -> str:
    lines = [f"{kind}:", "  pro:", *(f"    {line}" for line in ENTRIES[kind])]
    if prevent_destroy:
        lines.append("    prevent_destroy: true")
    lines.append("    metadata:")
    lines += [f"      k{i:02d}: v" for i in range(keys)]
    if extra:
        lines.append(f"      {extra}")
    return "\n".join(lines) + "\n"


def _load(tmp_path, text):
    (tmp_path / "m.yaml").write_text(text)
    manifest, problems = load([tmp_path / "m.yaml"], variables=Variables({}, {}))
    assert problems == []
    return manifest


def _issues(tmp_path, text):
    return [(i.location.line, i.location.column, i.field, i.message)
            for i in validate(_load(tmp_path, text))]


@pytest.mark.parametrize("kind", sorted(MANIFEST_KINDS))
@pytest.mark.parametrize("prevent_destroy", [False, True])
def test_counted_tags_are_the_ones_the_planner_writes(kind, prevent_destroy):
    described = MANIFEST_KINDS[kind]
    written = {**ownership.tags("stack", "key", prevent_destroy),
               **ownership.records(described, {})} if described.has_metadata else {}
    assert sorted(tag_names(described, prevent_destroy)) == sorted(written)
    assert all(name.startswith(TAG_PREFIX) for name in written)


def test_limits_agree_with_the_planner_the_schema_and_stripe():
    assert TAG_PREFIX == ownership.TAG_PREFIX
    assert METADATA_MAX_KEYS == stripe_metadata.MAX_KEYS == 50
    assert manifest_schema()["$defs"]["metadata"]["maxProperties"] == 50


@pytest.mark.parametrize("kind,prevent_destroy", [("products", False), ("products", True),
                                                  ("webhook_endpoints", False),
                                                  ("webhook_endpoints", True)])
def test_what_validates_is_what_stripe_accepts_at_create(tmp_path, kind, prevent_destroy):
    """The most keys validate allows, tags added the way the planner adds them, is exactly
    Stripe's limit; one key more is refused offline."""
    described = MANIFEST_KINDS[kind]
    allowed = METADATA_MAX_KEYS - len(tag_names(described, prevent_destroy))
    manifest = _load(tmp_path, _yaml(kind, allowed, prevent_destroy=prevent_destroy))
    assert validate(manifest) == []
    entry = manifest.get(kind, "pro")
    create, _ = create_params(described, desired(described, entry, ref, "default"))
    assert len(create["metadata"]) == METADATA_MAX_KEYS
    stripe_metadata.check(create["metadata"], "metadata")
    with pytest.raises(StripeError):
        stripe_metadata.check({**create["metadata"], "one_more": "v"}, "metadata")

    found = _issues(tmp_path, _yaml(kind, allowed + 1, prevent_destroy=prevent_destroy))
    assert [(f, m.split(";")[0]) for _, _, f, m in found] == [
        ("metadata", f"metadata has {allowed + 1} keys")]


def test_the_reviewers_product_is_refused_at_its_metadata(tmp_path):
    found = _issues(tmp_path, _yaml("products", 48, prevent_destroy=True))
    assert found == [(5, 5, "metadata", ("metadata has 48 keys; reconciler adds 3 tags of its "
                                         "own (reconciler_key, reconciler_stack, "
                                         "reconciler_prevent_destroy): at most 47 are allowed"))]
    assert _issues(tmp_path, _yaml("products", 48)) == []


def test_webhook_endpoints_count_their_connect_record(tmp_path):
    found = _issues(tmp_path, _yaml("webhook_endpoints", 48))
    assert [m for *_, m in found] == [
        ("metadata has 48 keys; reconciler adds 3 tags of its own (reconciler_key, "
         "reconciler_stack, reconciler_connect): at most 47 are allowed")]


def test_beyond_fifty_keys_only_the_schema_speaks(tmp_path):
    assert [m for *_, m in _issues(tmp_path, _yaml("products", 51))] == [
        "must have at most 50 keys, not 51"]


@pytest.mark.parametrize("key", ["reconciler_prevent_destroy", "reconciler_key",
                                 "reconciler_stack", "reconciler_team"])
def test_the_tag_prefix_is_reserved(tmp_path, key):
    found = _issues(tmp_path, _yaml("products", 1, extra=f'{key}: "true"'))
    assert found == [(6, 7, f"metadata.{key}", (f"metadata key '{key}' starts with "
                                                "'reconciler_', a prefix reserved for "
                                                "reconciler's own tags"))]


@pytest.mark.parametrize("key", ["Reconciler_key", "my_reconciler_key", "reconciler"])
def test_keys_that_only_resemble_a_tag_are_the_users(tmp_path, key):
    assert _issues(tmp_path, _yaml("products", 1, extra=f"{key}: v")) == []
