"""Helpers shared by the emulator tests: a small form-encoding client and value samples."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from reconciler import reference
from reconciler.emulator import Emulator

KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


def encode(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's bracket notation, written independently of the code under test."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs += encode(value, name) if value else [(name, "")]
        elif isinstance(value, list):
            pairs += encode({str(i): v for i, v in enumerate(value)}, name) if value else [(name, "")]
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is None:
            pairs.append((name, ""))
        else:
            pairs.append((name, str(value)))
    return pairs


class Api:
    """Form-encoding calls to an emulator through its in-process transport."""

    def __init__(self, emu: Emulator, key: str | None = KEY, **headers: str) -> None:
        self.emu = emu
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(transport=emu.transport(), base_url="https://api.stripe.com",
                                 headers={**auth, **headers})

    def post(self, path: str, params: Mapping[str, Any] | None = None, **headers: str) -> httpx.Response:
        body = httpx.QueryParams(encode(params or {}))
        return self.http.post(path, content=str(body).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **headers})

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self.http.get(path, params=httpx.QueryParams(encode(params or {})))

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path)

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, path: str, **params: Any) -> dict[str, Any]:
        return self.ok(self.post(path, params))


def error_of(response: httpx.Response, status: int, code: str | None,
             param: str | None = None) -> dict[str, Any]:
    """Assert Stripe's error shape, status, code and param; return the error object."""
    assert response.status_code == status, response.text
    assert response.headers["request-id"].startswith("req_")
    error = response.json()["error"]
    assert error["type"] in ("invalid_request_error", "api_error", "idempotency_error")
    assert error.get("code") == code, error
    assert error.get("param") == param, error
    assert error["message"]
    return error


_unique = itertools.count(1)


def sample(spec: Mapping[str, Any], path: tuple[str, ...],
           ref: Callable[[tuple[str, ...]], Any | None] = lambda path: None) -> Any:
    """A valid value for a parameter specification; ``ref`` supplies ids of related objects."""
    given = ref(path)
    if given is not None:
        return given
    if "anyOf" in spec:
        return sample(spec["anyOf"][0], path, ref)
    kind, name = spec.get("type"), path[-1]
    if kind == "object":
        # of parameters Stripe documents as exclusive, only the first is given
        later = {n for rule in spec.get("combinations", ()) for n in rule.get("exclusive", ())[1:]}
        return {k: sample(v, (*path, k), ref) for k, v in spec.get("properties", {}).items()
                if k not in later}
    if kind == "array":
        return [sample(spec.get("items", {}), (*path, "0"), ref)]
    if kind == "map":
        key = "eur" if name == "currency_options" else "note"
        return {key: sample(spec.get("values", {"type": "string"}), (*path, key), ref)}
    if kind == "boolean":
        return True
    if kind == "integer":
        return int(time.time()) + 86400 * 30 if name.endswith("_at") or name == "redeem_by" else 3
    if kind == "number":
        return 12.5
    if "enum" in spec:
        return spec["enum"][0]
    if "enum_ref" in spec:
        return reference.api()[spec["enum_ref"]][-1]
    if spec.get("format") == "decimal":
        return "12.5"
    if name == "currency" or name.endswith("_currency"):
        return "usd"
    if name == "url":
        return "https://example.com/hooks/stripe"
    return f"{name}-{next(_unique)}"[-spec.get("max_length", 5000):]
