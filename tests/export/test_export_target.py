"""Where `reconciler export` writes: never over a catalog without --force, never through a
symlink, each file replaced in one step."""

from __future__ import annotations

import os
from pathlib import Path

from export_helpers import cli, exported_entries, shown

from reconciler.emulator import Emulator

CATALOG = """
features:
  sso: {name: SSO, lookup_key: sso}
products:
  pro: {name: Pro}
"""


def _account(tmp_path: Path) -> Path:
    """A state file holding the product ``pro`` (and nothing that points elsewhere)."""
    state = tmp_path / "state.json"
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    applied = cli("apply", str(tmp_path / "catalog.yaml"), "--auto-approve", state=state)
    assert applied.exit_code == 0, shown(applied)
    return state


def test_a_folder_holding_manifests_is_refused_without_force(tmp_path):
    """Also when the manifests are in a sub-folder, where the loader reads them too; many
    are counted, the first few named."""
    state = _account(tmp_path)
    out = tmp_path / "catalog"
    (out / "billing").mkdir(parents=True)
    products = "# ours\nproducts:\n  pro: {name: Pro, features: [sso]}\n"
    (out / "products.yaml").write_text(products)
    for n in range(6):
        (out / "billing" / f"part{n}.yml").write_text("prices: {}\n")
    result = cli("export", "-o", str(out), state=state)
    assert result.exit_code == 1, shown(result)
    assert result.stderr == (
        f"Error: {out} already holds 7 manifest files: {out}/products.yaml, "
        f"{out}/billing/part0.yml, {out}/billing/part1.yml, {out}/billing/part2.yml, "
        f"{out}/billing/part3.yml and 2 more; export writes a new catalog and would replace "
        "or duplicate their entries. Export to an empty folder and merge by hand, or pass "
        "--force to overwrite; nothing was written.\n")
    assert (out / "products.yaml").read_text() == products
    assert sorted(p.name for p in out.iterdir()) == ["billing", "products.yaml"]
    forced = cli("export", "-o", str(out), "--force", state=state)
    assert forced.exit_code == 0, shown(forced)
    assert exported_entries(out)["products"]["pro"]["name"] == "Pro"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_folder_without_manifests_is_written(tmp_path):
    state = _account(tmp_path)
    out = tmp_path / "catalog"
    out.mkdir()
    (out / "README.md").write_text("notes\n")
    result = cli("export", "-o", str(out), state=state)
    assert result.exit_code == 0, shown(result)
    assert (out / "products.yaml").is_file() and (out / "README.md").read_text() == "notes\n"


def test_a_symlinked_file_is_refused_and_its_target_untouched(tmp_path):
    """Even with --force: the write would land in the file the link points at."""
    state = _account(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "products.yaml").symlink_to(Path("..") / "victim.txt")
    result = cli("export", "-o", str(out), "--force", state=state)
    assert result.exit_code == 1, shown(result)
    assert result.stderr == (f"Error: {out}/products.yaml is a symbolic link; refusing to "
                             "write through it; nothing was written.\n")
    assert victim.read_text() == "keep me\n"
    assert os.listdir(out) == ["products.yaml"]


def test_a_symlinked_folder_is_refused(tmp_path):
    state = _account(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "real")
    result = cli("export", "-o", str(tmp_path / "out"), state=state)
    assert result.exit_code == 1, shown(result)
    assert result.stderr == (f"Error: {tmp_path}/out is a symbolic link; refusing to write "
                             "through it; nothing was written.\n")
    assert os.listdir(tmp_path / "real") == []
    assert Emulator(state_file=state).request_counts() == {}  # the account was never read
