"""The fleet side of `plan`, `apply` and `drift`: the same single-account flows, run per
target with the target's client settings, collected and rendered across targets."""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.apply import (
    ApplyResult,
    Journal,
    LiveModeError,
    PlanIntegrityError,
    StalePlanError,
    WrongAccountError,
    check_file,
    check_fresh,
    check_rebuilt,
)
from reconciler.apply import apply as apply_plan
from reconciler.apply.lock import AsyncApplyLock, LockError
from reconciler.drift import Baseline, detect
from reconciler.fleet import (
    FleetDrift,
    FleetPlan,
    Target,
    TargetDrift,
    TargetPlan,
    TargetsError,
    connected_targets,
    load_targets,
    parse_shard,
    shard,
)
from reconciler.fleet.run import Budgets, Outcome, TargetFailed, fan_out
from reconciler.fleet.targets import parse_filters
from reconciler.manifests import ManifestError, summarise
from reconciler.permissions import explain
from reconciler.plan import Action, OutdatedPlanError, Plan, PlanError, PlanOptions, read_for
from reconciler.plural import count, first
from reconciler.render.fleet import FLEET_DRIFT_FORMATS, FLEET_PLAN_FORMATS
from reconciler.stripe import PermissionDeniedError, StripeClient, StripeError, is_live_key
from reconciler.stripe.ratelimit import default_rate

from .context import Settings, load_manifests, save_output
from .options import FLEET_OPTIONS
from .summary import append_step_summary

T = TypeVar("T")


@dataclass(frozen=True)
class Fleet:
    """The fleet options of one command."""

    accounts: str | None = None
    all_connected_accounts: bool = False
    account_filter: tuple[str, ...] = ()
    shard: str | None = None
    target_parallelism: int = 4
    fail_fast: bool = False

    @classmethod
    def pop(cls, values: dict[str, Any]) -> Fleet:
        """The fleet options out of a command's keyword arguments."""
        return cls(**{name: values.pop(name) for name in FLEET_OPTIONS})

    @property
    def requested(self) -> bool:
        return bool(self.accounts or self.all_connected_accounts)


def targets_of(settings: Settings, fleet: Fleet) -> list[Target]:
    """The targets this run works on, after --shard; a usage error when there is none."""
    try:
        if fleet.accounts and fleet.all_connected_accounts:
            raise TargetsError("--accounts and --all-connected-accounts cannot be combined")
        if fleet.account_filter and not fleet.all_connected_accounts:
            raise TargetsError("--account-filter needs --all-connected-accounts")
        portion = parse_shard(fleet.shard) if fleet.shard else None
        if fleet.accounts:
            targets = load_targets(fleet.accounts)
        else:
            filters = parse_filters(fleet.account_filter)
            targets = asyncio.run(_connected(settings, filters))
    except TargetsError as exc:
        raise click.UsageError(str(exc)) from None
    if portion:
        targets = shard(targets, *portion)
        click.echo(f"Shard {fleet.shard}: {_names(targets)}.", err=True)
    return targets


async def _connected(settings: Settings, filters: list[tuple[str, str]]) -> list[Target]:
    try:
        async with settings.client() as client:
            return await connected_targets(client, filters)
    except StripeError as exc:
        raise TargetsError(f"cannot list the connected accounts: {exc}") from None


def _names(targets: Sequence[Target]) -> str:
    names = [t.name for t in targets]
    return count(len(names), "target") + (f": {first(names, 10)}" if names else "")


class Clients:
    """Each target's settings: its key (the run's, or from its environment variable), its
    Stripe-Account, and the rate budget it shares with the targets of the same key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.budgets = Budgets(self._rate)

    def _key(self, target: Target) -> str | None:
        if not target.api_key_env or self.settings.emulator:
            return self.settings.api_key
        key = os.environ.get(target.api_key_env, "").strip()
        if not key:
            raise TargetFailed(f"the environment variable {target.api_key_env} (its api_key_env) "
                               "is not set")
        return key

    def _rate(self, target: Target) -> float:
        if self.settings.rate_limit is not None:
            return self.settings.rate_limit
        return math.inf if self.settings.emulator else default_rate(
            is_live_key(self._key(target) or ""))

    def settings_for(self, target: Target) -> Settings:
        return replace(self.settings, api_key=self._key(target),
                       stripe_account=target.account or self.settings.stripe_account,
                       rate_limiter=self.budgets.bucket(target))


def target_vars(var: tuple[str, ...], target: Target) -> tuple[str, ...]:
    """--var, then the target's own variables, which win."""
    return (*var, *(f"{k}={v}" for k, v in target.vars.items()))


