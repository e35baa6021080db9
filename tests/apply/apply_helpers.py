"""Helpers shared by the applier's acceptance tests: the CLI in a subprocess, planning and
applying in-process, and a census of what the emulator holds (to prove nothing was created
twice)."""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from click.testing import CliRunner, Result

from reconciler.apply import ApplyResult, apply
from reconciler.cli import main
from reconciler.emulator import Emulator
from reconciler.kinds import KINDS
from reconciler.manifests import Manifest, load_valid
from reconciler.ownership import CONTROL_KEY_PREFIX, is_control
from reconciler.plan import OWNER_KEY, OWNER_STACK, Plan, PlanOptions, make_plan
from reconciler.stripe import RetryPolicy, StripeClient

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
KEY = "sk_test_apply_acceptance"
LIVE_KEY = "sk_live_apply_acceptance"
FAST_RETRY = RetryPolicy(max_retries=6, initial_delay=0.01, max_delay=0.05, total_timeout=30)


# -- the command line ---------------------------------------------------------------------------

def cli_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would point the CLI elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STRIPE_", "RECONCILER_"))}
    env.update(NO_COLOR="1", PYTHONUNBUFFERED="1", **extra)
    return env


def cli_command(*args: str, base: str | None = None, key: str | None = KEY) -> list[str]:
    globals_: list[str] = []
    if base is not None:
        globals_ += ["--api-base", base]
    if key is not None:
        globals_ += ["--api-key", key]
    return [sys.executable, "-m", "reconciler", *globals_, *args]


