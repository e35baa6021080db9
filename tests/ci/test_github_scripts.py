"""The reusable workflow's github-script steps, run under node as written in the YAML.

The scripts stay inline (a reusable workflow runs in the caller's checkout, where no file of
this repository exists), so the tests read them from the workflow and run them with
github_script.js: a fake Octokit that serves the state given here and records every write.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from optional_tools import binary, needs

REUSABLE = Path(__file__).parents[2] / ".github" / "workflows" / "reconciler.yml"
RUNNER = Path(__file__).with_name("github_script.js")
NODE = binary("node")
MARKER = "reconciler-plan-default-"

pytestmark = needs("node", NODE, "apt-get install nodejs")


def run_step(cwd: Path, job: str, name: str, state: dict, env: dict[str, str]) -> dict:
    """Run the step's script; returns {calls: [{method, params}], outputs: {name: value}}."""
    workflow = yaml.safe_load(REUSABLE.read_text())
    (step,) = [s for s in workflow["jobs"][job]["steps"] if s.get("name") == name]
    script = step["with"]["script"]
    assert "${{" not in script, "the test must run the script as written"
    # every variable the script reads is set by the workflow, and the test sets each of them
    declared = set(workflow["env"]) | set(step.get("env", {}))
    assert set(re.findall(r"process\.env\.(\w+)", script)) <= declared & set(env)
    (cwd / "script.js").write_text(script)
    (cwd / "state.json").write_text(json.dumps(state))
    result = subprocess.run([str(NODE), str(RUNNER), "script.js", "state.json"], check=False,
                            cwd=cwd, env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- the sticky plan comment ------------------------------------------------------------------

BODY = f"<!-- {MARKER} -->\n### reconciler plan: 1 to create\n"


def comment(tmp_path: Path, comments: list[dict], changes: bool, page_size: int = 100):
    (tmp_path / "comment.md").write_text(BODY)
    state = {"issue_number": 7, "comments": comments, "page_size": page_size}
    env = {"RECONCILER_MARKER": MARKER, "RECONCILER_CHANGES": str(changes).lower()}
    return run_step(tmp_path, "plan", "Comment on the pull request", state, env)["calls"]


def others(n: int) -> list[dict]:
    """Comments that are not this stack's plan: people, and the plan of another environment."""
    made = [{"id": 100 + i, "body": f"looks good {i}"} for i in range(n)]
    made.append({"id": 99, "body": f"<!-- {MARKER}live -->\n### reconciler plan: 1 to update\n"})
    return made


def test_creates_the_comment_when_there_is_none(tmp_path):
    calls = comment(tmp_path, others(2), changes=True)
    assert calls == [{"method": "createComment", "params": {
        "owner": "octo", "repo": "catalog", "issue_number": 7, "body": BODY}}]


def test_no_comment_for_a_plan_without_changes(tmp_path):
    assert comment(tmp_path, others(2), changes=False) == []


@pytest.mark.parametrize("changes", [True, False])
def test_updates_the_comment_of_its_stack_and_environment(tmp_path, changes):
    """Also when the plan has no changes any more: the comment then says so."""
    old = {"id": 42, "body": f"<!-- {MARKER} -->\n### reconciler plan: 2 to create\n"}
    calls = comment(tmp_path, [*others(1), old], changes=changes)
    assert calls == [{"method": "updateComment", "params": {
        "owner": "octo", "repo": "catalog", "comment_id": 42, "body": BODY}}]


def test_no_update_when_the_plan_is_unchanged(tmp_path):
    assert comment(tmp_path, [*others(1), {"id": 42, "body": BODY}], changes=True) == []


def test_finds_its_comment_on_a_later_page(tmp_path):
    """Two comments a page: the plan's comment is on the fourth."""
    old = {"id": 42, "body": f"<!-- {MARKER} -->\nold\n"}
    calls = comment(tmp_path, [*others(6), old], changes=True, page_size=2)
    assert [(c["method"], c["params"]["comment_id"]) for c in calls] == [("updateComment", 42)]


# -- the plan reviewed on the merged pull request ---------------------------------------------

def reviewed(tmp_path: Path, pulls: list[dict], artifacts: list[dict]) -> dict:
    run = {"event": "pull_request", "head_sha": "head1", "conclusion": "success"}
    state = {
        "sha": "merge1", "pulls": pulls, "artifacts": artifacts,
        "runs": [  # newest first, as GitHub lists them
            {**run, "id": 4, "conclusion": "failure"}, {**run, "id": 3}, {**run, "id": 2},
            {**run, "id": 1, "head_sha": "head0"}],
    }
    return run_step(tmp_path, "apply", "Find the plan reviewed on the pull request", state,
                    {"RECONCILER_MARKER": MARKER})


MERGED = {"number": 7, "merge_commit_sha": "merge1", "merged_at": "2025-05-01T10:00:00Z",
          "head": {"sha": "head1"}}


def notices(result: dict) -> list[str]:
    assert {c["method"] for c in result["calls"]} <= {"notice"}, "the lookup writes nothing"
    return [c["params"]["message"] for c in result["calls"]]


def plan_of(run_id: int, name: str = MARKER, expired: bool = False) -> dict:
    return {"run_id": run_id, "name": name, "expired": expired}


def test_finds_the_newest_successful_run_with_the_plan_of_its_stack(tmp_path):
    artifacts = [plan_of(4), plan_of(3, name=f"{MARKER}live"), plan_of(2), plan_of(1)]
    result = reviewed(tmp_path, [MERGED], artifacts)
    assert result["outputs"] == {"run-id": "2"} and notices(result) == []


def test_an_expired_plan_is_not_used(tmp_path):
    result = reviewed(tmp_path, [MERGED], [plan_of(3, expired=True)])
    assert result["outputs"] == {"run-id": ""}
    (notice,) = notices(result)
    assert notice.startswith(f"No {MARKER} artifact from pull request #7: planning and applying")


@pytest.mark.parametrize("pulls", [[], [{**MERGED, "merged_at": None}]],
                         ids=["direct push", "pull request not merged"])
def test_no_merged_pull_request(tmp_path, pulls):
    result = reviewed(tmp_path, pulls, [plan_of(3)])
    assert result["outputs"] == {"run-id": ""}
    (notice,) = notices(result)
    assert notice.startswith("No merged pull request for this commit")