async def guarded(work: Awaitable[T]) -> T:
    """``work``, with the errors a single run prints and exits on turned into this target's
    failure."""
    try:
        return await work
    except ManifestError as exc:
        raise TargetFailed("; ".join(summarise(exc.issues))) from None
    except PlanError as exc:
        raise TargetFailed("; ".join(exc.problems)) from None
    except PermissionDeniedError as exc:
        raise TargetFailed(explain(exc)) from None
    except (StripeError, StalePlanError, LiveModeError, WrongAccountError, PlanIntegrityError,
            LockError, OSError) as exc:
        raise TargetFailed(str(exc)) from None
    except click.ClickException as exc:
        raise TargetFailed(exc.format_message()) from None


def each_target(settings: Settings, fleet: Fleet,
                work: Callable[[Target, Settings], Awaitable[T]]) -> list[Outcome[T]]:
    """``work`` for every target of the run with that target's settings (key, account, shared
    budget), isolated as plan isolates them: a failure is that target's outcome."""
    targets = targets_of(settings, fleet)
    clients = Clients(settings)

    async def one(target: Target) -> T:
        return await guarded(work(target, clients.settings_for(target)))

    return asyncio.run(fan_out(targets, one, parallelism=fleet.target_parallelism,
                               fail_fast=fleet.fail_fast))


def report_lines(outcomes: Sequence[Outcome[T]], state: Callable[[T], str]) -> list[Outcome[T]]:
    """One line per target, ``name: state`` or ``name: FAILED: why`` (on stderr); the failed."""
    for outcome in outcomes:
        line = (f"FAILED: {outcome.error}" if outcome.error else
                state(outcome.result) if outcome.result is not None else "")
        click.echo(f"{outcome.target.name}: {line}", err=bool(outcome.error))
    return [o for o in outcomes if o.error]


# -- plan -------------------------------------------------------------------------------------

async def plan_targets(settings: Settings, targets: Sequence[Target], paths: tuple[str, ...],
                       env: str | None, var: tuple[str, ...], options: PlanOptions,
                       fleet: Fleet) -> FleetPlan:
    """Plan every target with the single-account plan, each with its own client."""
    from .plan import plan_from_manifests

    clients = Clients(settings)

    async def one(target: Target) -> Plan:
        return await guarded(plan_from_manifests(clients.settings_for(target), paths,
                                                 target.env or env, target_vars(var, target), options))

    outcomes = await fan_out(targets, one, parallelism=fleet.target_parallelism,
                             fail_fast=fleet.fail_fast)
    return FleetPlan(tuple(TargetPlan(o.target, o.result, o.error) for o in outcomes))


def fleet_plan(settings: Settings, fleet: Fleet, paths: tuple[str, ...], env: str | None,
               var: tuple[str, ...], options: PlanOptions, fmt: str, out: str | None,
               detailed_exitcode: bool, color: bool) -> None:
    targets = targets_of(settings, fleet)
    result = asyncio.run(plan_targets(settings, targets, paths, env, var, options, fleet))
    render = FLEET_PLAN_FORMATS.get(fmt)
    if render is None:
        raise click.UsageError(f"--format {fmt} is not available for a fleet plan "
                               f"(use {', '.join(sorted(FLEET_PLAN_FORMATS))})")
    click.echo(render(result, color=color, verbose=settings.verbose > 0), nl=False)
    append_step_summary(FLEET_PLAN_FORMATS["markdown"](result))
    if out:
        save_output(out, FLEET_PLAN_FORMATS["json"](result))
        click.echo(f"Fleet plan saved to {out}; apply it with `reconciler apply {out}`.",
                   err=True)
    fail_if_any(result.failed, "planned")
    raise SystemExit(2 if detailed_exitcode and result.has_changes else 0)


def fail_if_any(failed: Sequence[TargetPlan | TargetDrift | Outcome[Any]], what: str) -> None:
    if failed:
        names = [t.target.name for t in failed]
        click.echo(f"Error: {count(len(names), 'target')} could not be {what}: "
                   f"{first(names, 10)}.", err=True)
        raise SystemExit(1)


