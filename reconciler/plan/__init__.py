"""Planning: compare the manifests with the live account and say exactly what would change."""

from reconciler.account import LiveState, read_for, read_live
from reconciler.ownership import DEFAULT_STACK, OWNER_KEY, OWNER_STACK

from .model import FORMAT_VERSION, Action, Change, FieldDiff, OutdatedPlanError, Plan, Step
from .planner import PlanError, PlanOptions, build_plan, make_plan, read_for_plan

__all__ = ["DEFAULT_STACK", "FORMAT_VERSION", "OWNER_KEY", "OWNER_STACK", "Action", "Change",
           "FieldDiff", "LiveState", "OutdatedPlanError", "Plan", "PlanError", "PlanOptions", "Step", "build_plan",
           "make_plan", "read_for", "read_for_plan", "read_live"]
