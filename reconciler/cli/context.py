"""Global options and what every command that talks to Stripe shares:
building the client, the live-mode guard, and turning library errors into exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import plural
from reconciler.apply import (
    LiveModeError,
    PlanIntegrityError,
    StalePlanError,
    WrongAccountError,
)
from reconciler.fsutil import UnsafePathError, make_private_dir, write_output
from reconciler.manifests import (
    Manifest,
    ManifestError,
    Variables,
    load_valid,
    parse_var_options,
    summarise,
)
from reconciler.permissions import Grants, explain
from reconciler.plan import PlanError
from reconciler.stripe import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    PermissionDeniedError,
    StripeClient,
    StripeError,
    install_filter,
)
from reconciler.stripe.client import DEFAULT_MAX_CONCURRENCY
from reconciler.stripe.limits import MODES
from reconciler.stripe.ratelimit import TokenBucket

from .options import max_file_bytes
from .progress import ReadProgress
from .types import ByteSize, Finite, Permissions, format_bytes

T = TypeVar("T")
_PUBLISHABLE = re.compile(r"pk_(?:test_|live_)?")
EMULATOR_KEY = "sk_test_emulator"
EMULATOR_RESTRICTED_KEY = "rk_test_emulator"
MIN_RATE = 0.1  # one request every 10 s; slower would look like a hang
DEFAULT_EMULATOR_STATE = ".reconciler/emulator-state.json"


@dataclass
class Settings:
    api_key: str | None
    api_base: str | None
    emulator: bool
    emulator_state: str
    stripe_account: str | None
    live: bool
    verbose: int
    rate_limit: float | None = None
    endpoint_rate_limit: float | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    emulator_permissions: Grants | None = None
    rate_limiter: TokenBucket | None = None  # shared by the targets of one key (fleet runs)
    emulator_limits: str = "none"
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY  # requests in flight (apply: --parallelism)

    def client(self) -> StripeClient:
        """The Stripe client for this run: the embedded emulator or the real API."""
        if self.emulator:
            from reconciler.emulator import Emulator, Faults

            state = Path(self.emulator_state)
            make_private_dir(state.parent)  # the state holds emulated signing secrets
            key, restricted = EMULATOR_KEY, {}
            if self.emulator_permissions is not None:
                key = EMULATOR_RESTRICTED_KEY
                restricted = {key: self.emulator_permissions}
            faults = Faults(limits=self.emulator_limits)
            transport = Emulator(state_file=state, faults=faults,
                                 restricted_keys=restricted).async_transport()
            embedded = StripeClient(key, api_base="http://emulator.invalid",
                                    transport=transport, **self._client_options())
            embedded.read_progress = ReadProgress()
            return embedded
        key = (self.api_key or "").strip()
        if not key:
            raise click.UsageError("no API key: pass --api-key, set STRIPE_API_KEY, or use "
                                   "--emulator")
        if publishable := _PUBLISHABLE.match(key):  # Stripe answers 401 to every call here
            raise click.UsageError(f"the API key is a publishable key ({publishable[0]}...), which "
                                   "can only be used in a browser or app; reconciler needs a "
                                   "secret key (sk_...) or a restricted key (rk_...)")
        kwargs = self._client_options()
        if self.api_base:
            kwargs["api_base"] = self.api_base
        try:
            client = StripeClient(key, **kwargs)
        except ValueError as exc:  # a malformed key; the message never contains it
            raise click.UsageError(str(exc)) from None
        client.read_progress = ReadProgress()
        return client

    def _client_options(self) -> dict[str, Any]:
        return {"stripe_account": self.stripe_account, "rate_limit": self.rate_limit,
                "endpoint_rate_limit": self.endpoint_rate_limit,
                "request_timeout": self.request_timeout,
                "max_response_bytes": self.max_response_bytes,
                "max_concurrency": self.max_concurrency,
                **({"rate_limiter": self.rate_limiter} if self.rate_limiter else {})}


def global_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--max-response-bytes", metavar="SIZE", envvar="RECONCILER_MAX_RESPONSE_BYTES",
                     type=ByteSize(), default=DEFAULT_MAX_RESPONSE_BYTES,
                     help="Largest response body accepted from Stripe, e.g. 64MiB (default: "
                     f"{format_bytes(DEFAULT_MAX_RESPONSE_BYTES)}). A longer one is an error. "
                     "[env: RECONCILER_MAX_RESPONSE_BYTES]"),
        click.option("--request-timeout", metavar="SECONDS", envvar="RECONCILER_REQUEST_TIMEOUT",
                     type=Finite(min=0, min_open=True), default=DEFAULT_REQUEST_TIMEOUT,
                     help="Deadline of each HTTP attempt, from sending to the last byte of "
                     f"the answer (default: {DEFAULT_REQUEST_TIMEOUT:g}); a missed one is "
                     "retried like a timeout. [env: RECONCILER_REQUEST_TIMEOUT]"),
        click.option("--rate-limit", metavar="N", envvar="RECONCILER_RATE_LIMIT",
                     type=Finite(min=MIN_RATE),
                     help="Requests per second to Stripe (default: 23 with a test key, 92 "
                     "with a live key, 8% below Stripe's 25 and 100; raise it only if your "
                     "account's limit is higher). [env: RECONCILER_RATE_LIMIT]"),
        click.option("--endpoint-rate-limit", metavar="N", envvar="RECONCILER_ENDPOINT_RATE_LIMIT",
                     type=Finite(min=MIN_RATE),
                     help="Requests per second to any one endpoint, a method and route such "
                     "as POST /v1/prices (default: 23, 8% below Stripe's 25; search "
                     "endpoints get 20/25 of it). [env: RECONCILER_ENDPOINT_RATE_LIMIT]"),
        click.option("-v", "--verbose", count=True,
                     help="More detail on stderr (-vv: every HTTP request, keys redacted)."),
        click.option("--live", is_flag=True,
                     help="Allow changes with a live-mode key. Without it nothing is written "
                     "to a live account."),
        click.option("--stripe-account", metavar="ACCT", envvar="STRIPE_ACCOUNT",
                     help="Act on this connected account (Stripe-Account header)."),
        click.option("--emulator-state", metavar="FILE", envvar="RECONCILER_EMULATOR_STATE",
                     default=DEFAULT_EMULATOR_STATE, show_default=True,
                     help="State file of the embedded emulator used with --emulator."),
        click.option("--emulator-permissions", metavar="PERMS", type=Permissions(),
                     envvar="RECONCILER_EMULATOR_PERMISSIONS",
                     help="With --emulator: use a restricted key with these permissions "
                     "(RESOURCE:LEVEL,..., as `emulator serve --restricted-key`), to try a "
                     "least-privilege key. [env: RECONCILER_EMULATOR_PERMISSIONS]"),
        click.option("--emulator-limits", type=click.Choice(("none", *MODES)), default="none",
                     envvar="RECONCILER_EMULATOR_LIMITS", show_default=True,
                     help="With --emulator: model Stripe's rate and concurrency limiters of a "
                     "sandbox (25 requests/s) or live mode (100/s), each endpoint 25/s, "
                     "search 20/s; none admits everything. [env: RECONCILER_EMULATOR_LIMITS]"),
        click.option("--emulator", is_flag=True,
                     help="Run against the embedded Stripe emulator (no key needed); its "
                     "state persists in --emulator-state between runs."),
        click.option("--api-base", metavar="URL", envvar="STRIPE_API_BASE",
                     help="Stripe API base URL, e.g. a served emulator's. [env: STRIPE_API_BASE]"),
        click.option("--api-key", metavar="KEY", envvar="STRIPE_API_KEY",
                     help="Stripe secret or restricted key. [env: STRIPE_API_KEY]"),
    ]
    for option in options:
        command = option(command)
    return command


def make_settings(**values: Any) -> Settings:
    settings = Settings(**values)
    _configure_logging(settings.verbose)
    return settings


def command_settings(ctx: click.Context, values: dict[str, Any]) -> Settings:
    """The group's settings, overridden by global options given after the subcommand
    (``reconciler plan catalog/ --emulator`` works like ``reconciler --emulator plan``)."""
    base: Settings = ctx.obj
    given = {name: value for name, value in values.items()
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
    if "verbose" in given:
        given["verbose"] = max(base.verbose, given["verbose"])
    return make_settings(**{**base.__dict__, **given}) if given else base


def _configure_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    install_filter(handler)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if verbose == 0 else logging.INFO if verbose == 1
                  else logging.DEBUG)


def load_manifests(paths: tuple[str, ...], env: str | None, var: tuple[str, ...]) -> Manifest:
    try:
        variables = Variables(parse_var_options(list(var)), os.environ)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--var") from None
    return load_valid(paths, env=env, variables=variables, max_file_bytes=max_file_bytes())


def save_output(path: str, text: str) -> None:
    """Write what ``-o`` names (:func:`reconciler.fsutil.write_output`); exit 1 with the
    reason when it cannot be written, leaving any file already there as it was."""
    try:
        write_output(path, text)
    except UnsafePathError as exc:
        click.echo(f"Error: {exc}; nothing was written.", err=True)
        raise SystemExit(1) from None
    except OSError as exc:
        click.echo(f"Error: cannot write {path}: {exc.strerror or exc}; nothing was written.",
                   err=True)
        raise SystemExit(1) from None


def run(work: Callable[[], Coroutine[Any, Any, T]],
        refused: Callable[[PlanError], None] | None = None) -> T:
    """Run async library work; print what went wrong and exit 1 on a known failure.
    ``refused`` also reports a refused plan (``plan --format json`` on stdout)."""
    try:
        with contextlib.ExitStack() as stack:
            with _signals_held():  # the loop is made whole, or not at all
                runner = stack.enter_context(asyncio.Runner())
            return runner.run(work())
    except ManifestError as exc:
        for line in summarise(exc.issues):
            click.echo(line, err=True)
        click.echo(f"{plural.problems(len(exc.issues))} in the manifests; nothing was read or "
                   "changed in Stripe", err=True)
    except PlanError as exc:
        if refused is not None:
            refused(exc)
        for problem in exc.problems:
            click.echo(f"Error: {problem}", err=True)
        click.echo(f"{plural.problems(len(exc.problems))}: no plan was made; nothing was "
                   "changed.", err=True)
    except PermissionDeniedError as exc:  # a restricted key: say what it lacks, once
        click.echo(f"Error: {explain(exc)}", err=True)
    except (StripeError, StalePlanError, LiveModeError, WrongAccountError,
            PlanIntegrityError) as exc:
        click.echo(f"Error: {exc}", err=True)
    raise SystemExit(1)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back while asyncio's runner makes its event loop: one landing
    mid-way (SIGTERM raises KeyboardInterrupt while the apply lock is held, cli/unlock.py)
    would leave half a loop, whose finaliser prints a traceback. Held, it arrives once the
    loop is whole and the runner is on the exit stack, which closes it."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: nothing to hold
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
