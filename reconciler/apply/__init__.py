"""Applying a plan: ordered, concurrent, idempotent, guarded, resumable."""

from .executor import ApplyResult, LiveModeError, apply, idempotency_key
from .journal import Journal
from .stale import StalePlanError, check_fresh

__all__ = ["ApplyResult", "Journal", "LiveModeError", "StalePlanError", "apply",
           "check_fresh", "idempotency_key"]
