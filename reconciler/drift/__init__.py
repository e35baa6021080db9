"""Drift detection: report, change nothing."""

from .baseline import Baseline, BaselineError
from .report import CATEGORIES, DriftItem, DriftReport, detect

__all__ = ["CATEGORIES", "Baseline", "BaselineError", "DriftItem", "DriftReport", "detect"]