def reconciler(*args: str, cwd: Path, base: str | None = None, key: str | None = KEY,
               input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the ``reconciler`` command line in a subprocess; stdout and stderr captured."""
    return subprocess.run(cli_command(*args, base=base, key=key), cwd=cwd, env=cli_env(),
                          input=input if input is not None else "", capture_output=True,
                          text=True, timeout=timeout, check=False)


def cli_in_process(state: Path, *args: str) -> Result:
    """The command in-process on the embedded emulator's state file ``state``: what a test
    patches (a disk that fails) holds for it, which a subprocess would not see."""
    with mock.patch("reconciler.stripe.client.default_rate", lambda livemode: math.inf):
        return CliRunner().invoke(
            main, ["--emulator", "--emulator-state", str(state), *args],
            env={"NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                 "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None})


def signal_when(ready: Callable[[], bool], *args: str, cwd: Path, base: str,
                signals: Sequence[signal.Signals] = (signal.SIGKILL,), delay: float = 0.0,
                gap: float = 0.0, what: str = "the moment to signal it",
                before: Callable[[], None] = lambda: None) -> subprocess.CompletedProcess:
    """Start ``reconciler *args``, and ``delay`` seconds after ``ready()`` holds call
    ``before()`` and send it ``signals``, ``gap`` seconds apart; returns how it ended, its
    output captured. Fails if ``ready`` never holds (60 s); if the command ends first the
    signals reach nothing, which its return code shows."""
    command = cli_command(*args, base=base)
    proc = subprocess.Popen(command, cwd=cwd, env=cli_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    try:
        while not ready() and proc.poll() is None:
            assert time.monotonic() < deadline, f"never reached {what}"
            time.sleep(0.002)
        time.sleep(delay)
        before()
        for number, sig in enumerate(signals):
            time.sleep(gap if number else 0)
            proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def kill_when(ready: Callable[[], bool], *args: str, cwd: Path, base: str,
              delay: float = 0.0, what: str = "the moment to kill it") -> int:
    """Start ``reconciler *args`` and SIGKILL it ``delay`` seconds after ``ready()`` holds;
    returns its return code."""
    return signal_when(ready, *args, cwd=cwd, base=base, delay=delay, what=what).returncode


def show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


# -- the library in-process ---------------------------------------------------------------------

def client(emu: Emulator, key: str = KEY, **kwargs: Any) -> StripeClient:
    kwargs.setdefault("rate_limit", math.inf)
    kwargs.setdefault("retry", FAST_RETRY)
    return StripeClient(key, api_base="http://emulator.test", transport=emu.async_transport(),
                        **kwargs)


def write_manifest(directory: Path, text: str, name: str = "catalog.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def load(*paths: Path | str, env: str | None = None) -> Manifest:
    return load_valid([str(p) for p in paths], env=env)


def plan_of(emu: Emulator, manifest: Manifest, **options: Any) -> Plan:
    async def work() -> Plan:
        async with client(emu) as c:
            return await make_plan(manifest, c, PlanOptions(**options))
    return asyncio.run(work())


def call(emu: Emulator, method: str, path: str, params: dict[str, Any] | None = None,
         key: str = KEY) -> Any:
    """One request to the emulator, as someone working by hand (or another tool) makes it."""
    async def work() -> Any:
        async with client(emu, key) as c:
            return await c.request(method, path, params)
    return asyncio.run(work())


def apply_plan(emu: Emulator, plan: Plan, **kwargs: Any) -> ApplyResult:
    async def work() -> ApplyResult:
        async with client(emu) as c:
            return await apply(plan, c, **kwargs)
    return asyncio.run(work())


def failures(result: ApplyResult) -> list[tuple[str, str]]:
    return [(c.address, str(e)) for c, e in result.failed]


def pending(plan: Plan) -> list[tuple[str, str, list[str]]]:
    return [(c.address, c.action.value, [d.path for d in c.diffs]) for c in plan.pending]


# -- what the emulator holds --------------------------------------------------------------------

def objects(emu: Emulator, *, livemode: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every stored object per Stripe object type, archived ones included (deleted ones are
    gone); sub-resources carry their parent's id as ``_parent``."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for bucket_name, bucket in emu.state()["accounts"].items():
        if bucket_name.endswith(":live") != livemode:
            continue
        for kind, table in bucket["objects"].items():
            for record in table.values():
                if is_control(record["object"]):
                    continue  # the apply lock, ownership records: not catalog objects
                obj = dict(record["object"])
                if "parent" in record:
                    obj["_parent"] = record["parent"]
                found[kind].append(obj)
    archived = {p["id"] for p in found.get("product", []) if p.get("active") is False}
    for product in found.get("product", []):
        for price in found.get("price", []):
            if product["id"] in archived and product.get("default_price") == price["id"]:
                price["_retired"] = True
    archived |= {f["id"] for f in found.get("entitlements.feature", []) if not f["active"]}
    for attachment in found.get("product_feature", []):
        if {attachment["_parent"], attachment["entitlement_feature"]} & archived:
            # customers of an archived product keep it; a product whose manifest does not
            # state `features` is left alone, attachments of archived features included
            attachment["_retired"] = True
    return found


def is_active(obj: dict[str, Any]) -> bool:
    """In use: not archived or deactivated, and not part of an archived product or feature:
    a product's default price (which Stripe cannot archive) and feature attachments go out
    of use with them."""
    return (obj.get("active", True) is not False and obj.get("status") != "inactive"
            and not obj.get("_retired"))


def identity(kind: str, obj: dict[str, Any], features: dict[str, str]) -> str:
    """The manifest-side name of a live object: its ownership tag, or its natural key where
    the kind cannot carry metadata."""
    if kind == "product_features":
        return f"{obj['_parent']}/{features.get(obj['entitlement_feature'], '?')}"
    if kind == "meters":
        return obj["event_name"]
    if kind == "payment_method_configurations":
        return "\0default" if obj.get("is_default") else obj.get("name")
    metadata = obj.get("metadata") or {}
    if metadata.get(OWNER_STACK):
        return f"{metadata[OWNER_STACK]}:{metadata.get(OWNER_KEY)}"
    return f"unowned:{obj['id']}"


def census(emu: Emulator, *, livemode: bool = False,
           active_only: bool = False) -> dict[str, Counter[str]]:
    """How many objects of each manifest kind each identity has."""
    found = objects(emu, livemode=livemode)
    features = {f["id"]: f["lookup_key"] for f in found.get("entitlements.feature", [])}
    counts: dict[str, Counter[str]] = {}
    for name, kind in KINDS.items():
        counts[name] = Counter(identity(name, o, features)
                               for o in found.get(kind.stripe_object, [])
                               if not active_only or is_active(o))
    counts["payment_method_configurations"].pop("\0default", None)  # every account has it
    return {k: v for k, v in counts.items() if v}


def expected_census(manifest: Manifest, stack: str = "default") -> dict[str, Counter[str]]:
    """One object per manifest entry (and per product feature attachment)."""
    counts: dict[str, Counter[str]] = {}
    for name, kind in KINDS.items():
        if kind.parent:
            continue
        entries = manifest.entries.get(name, {})
        if name == "meters":
            ids = [e.spec["event_name"] for e in entries.values()]
        elif name == "payment_method_configurations":
            ids = [e.spec.get("name", "\0default") for e in entries.values()]
        else:
            ids = [f"{stack}:{key}" for key in entries]
        counts[name] = Counter(ids)
    features = manifest.entries.get("features", {})
    counts["product_features"] = Counter(
        f"{product.spec.get('id', key)}/{features[f].spec['lookup_key']}"
        for key, product in manifest.entries.get("products", {}).items()
        for f in product.spec.get("features", ()))
    counts["payment_method_configurations"].pop("\0default", None)
    return {k: v for k, v in counts.items() if v}


def assert_exactly_once(emu: Emulator, manifest: Manifest, *, livemode: bool = False) -> None:
    """Every entry has exactly one live object, active, and nothing else was ever created
    (an object created twice would show as a count of 2, an archived twin included)."""
    every = census(emu, livemode=livemode)
    active = census(emu, livemode=livemode, active_only=True)
    wanted = expected_census(manifest)
    assert every == wanted, _census_diff(every, wanted)
    assert active == wanted, _census_diff(active, wanted)


def assert_no_duplicates(emu: Emulator, *, livemode: bool = False) -> None:
    """At most one active object per identity, lookup key and promotion code."""
    active = census(emu, livemode=livemode, active_only=True)
    twins = {kind: {k: n for k, n in counts.items() if n > 1} for kind, counts in active.items()}
    assert not any(twins.values()), twins
    found = objects(emu, livemode=livemode)
    for kind, field in (("price", "lookup_key"), ("promotion_code", "code"),
                        ("entitlements.feature", "lookup_key"), ("billing.meter", "event_name")):
        values = Counter(o[field] for o in found.get(kind, []) if is_active(o) and o.get(field))
        assert all(n == 1 for n in values.values()), (kind, values)


def _census_diff(got: dict[str, Counter[str]], wanted: dict[str, Counter[str]]) -> str:
    lines = []
    for kind in sorted(set(got) | set(wanted)):
        g, w = got.get(kind, Counter()), wanted.get(kind, Counter())
        if g != w:
            lines.append(f"{kind}: extra {dict(g - w)}, missing {dict(w - g)}")
    return "\n".join(lines)


def forget_idempotency_keys(emu: Emulator) -> None:
    """What Stripe does to a key once it is about 24 hours old."""
    with emu.store.transaction() as state:
        for bucket in state.data["accounts"].values():
            bucket["idempotency"].clear()
        state.dirty = True


def lock_writes(emu: Emulator) -> tuple[int, int]:
    """(POSTs, DELETEs) of the control products: the apply lock (reconciler/apply/lock.py),
    which every apply takes and releases besides its changes, and the stacks' ownership
    records (reconciler/plan/records.py). Their POSTs are the ones with the control objects'
    idempotency key prefix; their DELETEs (which carry no key) removed the control products
    created (POSTs answered 200) that the emulator no longer holds."""
    posts = [r for r in emu.request_log()
             if r.method == "POST" and (r.idempotency_key or "").startswith(CONTROL_KEY_PREFIX)]
    created = sum(1 for r in posts if r.path == "/v1/products" and r.status == 200
                  and not r.replayed)
    held = sum(1 for bucket in emu.state()["accounts"].values()
               for record in bucket["objects"].get("product", {}).values()
               if is_control(record["object"]))
    return len(posts), created - held


def post_count(emu: Emulator) -> int:
    """POSTs made for the plans, the apply lock's left out."""
    posts = sum(n for name, n in emu.request_counts().items() if name.startswith("POST "))
    return posts - lock_writes(emu)[0]


def write_count(emu: Emulator) -> int:
    """Writes (POST, DELETE) made for the plans, the apply lock's left out."""
    writes = sum(n for name, n in emu.request_counts().items()
                 if name.startswith(("POST ", "DELETE ")))
    return writes - sum(lock_writes(emu))


def example(name: str) -> Path:
    return EXAMPLES / name


def example_args(name: str, extra: Sequence[str] = ()) -> list[str]:
    return [str(example(name)), *extra]


def changed_saas(directory: Path) -> Path:
    """examples/saas with every sort of change: two replaced prices, one of them the new
    default price of its product while the old default is replaced too; a replaced coupon
    (its promotion code follows); a renamed price; a detached feature."""
    target = directory / "saas-b"
    shutil.copytree(example("saas"), target)
    edits = {
        "prices.yaml": [("unit_amount: 2900\n", "unit_amount: 3100\n"),
                        ("unit_amount: 29000\n", "unit_amount: 31000\n"),
                        ("nickname: Starter monthly", "nickname: Starter (monthly)")],
        "products.yaml": [("default_price: pro-monthly-usd", "default_price: pro-yearly-usd"),
                          ("sso, audit-log, priority-support", "sso, priority-support")],
        "discounts.yaml": [("percent_off: 20\n", "percent_off: 25\n")],
    }
    for name, pairs in edits.items():
        path = target / name
        text = path.read_text()
        for old, new in pairs:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        path.write_text(text)
    return target
