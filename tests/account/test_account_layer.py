"""One account layer (issue 14 step 3): every layer reads the account through
:mod:`reconciler.account`'s public interface."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from support import emulator_client

from reconciler.account import in_use, read_live
from reconciler.emulator import Emulator

PACKAGE = Path(__file__).parents[2] / "reconciler"


def _imports() -> list[tuple[Path, str, list[str]]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module, [a.name for a in node.names]))
    return found


def test_the_account_is_read_through_the_account_package() -> None:
    old = [f"{p.relative_to(PACKAGE)}: {m}" for p, m, _ in _imports()
           if m == "reconciler.plan.live"]
    assert not old and not (PACKAGE / "plan" / "live.py").exists()


def test_no_private_name_is_imported_across_packages() -> None:
    private = [f"{p.relative_to(PACKAGE)}: {m}.{n}" for p, m, names in _imports()
               if m.startswith("reconciler.") for n in names if n.startswith("_")]
    assert not private


def test_in_use_is_defined_once() -> None:
    copies = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py")
              if p.parts[-2] != "emulator" and '!= "inactive"' in p.read_text()]
    assert copies == [Path("account/live.py")]
    assert in_use({"active": True}) and not in_use({"active": False})
    assert not in_use({"status": "inactive"}) and in_use({"status": "active"})


def test_only_the_account_layer_and_kinds_read_hooks_list_a_kind() -> None:
    """Export, drift and apply ask for the account (``read_live``/``read_for``), never for
    one kind's list: the kinds' ``read`` hooks and the archived lists apply to every reader."""
    listing = {"list_kind", "list_inactive"}
    readers = [f"{p.relative_to(PACKAGE)}: {n}" for p, m, names in _imports()
               if m == "reconciler.account" for n in names if n in listing
               and p.parent != PACKAGE / "kinds" / "hooks"]
    assert readers == []


def test_read_live_reads_every_parents_sub_resources_when_asked() -> None:
    """What export reads: the features of every product, not only of the products whose
    entries list them (plan's case)."""
    async def read() -> tuple[list[str], list[str]]:
        async with emulator_client(Emulator()) as client:
            for name in ("a", "b"):
                await client.create("/v1/products", {"id": name, "name": name})
            listed = await read_live(client, ["products"], ["a"])
            every = await read_live(client, ["products"], None)
        return sorted(listed.attachments), sorted(every.attachments)

    assert asyncio.run(read()) == (["a"], ["a", "b"])
