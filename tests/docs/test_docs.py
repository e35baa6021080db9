"""The guides stay true: links resolve, documented commands and options exist, the workflow and
pre-commit snippets lint, the shell snippets run, and the completion instructions work."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from optional_tools import ACTIONLINT, ACTIONLINT_INSTALL, binary, needs

from reconciler import __version__
from reconciler.cli import main
from reconciler.emulator import Emulator, serve_in_thread

ROOT = Path(__file__).parents[2]
DOCS = ["README.md", "docs/concepts.md", "docs/ci.md", "docs/migrating-from-terraform.md",
        "docs/troubleshooting.md", "docs/saved-plans.md", "docs/architecture.md"]
BIN = Path(sys.executable).parent
REUSABLE = ROOT / ".github" / "workflows" / "reconciler.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RELEASE = f"v{__version__}"  # the tag convention of CHANGELOG.md
REMOTE_WORKFLOW = f"OWNER/reconciler/.github/workflows/reconciler.yml@{RELEASE}"


def _text(name: str) -> str:
    return (ROOT / name).read_text("utf-8")


def _blocks(name: str, language: str) -> list[str]:
    return re.findall(rf"^ *```{language}\n(.*?)^ *```", _text(name), re.DOTALL | re.MULTILINE)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.DOTALL)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("name", DOCS)
def test_links_resolve(name):
    source = ROOT / name
    text = re.sub(r"```.*?```", "", source.read_text("utf-8"), flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
            continue
        file, _, anchor = target.partition("#")
        path = (source.parent / file).resolve() if file else source
        if not path.exists() or anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(target)
    assert not broken, f"{name}: broken links {broken}"


def _command_lines(name: str) -> list[str]:
    """Every `reconciler ...` invocation in the shell blocks and inline code of a page."""
    text = _text(name)
    lines = [line for block in _blocks(name, "sh") for line in block.splitlines()]
    lines += re.findall(r"`(reconciler [^`]+)`", text)
    found = []
    for line in lines:
        for part in re.split(r"&&|\||;", line.split(" #")[0]):
            part = part.strip()
            part = re.sub(r"^(\S+/)?\.venv/bin/", "", part)
            if (part.startswith("reconciler ") or part == "reconciler") and "<Tab>" not in part:
                found.append(part)
    return found


def _check_invocation(line: str) -> list[str]:
    words = [w for w in shlex.split(line.replace("...", "x"))[1:]]
    command: click.Command = main
    options = {o for p in main.params for o in p.opts} | {"--help"}
    problems = []
    for word in words:
        if word.startswith("-"):
            name = word.split("=")[0]
            if name.startswith("--") and name not in options:
                problems.append(f"{line}: no option {name}")
        elif isinstance(command, click.Group) and not word.startswith("<"):
            sub = command.commands.get(word)
            if sub is None:
                problems.append(f"{line}: no command {word}")
                break
            command = sub
            options |= {o for p in sub.params for o in p.opts}
    return problems


@pytest.mark.parametrize("name", DOCS)
def test_documented_commands_exist(name):
    lines = _command_lines(name)
    assert lines or name == "docs/troubleshooting.md"
    problems = [p for line in lines for p in _check_invocation(line)]
    assert not problems


def test_the_invocation_check_catches_mistakes():
    assert _check_invocation("reconciler plan catalog --detailed-exitcode") == []
    assert _check_invocation("reconciler plan catalog --detailed-exit-code")
    assert _check_invocation("reconciler deploy catalog")


def test_readme_version_line():
    assert f"reconciler --version                         # reconciler, version {__version__}" \
        in _text("README.md")
    result = subprocess.run([BIN / "reconciler", "--version"], check=False,
                            capture_output=True, text=True)
    assert result.stdout.strip() == f"reconciler, version {__version__}"


def test_readme_keeps_the_two_set_up_commands_first():
    text = _text("README.md")
    setup = ("python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/reconciler "
             "--emulator apply examples/saas --auto-approve && .venv/bin/reconciler --emulator "
             "plan examples/saas --detailed-exitcode")
    blocks = _blocks("README.md", "sh")
    assert blocks[0].strip() == setup and blocks[1].strip() == "./scripts/test.sh"
    assert text.index(setup) < text.index("## Quickstart")


def test_the_readme_test_command_is_what_ci_runs():
    """One command for both: CI's script calls the README's, which installs the test extras
    and runs pytest with the arguments given."""
    ci = [line for line in _text(".ci/run").splitlines() if line and not line.startswith("#")]
    assert ci[-1] == 'exec "$(dirname "$0")/../scripts/test.sh" "$@"'
    script = _text("scripts/test.sh")
    assert "python3 -m venv .venv\n.venv/bin/pip install -q -e '.[test]'\n" in script
    # two workers; the arguments given come last, so they can change that too (-n 0)
    assert script.rstrip().endswith('exec .venv/bin/python -m pytest -q -n 2 --dist worksteal "$@"')
    assert os.access(ROOT / "scripts" / "test.sh", os.X_OK)


def _comment_blocks(path: Path) -> list[str]:
    """The indented examples in a file's `#` comments: runs of lines that start `#   `
    (or are a bare `#` between two of them), without the comment marks."""
    blocks, current = [], []
    for line in [*path.read_text("utf-8").splitlines(), ""]:
        if line.startswith("#   ") or current and line == "#":
            current.append(line[4:])
        elif current:
            blocks.append("\n".join(current).strip("\n") + "\n")
            current = []
    return blocks


def _workflow_snippets() -> list[tuple[str, str]]:
    """(where, text) of every workflow example: the YAML blocks of the guides and the
    examples in the workflows' comments."""
    snippets = [(name, b) for name in DOCS for b in _blocks(name, "yaml") if "jobs:" in b]
    snippets += [(path.name, b) for path in WORKFLOWS for b in _comment_blocks(path)
                 if "jobs:" in b]
    return snippets


