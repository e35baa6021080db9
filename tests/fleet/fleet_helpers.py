"""One in-memory emulator shared by every target's client: the CLI runs in-process with
``Settings.client`` pointed at it (a state file rewritten per request would make a hundred
accounts slow)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import httpx
import yaml
from catalogs import LOOKUP_KEY, PRO_MONTHLY
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.cli.context import Settings
from reconciler.emulator import Emulator
from reconciler.stripe import RetryPolicy, StripeClient

FAST_RETRY = RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.01, total_timeout=5)

CATALOG = ("products:\n  pro: {name: Pro}\nprices:\n"
           + PRO_MONTHLY.replace("currency: usd", "currency: ${CURRENCY:-usd}") + LOOKUP_KEY)
"""The pro catalog, its currency set by each target's variables (USD by default)."""


@contextmanager
def shared(emu: Emulator) -> Iterator[None]:
    def client(self: Settings) -> StripeClient:
        return StripeClient("sk_test_fleet", api_base="http://emulator.invalid",
                            transport=emu.async_transport(), stripe_account=self.stripe_account,
                            rate_limiter=self.rate_limiter, rate_limit=math.inf,
                            retry=FAST_RETRY)
    with mock.patch.object(Settings, "client", client):
        yield


def cli(emu: Emulator, *args: str) -> Result:
    with shared(emu):
        # the targets of one key share one budget (fleet/run.py), set by --rate-limit: the
        # emulator in-process needs none, and the default would pace a hundred accounts
        return CliRunner().invoke(main, ["--api-key", "sk_test_fleet", "--rate-limit",
                                         "1000000", *args], env={
            "NO_COLOR": "1", "STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
            "RECONCILER_STACK": None, "GITHUB_STEP_SUMMARY": None})


def catalog(tmp: Path, text: str = CATALOG) -> Path:
    folder = tmp / "catalog"
    folder.mkdir(exist_ok=True)
    (folder / "catalog.yaml").write_text(text)
    return folder


def targets_file(tmp: Path, targets: list[dict]) -> Path:
    path = tmp / "targets.yaml"
    path.write_text(yaml.safe_dump({"targets": targets}))
    return path


def connected(emu: Emulator, count: int) -> list[str]:
    """``count`` connected accounts created through the API, oldest first."""
    with httpx.Client(transport=emu.transport(), base_url="https://api.stripe.com",
                      headers={"Authorization": "Bearer sk_test_fleet"}) as http:
        return [http.post("/v1/accounts", data={"type": "custom"}).json()["id"]
                for _ in range(count)]
