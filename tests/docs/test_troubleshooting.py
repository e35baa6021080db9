"""docs/troubleshooting.md documents every message the tool prints when something goes wrong.

The messages are found in the code, not listed by hand: the tests walk the syntax tree of the
package and collect the text of every call that makes an error (``PlanError``, ``Issue``,
``click.BadParameter``, ``StalePlanError``, ``problems.append(...)``, the emulator's rule
errors, every ``click.echo(..., err=True)`` of the commands...). Each literal piece of such a
message (an f-string split at its ``{...}`` holes) must appear verbatim in the page, so a new
error without documentation fails here. Messages that are progress or information, not
errors, are listed in ``INFORMATION`` below.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "reconciler"
PAGE = ROOT / "docs" / "troubleshooting.md"

# Calls whose argument at this position is a message shown to the user.
MESSAGE_CALLS = {
    "PlanError": 0, "StalePlanError": 0, "LiveModeError": 0, "BaselineError": 0,
    "UsageError": 0, "BadParameter": 0, "ClickException": 0,
    "Issue": 1, "_issue": 2, "fail": 1,  # manifests: Issue(location, message), ...
    "TextFileError": 0,  # manifests: a file that cannot be read as text
    "APIError": 0, "APIConnectionError": 0,  # the Stripe client's own failures
    "rule": 0, "conflict": 0, "_fault_outcome": 3,  # the emulator's Stripe rules and faults
    "Problem": 1, "about": 2,  # plan/problems.py: Problem(code, message), Problem.about(...)
}
# Lists that collect messages: ``problems.append(f"...")``.
MESSAGE_LISTS = {"problems", "conflicts", "warnings", "errors"}
# Variables that hold a message before it is raised or appended.
MESSAGE_VARIABLES = {"refusal", "message"}
# ... and in these files, the variables the error text is built in.
FILE_VARIABLES = {"stripe/errors.py": {"head", "text"}}
# Functions whose returned strings are (parts of) messages.
MESSAGE_FUNCTIONS = {"warn_create", "_verb", "hint", "type_hint", "_timestamp_hint"}
# Keyword arguments that carry a message.
MESSAGE_KEYWORDS = {"replacement_note", "fallback_message"}
# Plain exceptions that reach the user from these files only (the others are bugs).
PLAIN_EXCEPTIONS = {
    "manifests/interpolate.py": {"ValueError"},  # --var parsing, shown as "Invalid value"
    "plan/model.py": {"ValueError"},  # a saved plan of another format
    "emulator/store.py": {"RuntimeError"},  # a file that is not an emulator state file
    "permissions.py": {"ValueError"},  # --restricted-key, --emulator-permissions
    "emulator/auth.py": {"StripeError"},  # wrong keys against a served emulator
    "emulator/app.py": {"StripeError"},
    "emulator/admin.py": {"StripeError"},
    "emulator/errors.py": {"StripeError"},  # unknown URL, "No such ...", unknown parameter
}
# The Stripe client rejects these keys before any request (printed with a traceback).
CLIENT_KEY_ERRORS = ("a Stripe API key is required",
                     "the Stripe API key contains whitespace or control characters")

# What the commands print on stderr that is progress or information, not an error.
INFORMATION = (
    "Plan saved to", "apply it with", "Drift report written to", "wrote",
    "Webhook signing secrets written to", "Stripe emulator listening on",
    "Stripe emulator stopped", "done", "FAILED", "...", "valid", "entry", "entries",
    "file", "Apply these changes?",
)

@dataclass(frozen=True)
class Message:
    where: str  # file:line
    pieces: tuple[str, ...]  # the literal text between the {...} holes

    def missing(self, page: str) -> list[str]:
        return [p for p in self.pieces if _squash(p) not in page]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pieces(node: ast.AST) -> Iterator[list[str]]:
    """Each possible message an expression builds, as its literal pieces."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield [node.value]
    elif isinstance(node, ast.JoinedStr):
        yield [v.value for v in node.values
               if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for left in list(_pieces(node.left)) or [[]]:  # a hole ({...}, a call) adds nothing
            for right in list(_pieces(node.right)) or [[]]:
                yield left + right
    elif isinstance(node, ast.IfExp):
        yield from _pieces(node.body)
        yield from _pieces(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _pieces(value)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            yield from _pieces(element)


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _words(piece: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2,}", piece))


class _Collector(ast.NodeVisitor):
    def __init__(self, relative: str, tree: ast.Module):
        self.relative = relative
        self.found: list[tuple[int, ast.AST]] = []
        self.function = ""
        self.variables = MESSAGE_VARIABLES | FILE_VARIABLES.get(relative, set())
        self.constants = {  # module-level NAME = "text", used as a message by name
            t.id: n.value for n in tree.body if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Name)}

    def add(self, node: ast.AST | None) -> None:
        if isinstance(node, ast.Name) and node.id in self.constants:
            node = self.constants[node.id]
        if node is not None:
            self.found.append((getattr(node, "lineno", 0), node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        plain = PLAIN_EXCEPTIONS.get(self.relative, set())
        if name in MESSAGE_CALLS and (name != "fail" or "yamlsource" in self.relative):
            position = MESSAGE_CALLS[name]
            if len(node.args) > position:
                self.add(node.args[position])
        elif name in plain and node.args:
            self.add(node.args[0])
        elif name == "__init__" and isinstance(node.func, ast.Attribute) and isinstance(
                node.func.value, ast.Call) and _name(node.func.value.func) == "super" and node.args:
            self.add(node.args[0])  # an exception's own text: super().__init__("...")
        elif name == "append" and _name(node.func.value) in MESSAGE_LISTS and node.args:
            self.add(node.args[0])
        elif name == "echo" and node.args and self.relative.startswith("cli/"):
            on_stderr = any(k.arg == "err" for k in node.keywords)
            if on_stderr or any(t and t[0].startswith("Error:") for t in _pieces(node.args[0])):
                self.add(node.args[0])
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id in self.variables for t in node.targets):
            self.add(node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if _name(node.target) == "warnings" or _name(node.target) in self.variables:
            self.add(node.value)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self.function in MESSAGE_FUNCTIONS:
            self.add(node.value)
        self._message_tuple(node.value)
        self.generic_visit(node)

    def visit_Yield(self, node: ast.Yield) -> None:
        self._message_tuple(node.value)
        self.generic_visit(node)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        # kinds: a check's finding is ((path...), "message")
        if (self.relative.startswith("kinds/") and len(node.elts) == 2
                and isinstance(node.elts[0], ast.Tuple)):
            self.add(node.elts[1])
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg in MESSAGE_KEYWORDS:
            self.add(node.value)
        self.generic_visit(node)

    def _message_tuple(self, node: ast.AST | None) -> None:
        # manifests/validate.py: (message, path, at_key)
        if (self.relative == "manifests/validate.py" and isinstance(node, ast.Tuple)
                and node.elts and isinstance(node.elts[0], (ast.JoinedStr, ast.Constant))):
            self.add(node.elts[0])


def _is_information(pieces: list[str]) -> bool:
    text = "".join(pieces).strip()
    return any(text.startswith(i) or text == i for i in INFORMATION) or not _words(text)


def collect(source: str, relative: str) -> list[Message]:
    """Every error message one module can print, as its literal pieces."""
    tree = ast.parse(source)
    collector = _Collector(relative, tree)
    collector.visit(tree)
    messages = []
    for line, node in collector.found:
        for pieces in _pieces(node):
            if relative.startswith("cli/") and _is_information(pieces):
                continue
            kept = tuple(p for p in pieces if _words(p))
            if kept:
                messages.append(Message(f"reconciler/{relative}:{line}", kept))
    if relative == "stripe/client.py":
        messages += [Message(f"reconciler/{relative}", (text,)) for text in CLIENT_KEY_ERRORS
                     if text in source]
    return messages


def all_messages() -> list[Message]:
    messages = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("emulator/") and not (
                relative.startswith("emulator/rules/") or relative in PLAIN_EXCEPTIONS):
            continue
        messages += collect(path.read_text("utf-8"), relative)
    return messages


def page_text() -> str:
    return _squash(PAGE.read_text("utf-8"))


def test_the_extraction_finds_the_known_errors():
    """A refactor that hides messages from the collector must not pass silently."""
    texts = {" ".join(m.pieces) for m in all_messages()}
    expected = [
        "which reconciler does not manage",  # plan/match.py conflict
        "but the entry has prevent_destroy",  # plan/planner.py refusal
        "managed objects",  # plan/guards.py bulk guard
        "the account changed since the plan was made",  # apply/stale.py
        "not asking for confirmation without a terminal",  # cli/apply.py
        "which no manifest defines",  # manifests/validate.py references
        "duplicate key",  # manifests/yamlsource.py
        "is not set (pass --var",  # manifests/interpolate.py
        "'amount_off' needs 'currency'",  # kinds/coupons.py
        "a feature's lookup_key is its identity",  # kinds/features.py replacement note
        "no API key",  # cli/context.py
        "cannot listen on",  # cli/emulator.py
        "not an emulator state file",  # emulator/store.py
        "Set another default_price first",  # emulator/rules/prices.py
        "the Stripe API key contains whitespace",  # stripe/client.py
        "cannot read the baseline",  # drift/baseline.py
    ]
    for fragment in expected:
        assert any(fragment in text for text in texts), fragment
    assert len(texts) > 100


def test_the_collector_sees_a_new_error():
    source = '''
def f(x):
    raise PlanError([f"{x}: a brand new refusal, fix it like this"])
def g():
    problems.append("another new problem")
    click.echo("progress only", err=True)
'''
    found = [m.pieces for m in collect(source, "plan/new.py")]
    assert found == [(": a brand new refusal, fix it like this",), ("another new problem",)]
    found = [m.pieces for m in collect(source, "cli/new.py")]
    assert ("progress only",) in found


def test_every_error_message_is_documented():
    page = page_text()
    undocumented = [f"{m.where}: {piece!r}" for m in all_messages() for piece in m.missing(page)]
    assert not undocumented, ("docs/troubleshooting.md does not mention these messages "
                              "(quote each literal piece, with its cause and fix):\n"
                              + "\n".join(undocumented))


def test_stripe_error_classes_are_documented():
    """Each typed Stripe client error (one per kind of failure) has an entry."""
    tree = ast.parse((PACKAGE / "stripe" / "errors.py").read_text("utf-8"))
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert "AuthenticationError" in classes
    page = page_text()
    assert not [c for c in classes if c not in page]


@pytest.mark.parametrize("code", ["0", "1", "2"])
def test_exit_codes_are_documented(code):
    assert f"`{code}`" in page_text()
