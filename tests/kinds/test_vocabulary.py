"""``kind`` means one thing (issue 14, docs/architecture.md "Vocabulary"): a parameter or
variable named ``kind`` holds a ``Kind``; a kind's name is ``kind_name``. The emulator is
Stripe, with its own vocabulary, and is not checked."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "reconciler"
KIND = re.compile(r"\bKind\b")


def _trees() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] != "emulator":
            yield str(path.relative_to(PACKAGE)), ast.parse(path.read_text())


def test_a_parameter_named_kind_takes_a_kind() -> None:
    found = [f"{where}:{arg.lineno}: {ast.unparse(arg)}"
             for where, tree in _trees() for node in ast.walk(tree)
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
             if arg.arg == "kind" and (arg.annotation is None
                                       or not KIND.search(ast.unparse(arg.annotation)))]
    assert not found, "parameters named kind that take no Kind:\n" + "\n".join(found)


def test_a_mapping_by_kind_is_not_iterated_as_kind() -> None:
    """Every mapping by kind is keyed by the kind's name (``KINDS``, ``live.objects``), so
    ``for kind, ... in m.items()`` would name a name ``kind``."""
    loops = [(where, node.target, node.iter) for where, tree in _trees()
             for node in ast.walk(tree)
             if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension))]
    found = [f"{where}:{target.lineno}: for {ast.unparse(target)} in {ast.unparse(it)}"
             for where, target, it in loops
             if isinstance(target, ast.Tuple) and target.elts
             and isinstance(target.elts[0], ast.Name) and target.elts[0].id == "kind"
             and _items(it)]
    assert not found, "kind names held in kind:\n" + "\n".join(found)


def _items(it: ast.expr) -> bool:
    """Whether ``it`` is ``m.items()``, maybe sorted or reversed."""
    while isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.args \
            and it.func.id in ("sorted", "reversed"):
        it = it.args[0]
    return isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) \
        and it.func.attr == "items"
