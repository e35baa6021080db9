"""The GitHub workflows: well-formed, lint-clean, and their commands work against the emulator."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from optional_tools import ACTIONLINT, ACTIONLINT_INSTALL, needs

from reconciler.emulator import serve_in_thread
from reconciler.permissions import parse_grants

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
    assert set(reusable[True]["workflow_call"]["secrets"]) == {
        "stripe-api-key", "stripe-read-key", "stripe-write-key"}


@needs("actionlint", ACTIONLINT, ACTIONLINT_INSTALL)
def test_actionlint_passes():
    assert ACTIONLINT is not None
    result = subprocess.run([ACTIONLINT, *map(str, WORKFLOWS)], check=False,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_projects_ci_script():
    """GitHub runs what the project's CI runs (.ci/run), on every supported Python."""
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    test = ci["jobs"]["test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    runs = [step["run"] for step in test["steps"] if "run" in step]
    assert runs[-1] == "bash .ci/run"
    assert not [r for r in runs if "pytest" in r or "pip install" in r], runs
    assert (ROOT / ".ci" / "run").exists()
    lint = [step.get("run", "") for step in ci["jobs"]["lint"]["steps"]]
    assert "ruff check reconciler" in lint and any(r.startswith("mypy reconciler") for r in lint)


def test_secrets_are_never_echoed():
    text = REUSABLE.read_text()
    assert "echo ${{ secrets" not in text and "echo $STRIPE_API_KEY" not in text
    for job in yaml.safe_load(text)["jobs"].values():
        for step in job["steps"]:
            if "secrets." in str(step.get("run", "")):
                pytest.fail(f"a run script reads a secret directly: {step}")


def _steps(job: str) -> list[dict]:
    """The job's steps that run reconciler, or whose outputs decide on later steps, as the
    workflow has them."""
    steps = yaml.safe_load(REUSABLE.read_text())["jobs"][job]["steps"]
    scripts = [s for s in steps if "run" in s and "pip install" not in s["run"]
               and ("reconciler " in s["run"] or "id" in s)]
    for step in scripts:
        assert "${{" not in step["run"], f"{job}/{step.get('name')}: the test must run the " \
            "script as written"
    return scripts


def _holds(condition: str | None, outputs: dict[str, dict[str, str]]) -> bool:
    """A step's `if:`, for the one form the workflow's run steps use."""
    if condition is None:
        return True
    step, name, value = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+) == '(.*)'",
                                     condition).groups()  # type: ignore[union-attr]
    return outputs.get(step, {}).get(name) == value


class Runner:
    """Runs a job's reconciler steps as the workflow has them, in a checkout of examples/saas
    (as `catalog`) against a served emulator, with the files a runner provides."""

    def __init__(self, tmp_path: Path, base_url: str):
        self.cwd = tmp_path / "checkout"
        shutil.copytree(ROOT / "examples" / "saas", self.cwd / "catalog")
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.summary = tmp_path / "summary.md"
        self.output = tmp_path / "output"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "MANIFESTS": "catalog",
            "RECONCILER_STACK": "default", "RECONCILER_ENV": "", "RECONCILER_PRUNE": "",
            "RECONCILER_LIVE": "", "RECONCILER_UNMANAGED": "", "RECONCILER_BASELINE": "",
            "RECONCILER_VARIABLES": "", "RECONCILER_MARKER": "reconciler-plan-default-",
            "RECONCILER_DOCTOR": "false", "STRIPE_API_BASE": base_url,
            "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_REPOSITORY": "acme/catalog",
            "RUNNER_TEMP": str(self.temp),
        }
        # the secrets the caller passes, which the steps' `env:` read (see _secret_env)
        self.secrets: dict[str, str] = {"stripe-api-key": "sk_test_workflow"}
        # what a step's own `env:` sets from other expressions, by step id
        self.step_env: dict[str, dict[str, str]] = {"key": {
            "RECONCILER_HEAD_REPO": "acme/catalog"}}

    def run(self, job: str) -> list[subprocess.CompletedProcess[str]]:
        """Each step that its `if:` lets run, until one fails (as on GitHub); every step's
        outputs also go to ``self.output``."""
        results: list[subprocess.CompletedProcess[str]] = []
        outputs: dict[str, dict[str, str]] = {}
        for step in _steps(job):
            if results and results[-1].returncode or not _holds(step.get("if"), outputs):
                continue
            written = self.temp / "step-output"
            written.write_text("")
            result = subprocess.run(["bash", "-e", "-c", step["run"]], check=False,
                                    cwd=self.cwd, capture_output=True, text=True, timeout=300,
                                    env={**self.env, **self._secret_env(step),
                                         **self.step_env.get(step.get("id"), {}),
                                         "GITHUB_OUTPUT": str(written)})
            lines = written.read_text()
            outputs[step.get("id", "")] = dict(
                line.split("=", 1) for line in lines.splitlines() if "=" in line)
            with self.output.open("a") as output:
                output.write(lines)
            results.append(result)
        return results

    def _secret_env(self, step: dict) -> dict[str, str]:
        """The step's `env:` entries that read secrets, as GitHub evaluates them:
        `${{ secrets.a || secrets.b }}` is the first that is set, and a secret not passed is
        empty."""
        env: dict[str, str] = {}
        for name, value in (step.get("env") or {}).items():
            chain = re.fullmatch(r"\$\{\{ (secrets\.[\w-]+(?: \|\| secrets\.[\w-]+)*) \}\}",
                                 str(value))
            if chain:
                names = [part.removeprefix("secrets.") for part in chain[1].split(" || ")]
                env[name] = next((self.secrets[n] for n in names if self.secrets.get(n)), "")
        return env

    def download_reviewed_plan(self) -> None:
        """What the apply job's download-artifact step does with the plan job's artifact."""
        (self.temp / "reviewed").mkdir()
        shutil.copy(self.cwd / "plan.json", self.temp / "reviewed" / "plan.json")


