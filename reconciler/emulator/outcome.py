"""What handling a request produced, before it is written as an HTTP response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import StripeError


@dataclass
class Outcome:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, error: StripeError, request_id: str, livemode: bool = False) -> Outcome:
        return cls(error.status, error.body(request_id, livemode), dict(error.headers))
