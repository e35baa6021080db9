"""Progress of long reads on stderr: objects read per kind.

An account with 100,000 prices takes a minute to read even at Stripe's full pace, and a
silent minute looks like a hang. Nothing is shown for a read that ends within
:data:`QUIET_SECONDS`. Past that, on a terminal one line is redrawn in place: a bar that moves
while pages arrive (Stripe's lists give no total, so it shows activity, not a share) and the
counts; elsewhere (CI logs, where a redrawn line is noise) a plain line at most every
:data:`LINE_EVERY` seconds. Kinds are listed largest first, the first few by name and the
rest counted. stdout is never touched: it carries the plan or the report for scripts.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from reconciler import plural
from reconciler.kinds import KINDS
from reconciler.stripe.ratelimit import endpoint_of

QUIET_SECONDS = 2.0
LINE_EVERY = 10.0
REDRAW_EVERY = 0.1
SHOWN_KINDS = 3
_WIDTH = 12  # of the bar

_LABELS = {endpoint_of("GET", kind.path): kind.name.replace("_", " ") for kind in KINDS.values()}


class ReadProgress:
    """Counts the objects of each list page and shows them once a read runs long; ``done``
    ends the display of one read (the next page starts a new one)."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty() if tty is None else tty
        self._clock = clock
        self._reset()

    def _reset(self) -> None:
        self._counts: Counter[str] = Counter()
        self._started: float | None = None
        self._shown_at: float | None = None
        self._pages = 0

    def page(self, path: str, count: int) -> None:
        """One list page of ``count`` objects from ``path`` arrived."""
        now = self._clock()
        if self._started is None:
            self._started = now
        label = _LABELS.get(endpoint_of("GET", path), path)
        self._counts[label] += count
        self._pages += 1
        if now - self._started < QUIET_SECONDS:
            return
        every = REDRAW_EVERY if self._tty else LINE_EVERY
        if self._shown_at is None or now - self._shown_at >= every:
            self._shown_at = now
            self._show(now)

    def done(self) -> None:
        """The read is over: a terminal's line ends with the totals; a log gets them too if
        anything was shown."""
        if self._shown_at is not None and self._started is not None:
            self._show(self._clock(), final=True)
        self._reset()

    def _summary(self) -> str:
        ranked = self._counts.most_common()
        parts = [f"{label} {n:,}" for label, n in ranked[:SHOWN_KINDS]]
        if len(ranked) > SHOWN_KINDS:
            parts.append(f"{plural.count(len(ranked) - SHOWN_KINDS, 'more kind')}")
        return ", ".join(parts)

    def _show(self, now: float, final: bool = False) -> None:
        assert self._started is not None
        elapsed = now - self._started
        total = sum(self._counts.values())
        text = f"Read {total:,} objects in {elapsed:.0f}s: {self._summary()}"
        if not self._tty:
            self._stream.write(text + ("" if not final else " (done)") + "\n")
        elif final:
            self._stream.write(f"\r\033[K{text}\n")
        else:
            at = self._pages % _WIDTH
            bar = "".join("#" if i == at else "-" for i in range(_WIDTH))
            self._stream.write(f"\r\033[K[{bar}] {text}")
        self._stream.flush()
