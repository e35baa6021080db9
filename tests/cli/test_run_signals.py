"""cli/context.py ``run``: a signal that lands while the event loop is being made."""

from __future__ import annotations

import asyncio
import gc
import selectors
import signal
import sys
import threading

import pytest

from reconciler.cli import context
from reconciler.cli.unlock import _interrupt


def test_sigterm_while_the_event_loop_is_made_leaves_no_half_made_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen in CI: a cancelled job's SIGTERM (raised as KeyboardInterrupt while the apply
    lock is held) landed inside the loop's constructor, and the half-made loop's finaliser
    printed a traceback on the way out. Here the signal is sent from inside the constructor."""
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    real = selectors.DefaultSelector

    def selector() -> selectors.BaseSelector:
        # to the main thread, as in the command, whose other thread (the lock's) blocks it
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
        return real()

    monkeypatch.setattr(selectors, "DefaultSelector", selector)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            context.run(lambda: asyncio.sleep(0))
    finally:
        signal.signal(signal.SIGTERM, previous)
    gc.collect()
    assert unraisable == []
