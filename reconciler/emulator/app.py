"""The emulator's single entry point: one request in, one response out.

:meth:`Emulator.handle` is what the httpx transports and the socket server both call. Per
request: draw its fault, authenticate, route, decode the parameters, then run the operation
inside a store transaction, where the idempotency key is checked and its result saved; then
count and log it (:mod:`.requestlog`). A registered restricted key is checked against its
grants before anything runs (:func:`.auth.authorize`). Paths under ``/_emulator/`` are the test controls of
:mod:`.admin`; they need no key, are not counted or logged and meet no faults.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import limits
from reconciler.permissions import ACCOUNT, CONNECT, RESOURCES, Grants, resource_of_object
from reconciler.reference import API_VERSION

from . import account, admin, connected, forms, routes, rules
from .auth import Caller, authenticate, authorize
from .errors import StripeError, unrecognized_url
from .faults import Fault, FaultInjector, Faults
from .outcome import Outcome
from .requestlog import LoggedRequest, RequestLog
from .resource import Context
from .store import Bucket, Store, random_id

if TYPE_CHECKING:
    import httpx

_WRITES = ("POST", "DELETE")
# Stripe answers both limiters with a 429 of type invalid_request_error and code rate_limit
# (docs.stripe.com/rate-limits, docs.stripe.com/error-codes#rate-limit); the wording of the
# concurrency one is an assumption.
_LIMITED = {Fault.RATE_LIMIT: "Request rate limit exceeded. (emulated)",
            Fault.CONCURRENCY: "Too many concurrent requests. (emulated)"}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    drop: bool = False  # the write happened; the client must see a broken connection instead

    def json(self) -> Any:
        return json.loads(self.body)


class Emulator:
    """A stateful fake of Stripe's API for the kinds in the reference data."""

    def __init__(
        self,
        state_file: Path | str | None = None,
        faults: Faults | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        restricted_keys: Mapping[str, Grants] | None = None,
    ) -> None:
        self.store = Store(state_file)
        self.registry = rules.registry()
        self.routes = routes.build()
        self._clock = clock
        self._faults = FaultInjector(faults or Faults(), clock)
        self._account_faults: dict[str, FaultInjector] = {}
        self._wall_clock = wall_clock
        self._log = RequestLog()
        self._restricted: dict[str, Grants] = dict(restricted_keys or {})

    # -- controls ------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults.faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the fault settings; the random sequence restarts from their seed."""
        self._faults.configure(faults)

    def account_faults(self, account: str) -> Faults:
        """The faults of requests made with ``Stripe-Account: account``, on top of
        :attr:`faults` (which every request meets): none unless set."""
        injector = self._account_faults.get(account)
        return injector.faults if injector else Faults()

    def set_account_faults(self, account: str, faults: Faults) -> None:
        """Faults for one connected account only, so a test can break one target of many;
        its own random sequence and rate budget restart from these settings. Not Stripe's
        limiters (``limits``): one emulator models one account's (see limits.py)."""
        if faults.limits != "none":
            raise ValueError("limits model the platform's budgets: set them with set_faults")
        self._account_faults[account] = FaultInjector(faults, self._clock)

    def restricted_keys(self) -> dict[str, Grants]:
        """The registered restricted keys and their grants."""
        return dict(self._restricted)

    def set_restricted_keys(self, keys: Mapping[str, Grants]) -> None:
        """Register restricted keys (a key given again gets its new grants)."""
        self._restricted.update(keys)

    def clear_restricted_keys(self) -> None:
        """Forget every restricted key: ``rk_`` keys act as secret keys again."""
        self._restricted.clear()

    def request_counts(self) -> dict[str, int]:
        """Requests seen per ``METHOD /path/template`` (faulted ones included)."""
        return self._log.counts()

    def request_log(self) -> list[LoggedRequest]:
        """The last requests seen (at most 100,000), oldest first, faulted ones included."""
        return self._log.entries()

    def reset_request_counts(self) -> None:
        """Forget the request counts and the request log."""
        self._log.clear()

    def reset(self) -> None:
        """Empty every account, forget idempotency keys, counts and the request log, restart
        the fault sequence."""
        self.store.reset()
        self.reset_request_counts()
        self._faults.configure(self.faults)
        self._account_faults.clear()

    def state(self) -> dict[str, Any]:
        return self.store.snapshot()

    def latency(self, path: str) -> float:
        """Seconds a request waits before it is handled (the transports and server apply it,
        so the async transport can await it); test controls never wait."""
        return 0.0 if path.startswith(admin.PREFIX) else self.faults.latency_ms / 1000

    def _decide(self, write: bool, account: str | None, endpoint: str, search: bool) -> Fault:
        """The platform-wide fault (the limits included), else the connected account's own.
        Both draw on every request, so one account's faults never shift the sequence the
        others meet."""
        fault = self._faults.decide(write, endpoint, search)
        own = self._account_faults.get(account) if account else None
        mine = own.decide(write, endpoint, search) if own else Fault.NONE
        return fault if fault is not Fault.NONE else mine

    @contextlib.contextmanager
    def in_flight(self, path: str) -> Iterator[None]:
        """Bracket one request from its arrival to its answer, latency included: what the
        concurrency limit of ``Faults.limits`` counts (test controls are not counted)."""
        if path.startswith(admin.PREFIX):
            yield
            return
        self._faults.limiter.enter()
        try:
            yield
        finally:
            self._faults.limiter.leave()

    def transport(self) -> httpx.BaseTransport:
        from .transport import EmulatorTransport

        return EmulatorTransport(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        from .transport import AsyncEmulatorTransport

        return AsyncEmulatorTransport(self)

    # -- requests ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes) -> Response:
        method = method.upper()
        lowered = {k.lower(): v for k, v in headers.items()}
        request_id = random_id("req_", 14)
        if path.startswith(admin.PREFIX):
            outcome = admin.handle(self, method, path, query, body, request_id)
            return self._respond(outcome, request_id, {})
        arrived = self._clock()
        found = routes.find(self.routes, method, path)
        base = {"Stripe-Version": lowered.get("stripe-version") or API_VERSION}
        endpoint = f"{method} {found[0].template if found else path}"
        fault = self._decide(method in _WRITES, lowered.get("stripe-account"), endpoint,
                             found is not None and found[0].op == "search")
        if fault in _LIMITED:
            outcome = _fault_outcome(429, "invalid_request_error", "rate_limit",
                                     _LIMITED[fault], request_id)
            outcome.headers["Retry-After"] = _seconds(self.faults.retry_after)
        elif fault is Fault.SERVER_ERROR:
            outcome = _fault_outcome(500, "api_error", None,
                                     "An unknown error occurred. (emulated)", request_id)
        else:
            try:
                outcome = self._serve(method, path, query, lowered, body, found, request_id)
            except Exception as exc:  # noqa: BLE001 - a bug or a broken state file: answer, don't hang up
                outcome = Outcome.error(StripeError(
                    f"The emulator failed: {type(exc).__name__}: {exc}", status=500, type="api_error",
                    headers={"Stripe-Should-Retry": "false"}), request_id)
        if method == "POST" and "idempotency-key" in lowered:
            base["Idempotency-Key"] = lowered["idempotency-key"]
        response = self._respond(outcome, request_id, base)
        response.drop = fault is Fault.DROP
        self._log.record(LoggedRequest(
            at=arrived, method=method, path=found[0].template if found else path,
            idempotency_key=lowered.get("idempotency-key"), status=outcome.status,
            fault=fault.value, replayed=outcome.headers.get("Idempotent-Replayed") == "true",
            request_id=request_id))
        return response

    def _serve(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
               found: tuple[routes.Route, dict[str, str]] | None, request_id: str) -> Outcome:
        livemode = False
        try:
            caller = authenticate(headers, self._restricted)
            livemode = caller.livemode
            if found is None:
                raise unrecognized_url(method, path)
            raw = forms.decode(query)
            if method in _WRITES:
                raw.update(forms.decode(body))
            return self._run(method, path, headers, raw, caller, *found, request_id)
        except StripeError as error:
            return Outcome.error(error, request_id, livemode)

    def _run(self, method: str, path: str, headers: Mapping[str, str], raw: dict[str, Any],
             caller: Caller, route: routes.Route, ids: dict[str, str], request_id: str) -> Outcome:
        key = headers.get("idempotency-key") if method == "POST" else None
        longest = limits.api_rule("idempotency_key_max_length")["value"]
        if key is not None and len(key) > longest:
            # Stripe documents the length, not its answer: this text is an assumption
            raise StripeError(f"Idempotency-Key must be at most {longest} characters long "
                              f"(got {len(key)}).", replayable=False)
        fingerprint = hashlib.sha256(json.dumps([method, path, raw], sort_keys=True).encode()).hexdigest()
        with self.store.transaction() as state:
            bucket = state.bucket(caller.account or state.platform, caller.livemode)
            needs = (RESOURCES[ACCOUNT] if route.kind == "account" else RESOURCES[CONNECT]
                     if route.kind == routes.CONNECTED else resource_of_object(route.kind))
            authorize(caller, needs, method in _WRITES, caller.account or state.platform)
            ctx = Context(bucket, int(self._wall_clock()), path, self.registry)
            if bucket.fresh:
                for resource in self.registry.values():
                    resource.seed(ctx)
            if key is not None:
                saved = bucket.idempotent(key)
                if saved is not None:
                    return _replay(saved, fingerprint, key, request_id, caller.livemode)
            try:
                if route.kind == "account":
                    payload = account.retrieve(bucket.account, state.created, raw)
                elif route.kind == routes.CONNECTED:
                    payload = _connected(state.bucket(state.platform, caller.livemode), route.op,
                                         ids, raw, path, int(self._wall_clock()))
                else:
                    payload = self.registry[route.kind].dispatch(ctx, route.op, ids, raw)
                outcome = Outcome(200, payload)
            except StripeError as error:
                outcome = Outcome.error(error, request_id, caller.livemode)
                if not error.replayable:
                    return outcome
            if key is not None:
                bucket.remember(key, {"fingerprint": fingerprint, "status": outcome.status,
                                      "payload": outcome.payload, "request_id": request_id})
            return outcome

    @staticmethod
    def _respond(outcome: Outcome, request_id: str, base: dict[str, str]) -> Response:
        headers = {"Content-Type": "application/json", "Request-Id": request_id, **base,
                   **outcome.headers}
        body = json.dumps(outcome.payload, indent=2).encode()
        return Response(outcome.status, headers, body)


def _connected(platform: Bucket, op: str, ids: dict[str, str], raw: dict[str, Any], path: str,
               now: int) -> dict[str, Any]:
    """The platform's connected accounts: kept in its own bucket whoever asks (assumption: a
    connected account asking about accounts sees the platform's, which Stripe would refuse)."""
    if op == "create":
        return connected.create(platform, now, raw)
    if op == "list":
        return connected.page(platform, path, raw)
    return connected.get(platform, ids["id"])


def _fault_outcome(status: int, type_: str, code: str | None, message: str,
                   request_id: str) -> Outcome:
    error = StripeError(message, status=status, type=type_, code=code,
                        headers={"Stripe-Should-Retry": "true"})
    return Outcome.error(error, request_id, False)


def _seconds(value: float) -> str:
    """A ``Retry-After`` value: whole seconds as an integer, as HTTP has them, else a decimal
    (``0.05``), which clients that parse a float honour."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _replay(saved: dict[str, Any], fingerprint: str, key: str, request_id: str,
            livemode: bool) -> Outcome:
    if saved["fingerprint"] != fingerprint:
        error = StripeError(
            f"Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            type="idempotency_error", code="idempotency_key_in_use", replayable=False,
        )
        return Outcome.error(error, request_id, livemode)
    return Outcome(saved["status"], saved["payload"],
                    {"Idempotent-Replayed": "true", "Original-Request": saved["request_id"]})
