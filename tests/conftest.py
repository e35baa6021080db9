"""Fixtures shared across the suite: an in-process emulator and clients talking to it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from support import emulator_client

from reconciler.emulator import Emulator
from reconciler.stripe import StripeClient

# the secrets canary over every test's captured output; the missing optional tools, named;
# the hardening suites' figures, summed over xdist workers
pytest_plugins = ["canary_plugin", "optional_tools", "figures_plugin"]

T = TypeVar("T")


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def stripe(emulator: Emulator) -> Callable[[Callable[[StripeClient], Awaitable[T]]], T]:
    """``stripe(lambda client: coroutine)`` runs async work against the emulator."""

    def run(work: Callable[[StripeClient], Awaitable[T]]) -> T:
        async def main() -> T:
            async with emulator_client(emulator) as client:
                return await work(client)

        return asyncio.run(main())

    return run
