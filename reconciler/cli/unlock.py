"""The apply lock on the command line: ``apply`` holding it, ``reconciler unlock`` breaking it.

The lock itself is :mod:`reconciler.apply.lock`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from reconciler.apply.lock import ApplyLock, Lease, LockError, break_lock, read
from reconciler.permissions import explain
from reconciler.plan import DEFAULT_STACK
from reconciler.stripe import PermissionDeniedError, StripeError, is_live_key

from .context import Settings, command_settings, global_options, run


@contextlib.contextmanager
def holding(settings: Settings, timeout: float) -> Iterator[ApplyLock]:
    """The lock for one ``apply``, released when it ends however it ends; failing to take it
    (or losing it) is an error, exit 1."""
    def waiting(holder: Lease) -> None:
        click.echo(f"Waiting up to {timeout:g}s for the apply lock of stack '{holder.stack}', "
                   f"held by {holder.describe()}...", err=True)

    try:
        may_write = settings.live or settings.emulator or not is_live_key(settings.api_key or "")
        with ApplyLock(settings.client, timeout, on_wait=waiting, enabled=may_write) as lock:
            yield lock
    except (LockError, StripeError) as exc:
        if isinstance(exc, PermissionDeniedError):  # the lock is a product: say so, once
            click.echo(f"Error: the apply lock (a product kept in the account): {explain(exc)}",
                       err=True)
        else:
            click.echo(f"Error: {exc}", err=True)
        click.echo("Nothing was changed by this run." if lock.lease is None else
                   "Apply stopped; run it again once the lock is free: it resumes.", err=True)
        raise SystemExit(1) from None


def _confirm(lease: Lease, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        click.echo("Error: not asking for confirmation without a terminal; pass --yes.",
                   err=True)
        raise SystemExit(1)
    answer = click.prompt("Break it? An apply still running would go on without the lock. "
                          "Only 'yes' is accepted", default="", show_default=False, err=True)
    if answer.strip() != "yes":
        click.echo("Unlock cancelled; the lock is still held.", err=True)
        raise SystemExit(1)


@click.command()
@click.option("--stack", default=DEFAULT_STACK, show_default=True, envvar="RECONCILER_STACK",
              help="The stack whose apply lock to break.")
@click.option("--yes", "--auto-approve", "yes", is_flag=True,
              help="Break it without asking (for scripts). Without it unlock asks on a "
              "terminal and refuses otherwise.")
@global_options
@click.pass_context
def unlock(ctx: click.Context, stack, yes, **global_values) -> None:
    """Break the apply lock of a stack, left by an apply that no longer runs.

    Prints who held it. An apply that is still running would go on without the lock, and a
    second one could then create objects twice: break a lock only once its holder is gone.
    """
    settings = command_settings(ctx, global_values)

    async def holder() -> Lease | None:
        async with settings.client() as client:
            return await read(client, stack)

    lease = run(holder)
    if lease is None:
        click.echo(f"No apply lock is held on stack '{stack}'.", err=True)
        return
    click.echo(f"The apply lock of stack '{stack}' is held by {lease.describe()}.", err=True)
    _confirm(lease, yes)

    async def broken() -> Lease | None:
        async with settings.client() as client:
            return await break_lock(client, stack)

    gone = run(broken)
    click.echo(f"Apply lock of stack '{stack}' broken" + (
        f" (held by {gone.describe()})." if gone else "; it had been released meanwhile."),
        err=True)
