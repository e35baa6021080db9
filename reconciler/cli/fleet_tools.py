"""`export`, `import` and `doctor` across targets: each target as the single-account command
does it, with one line (or section) per target, a summary, and the failed targets named."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import click

from reconciler.apply import LiveModeError
from reconciler.apply.lock import AsyncApplyLock
from reconciler.doctor import Diagnosis, RunOptions, diagnose
from reconciler.export import export as export_account
from reconciler.fleet import Target
from reconciler.fleet.run import Outcome, TargetFailed
from reconciler.plan import Plan, make_plan
from reconciler.plural import count, first
from reconciler.stripe import is_live_key

from .context import Settings, load_manifests
from .fleet import Fleet, apply_locked, each_target, fail_if_any, report_lines, target_vars
from .import_ import IMPORT_OPTIONS, cannot_import, matches


def _summary(outcomes: list[Outcome[str]], done: str) -> str:
    ok = sum(1 for o in outcomes if not o.error)
    return f"{done} for {ok} of {count(len(outcomes), 'target')}."


def fleet_export(settings: Settings, fleet: Fleet, out_dir: str, kinds: list[str] | None,
                 include_archived: bool, stack: str, force: bool) -> None:
    """Each target's catalog into ``out_dir/<target name>/`` (names are unique in a targets
    file and connected account ids are, so no two targets share a folder)."""
    async def one(target: Target, settings: Settings) -> str:
        folder = Path(out_dir) / target.name
        async with settings.client() as client:
            written = await export_account(client, folder, kinds=kinds,
                                           include_archived=include_archived, stack=stack,
                                           force=force)
        return f"wrote {count(len(written), 'file')} to {folder}"

    outcomes = each_target(settings, fleet, one)
    failed = report_lines(outcomes, str)
    click.echo(_summary(outcomes, "Export complete"), err=True)
    fail_if_any(failed, "exported")


@dataclass(frozen=True)
class ImportRun:
    """What `import` was asked, the same for every target."""

    paths: tuple[str, ...]
    env: str | None
    var: tuple[str, ...]
    kinds: list[str] | None
    dry_run: bool
    stack: str
    lock_timeout: float


def fleet_import(settings: Settings, fleet: Fleet, run: ImportRun) -> None:
    """Import into each target as `import` does into one: all or nothing per target, under
    that account's lock unless --dry-run; a target whose matches have problems fails alone."""
    options = replace(IMPORT_OPTIONS, stack=run.stack)

    async def one(target: Target, settings: Settings) -> str:
        manifest = load_manifests(run.paths, target.env or run.env, target_vars(run.var, target))
        if not run.dry_run and not settings.live and is_live_key(settings.api_key or ""):
            # before the lock, which is itself a write (as `import` leaves it untaken)
            raise LiveModeError("this is a LIVE account; pass --live to tag its objects")
        async with settings.client() as client:
            if run.dry_run:
                return _adoptions(await make_plan(manifest, client, options), run)[1]
            async with AsyncApplyLock(client, run.stack, run.lock_timeout) as lock:
                plan, _ = _adoptions(await make_plan(manifest, client, options), run)
                result = await apply_locked(lock, plan, client, allow_live=settings.live)
        return f"imported {count(len(result.applied), 'object')} into stack '{run.stack}'"

    outcomes = each_target(settings, fleet, one)
    failed = report_lines(outcomes, str)
    click.echo(_summary(outcomes, "Dry run complete" if run.dry_run else "Import complete"),
               err=True)
    fail_if_any(failed, "imported")


def _adoptions(full: Plan, run: ImportRun) -> tuple[Plan, str]:
    """The adoptions of one target and its line, or the target's failure if any entry
    cannot be imported (as `import`, all or nothing)."""
    plan, problems = matches(full, run.kinds)
    if problems:
        raise TargetFailed(f"{cannot_import(problems)}: {first(problems, 3, '; ')}")
    return plan, f"{count(len(plan.changes), 'object')} to import" + (
        " (dry run)" if run.dry_run else "")


def fleet_doctor(settings: Settings, fleet: Fleet, paths: tuple[str, ...], env: str | None,
                 var: tuple[str, ...], job: str | None, options: RunOptions, fmt: str) -> None:
    """Each target's diagnosis for runs with ``options`` (a section per target, or JSON
    ``targets: [...]``), then which targets cannot run the ``job`` (every job without one);
    exit 1 if any cannot or could not be checked."""
    from .doctor import render_text

    async def one(target: Target, settings: Settings) -> Diagnosis:
        manifest = load_manifests(paths, target.env or env, target_vars(var, target))
        async with settings.client() as client:
            return await diagnose(manifest, client, options)

    outcomes = each_target(settings, fleet, one)
    cannot = [o.target.name for o in outcomes if o.result is not None
              and not o.result.can_run(job)]
    if fmt == "json":
        click.echo(json.dumps({"targets": [
            {"name": o.target.name, "account": o.target.account,
             **({"diagnosis": o.result.to_json()} if o.result is not None
                else {"error": o.error})} for o in outcomes],
            "summary": {"targets": len(outcomes), "cannot_run": cannot,
                        "errors": [o.target.name for o in outcomes if o.error]}}, indent=2))
    else:
        for outcome in outcomes:
            click.echo(f"=== {outcome.target.name} ===")
            click.echo(render_text(outcome.result) if outcome.result is not None
                       else f"FAILED: {outcome.error}\n")
    if cannot:
        click.echo(f"Error: {count(len(cannot), 'target')} cannot run "
                   f"{job or 'every job'}: {first(cannot, 10)}.", err=True)
    fail_if_any([o for o in outcomes if o.error], "checked")
    raise SystemExit(1 if cannot else 0)
