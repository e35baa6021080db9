"""One catalog, many accounts: plan, apply and drift across targets.

A layer above the single-account pipeline: each target (a connected account reached with
the platform key, or another account's own key) is planned, applied or checked by the same
functions a single run uses, with its own client, and the results are collected as data
(:class:`~.model.FleetPlan`, :class:`~.model.FleetDrift`) for the renderers.
"""

from .model import FleetDrift, FleetPlan, TargetDrift, TargetPlan
from .targets import Target, TargetsError, connected_targets, load_targets, parse_shard, shard

__all__ = ["FleetDrift", "FleetPlan", "Target", "TargetDrift", "TargetPlan", "TargetsError",
           "connected_targets", "load_targets", "parse_shard", "shard"]
