"""Acceptance: a webhook signing secret survives an apply killed or failed after the create.

Stripe shows the secret only in the create response, and running the saved plan again skips a
create its journal records as finished. So ``--secrets-out`` gets each secret the moment it
arrives, before the journal records the create: killed after that, the secret is already in
the file, and the re-run says where it is; a secret that could not be saved fails the create
unfinished, and the re-run's replayed create returns the secret again.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

import pytest
from apply_helpers import (
    apply_plan,
    call,
    cli_in_process,
    example,
    kill_when,
    load,
    objects,
    plan_of,
    reconciler,
    show,
    write_manifest,
)

from reconciler.apply import Journal
from reconciler.apply.secrets import SecretsFile
from reconciler.emulator import Emulator, Faults, serve_in_thread

LATENCY_MS = 120
HOOKS = {"webhook_endpoints.fulfilment", "webhook_endpoints.refunds"}


def _secrets(emu: Emulator) -> dict[str, str]:
    """Variable name -> signing secret, as the emulator stored them."""
    return {f"STRIPE_WEBHOOK_SECRET_{w['metadata']['reconciler_key'].upper()}": w["secret"]
            for w in objects(emu).get("webhook_endpoint", [])}


def _finished(journal: Path) -> set[str]:
    """The addresses whose create the journal records as finished."""
    if not journal.exists():
        return set()
    records = [json.loads(line) for line in journal.read_text().splitlines()
               if line.endswith("}")]
    return {r["address"] for r in records if r.get("event") == "done" and r.get("address")}


@pytest.mark.slow
def test_secrets_are_in_the_file_when_apply_is_killed_after_the_creates(tmp_path):
    """Killed once the journal records both webhook creates (products and prices still to
    go); the re-run skips them and says which variables of the file hold their secrets."""
    emu = Emulator()
    out = tmp_path / "webhooks.env"
    journal = tmp_path / "plan.json.journal"
    with serve_in_thread(emu) as base:
        made = reconciler("plan", str(example("shop")), "-o", "plan.json", cwd=tmp_path,
                          base=base)
        assert made.returncode == 0, show(made)
        emu.set_faults(Faults(latency_ms=LATENCY_MS))
        kill_when(lambda: HOOKS <= _finished(journal), "apply", "plan.json", "--secrets-out",
                  str(out), cwd=tmp_path, base=base, what="both webhook creates")
        time.sleep(3 * LATENCY_MS / 1000)  # requests already sent land before re-running
        emu.set_faults(Faults())
        secrets = _secrets(emu)
        assert len(secrets) == 2
        assert sorted(out.read_text().splitlines()) == sorted(f"{name}={secret}"
                                                              for name, secret in secrets.items())
        again = reconciler("apply", "plan.json", "--secrets-out", str(out), cwd=tmp_path,
                           base=base)
    assert again.returncode == 0, show(again)
    assert again.stdout.startswith("Apply complete: "), show(again)
    assert "already applied by an earlier run)" in again.stdout, show(again)
    for name in sorted(secrets):
        key = name.removeprefix("STRIPE_WEBHOOK_SECRET_").lower()
        assert (f"webhook_endpoints.{key}: created by an earlier run, which wrote its signing "
                f"secret to {out} ({name}).") in again.stderr, show(again)
    assert "whsec_" not in again.stdout + again.stderr
    assert _secrets(emu) == secrets  # nothing created twice
    assert sorted(out.read_text().splitlines()) == sorted(f"{name}={secret}"
                                                          for name, secret in secrets.items())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


CATALOG = """
webhook_endpoints:
  hooks:
    url: https://example.com/hooks
    enabled_events: [invoice.paid]
products:
  pro: {name: Pro}
