"""The targets file, its schema, and shards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.fleet import Target, TargetsError, load_targets, parse_shard, shard
from reconciler.fleet.targets import SCHEMA

ROOT = Path(__file__).parents[2]


def test_a_targets_file_gives_each_target_its_account_key_and_variables(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n"
                    "  - name: eu-shop\n    account: acct_1Nv0\n    vars: {CURRENCY: eur, RATE: 19}\n"
                    "  - name: us-entity\n    api_key_env: STRIPE_KEY_US\n    env: live\n")
    eu, us = load_targets(str(path))
    assert (eu.account, dict(eu.vars)) == ("acct_1Nv0", {"CURRENCY": "eur", "RATE": "19"})
    assert (us.api_key_env, us.env, us.account) == ("STRIPE_KEY_US", "live", None)


def test_problems_are_listed_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - name: a\n    account: cus_123\n  - name: a\n    acount: x\n")
    with pytest.raises(TargetsError) as caught:
        load_targets(str(path))
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{path}:3:14: targets.0.account:") for line in lines), lines
    assert any(line.startswith(f"{path}:4:") and "acount" in line for line in lines), lines


def test_duplicate_names_are_refused_where_the_second_stands(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - name: a\n    account: acct_1\n  - name: a\n    account: acct_2\n")
    with pytest.raises(TargetsError, match=r":4:\d+: targets.1.name: 'a' is also"):
        load_targets(str(path))


def test_invalid_yaml_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("targets: [\n")
    with pytest.raises(TargetsError, match=rf"{path}:\d+:\d+: invalid YAML"):
        load_targets(str(path))


def test_the_published_schema_is_the_one_the_loader_uses() -> None:
    published = json.loads((ROOT / "schemas" / "targets.schema.json").read_text())
    assert published == SCHEMA


@pytest.mark.parametrize("count", [1, 4, 7])
def test_shards_cover_every_target_exactly_once(count: int) -> None:
    targets = [Target(name=f"t{i}", account=f"acct_{i:04d}") for i in range(100)]
    seen = [t.name for i in range(1, count + 1) for t in shard(targets, i, count)]
    assert sorted(seen) == sorted(t.name for t in targets)


def test_a_shard_depends_on_the_account_not_the_name_or_the_order() -> None:
    targets = [Target(name=f"t{i}", account=f"acct_{i:04d}") for i in range(40)]
    renamed = [Target(name=f"x{i}", account=t.account) for i, t in enumerate(reversed(targets))]
    assert ({t.account for t in shard(targets, 2, 4)} == {t.account for t in shard(renamed, 2, 4)})


@pytest.mark.parametrize("text", ["0/4", "5/4", "1", "a/b"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(TargetsError, match="--shard"):
        parse_shard(text)