# -- apply ------------------------------------------------------------------------------------

def load_fleet_plan(path: str) -> FleetPlan | None:
    """The saved fleet plan at ``path``, or None if it is a single-account plan."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None  # the single-account flow says what is wrong with it
    if not FleetPlan.is_fleet(data):
        return None
    try:
        return FleetPlan.from_dict(data)
    except OutdatedPlanError as exc:
        raise click.BadParameter(f"{path} cannot be applied: {exc}; nothing was sent",
                                 param_hint="PATHS") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise click.BadParameter(f"{path} is not a saved fleet plan: {exc}",
                                 param_hint="PATHS") from None


def _lock_if_writable(client: StripeClient, settings: Settings, stack: str,
                     timeout: float) -> AsyncApplyLock:
    """The target's lock, disabled when the run may not write (a live key without --live):
    taking it is a write, and such a run is refused before its first change anyway (as
    cli/unlock.py)."""
    return AsyncApplyLock(client, stack, timeout,
                          enabled=settings.live or not client.key_livemode)


async def apply_locked(lock: AsyncApplyLock, plan: Plan, client: StripeClient,
                       **options: Any) -> ApplyResult:
    """``plan`` applied under ``lock`` as a single-account apply applies it: a lease lost
    while writing stops it like Ctrl-C (nothing new starts, what is in flight finishes) and
    fails the target, saying so and what was applied (a failed change fails it too)."""
    with lock.writing():
        result = await apply_plan(plan, client, stop=lock.stop, **options)
    if lock.lost is not None:
        raise TargetFailed(f"{lock.lost}. Apply stopped without its lock: {result.summary()}"
                           f"{_failures(result)}; "
                           f"{count(len(result.not_attempted), 'change')} not attempted")
    return require_ok(result)


def require_ok(result: ApplyResult) -> ApplyResult:
    if not result.ok:
        raise TargetFailed(f"{result.summary()} before the failure{_failures(result)}; "
                           f"{count(len(result.not_attempted), 'change')} not attempted")
    return result


def _failures(result: ApplyResult) -> str:
    """The first failed changes and why, after a "; "; nothing when none failed."""
    return "".join(f"; {c.address}: {e}" for c, e in result.failed[:5])


def _finished(plan: Plan, journal: Journal) -> bool:
    return all((index, step) in journal.finished_steps
               for index, change in enumerate(plan.changes) if change.action is not Action.NOOP
               for step in range(len(change.steps)))


async def _apply_saved(clients: Clients, tp: TargetPlan, plan_file: str, parallelism: int,
                       lock_timeout: float) -> ApplyResult:
    """A saved target plan as ``apply plan.json`` applies one: its file checks, its journal
    beside the fleet plan, verified and fresh, under its account's lock."""
    if tp.plan is None or tp.data is None:
        raise TargetFailed(f"it has no plan ({tp.error}); make a new fleet plan")
    plan, settings = tp.plan, clients.settings_for(tp.target)
    check_file(plan, tp.data)
    if not plan.has_changes:
        return ApplyResult()
    if plan.livemode and not settings.live:
        raise LiveModeError(f"this plan changes the LIVE account {plan.account_id}; pass --live")
    journal = Journal(f"{plan_file}.{tp.target.name}.journal", plan.fingerprint)
    if _finished(plan, journal):  # an earlier run applied it all: not even the lock is taken
        return ApplyResult(already_applied=list(plan.pending))
    async with settings.client() as client:
        await check_fresh(plan, client, exempt=journal.touched)
        if not journal.verified:
            await check_rebuilt(plan, client, plan_file)
        async with AsyncApplyLock(client, plan.stack, lock_timeout) as lock:
            await check_fresh(plan, client, exempt=journal.touched)
            if not journal.verified:
                journal.verified_now()
            return await apply_locked(lock, plan, client, allow_live=settings.live,
                                      parallelism=parallelism, journal=journal)