"""


def test_a_secret_that_cannot_be_saved_fails_the_create_and_the_rerun_saves_it(tmp_path):
    emu = Emulator()
    # the price comes a phase after the endpoint and the product (which need nothing)
    priced = CATALOG + "prices:\n  pro-monthly: {product: pro, currency: usd, unit_amount: 900}\n"
    plan = plan_of(emu, load(write_manifest(tmp_path / "catalog", priced)))
    path = tmp_path / "plan.json.journal"
    out = tmp_path / "webhooks.env"
    hook = next(c for c in plan.changes if c.kind == "webhook_endpoints")
    create = (plan.changes.index(hook), 0)

    def disk_full(key: str, secret: str) -> None:
        raise OSError(28, "No space left on device")

    first = apply_plan(emu, plan, journal=Journal(path, plan.fingerprint), on_secret=disk_full)
    ((failed, error),) = first.failed
    assert failed is hook and isinstance(error, OSError)
    assert not first.secrets  # so the report does not claim it was written
    assert [c.address for c in first.applied] == ["products.pro"]  # running beside it
    assert [c.address for c in first.not_attempted] == ["prices.pro-monthly"]
    assert create not in Journal(path, plan.fingerprint).finished_steps
    (endpoint,) = objects(emu)["webhook_endpoint"]
    assert endpoint["metadata"]["reconciler_secret_unsaved"] == "true"

    finished_when_saved = []

    def save(key: str, secret: str) -> None:
        finished_when_saved.append(Journal(path, plan.fingerprint).finished_steps)
        SecretsFile(str(out)).save(key, secret)

    second = apply_plan(emu, plan, journal=Journal(path, plan.fingerprint), on_secret=save)
    assert second.ok, second.failed
    assert [create not in finished for finished in finished_when_saved] == [True]
    (endpoint,) = objects(emu)["webhook_endpoint"]  # the create was replayed, not repeated
    assert out.read_text() == f"STRIPE_WEBHOOK_SECRET_HOOKS={endpoint['secret']}\n"
    assert "reconciler_secret_unsaved" not in endpoint["metadata"]  # saved: the tag is gone


def test_secrets_file_keeps_other_lines_and_replaces_a_key_saved_again(tmp_path):
    """0600 even if it was wider; nothing is left beside it."""
    real = tmp_path / "webhooks.env"
    real.write_text("# ours\nOTHER=1\nSTRIPE_WEBHOOK_SECRET_HOOKS=old\nLAST=2\n")
    real.chmod(0o644)
    secrets = SecretsFile(str(real))
    secrets.save("hooks", "new")
    secrets.save("billing-events", "fresh")
    assert real.read_text().splitlines() == [
        "# ours", "OTHER=1", "STRIPE_WEBHOOK_SECRET_HOOKS=new", "LAST=2",
        "STRIPE_WEBHOOK_SECRET_BILLING_EVENTS=fresh"]
    assert secrets.names() == {"# ours", "OTHER", "STRIPE_WEBHOOK_SECRET_HOOKS", "LAST",
                               "STRIPE_WEBHOOK_SECRET_BILLING_EVENTS"}
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["webhooks.env"]


def _symlink(tmp_path: Path) -> Path:
    (tmp_path / "victim.txt").write_text("keep me\n")
    (tmp_path / "s.env").symlink_to(tmp_path / "victim.txt")
    return tmp_path / "s.env"


def _dangling(tmp_path: Path) -> Path:
    (tmp_path / "s.env").symlink_to(tmp_path / "elsewhere.env")
    return tmp_path / "s.env"


def _others(tmp_path: Path) -> Path:
    (tmp_path / "s.env").write_text("THEIRS=1\n")
    os.chown(tmp_path / "s.env", os.getuid() + 1, -1)
    return tmp_path / "s.env"


def _socket(tmp_path: Path) -> Path:
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tmp_path / "s.env"))
    return tmp_path / "s.env"


UNSAFE = {
    "missing folder": (lambda tmp: tmp / "nodir" / "s.env", "{tmp}/nodir/s.env: the folder {tmp}/nodir does not exist"),
    "symlink": (_symlink, "{tmp}/s.env is a symbolic link; refusing to write through it"),
    "dangling symlink": (_dangling, "{tmp}/s.env is a symbolic link; refusing to write through it"),
    "socket": (_socket, "{tmp}/s.env is not a regular file"),
    "another user's file": (_others, "{tmp}/s.env belongs to another user"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_an_unusable_secrets_file_is_refused_before_anything_is_written(tmp_path, case):
    if case == "another user's file" and os.getuid() != 0:
        pytest.skip("only root can give a file to another user")
    make, message = UNSAFE[case]
    target = make(tmp_path)
    state = tmp_path / "state.json"
    catalog = write_manifest(tmp_path / "catalog", CATALOG)
    result = cli_in_process(state, "apply", str(catalog), "--auto-approve", "--secrets-out",
                            str(target))
    assert result.exit_code == 1, result.output
    assert f"Error: --secrets-out: {message.format(tmp=tmp_path)}" in result.stderr
    assert "nothing was written to Stripe." in result.stderr
    assert not state.exists() or not objects(Emulator(state_file=state))
    if case == "symlink":
        assert (tmp_path / "victim.txt").read_text() == "keep me\n"


def test_a_symlink_planted_after_the_check_is_not_written_through(tmp_path):
    secrets = SecretsFile(str(tmp_path / "s.env"))
    secrets.check()
    _symlink(tmp_path)
    with pytest.raises(OSError, match="symbolic link"):
        secrets.save("hooks", "whsec_x")
    assert (tmp_path / "victim.txt").read_text() == "keep me\n"


def _disk_full(self: SecretsFile, key: str, secret: str) -> None:
    raise OSError(28, "No space left on device")


def test_a_secret_not_saved_is_named_by_every_later_run_until_resolved(tmp_path, monkeypatch):
    """The write fails mid-run (after the check): the run names the endpoint and how to
    recover; the next plan and apply, from the manifests, find the endpoint and create
    nothing, and still name it, until its tag is removed."""
    state = tmp_path / "state.json"
    out = tmp_path / "webhooks.env"
    catalog = str(write_manifest(tmp_path / "catalog", CATALOG))
    with monkeypatch.context() as patched:
        patched.setattr(SecretsFile, "save", _disk_full)
        first = cli_in_process(state, "apply", catalog, "--auto-approve", "--secrets-out",
                               str(out))
    assert first.exit_code == 1, first.output
    (endpoint,) = objects(Emulator(state_file=state))["webhook_endpoint"]
    assert endpoint["metadata"]["reconciler_secret_unsaved"] == "true"
    assert (f"webhook_endpoints.hooks: {endpoint['id']} was created, but its signing secret "
            f"was NOT saved to {out}. Every plan names it until this is resolved") in first.stderr
    assert "reveal or roll the secret in the Dashboard" in first.stderr
    assert "Run this same saved plan again" not in first.stderr  # there is no saved plan
    unsaved = f"webhook_endpoints.hooks: {endpoint['id']} was created, but its signing " \
              "secret was not saved (tag reconciler_secret_unsaved)"
    later = [cli_in_process(state, "plan", catalog),
             cli_in_process(state, "apply", catalog, "--auto-approve", "--secrets-out", str(out))]
    for run in later:
        assert run.exit_code == 0, run.output
        assert f"Warning: {unsaved}" in run.stdout
    assert objects(Emulator(state_file=state))["webhook_endpoint"] == [endpoint]
    call(Emulator(state_file=state), "POST", f"/v1/webhook_endpoints/{endpoint['id']}",
         {"metadata": {"reconciler_secret_unsaved": ""}})
    resolved = cli_in_process(state, "plan", catalog)
    assert "reconciler_secret_unsaved" not in resolved.stdout, resolved.stdout


def test_the_notice_names_the_endpoints_whose_secret_this_run_did_not_save(tmp_path):
    """Without --secrets-out: said when the create is done and in the summary; a finished
    plan applied again issues nothing and says nothing of secrets."""
    state = tmp_path / "state.json"
    catalog = str(write_manifest(tmp_path / "catalog", CATALOG))
    plan_file = str(tmp_path / "plan.json")
    assert cli_in_process(state, "plan", catalog, "-o", plan_file).exit_code == 0
    first = cli_in_process(state, "apply", plan_file)
    assert first.exit_code == 0, first.output
    assert ("webhook_endpoints.hooks: created; its signing secret is not saved "
            "(no --secrets-out).") in first.stderr
    assert "Signing secrets not saved (1): webhook_endpoints.hooks. " in first.stderr
    again = cli_in_process(state, "apply", plan_file)
    assert again.exit_code == 0, again.output
    assert "secret" not in again.stderr, again.stderr


def test_a_run_interrupted_after_the_create_has_already_named_it(tmp_path, monkeypatch):
    """Interrupted before its summary (here the next change's progress line raises): the
    endpoint was named the moment its create was done."""
    state = tmp_path / "state.json"
    catalog = str(write_manifest(tmp_path / "catalog", CATALOG))

    def interrupted(name: str, change, detail: str) -> None:
        if change.kind == "products":
            raise RuntimeError("interrupted")

    monkeypatch.setattr(sys.modules["reconciler.cli.apply"], "_lines", interrupted)
    result = cli_in_process(state, "apply", catalog, "--auto-approve")
    assert isinstance(result.exception, RuntimeError)
    assert ("webhook_endpoints.hooks: created; its signing secret is not saved "
            "(no --secrets-out).") in result.stderr


def test_apply_with_secrets_out_does_not_tell_to_pass_it(tmp_path):
    state = tmp_path / "state.json"
    out = tmp_path / "webhooks.env"
    catalog = str(write_manifest(tmp_path / "catalog", CATALOG))
    planned = cli_in_process(state, "plan", catalog)
    assert "apply with --secrets-out FILE to keep it" in planned.stdout
    applied = cli_in_process(state, "apply", catalog, "--auto-approve", "--secrets-out",
                             str(out))
    assert applied.exit_code == 0, applied.output
    assert "--secrets-out" not in applied.stdout
    assert (f"webhook_endpoints.hooks: the signing secret is returned only once, at creation; "
            f"it is saved to {out}") in applied.stdout
    assert "not saved" not in applied.stderr
