"""Acceptance: what apply refuses to do, and where secrets go.

- a saved plan whose objects changed since it was made is refused, naming them; nothing is
  written;
- a live-mode key writes nothing without ``--live``, and applies with it;
- webhook signing secrets appear only in the ``--secrets-out`` file (mode 0600, KEY=VALUE).
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from apply_helpers import (
    LIVE_KEY,
    apply_plan,
    assert_exactly_once,
    call,
    example,
    load,
    objects,
    plan_of,
    reconciler,
    show,
    write_count,
    write_manifest,
)
from catalogs import PRO_MONTHLY

from reconciler.emulator import Emulator, serve_in_thread

CATALOG = """
products:
  pro: {name: Pro, description: For teams}
  basic: {name: Basic}
prices:
""" + PRO_MONTHLY + """    nickname: Pro monthly
tax_rates:
  vat: {display_name: VAT, percentage: 20, inclusive: false}
coupons:
  spring: {name: Spring, percent_off: 10, duration: once}
"""



# -- stale saved plans -----------------------------------------------------------------------

@pytest.mark.parametrize("outside", [
    "product-edited",
    pytest.param("price-archived", marks=pytest.mark.slow),
    pytest.param("coupon-deleted", marks=pytest.mark.slow)])
def test_saved_plan_refused_when_an_object_changed_since(tmp_path, outside):
    emu = Emulator()
    first = write_manifest(tmp_path / "v1", CATALOG)
    assert apply_plan(emu, plan_of(emu, load(first))).ok
    second = write_manifest(tmp_path / "v2", CATALOG.replace("name: Pro,", "name: Pro Plus,")
                            .replace("Pro monthly", "Pro (monthly)")
                            .replace("name: Spring,", "name: Spring sale,"))
    plan_file = tmp_path / "plan.json"
    with serve_in_thread(emu) as base:
        made = reconciler("plan", str(second.parent), "-o", str(plan_file), cwd=tmp_path,
                          base=base)
        assert made.returncode == 0, show(made)
        saved = json.loads(plan_file.read_text())
        assert {c["address"]: c["action"] for c in saved["changes"]} == {
            "products.pro": "update", "prices.pro-monthly": "update",
            "coupons.spring": "update"}
        price_id = next(c["live_id"] for c in saved["changes"] if c["kind"] == "prices")
        # after the plan was reviewed, someone changes an object it touches by hand
        expected = {
            "product-edited": "products.pro (pro) was modified",
            "price-archived": f"prices.pro-monthly ({price_id}) was modified",
            "coupon-deleted": "coupons.spring (spring) no longer exists",
        }[outside]
        if outside == "product-edited":
            call(emu, "POST", "/v1/products/pro", {"description": "Edited by hand"})
        elif outside == "price-archived":
            call(emu, "POST", f"/v1/prices/{price_id}", {"active": False})
        else:
            call(emu, "DELETE", "/v1/coupons/spring")
        writes = write_count(emu)
        before = objects(emu)
        proc = reconciler("apply", str(plan_file), cwd=tmp_path, base=base)
    assert proc.returncode == 1, show(proc)
    assert "the account changed since the plan was made" in proc.stderr
    assert expected in proc.stderr, show(proc)
    assert "Make a new plan." in proc.stderr
    # only what changed is named
    named = re.findall(r"(products\.pro|prices\.pro-monthly|coupons\.spring) \(", proc.stderr)
    assert named == [expected.split(" ")[0]], show(proc)
    assert write_count(emu) == writes, "a refused plan wrote something"
    assert objects(emu) == before
    assert "Apply complete" not in proc.stdout


@pytest.mark.slow
def test_saved_plan_refused_for_another_account(tmp_path):
    """A plan made with one key and applied with a key of another account (here: the live
    side of the emulator's account, a different mode) is refused before anything is read."""
    emu = Emulator()
    manifest = write_manifest(tmp_path / "c", CATALOG)
    plan_file = tmp_path / "plan.json"
    with serve_in_thread(emu) as base:
        made = reconciler("plan", str(manifest.parent), "-o", str(plan_file), cwd=tmp_path,
                          base=base)
        assert made.returncode == 0, show(made)
        proc = reconciler("apply", str(plan_file), "--live", cwd=tmp_path, base=base,
                          key=LIVE_KEY)
    assert proc.returncode == 1, show(proc)
    assert "this plan is for test mode; the key is a live-mode key" in proc.stderr
    assert write_count(emu) == 0


# -- live mode ---------------------------------------------------------------------------------

def _live_objects(emu: Emulator) -> dict[str, list]:
    found = objects(emu, livemode=True)
    # every account starts with its default payment method configuration
    found["payment_method_configuration"] = [
        p for p in found.get("payment_method_configuration", []) if not p.get("is_default")]
    return {k: v for k, v in found.items() if v}


def test_live_key_without_live_flag_writes_nothing(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        proc = reconciler("apply", str(example("shop")), "--auto-approve", cwd=tmp_path,
                          base=base, key=LIVE_KEY)
        assert proc.returncode == 1, show(proc)
        assert "LIVE account" in proc.stderr and "--live" in proc.stderr
        assert "nothing was written" in proc.stderr
        assert write_count(emu) == 0, emu.request_counts()
        assert _live_objects(emu) == {}
    assert "+ create products.mug" in proc.stdout  # the plan was read and shown


@pytest.mark.slow
def test_live_saved_plan_without_live_flag_writes_nothing_then_applies_with_it(tmp_path):
    emu = Emulator()
    plan_file = tmp_path / "plan.json"
    with serve_in_thread(emu) as base:
        made = reconciler("plan", str(example("shop")), "-o", str(plan_file), cwd=tmp_path,
                          base=base, key=LIVE_KEY)
        assert made.returncode == 0, show(made)
        assert json.loads(plan_file.read_text())["mode"] == "live"
        proc = reconciler("apply", str(plan_file), cwd=tmp_path, base=base, key=LIVE_KEY)
        assert proc.returncode == 1, show(proc)
        assert "--live" in proc.stderr and "nothing was written" in proc.stderr
        assert write_count(emu) == 0, emu.request_counts()
        assert _live_objects(emu) == {}
        assert not Path(f"{plan_file}.journal").exists() or not Path(
            f"{plan_file}.journal").read_text()

        # with --live it applies (the saved plan), and then nothing is left to do
        proc = reconciler("apply", str(plan_file), "--live", cwd=tmp_path, base=base,
                          key=LIVE_KEY)
        assert proc.returncode == 0, show(proc)
        assert proc.stdout.splitlines()[-1].startswith("Apply complete: 15 created")
        again = reconciler("plan", str(example("shop")), "--detailed-exitcode", cwd=tmp_path,
                           base=base, key=LIVE_KEY)
        assert again.returncode == 0, show(again)
    assert_exactly_once(emu, load(example("shop")), livemode=True)
    assert not objects(emu).get("product"), "test mode was touched"


def test_live_flag_applies_from_manifests(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        proc = reconciler("apply", str(example("usage-based")), "--env", "live",
                          "--auto-approve", "--live", cwd=tmp_path, base=base, key=LIVE_KEY)
    assert proc.returncode == 0, show(proc)
    assert_exactly_once(emu, load(example("usage-based"), env="live"), livemode=True)


# -- webhook signing secrets -------------------------------------------------------------------

def _secrets(emu: Emulator) -> dict[str, str]:
    """Manifest key -> signing secret, as the emulator stored them."""
    return {w["metadata"]["reconciler_key"]: w["secret"]
            for w in objects(emu).get("webhook_endpoint", [])}


def _files_except(root: Path, skip: Path) -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in root.rglob("*")
            if p.is_file() and p != skip}


@pytest.mark.slow
@pytest.mark.parametrize("saved", [
    pytest.param(False, id="from-manifests"),
    pytest.param(True, id="saved-plan")])
def test_webhook_secrets_only_in_the_secrets_file(tmp_path, saved):
    emu = Emulator()
    out = tmp_path / "secrets" / "webhooks.env"
    out.parent.mkdir()
    outputs = []
    with serve_in_thread(emu) as base:
        if saved:
            plan_file = tmp_path / "plan.json"
            made = reconciler("plan", str(example("shop")), "-o", str(plan_file), "-vv",
                              cwd=tmp_path, base=base)
            assert made.returncode == 0, show(made)
            outputs.append(made)
            args = [str(plan_file)]
        else:
            args = [str(example("shop")), "--auto-approve"]
        proc = reconciler("apply", *args, "--secrets-out", str(out), "-vv", cwd=tmp_path,
                          base=base)
        assert proc.returncode == 0, show(proc)
        outputs.append(proc)
    secrets = _secrets(emu)
    assert set(secrets) == {"fulfilment", "refunds"}
    assert all(s.startswith("whsec_") for s in secrets.values())

    # the file: owner-only, KEY=VALUE lines, exactly the secrets Stripe issued
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().splitlines()
    assert sorted(lines) == sorted([
        f"STRIPE_WEBHOOK_SECRET_FULFILMENT={secrets['fulfilment']}",
        f"STRIPE_WEBHOOK_SECRET_REFUNDS={secrets['refunds']}"])

    # nowhere else: not on stdout or stderr (with -vv HTTP logging), not in the plan, the
    # journal or any other file the run left
    for run in outputs:
        assert "DEBUG" in run.stderr  # -vv did log every request
        for secret in secrets.values():
            assert secret not in run.stdout and secret not in run.stderr
        assert "whsec_" not in run.stdout + run.stderr, show(run)
    for path, text in _files_except(tmp_path, out).items():
        assert "whsec_" not in text, path
    assert "STRIPE_WEBHOOK_SECRET_FULFILMENT" in outputs[-1].stderr  # where they went


@pytest.mark.slow
def test_secrets_file_is_appended_and_stays_private(tmp_path):
    """An existing file keeps its lines and its mode is 0600 even if it was wider."""
    emu = Emulator()
    out = tmp_path / "webhooks.env"
    out.write_text("EXISTING=1\n")
    out.chmod(0o644)
    with serve_in_thread(emu) as base:
        proc = reconciler("apply", str(example("shop")), "--auto-approve", "--secrets-out",
                          str(out), cwd=tmp_path, base=base)
    assert proc.returncode == 0, show(proc)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().splitlines()
    assert lines[0] == "EXISTING=1"
    assert all(re.fullmatch(r"STRIPE_WEBHOOK_SECRET_[A-Z0-9_]+=whsec_\w+", x) for x in lines[1:])
    assert len(lines) == 3


@pytest.mark.slow
def test_without_secrets_out_no_secret_is_printed(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        proc = reconciler("apply", str(example("shop")), "--auto-approve", "-vv", cwd=tmp_path,
                          base=base)
    assert proc.returncode == 0, show(proc)
    secrets = _secrets(emu)
    assert len(secrets) == 2
    for secret in secrets.values():
        assert secret not in proc.stdout + proc.stderr
    assert "whsec_" not in proc.stdout + proc.stderr
    for key in ("fulfilment", "refunds"):
        assert (f"webhook_endpoints.{key}: created; its signing secret is not saved"
                in proc.stderr)
    assert ("Signing secrets not saved (2): webhook_endpoints.fulfilment, "
            "webhook_endpoints.refunds. ") in proc.stderr
    assert "--secrets-out FILE" in proc.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file()
                and "whsec_" in p.read_text(errors="replace")]
