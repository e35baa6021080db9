"""Applying a plan: ordered, concurrent, idempotent, guarded, resumable."""

from .executor import ApplyResult, LiveModeError, apply, idempotency_key
from .journal import Journal
from .stale import StalePlanError, WrongAccountError, check_fresh
from .verify import PlanIntegrityError, check_expected, check_file, check_rebuilt

__all__ = ["ApplyResult", "Journal", "LiveModeError", "PlanIntegrityError", "StalePlanError",
           "WrongAccountError", "apply", "check_expected", "check_file", "check_fresh",
           "check_rebuilt", "idempotency_key"]