@pytest.fixture
def runner(tmp_path, emulator):
    with serve_in_thread(emulator) as base_url:
        yield Runner(tmp_path, base_url)


@pytest.mark.slow
def test_reusable_workflow_steps_against_the_emulator(runner):
    """Plan on the pull request, apply that reviewed plan on merge, then no drift."""
    for result in runner.run("plan"):
        assert result.returncode == 0, result.stderr
    comment = (runner.cwd / "comment.md").read_text()
    assert comment.startswith(
        "<!-- reconciler-plan-default- -->\n### reconciler plan: 29 to create")
    assert "changes=true" in runner.output.read_text()

    runner.download_reviewed_plan()
    *_, apply = runner.run("apply")
    assert apply.returncode == 0, apply.stderr
    assert "Apply complete: 29 created" in apply.stdout
    assert (runner.temp / "reviewed" / "plan.json.journal").exists()  # the saved plan's

    *_, drift = runner.run("drift")
    assert drift.returncode == 0, drift.stderr
    assert "No drift" in (runner.cwd / "drift.html").read_text()
    summary = runner.summary.read_text()
    assert summary.count("### reconciler plan") == 1  # the plan job's; apply had it saved
    assert "**reconciler apply**: complete: 29 created" in summary
    assert "### reconciler drift: none; the live account matches" in summary


@pytest.mark.slow
def test_apply_without_a_reviewed_plan_plans_and_applies(runner):
    """A direct push, or no plan artifact: apply the manifests with --auto-approve."""
    *_, apply = runner.run("apply")
    assert apply.returncode == 0, apply.stderr
    assert "Apply complete: 29 created" in apply.stdout
    assert not (runner.temp / "reviewed").exists()
    summary = runner.summary.read_text()
    assert summary.startswith("### reconciler plan: 29 to create")  # planned in this job
    assert "**reconciler apply**: complete: 29 created" in summary


@pytest.mark.slow
def test_a_stale_reviewed_plan_fails_the_job_with_guidance(runner, stripe):
    *_, apply = runner.run("apply")
    assert apply.returncode == 0, apply.stderr
    products = runner.cwd / "catalog" / "products.yaml"
    products.write_text(products.read_text().replace("name: Pro\n", "name: Pro Plus\n"))
    for result in runner.run("plan"):
        assert result.returncode == 0, result.stderr
    runner.download_reviewed_plan()
    # after the review, someone edits the product in the dashboard
    stripe(lambda client: client.request("POST", "/v1/products/pro",
                                         {"description": "Edited by hand"}))

    *_, apply = runner.run("apply")
    assert apply.returncode == 1
    assert "products.pro (pro) was modified" in apply.stdout
    (guidance,) = re.findall(r"^::error title=reconciler: stale plan::(.*)$", apply.stdout,
                             re.MULTILINE)
    assert guidance.startswith("Nothing was applied: the plan reviewed on the pull request is "
                               "stale. Have a new plan reviewed: open a pull request")
    assert f"refused the reviewed plan. {guidance}" in runner.summary.read_text()
    assert guidance in _quoted_in_ci_docs(), "docs/ci.md quotes the message as the workflow has it"
    product = stripe(lambda client: client.request("GET", "/v1/products/pro"))
    assert product["name"] == "Pro"