async def _apply_fresh(clients: Clients, target: Target, paths: tuple[str, ...],
                       env: str | None, var: tuple[str, ...], options: PlanOptions,
                       parallelism: int, lock_timeout: float) -> ApplyResult:
    """Plan and apply one target under its lock, as ``apply catalog/ --auto-approve``."""
    from reconciler.plan import make_plan

    settings = clients.settings_for(target)
    manifest = load_manifests(paths, target.env or env, target_vars(var, target))
    async with settings.client() as client, _lock_if_writable(client, settings, options.stack,
                                                              lock_timeout) as lock:
        plan = await make_plan(manifest, client, options)
        if plan.livemode and plan.has_changes and not settings.live:
            raise LiveModeError(f"this plan changes the LIVE account {plan.account_id}; "
                                "pass --live")
        return await apply_locked(lock, plan, client, allow_live=settings.live,
                                  parallelism=parallelism)


def fleet_apply(settings: Settings, fleet: Fleet, saved: FleetPlan | None, plan_file: str | None,
                paths: tuple[str, ...], env: str | None, var: tuple[str, ...],
                options: PlanOptions, auto_approve: bool, parallelism: int,
                lock_timeout: float) -> None:
    """Apply across targets; exit 1 naming the targets that failed, after all have run
    (unless --fail-fast). A re-run of the same saved plan resumes each target from its
    journal: finished targets send nothing."""
    clients = Clients(settings)
    if saved is not None and plan_file is not None:
        by_name = {t.target.name: t for t in saved.targets}
        chosen = list(by_name.values())
        if fleet.shard:
            chosen = [by_name[t.name] for t in shard([t.target for t in chosen],
                                                      *parse_shard(fleet.shard))]
        targets = [t.target for t in chosen]

        def one(target: Target) -> Awaitable[ApplyResult]:
            return guarded(_apply_saved(clients, by_name[target.name], plan_file, parallelism,
                                        lock_timeout))
    else:
        if not auto_approve:
            raise click.UsageError("applying manifests across targets needs --auto-approve (or "
                                   "save a fleet plan with `plan --accounts ... -o plan.json`, "
                                   "review it, and apply the file)")
        targets = targets_of(settings, fleet)

        def one(target: Target) -> Awaitable[ApplyResult]:
            return guarded(_apply_fresh(clients, target, paths, env, var, options, parallelism,
                                        lock_timeout))

    outcomes = asyncio.run(fan_out(targets, one, parallelism=fleet.target_parallelism,
                                   fail_fast=fleet.fail_fast))
    failed = report_lines(outcomes, ApplyResult.summary)
    done = len(outcomes) - len(failed)
    append_step_summary(f"**reconciler apply** across {count(len(outcomes), 'target')}: {done} "
                        f"complete, {len(failed)} failed.\n")
    if failed:
        click.echo(f"Apply finished for {done} of {count(len(outcomes), 'target')}. Run the same "
                   "command again: it resumes the failed and unfinished targets only.", err=True)
    fail_if_any(failed, "applied")
    click.echo(f"Apply complete for {count(len(outcomes), 'target')}.")


# -- drift ------------------------------------------------------------------------------------

def fleet_drift(settings: Settings, fleet: Fleet, paths: tuple[str, ...], env: str | None,
                var: tuple[str, ...], stack: str, include_unmanaged: bool, baseline: Baseline,
                fmt: str, out: str | None) -> None:
    targets = targets_of(settings, fleet)
    clients = Clients(settings)

    async def one(target: Target) -> Any:
        async def work() -> Any:
            manifest = load_manifests(paths, target.env or env, target_vars(var, target))
            async with clients.settings_for(target).client() as client:
                live = await read_for(manifest, client, everything=include_unmanaged)
            return detect(manifest, live, stack=stack, include_unmanaged=include_unmanaged,
                          baseline=baseline)
        return await guarded(work())

    outcomes = asyncio.run(fan_out(targets, one, parallelism=fleet.target_parallelism,
                                   fail_fast=fleet.fail_fast))
    report = FleetDrift(tuple(TargetDrift(o.target, o.result, o.error) for o in outcomes))
    append_step_summary(FLEET_DRIFT_FORMATS["markdown"](report))
    text = FLEET_DRIFT_FORMATS[fmt](report)
    if out:
        save_output(out, text)
        click.echo(f"Fleet drift report written to {out}.", err=True)
    else:
        click.echo(text, nl=False)
    fail_if_any(report.failed, "checked for drift")
    raise SystemExit(2 if report.drifted else 0)

