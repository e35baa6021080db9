"""`reconciler import`: adopt existing live objects that match manifest entries."""

from __future__ import annotations

from dataclasses import replace

import click

from reconciler import plural
from reconciler.apply import ApplyResult
from reconciler.apply import apply as apply_plan
from reconciler.apply.lock import ApplyLock
from reconciler.plan import DEFAULT_STACK, Plan, PlanOptions
from reconciler.plan.adoption import adoption_plan

from .context import Settings, command_settings, global_options, run
from .fleet import Fleet
from .interrupt import Interrupt
from .options import chosen_kinds, fleet_options, manifest_options
from .plan import plan_from_manifests
from .types import Duration
from .unlock import holding

RERUN = ("Run the same import again: the objects already tagged are this stack's now, and it "
         "tags the rest.")


@click.command(name="import")
@manifest_options
@click.option("--kinds", metavar="KIND,...", help="Only adopt objects of these kinds.")
@click.option("--dry-run", is_flag=True, help="List the matches; tag nothing.")
@click.option("--stack", default=DEFAULT_STACK, show_default=True, envvar="RECONCILER_STACK",
              help="The stack that takes ownership.")
@click.option("--lock-timeout", type=Duration(), default="0s", metavar="DURATION",
              help="While an apply of the stack holds the apply lock, wait up to DURATION "
              "(30s, 5m) for it instead of failing at once.")
@fleet_options
@global_options
@click.pass_context
def import_(ctx: click.Context, paths, env, var, kinds, dry_run, stack, lock_timeout,
            **global_values) -> None:
    """Adopt live objects that match manifest entries: tag them, nothing else.

    Objects match by natural key (id, lookup key, event name, code, name) or, for kinds
    without one, by having exactly the fields an entry states. Each match is listed with its
    evidence. All or nothing: when an entry cannot be imported (it matches several objects,
    an object another stack owns, or one that differs in a field that cannot change), each
    such entry is reported, nothing is tagged and the exit code is 1, --dry-run included.
    Resolve those entries, or leave their kinds out with --kinds, and run it again. Run
    `reconciler plan` afterwards to see what still differs. Importing writes (tags, the
    ownership record), so it takes the stack's apply lock as apply does; --dry-run does not.
    With targets (--accounts), each target is imported so, on its own.
    """
    fleet = Fleet.pop(global_values)
    settings = command_settings(ctx, global_values)
    chosen = chosen_kinds(kinds)
    if fleet.requested:
        from .fleet_tools import ImportRun, fleet_import

        fleet_import(settings, fleet, ImportRun(paths, env, var, chosen, dry_run, stack,
                                                lock_timeout))
        return
    if dry_run:
        _import(settings, paths, env, var, chosen, stack, None)
        return
    with holding(settings, lock_timeout) as lock:
        lock.take(stack)  # before matching: what is matched is what gets tagged, as in apply
        _import(settings, paths, env, var, chosen, stack, lock)


def _import(settings: Settings, paths: tuple[str, ...], env: str | None,
            var: tuple[str, ...], chosen: list[str] | None, stack: str,
            lock: ApplyLock | None) -> None:
    """Match, then (given the ``lock``; none for --dry-run) tag."""
    dry_run = lock is None
    options = replace(IMPORT_OPTIONS, stack=stack)
    full = run(lambda: plan_from_manifests(settings, paths, env, var, options))
    plan, problems = matches(full, chosen)
    for change in plan.changes:
        click.echo(f"adopt {change.address} <- {change.live_id} ({change.note})")
    for problem in problems:  # conflicts, ambiguous or unadoptable matches
        click.echo(f"not imported: {problem}", err=True)
    if problems:
        click.echo(f"Error: {cannot_import(problems)}; resolve them (or leave their kinds out "
                   "with --kinds) and import again.", err=True)
        raise SystemExit(1)
    if lock is None or not plan.changes:
        click.echo(f"{plural.count(len(plan.changes), 'object')} to import"
                   + (" (dry run)." if dry_run else "."))
        return
    if plan.livemode and not settings.live:
        click.echo("Error: this is a LIVE account; pass --live to tag its objects.", err=True)
        raise SystemExit(1)

    interrupt = Interrupt()

    async def work() -> ApplyResult:
        async with settings.client() as client:
            return await apply_plan(plan, client, allow_live=settings.live,
                                    stop=lambda: interrupt.requested() or lock.stop())

    with lock.writing():  # a lost lease stops it like Ctrl-C: in-flight tags finish
        result = interrupt.run(work, forced_note=RERUN)
    for change, error in result.failed:
        click.echo(f"Error: {change.address}: {error}", err=True)
    click.echo(f"Imported {plural.count(len(result.applied), 'object')} into stack '{stack}'.")
    if lock.lost is not None:
        click.echo(f"Error: {lock.lost}; {not_tagged(result)}. {RERUN}", err=True)
        raise SystemExit(1)
    if interrupt.received and not result.ok and not result.failed:
        click.echo(f"Import interrupted ({interrupt.received.name}): "
                   f"{not_tagged(result)}. {RERUN}", err=True)
        raise SystemExit(interrupt.exit_code)
    if not result.ok:
        raise SystemExit(1)


IMPORT_OPTIONS = PlanOptions(adopt=True, force=True, strict=False)
"""How import plans, with the stack of the run: every match, problems reported not refused."""


def matches(full: Plan, chosen: list[str] | None) -> tuple[Plan, list[str]]:
    """The adoptions of an import plan (of the ``chosen`` kinds) and the problems of those
    kinds: conflicts, ambiguous or unadoptable matches, any of which tags nothing."""
    return (adoption_plan(full, chosen),
            [p for p in full.problems if not chosen or _kind_of(p) in chosen])


def cannot_import(problems: list[str]) -> str:
    """Why an import tags nothing: its problems, counted, and the entries they are about."""
    entries = plural.count(len({_address(p) for p in problems}), "entry", "entries")
    return (f"{plural.problems(len(problems))}: {entries} cannot be imported, so nothing is "
            "tagged")


def not_tagged(result: ApplyResult) -> str:
    """``2 objects not tagged``: what a stopped import leaves for the next run."""
    return f"{plural.count(len(result.not_attempted), 'object')} not tagged"


def _address(problem: str) -> str:
    """The entry a planning problem is about: every problem starts with its address."""
    return problem.split(":", 1)[0]


def _kind_of(problem: str) -> str:
    return _address(problem).split(".", 1)[0]
