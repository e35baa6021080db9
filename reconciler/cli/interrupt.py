"""Ctrl-C and SIGTERM while a command writes to Stripe: finish what is in flight, then stop.

A request cut off half-way leaves no one knowing whether Stripe acted on it, so the first
SIGINT or SIGTERM only stops new changes from starting (the executor asks
:meth:`Interrupt.requested` before each one); changes already started finish, and the command
reports what was applied and what was not attempted. SIGTERM counts like Ctrl-C because CI
systems cancel a job with it, and a cancelled job should still leave an account of its work.
(GitHub Actions sends SIGINT, then SIGTERM 7.5 s later, then kills: docs.github.com,
"Workflow cancellation reference"; the SIGTERM is then the second signal.) A second signal of
either kind cancels the work at once; what then recovers is a re-run (the idempotency keys,
and a saved plan's journal), which the caller's note explains.

The exit code is 128 plus the number of the signal that ended the run (130 for Ctrl-C, 143
for SIGTERM), as a shell reports a process a signal stopped. Outside the writing phase
(planning, the confirmation prompt) Ctrl-C keeps click's behaviour: nothing was written yet.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from .context import run

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupt:
    """The signals received while one command's writing work runs (see the module)."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None  # the first one: stop starting changes
        self.forced: signal.Signals | None = None  # the second one: stop now

    def requested(self) -> bool:
        """The executor's ``stop``: true from the first signal on."""
        return self.received is not None

    @property
    def exit_code(self) -> int:
        ended_by = self.forced or self.received
        return 128 + ended_by if ended_by else 0

    def run(self, work: Callable[[], Coroutine[Any, Any, T]], *, forced_note: str) -> T:
        """:func:`context.run` of ``work``, with the signals handled as the module says. On a
        second signal print that nothing was waited for, then ``forced_note`` (what a re-run
        does), and exit."""
        async def guarded() -> T:
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            assert task is not None  # guarded runs as asyncio.run's main task
            for sig in SIGNALS:
                loop.add_signal_handler(sig, self._on_signal, signal.Signals(sig), task)
            try:
                return await work()
            finally:
                for sig in SIGNALS:
                    loop.remove_signal_handler(sig)

        try:
            return run(guarded)
        except asyncio.CancelledError:
            if self.forced is None:
                raise
            click.echo(f"Stopped at once ({self.forced.name}) without waiting for the requests "
                       f"in flight: they may or may not have reached Stripe. {forced_note}",
                       err=True)
            raise SystemExit(self.exit_code) from None

    def _on_signal(self, sig: signal.Signals, task: asyncio.Task[Any]) -> None:
        if self.received is None:
            self.received = sig
            click.echo(f"\n{sig.name} received: starting nothing new and waiting for the "
                       "changes in flight to finish. A second Ctrl-C or SIGTERM stops at once.",
                       err=True)
            return
        self.forced = sig
        task.cancel()
