"""`reconciler emulator serve`: run the built-in Stripe emulator on a socket.

Binds loopback unless told otherwise, prints its URL on stderr, and stops cleanly on SIGINT
or SIGTERM. Faults given here can be changed later through ``POST /_emulator/faults``.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from reconciler.permissions import Grants
from reconciler.stripe.limits import MODES

from .types import Finite, RestrictedKey


@click.group()
def emulator() -> None:
    """The built-in Stripe emulator, for tests, CI and demos."""


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; loopback unless you mean to expose it.")
@click.option("--port", default=12111, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON state file, shared with other processes; in memory without it.")
@click.option("--latency-ms", default=0.0, type=Finite(min=0), show_default=True,
              help="Delay added to every request.")
@click.option("--rate-limit", type=Finite(min=0, min_open=True),
              help="Requests per second; excess requests get 429 rate_limit.")
@click.option("--limits", type=click.Choice(("none", *MODES)), default="none", show_default=True,
              help="Model Stripe's limiters: sandbox (25 requests/s per account) or live "
              "(100/s), each with 25/s per endpoint (method and route), 20/s for search and a "
              "concurrency limit; excess requests get 429 rate_limit. none admits everything.")
@click.option("--retry-after", default=1.0, type=Finite(min=0), show_default=True,
              help="Seconds the 429s of --rate-limit and --limits ask clients to wait "
              "(Retry-After).")
@click.option("--fail-rate", default=0.0, type=Finite(0, 1), show_default=True,
              help="Share of requests answered 500 api_error.")
@click.option("--drop-rate", default=0.0, type=Finite(0, 1), show_default=True,
              help="Share of writes stored and then answered by a dropped connection.")
@click.option("--seed", default=0, type=int, show_default=True,
              help="Seed of the fault sequence: same seed, same requests, same faults.")
@click.option("--restricted-key", "restricted", multiple=True, type=RestrictedKey(),
              metavar="KEY=PERMS",
              help="A restricted key and what it may do (repeatable): PERMS is RESOURCE:LEVEL,... "
              "with RESOURCE a kind (products, prices...), account, connect or all, and LEVEL "
              "read or write; anything unlisted is None and answered 403 as Stripe does.")
def serve(host: str, port: int, state: Path | None, latency_ms: float, rate_limit: float | None,
          limits: str, retry_after: float, fail_rate: float, drop_rate: float, seed: int,
          restricted: tuple[tuple[str, Grants], ...]) -> None:
    """Serve the Stripe emulator until interrupted."""
    from reconciler.emulator import Emulator, EmulatorServer, Faults

    faults = Faults(latency_ms=latency_ms, rate_limit=rate_limit, limits=limits,
                    retry_after=retry_after,
                    fail_rate=fail_rate, drop_rate=drop_rate, seed=seed)
    try:
        emulator = Emulator(state_file=state, faults=faults, restricted_keys=dict(restricted))
        server = EmulatorServer(emulator, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"Stripe emulator listening on {server.url}", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Stripe emulator stopped", err=True)
