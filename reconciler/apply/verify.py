"""Refusing a saved plan whose requests are not what its reviewed content implies.

A plan file is plain JSON, and ``apply`` sends its steps as written: whoever can write the
file between review and apply could change a step (a price's ``unit_amount``, the object a
request goes to, a deletion added) while the diffs a reviewer read stay as they were. So
before anything is written the plan is checked twice:

- offline (:func:`check_file`, :func:`check_expected`): it was made by this version of
  reconciler, its embedded manifests are the ones its ``manifest_digest`` names, its content
  is the one its ``reviewed_digest`` names and, if given, the one the reviewer approved
  (``--expect-digest``);
- against the account (:func:`check_rebuilt`): the embedded manifests are planned again with
  the planner's own code, the saved options and the account as it is now, and every saved
  change must be exactly one the planner makes (address, action, live id and digest, diffs,
  steps, phase, notes). While the account is as the plan found it, the plan must also leave
  out nothing the planner makes.

What this cannot prove (see docs/saved-plans.md): that the embedded manifests are the ones in
git (the reviewed digest, compared with the approved one, does), and anything on a resumed
run, which cannot plan again and trusts its journal's note that the plan was verified.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from reconciler import __version__, plural
from reconciler.manifests import Manifest, validate
from reconciler.plan import Change, Plan, PlanError, PlanOptions, build_plan, read_for_plan
from reconciler.plan.model import canonical, digest
from reconciler.stripe import StripeClient

SHOWN = 5  # differences named before the rest are counted
COMPARED = ("action", "actions", "live_id", "live_digest", "diffs", "steps", "phase",
            "warnings", "note", "parent_key", "parent_id")


class PlanIntegrityError(Exception):
    """The saved plan is not the reviewed one, or not what its manifests imply."""


def _listed(items: list[str]) -> str:
    return plural.first(items, SHOWN, "; ")


def check_expected(plan: Plan, expected: str | None) -> None:
    """Refuse a plan whose reviewed digest is not the approved one (``--expect-digest``)."""
    if expected is not None and expected != plan.reviewed_digest:
        message = (f"the plan's reviewed digest is {plan.reviewed_digest}, not {expected} "
                   "(--expect-digest): this is not the plan that was approved; nothing was "
                   "sent")
        raise PlanIntegrityError(message)


def check_file(plan: Plan, data: dict[str, Any]) -> None:
    """The checks of a saved plan that need no request: the version that made it, its
    embedded manifests, its reviewed digest."""
    if plan.tool_version != __version__:
        message = (f"the plan was made by reconciler {plan.tool_version or '(unknown)'}; this "
                   f"is reconciler {__version__}, which plans differently: make a new plan with "
                   "it; nothing was sent")
        raise PlanIntegrityError(message)
    if digest(plan.manifest) != plan.manifest_digest:
        message = ("the plan file was edited: its manifests are not the ones its "
                   "manifest_digest names; nothing was sent. Make a new plan and review it")
        raise PlanIntegrityError(message)
    if data.get("reviewed_digest") != plan.reviewed_digest:
        message = (f"the plan file was edited: its content has the reviewed digest "
                   f"{plan.reviewed_digest}, not the {data.get('reviewed_digest')} it records; "
                   "nothing was sent. Make a new plan and review it")
        raise PlanIntegrityError(message)


def _fields(change: Change) -> dict[str, str]:
    return {name: canonical(value) for name, value in asdict(change).items()}


def _step_named(change: Change, other: Change) -> str:
    """The first step of ``change`` that ``other`` does not make alike, by method and path."""
    for index, step in enumerate(change.steps):
        if index >= len(other.steps) or canonical(asdict(step)) != canonical(
                asdict(other.steps[index])):
            return f" (step {index + 1}: {step.method} {step.path})"
    return ""


def _difference(change: Change, rebuilt: dict[int, Change]) -> str:
    """What is wrong with a saved change that no rebuilt change equals; the rebuilt change
    it is compared with leaves ``rebuilt`` (it is not also missing)."""
    what = f"{change.address} ({change.action.value}{' ' + change.live_id if change.live_id else ''})"
    same = [key for key, c in rebuilt.items() if c.address == change.address]
    if not same:
        return f"{what}: the manifests imply no change to {change.address}"
    closest = rebuilt.pop(next((k for k in same if rebuilt[k].action is change.action), same[0]))
    mine, theirs = _fields(change), _fields(closest)
    differ = [name for name in COMPARED if mine[name] != theirs[name]]
    steps = _step_named(change, closest) if "steps" in differ else ""
    return f"{what}: its {', '.join(differ)} differ from what the manifests imply{steps}"


def _differences(saved: tuple[Change, ...], rebuilt: tuple[Change, ...], complete: bool
                 ) -> list[str]:
    """Each saved change that no rebuilt change equals; with ``complete``, also each
    rebuilt change the saved ones leave out. Matched by content, in linear time: a plan may
    hold thousands of changes."""
    left = dict(enumerate(rebuilt))
    by_content: dict[str, list[int]] = {}
    for key, change in left.items():
        by_content.setdefault(canonical(_fields(change)), []).append(key)
    unmatched: list[Change] = []
    for change in saved:
        twins = by_content.get(canonical(_fields(change)))
        if twins:
            del left[twins.pop()]
        else:
            unmatched.append(change)
    found = [_difference(change, left) for change in unmatched]
    if complete:
        found += [f"{c.address} ({c.action.value}): left out, though the manifests imply it"
                  for c in left.values()]
    return found


def _refuse(problems: list[str], unchanged: bool) -> PlanIntegrityError:
    if unchanged:
        message = (f"the plan file was edited: the account is as the plan found it, yet "
                   f"{len(problems)} of its changes are not what its manifests imply: "
                   f"{_listed(problems)}. Nothing was sent; make a new plan and review it")
    else:
        message = (f"{len(problems)} of the plan's changes are not what its manifests imply "
                   f"against the account as it is now: {_listed(problems)}. The account "
                   "changed since the plan was made, or the plan file was edited; nothing was "
                   "sent. Make a new plan")
    return PlanIntegrityError(message)


async def check_rebuilt(plan: Plan, client: StripeClient, source: str) -> None:
    """Plan the saved plan's manifests again (reads only) and compare; see the module."""
    try:
        manifest = Manifest.from_document(plan.manifest, source)
        options = PlanOptions.from_saved(plan.stack, plan.options)
    except (TypeError, ValueError) as exc:
        message = f"the plan file was edited: {exc}; nothing was sent"
        raise PlanIntegrityError(message) from None
    issues = validate(manifest)
    if issues:
        message = (f"the plan file was edited: its manifests are not valid: "
                   f"{_listed([str(i) for i in issues])}; nothing was sent")
        raise PlanIntegrityError(message)
    live = await read_for_plan(manifest, client, options)
    unchanged = live.fingerprint() == plan.live_fingerprint
    try:
        rebuilt = build_plan(manifest, live, options)
    except PlanError as exc:
        raise _refuse([f"planning its manifests again fails: {p}" for p in exc.problems],
                      unchanged) from None
    problems = _differences(plan.pending, rebuilt.pending, complete=unchanged)
    if problems:
        raise _refuse(problems, unchanged)