def test_workflow_snippets_are_found():
    found = [where for where, _ in _workflow_snippets()]
    assert found.count("docs/ci.md") >= 2 and "reconciler.yml" in found, found


def test_ci_workflow_snippets_call_the_reusable_workflow():
    call = yaml.safe_load(REUSABLE.read_text())[True]["workflow_call"]
    inputs, secrets = call["inputs"], call["secrets"]
    required = {name for name, spec in inputs.items() if spec.get("required")}
    passed = set()
    for where, snippet in _workflow_snippets():
        (job,) = yaml.safe_load(snippet)["jobs"].values()
        assert job["uses"] == REMOTE_WORKFLOW, where
        assert required <= set(job["with"]) <= set(inputs), where
        assert job["secrets"] and set(job["secrets"]) <= set(secrets), where
        passed |= set(job["secrets"])
    assert passed == set(secrets), "every key the workflow takes is shown in an example"


def _pinned_refs() -> list[tuple[str, str]]:
    """(where, ref) of every pinned reconciler in the guides, workflows and hooks: a
    `uses: …/reconciler…@REF`, a `git+…/reconciler@REF` and a pre-commit `rev: REF`."""
    pattern = re.compile(r"reconciler(?:/\.github/workflows/reconciler\.yml)?@([^\s\"'`)]+)"
                         r"|^\s*rev: *([^\s#]+)", re.MULTILINE)
    files = [*(ROOT / name for name in DOCS), *WORKFLOWS, ROOT / ".pre-commit-hooks.yaml"]
    return [(path.name, a or b) for path in files
            for a, b in pattern.findall(path.read_text("utf-8"))]


