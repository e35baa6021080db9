"""What the emulator saw: request counts, and a bounded log of each request.

Counts are per ``METHOD /path/template``. The log keeps one :class:`LoggedRequest` per API
request (test controls under ``/_emulator/`` are not logged), oldest first, at most
``capacity`` of them (the oldest are forgotten). Both are cleared together.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

CAPACITY = 100_000


@dataclass(frozen=True)
class LoggedRequest:
    at: float
    """When the request reached the emulator, on its injectable monotonic ``clock`` (seconds):
    after any injected latency, before the rate limiter and the handling."""
    method: str
    path: str
    """The route's template (``/v1/products/{id}``), or the path itself when nothing matched."""
    idempotency_key: str | None
    """The ``Idempotency-Key`` header as sent (whatever the method; only POSTs honour it)."""
    status: int
    """The status the emulator answered. For ``fault == "drop"`` it is the status of the write
    that was committed: the client saw a closed connection instead."""
    fault: str
    """``none``, ``rate_limit`` (429: a rate limit), ``concurrency_limit`` (429: too many
    requests in flight), ``server_error`` (500) or ``drop``."""
    replayed: bool
    """Answered from the idempotency key's saved result (``Idempotent-Replayed: true``)."""
    request_id: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe counts and log (the socket server handles requests on many threads)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._counts[f"{entry.method} {entry.path}"] += 1
            self._entries.append(entry)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._entries.clear()
