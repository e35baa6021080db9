"""`reconciler doctor`: can this key run plan, drift and apply for this catalog?"""

from __future__ import annotations

import json

import click

from reconciler import plural
from reconciler.doctor import JOBS, Diagnosis, RunOptions, diagnose, permission_label

from .context import command_settings, global_options, load_manifests, run
from .fleet import Fleet
from .options import fleet_options, manifest_options

SHOWN = 4  # permissions a job lacks named on its line; the table above has them all
_COLUMNS = ("resource", "plan", "drift", "apply", "export", "have", "missing")


def _table(diagnosis: Diagnosis) -> list[str]:
    cells = [_COLUMNS] + [
        (row.resource + (" (optional)" if row.optional else ""),
         *(row.needs.get(job, "-") for job in (*JOBS, "export")), row.have,
         ",".join(f"{job}:{need}" for job in (*JOBS, "export") if (need := row.missing(job)))
         or "-")
        for row in diagnosis.rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in cells]


def render_text(diagnosis: Diagnosis) -> str:
    lines = [f"key: {diagnosis.key_type}, {diagnosis.mode} mode",
             f"account: {diagnosis.account or 'unknown (the key may not read it)'}",
             f"API version: {diagnosis.api_version}",
             f"checked for: {diagnosis.options.describe()}", "", *_table(diagnosis), ""]
    for job in JOBS:
        missing = diagnosis.missing(job)
        verdict = ("can run" if not missing else "cannot run: the key lacks " + plural.first(
            [permission_label(r, level) for r, level in missing], SHOWN))
        lines.append(f"{job}: {verdict}")
    lines += ["", "Restricted key per job (add account:read to record the account):"]
    lines += [f"  {job}: {diagnosis.recipe(job)}" for job in ("plan", "apply")]
    return "\n".join(lines) + "\n"


@click.command()
@manifest_options
@click.option("--for", "job", type=click.Choice(JOBS),
              help="Exit 0 only when this job can run (without it: only when all can).")
@click.option("--prune", is_flag=True,
              help="Check for plan and apply with --prune, which read every kind.")
@click.option("--include-unmanaged", is_flag=True,
              help="Check for drift with --include-unmanaged, which reads every kind.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format on stdout.")
@fleet_options
@global_options
@click.pass_context
def doctor(ctx: click.Context, paths, env, var, job, prune, include_unmanaged, fmt,
           **global_values) -> None:
    """Check the key's permissions against what the catalog's commands need.

    Lists what plan, drift, apply and export need for the manifests at PATHS, what the key
    has and what it lacks, and a restricted key per job. Reads one object per kind and
    changes nothing (writes are checked with an update of an id that does not exist).
    Pass the options the checked run takes that widen what it reads (--prune,
    --include-unmanaged). Exit 0 when the --for job (without --for: every job) can run, 1
    when not. With targets (--accounts), a section per target and exit 1 if any target
    cannot.
    """
    fleet = Fleet.pop(global_values)
    settings = command_settings(ctx, global_values)
    options = RunOptions(prune=prune, include_unmanaged=include_unmanaged)
    if fleet.requested:
        from .fleet_tools import fleet_doctor

        fleet_doctor(settings, fleet, paths, env, var, job, options, fmt)

    async def work() -> Diagnosis:
        manifest = load_manifests(paths, env, var)
        async with settings.client() as client:
            return await diagnose(manifest, client, options)

    diagnosis = run(work)
    if fmt == "json":
        click.echo(json.dumps(diagnosis.to_json(), indent=2))
    else:
        click.echo(render_text(diagnosis), nl=False)
    raise SystemExit(0 if diagnosis.can_run(job) else 1)
