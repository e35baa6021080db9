"""Helpers for the Stripe client tests: simulated time, scripted transports, test secrets.

A uniquely named module (not ``conftest``) so test modules can import it by name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

KEY = "sk_test_51TestSecretKeyDoNotLeak0123456789WXYZ"
LIVE_KEY = "sk_live_51LiveSecretKeyDoNotLeak0123456789LIVE"
WHSEC = "whsec_TopSecretSigningSecret0123456789abcd"


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


Step = Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None,
          **kw: Any) -> Step:
    """A step answering with a JSON response (or raw ``content=``)."""
    def step(request: httpx.Request) -> httpx.Response:
        if "content" in kw:
            return httpx.Response(status, content=kw["content"], headers=headers)
        payload = body if body is not None else {"id": "obj_1", "object": "thing"}
        return httpx.Response(status, json=payload, headers=headers)
    return step


def error_reply(status: int, code: str | None = None, message: str = "nope",
                type_: str = "invalid_request_error", param: str | None = None,
                headers: dict[str, str] | None = None, request_id: str = "req_123") -> Step:
    err: dict[str, Any] = {"type": type_, "message": message}
    if code:
        err["code"] = code
    if param:
        err["param"] = param
    return reply(status, {"error": err}, {"Request-Id": request_id, **(headers or {})})


def fail(exc_type: type[httpx.TransportError], message: str = "boom") -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)
    return step


class Script:
    """A MockTransport handler that plays steps in order (the last one repeats)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        return step(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
