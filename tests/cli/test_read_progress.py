"""Progress of long reads on stderr: quiet for a short read, plain lines in a log, one line
redrawn on a terminal; objects per kind, largest first, the rest counted."""

from __future__ import annotations

import asyncio
import io
import math

from reconciler.cli.progress import ReadProgress
from reconciler.emulator import Emulator
from reconciler.stripe import StripeClient

KEY = "sk_test_progress0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reader(tty: bool) -> tuple[ReadProgress, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock()
    return ReadProgress(out, tty=tty, clock=clock), out, clock


def test_a_short_read_shows_nothing() -> None:
    progress, out, clock = reader(tty=True)
    for _ in range(10):
        progress.page("/v1/prices", 100)
        clock.now += 0.1
    progress.done()
    assert out.getvalue() == ""


def test_a_log_gets_a_line_every_ten_seconds_and_the_totals() -> None:
    progress, out, clock = reader(tty=False)
    for second in range(25):
        clock.now = float(second)
        progress.page("/v1/prices", 100)
        progress.page("/v1/products/prod_1/features", 2)
    for path in ("/v1/coupons", "/v1/tax_rates", "/v1/billing/meters"):
        progress.page(path, 1)
    progress.done()
    lines = out.getvalue().splitlines()
    assert lines == [
        "Read 304 objects in 2s: prices 300, product features 4",
        "Read 1,324 objects in 12s: prices 1,300, product features 24",
        "Read 2,344 objects in 22s: prices 2,300, product features 44",
        ("Read 2,553 objects in 24s: prices 2,500, product features 50, coupons 1, "
         "2 more kinds (done)"),
    ]
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_one_line_redrawn_then_ended() -> None:
    progress, out, clock = reader(tty=True)
    for step in range(40):
        clock.now = step * 0.1
        progress.page("/v1/prices", 100)
    progress.done()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r\033[K[") > 5  # redrawn, with its bar
    assert text.rsplit("\r\033[K", 1)[1] == "Read 4,000 objects in 4s: prices 4,000\n"


def test_the_client_reports_every_page_of_both_kinds_of_read() -> None:
    emu = Emulator()
    pages: list[tuple[str, int]] = []

    class Observer:
        def page(self, path: str, count: int) -> None:
            pages.append((path, count))

        def done(self) -> None:
            pages.append(("done", 0))

    async def go() -> None:
        async with StripeClient(KEY, api_base="http://emulator.test", rate_limit=math.inf,
                                transport=emu.async_transport()) as client:
            for i in range(250):
                await client.request("POST", "/v1/products", {"name": f"P{i}"})
            client.read_progress = Observer()
            assert len([p async for p in client.list_all("/v1/products")]) == 250
            assert len(await client.list_partitioned("/v1/products")) == 250

    asyncio.run(go())
    chain, parts = pages[:3], pages[3:]
    assert chain == [("/v1/products", 100), ("/v1/products", 100), ("/v1/products", 50)]
    assert sum(n for _, n in parts) == 250 and {p for p, _ in parts} == {"/v1/products"}
