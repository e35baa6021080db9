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
import stat
import time
from pathlib import Path

from apply_helpers import (
    apply_plan,
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
    plan = plan_of(emu, load(write_manifest(tmp_path / "catalog", CATALOG)))
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
    assert [c.address for c in first.not_attempted] == ["products.pro"]
    assert create not in Journal(path, plan.fingerprint).finished_steps

    finished_when_saved = []

    def save(key: str, secret: str) -> None:
        finished_when_saved.append(Journal(path, plan.fingerprint).finished_steps)
        SecretsFile(str(out)).save(key, secret)

    second = apply_plan(emu, plan, journal=Journal(path, plan.fingerprint), on_secret=save)
    assert second.ok, second.failed
    assert [create not in finished for finished in finished_when_saved] == [True]
    (endpoint,) = objects(emu)["webhook_endpoint"]  # the create was replayed, not repeated
    assert out.read_text() == f"STRIPE_WEBHOOK_SECRET_HOOKS={endpoint['secret']}\n"


def test_secrets_file_keeps_other_lines_and_replaces_a_key_saved_again(tmp_path):
    """Through a symlink, the file it points at is rewritten; 0600 even if it was wider;
    nothing is left beside it."""
    real = tmp_path / "real.env"
    real.write_text("# ours\nOTHER=1\nSTRIPE_WEBHOOK_SECRET_HOOKS=old\nLAST=2\n")
    real.chmod(0o644)
    link = tmp_path / "webhooks.env"
    link.symlink_to(real)
    secrets = SecretsFile(str(link))
    secrets.save("hooks", "new")
    secrets.save("billing-events", "fresh")
    assert link.is_symlink()
    assert real.read_text().splitlines() == [
        "# ours", "OTHER=1", "STRIPE_WEBHOOK_SECRET_HOOKS=new", "LAST=2",
        "STRIPE_WEBHOOK_SECRET_BILLING_EVENTS=fresh"]
    assert secrets.names() == {"# ours", "OTHER", "STRIPE_WEBHOOK_SECRET_HOOKS", "LAST",
                               "STRIPE_WEBHOOK_SECRET_BILLING_EVENTS"}
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["real.env", "webhooks.env"]
