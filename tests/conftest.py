"""Fixtures shared across the suite: an in-process emulator and clients talking to it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from reconciler.emulator import Emulator
from reconciler.stripe import StripeClient

T = TypeVar("T")
ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
TEST_KEY = "sk_test_reconciler_suite"


def emulator_client(emulator: Emulator, key: str = TEST_KEY, **kwargs: Any) -> StripeClient:
    kwargs.setdefault("rate_limit", math.inf)
    return StripeClient(key, api_base="http://emulator.test",
                        transport=emulator.async_transport(), **kwargs)


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