def _quoted_in_ci_docs() -> str:
    """The block quotes of docs/ci.md, as one line."""
    return " ".join(re.findall(r"^> (.*)$", (ROOT / "docs" / "ci.md").read_text(),
                               re.MULTILINE))


def test_other_apply_failures_get_no_stale_plan_guidance(runner):
    (runner.cwd / "plan.json").write_text("{}")
    runner.download_reviewed_plan()
    *_, apply = runner.run("apply")
    assert apply.returncode == 1
    assert "is not a saved plan" in apply.stdout
    assert "::error" not in apply.stdout


def test_a_pull_request_from_a_fork_is_validated_and_skips_the_plan(runner):
    """GitHub gives a fork's pull request no secrets: a notice, not a failed check."""
    runner.secrets = {}
    runner.step_env["key"]["RECONCILER_HEAD_REPO"] = "someone/catalog"
    results = runner.run("plan")
    assert [r.returncode for r in results] == [0, 0], "Validate and the key check; no Plan"
    (notice,) = re.findall(r"^::notice title=reconciler: plan skipped::(.*)$",
                           results[-1].stdout, re.MULTILINE)
    assert "from the fork someone/catalog" in notice and "no Stripe key" in notice
    assert f"**reconciler plan** skipped. {notice}" in runner.summary.read_text()
    assert not (runner.cwd / "plan.json").exists() and "present=false" in runner.output.read_text()
    assert notice in _quoted_in_ci_docs(), "docs/ci.md quotes the notice as the workflow has it"


def test_a_missing_key_outside_a_fork_fails_the_plan_job(runner):
    """A caller that forgot the secret hears so, instead of a silently skipped plan."""
    runner.secrets = {}
    (validate, key) = runner.run("plan")
    assert validate.returncode == 0 and key.returncode == 1
    (error,) = re.findall(r"^::error title=reconciler: no Stripe key::(.*)$", key.stdout,
                          re.MULTILINE)
    assert error.startswith("The stripe-api-key secret is empty")
    assert error in " ".join((ROOT / "docs" / "ci.md").read_text().split())


def test_the_steps_after_the_key_check_wait_for_a_key():
    """Uploading the plan and commenting need the plan the key made (upload-artifact and
    github-script are not run by these tests, so their condition is checked here)."""
    steps = yaml.safe_load(REUSABLE.read_text())["jobs"]["plan"]["steps"]
    ids = [s.get("id") for s in steps]
    after = steps[ids.index("key") + 1:]
    assert [s.get("if") for s in after] == ["steps.key.outputs.present == 'true'"] * len(after)
    assert len(after) == 4


READ_KEY, WRITE_KEY = "rk_test_workflow_read", "rk_test_workflow_write"
UNUSABLE = "pk_test_publishable"  # refused before any request: a job that used it would fail


@pytest.fixture
def restricted(emulator):
    """The two restricted keys of the least-privilege set-up (docs/ci.md)."""
    emulator.set_restricted_keys({READ_KEY: parse_grants("all:read"),
                                  WRITE_KEY: parse_grants("all:write")})


@pytest.mark.slow
def test_plan_and_drift_use_the_read_key_and_apply_the_write_key(runner, restricted):
    """Each job takes its own key: the other one is unusable while it runs, and the read key
    cannot write (so apply succeeding proves it used the write key). With
    check-permissions, doctor passes each key for its job first."""
    runner.env["RECONCILER_DOCTOR"] = "true"
    runner.secrets = {"stripe-read-key": READ_KEY, "stripe-write-key": UNUSABLE}
    results = runner.run("plan")
    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert "changes=true" in runner.output.read_text()
    runner.download_reviewed_plan()
    runner.secrets = {"stripe-read-key": READ_KEY, "stripe-write-key": WRITE_KEY}
    doctor, apply = runner.run("apply")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert apply.returncode == 0, apply.stderr
    assert "Apply complete: 29 created" in apply.stdout
    runner.secrets = {"stripe-read-key": READ_KEY, "stripe-write-key": UNUSABLE}
    doctor, drift = runner.run("drift")
    assert (doctor.returncode, drift.returncode) == (0, 0), drift.stderr