def test_pinned_refs_follow_the_release_convention():
    """Every ref the docs pin is the release tag of the version in pyproject.toml, and
    CHANGELOG.md has that version (see its "Releases and tags")."""
    refs = _pinned_refs()
    assert len(refs) >= 6, refs
    assert {ref for _, ref in refs} == {RELEASE}, refs
    changelog = _text("CHANGELOG.md")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    assert headings[:2] == ["Unreleased", __version__], headings
    assert f"[{__version__}]: https://github.com/OWNER/reconciler/releases/tag/{RELEASE}" \
        in changelog


def test_the_ref_check_catches_a_moving_tag(tmp_path, monkeypatch):
    page = tmp_path / "docs" / "ci.md"
    page.parent.mkdir()
    page.write_text("    uses: OWNER/reconciler/.github/workflows/reconciler.yml@v0\n"
                    "      - repo: https://github.com/OWNER/reconciler\n        rev: main\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "DOCS", ["docs/ci.md"])
    monkeypatch.setattr(sys.modules[__name__], "WORKFLOWS", [])
    (tmp_path / ".pre-commit-hooks.yaml").write_text("")
    assert _pinned_refs() == [("ci.md", "v0"), ("ci.md", "main")]


def test_ci_inputs_table_matches_the_workflow():
    inputs = yaml.safe_load(REUSABLE.read_text())[True]["workflow_call"]["inputs"]
    section = _section("docs/ci.md", "Inputs, secrets and permissions")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| ([^|]*) \|", section, re.MULTILINE))
    rows = {k: v for k, v in rows.items() if ":" not in v}  # the permissions table
    secrets = yaml.safe_load(REUSABLE.read_text())[True]["workflow_call"]["secrets"]
    assert set(secrets) <= set(rows), "the secrets table names every key"
    rows = {k: v for k, v in rows.items() if k not in secrets}
    assert set(rows) == set(inputs)
    for name, spec in inputs.items():
        default = "required" if spec.get("required") else str(spec.get("default", "")).lower()
        shown = rows[name].strip().strip("`")
        assert shown == default or (default == "" and shown == "empty"), name


@needs("actionlint", ACTIONLINT, ACTIONLINT_INSTALL)
def test_ci_workflow_snippets_pass_actionlint(tmp_path):
    """Linted as callers of this repository's reusable workflow, so actionlint checks the
    inputs, the secret and the permissions the nested jobs need."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(REUSABLE, workflows / "reconciler.yml")
    files, sources = [], []
    for i, (where, snippet) in enumerate(_workflow_snippets()):
        path = workflows / f"caller{i}.yml"
        path.write_text(snippet.replace(REMOTE_WORKFLOW, "./.github/workflows/reconciler.yml"))
        files.append(str(path.relative_to(tmp_path)))
        sources.append(f"caller{i}.yml: the example #{i + 1}, in {where}")
    assert ACTIONLINT is not None
    result = subprocess.run([ACTIONLINT, *files], check=False, cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, "\n".join([result.stdout + result.stderr, *sources])


def test_pre_commit_snippet_uses_the_hook():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    (snippet,) = [b for b in _blocks("docs/ci.md", "yaml") if "repos:" in b]
    (repo,) = yaml.safe_load(snippet)["repos"]
    assert repo["repo"].startswith("https://") and repo["rev"]
    (hook,) = repo["hooks"]
    assert hook["id"] in hooks and hook["args"] == ["catalog"]
    assert hooks[hook["id"]]["entry"] == "reconciler validate"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _section(name: str, heading: str) -> str:
    text = _text(name)
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _run(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("STRIPE_", "GITHUB_", "RECONCILER_"))}
    environ.update(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", **env)
    return subprocess.run(["bash", "-e", "-c", script], check=False, cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_ci_emulator_snippets_run(tmp_path):
    shutil.copytree(ROOT / "examples" / "saas", tmp_path / "catalog")
    section = _section("docs/ci.md", "The emulator in CI")
    embedded, served = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    result = _run(embedded, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout
    result = _run(served.replace("12111", str(_free_port())), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No drift" in result.stdout


def test_ci_exit_codes(tmp_path):
    """As docs/ci.md says: 2 only for changes or drift; a usage error (no API key) is 1."""
    shutil.copytree(ROOT / "examples" / "saas", tmp_path / "catalog")
    plan = "reconciler plan catalog --detailed-exitcode > plan.txt"
    assert _run(plan, tmp_path).returncode == 1  # _run leaves STRIPE_* out of the environment
    assert _run(plan.replace("reconciler plan", "reconciler --emulator plan"),
                tmp_path).returncode == 2
    assert "exits `1`" in _section("docs/ci.md", "Exit codes")


def _completion_lines(shell: str) -> str:
    block = _blocks("README.md", "sh")
    (script,) = [b for b in block if "_RECONCILER_COMPLETE" in b]
    parts = re.split(r"^# ", script, flags=re.MULTILINE)
    (mine,) = [p for p in parts if p.startswith(shell)]
    return mine.split("\n", 1)[1]


def test_bash_completion_instructions(tmp_path):
    result = _run(_completion_lines("bash"), tmp_path, HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    check = _run("source ~/.bashrc; COMP_WORDS=(reconciler pl); COMP_CWORD=1; "
                 "_reconciler_completion reconciler; echo \"${COMPREPLY[@]}\"",
                 tmp_path, HOME=str(tmp_path))
    assert check.stdout.split() == ["plan"], check.stderr


@needs("fish", binary("fish"), "apt-get install fish")
def test_fish_completion_instructions(tmp_path):
    result = _run(_completion_lines("fish"), tmp_path, HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    check = subprocess.run(["fish", "-c", "complete -C 'reconciler dr'"], check=False,
                           capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path),
                                           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    assert check.stdout.startswith("drift"), check.stdout + check.stderr


@needs("zsh", binary("zsh"), "apt-get install zsh")
def test_zsh_completion_instructions(tmp_path):
    (tmp_path / ".zshrc").write_text("autoload -Uz compinit && compinit -u\n")
    result = _run(_completion_lines("zsh"), tmp_path, HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    check = subprocess.run(["zsh", "-i", "-c", "print -r -- ${_comps[reconciler]}"],
                           check=False, capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, "HOME": str(tmp_path), "ZDOTDIR": str(tmp_path),
                                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    assert check.stdout.strip() == "_reconciler_completion", check.stdout + check.stderr


@pytest.mark.slow
def test_ci_digest_handoff_snippet_runs(tmp_path):
    """The `--expect-digest` example of docs/ci.md: the plan job's digest lets the apply job
    apply that plan, and any other digest is refused before a write."""
    shutil.copytree(ROOT / "examples" / "saas", tmp_path / "catalog")
    section = _section("docs/ci.md", "Overlapping applies and approved plans")
    (lock,) = [b for b in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
               if "--lock-timeout" in b]
    (handoff,) = [b for b in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
                  if "--expect-digest" in b]
    split = handoff.index("# apply job")
    plan_part, apply_part = handoff[:split], handoff[split:]
    output = tmp_path / "output"
    with serve_in_thread(Emulator()) as base:
        env = {"STRIPE_API_BASE": base, "STRIPE_API_KEY": "sk_test_docs"}
        planned = _run(plan_part, tmp_path, GITHUB_OUTPUT=str(output), **env)
        assert planned.returncode == 0, planned.stderr
        digest = output.read_text().strip().removeprefix("digest=")
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), digest
        refused = _run(apply_part, tmp_path, DIGEST="sha256:" + "0" * 64, **env)
        assert refused.returncode == 1 and digest in refused.stderr, refused.stderr
        applied = _run(apply_part, tmp_path, DIGEST=digest, **env)
        assert applied.returncode == 0, applied.stderr
        waited = _run(lock, tmp_path, **env)
        assert waited.returncode == 0 and "nothing to do" in waited.stdout, waited.stderr
