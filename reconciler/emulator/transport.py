"""The emulator as an httpx transport, for fast in-process tests (sync and async).

``httpx.Client(transport=emu.transport(), base_url="https://api.stripe.com")`` talks to the
emulator without a socket. Latency is slept (sync) or awaited (async), so concurrent async
requests overlap their delays as they would against a server. A dropped write raises
``httpx.RemoteProtocolError``, what httpx raises when a server closes without answering.
Handling itself is synchronous and short (with a state file it also takes the file lock), so
the async transport calls it directly rather than through a thread.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from .app import Emulator, Response

_DROPPED = "Server disconnected without sending a response."


def _call(emulator: Emulator, request: httpx.Request, body: bytes) -> Response:
    return emulator.handle(request.method, request.url.path, request.url.query.decode("ascii"),
                           request.headers, body)


def _to_httpx(response: Response, request: httpx.Request) -> httpx.Response:
    if response.drop:
        raise httpx.RemoteProtocolError(_DROPPED, request=request)
    return httpx.Response(response.status, headers=response.headers, content=response.body,
                          request=request)


class EmulatorTransport(httpx.BaseTransport):
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.emulator.in_flight(request.url.path):
            time.sleep(self.emulator.latency(request.url.path))
            return _to_httpx(_call(self.emulator, request, request.read()), request)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self.emulator.in_flight(request.url.path):
            await asyncio.sleep(self.emulator.latency(request.url.path))
            return _to_httpx(_call(self.emulator, request, await request.aread()), request)