@pytest.mark.slow
@pytest.mark.parametrize("secret", ["stripe-api-key", "stripe-read-key", "stripe-write-key"])
def test_a_single_key_given_is_used_by_every_job(runner, secret):
    """Backwards compatible: callers that pass one key (stripe-api-key, as before, or only
    one of the two) run all three jobs with it."""
    runner.secrets = {secret: "sk_test_workflow"}
    results = runner.run("plan")
    assert all(r.returncode == 0 for r in results) and len(results) == 4
    *_, apply = runner.run("apply")
    assert apply.returncode == 0 and "Apply complete: 29 created" in apply.stdout, apply.stderr
    *_, drift = runner.run("drift")
    assert drift.returncode == 0, drift.stderr


@pytest.mark.slow
def test_a_read_key_alone_is_used_by_apply_too_which_says_what_it_lacks(runner, restricted):
    """Only the read key given: apply uses it, and stops before any write (at the apply
    lock) naming the permission to add."""
    runner.secrets = {"stripe-read-key": READ_KEY}
    *_, apply = runner.run("apply")
    assert apply.returncode == 1
    assert "the key lacks the 'rak_product_write' permission" in apply.stderr, apply.stderr
    assert "give the key Write on Products" in apply.stderr


@pytest.mark.slow
def test_check_permissions_fails_the_job_before_planning_when_the_key_lacks_one(
        runner, emulator):
    emulator.set_restricted_keys({READ_KEY: parse_grants(
        "products:read,prices:read,coupons:read,promotion_codes:read,tax_rates:read,"
        "shipping_rates:read,payment_method_configurations:read,webhook_endpoints:read,"
        "meters:read,account:read")})  # every kind but features, which the catalog has
    runner.env["RECONCILER_DOCTOR"] = "true"
    runner.secrets = {"stripe-read-key": READ_KEY}
    results = runner.run("plan")
    assert [r.returncode for r in results] == [0, 0, 1]  # validate, key, doctor; no plan
    assert "features" in results[-1].stdout
    assert not (runner.cwd / "plan.json").exists()


READING_OPTIONS = ("$RECONCILER_PRUNE", "$RECONCILER_UNMANAGED")  # each reads every kind


@pytest.mark.parametrize("job", ["plan", "apply", "drift"])
def test_the_permission_check_takes_the_options_that_widen_the_jobs_reads(job):
    """Doctor checks the reads of the run the job makes, --prune or --include-unmanaged
    included, not fewer."""
    steps = {s["name"]: s["run"] for s in yaml.safe_load(REUSABLE.read_text())["jobs"][job][
        "steps"] if "run" in s}
    check = steps["Check the key's permissions"]
    used = {option for option in READING_OPTIONS if option in steps[job.capitalize()]}
    assert used and {option for option in READING_OPTIONS if option in check} == used


@pytest.mark.slow
def test_check_permissions_with_prune_checks_every_kind(runner, emulator):
    """The read key covers the catalog's kinds; plan --prune reads every kind, and the
    permission check says so before planning."""
    emulator.set_restricted_keys({READ_KEY: parse_grants(
        "products:read,prices:read,coupons:read,promotion_codes:read,features:read,"
        "account:read")})
    runner.env |= {"RECONCILER_DOCTOR": "true", "RECONCILER_PRUNE": "--prune"}
    runner.secrets = {"stripe-read-key": READ_KEY}
    results = runner.run("plan")
    assert [r.returncode for r in results] == [0, 0, 1]  # validate, key, doctor; no plan
    assert "Read on Tax rates (rak_tax_rate_read)" in results[-1].stdout


def test_every_step_that_talks_to_stripe_takes_its_jobs_key():
    """Plan and drift read with the read key, apply writes with the write key; each falls
    back to stripe-api-key, then to the other key."""
    read = "${{ secrets.stripe-read-key || secrets.stripe-api-key || secrets.stripe-write-key }}"
    write = "${{ secrets.stripe-write-key || secrets.stripe-api-key || secrets.stripe-read-key }}"
    for job, key in (("plan", read), ("apply", write), ("drift", read)):
        for step in yaml.safe_load(REUSABLE.read_text())["jobs"][job]["steps"]:
            if "STRIPE_API_KEY" in (step.get("env") or {}):
                assert step["env"]["STRIPE_API_KEY"] == key, (job, step.get("name"))
