"""Where the contract scenarios run: the emulator (served on a loopback socket, offline) or a
Stripe sandbox (``STRIPE_SANDBOX_KEY``), both through the command line, in a stack of their
own, and what they see of the account afterwards.

A live key is refused outright: the suite creates, changes and removes objects. In a sandbox
each run uses a new stack (``contract-<random>``) and removes what it made when it ends
(``apply --prune`` of an empty catalog); the sandbox should be one kept for this suite, since
export reads the whole account.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler import reference
from reconciler.cli import main
from reconciler.emulator import Emulator, serve_in_thread
from reconciler.kinds import KINDS
from reconciler.permissions import parse_grants
from reconciler.stripe import is_live_key

SANDBOX_ENV = "STRIPE_SANDBOX_KEY"
SANDBOX_RESTRICTED_ENV = "STRIPE_SANDBOX_RESTRICTED_KEY"  # a read-only restricted key
EMULATOR_KEY = "sk_test_contract_suite"
EMULATOR_READ_ONLY_KEY = "rk_test_contract_read_only"
EXAMPLES = Path(__file__).parents[2] / "examples"
# Objects the observation lists, with what each list needs to show every field.
_EXPAND = {"price": ["data.tiers", "data.currency_options"],
           "coupon": ["data.applies_to", "data.currency_options"]}


def sandbox_key() -> str | None:
    """The sandbox key, refused when it is a live key."""
    key = os.environ.get(SANDBOX_ENV, "").strip()
    if key and is_live_key(key):
        pytest.fail(f"{SANDBOX_ENV} is a live-mode key: the contract suite writes to the "
                    "account it is given, so it runs only against a sandbox or test mode")
    return key or None


@dataclass
class Target:
    """One account the scenarios run against."""

    against: str  # "emulator" or "stripe"
    key: str
    base: str | None  # None: Stripe's own API
    work: Path
    read_only_key: str | None = None
    stack: str = field(default_factory=lambda: f"contract-{secrets.token_hex(4)}")

    def cli(self, *args: str, key: str | None = None) -> Result:
        """``reconciler <args>`` against this account, in the suite's stack."""
        env: dict[str, str | None] = {"NO_COLOR": "1", "STRIPE_API_KEY": key or self.key,
                                      "STRIPE_API_BASE": self.base}
        env.update({name: None for name in os.environ if name.startswith("RECONCILER_")})
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    def apply(self, catalog: Path, *extra: str) -> Result:
        result = self.cli("apply", str(catalog), "--stack", self.stack, "--auto-approve", *extra)
        assert result.exit_code == 0, result.output
        return result

    def catalog(self, name: str) -> Path:
        """A copy of an example catalog, free to edit."""
        target = self.work / name
        shutil.copytree(EXAMPLES / name, target)
        return target

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base or "https://api.stripe.com",
                            headers={"Authorization": f"Bearer {self.key}",
                                     "Stripe-Version": reference.API_VERSION})

    def observe(self) -> dict[str, list[dict[str, Any]]]:
        """Every object of the suite's stack, by kind, in a stable order."""
        seen: dict[str, list[dict[str, Any]]] = {}
        with self.http() as http:
            for kind in KINDS.values():
                if not kind.has_metadata or "{" in kind.path:
                    continue
                query: dict[str, Any] = {"limit": 100}
                if kind.stripe_object in _EXPAND:
                    query["expand[]"] = _EXPAND[kind.stripe_object]
                answer = http.get(kind.path, params=query)
                assert answer.status_code == 200, answer.text
                mine = [o for o in answer.json()["data"]
                        if (o.get("metadata") or {}).get("reconciler_stack") == self.stack]
                if mine:
                    seen[kind.name] = sorted(mine, key=_order)
        return seen

    def update(self, path: str, params: Mapping[str, str]) -> None:
        """A change made outside reconciler (for drift)."""
        with self.http() as http:
            answer = http.post(path, data=dict(params))
            assert answer.status_code == 200, answer.text

    def clean_up(self) -> None:
        empty = self.work / "empty"
        empty.mkdir(exist_ok=True)
        (empty / "empty.yaml").write_text("{}\n")
        self.cli("apply", str(empty), "--stack", self.stack, "--prune", "--auto-approve",
                 "--force")


def _order(obj: Mapping[str, Any]) -> tuple[str, ...]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("reconciler_key", "")), str(obj.get("lookup_key") or ""),
            str(obj.get("created", "")), str(obj.get("active", "")))


@contextmanager
def emulator_target(work: Path) -> Iterator[Target]:
    emulator = Emulator(restricted_keys={
        EMULATOR_READ_ONLY_KEY: parse_grants("all:read")})
    with serve_in_thread(emulator) as base:
        yield Target("emulator", EMULATOR_KEY, base, work, EMULATOR_READ_ONLY_KEY,
                     stack="contract")


@contextmanager
def sandbox_target(work: Path) -> Iterator[Target]:
    key = sandbox_key()
    if key is None:
        pytest.skip(f"{SANDBOX_ENV} is not set: the contract suite runs against the emulator only")
    target = Target("stripe", key, None, work, os.environ.get(SANDBOX_RESTRICTED_ENV) or None)
    try:
        yield target
    finally:
        target.clean_up()
