"""`reconciler plan`: what would change, for review (and saved for `apply`)."""

from __future__ import annotations

import json
import os
import sys

import click

from reconciler.plan import DEFAULT_STACK, FORMAT_VERSION, Plan, PlanError, PlanOptions, make_plan
from reconciler.render import FORMATS, jsonout

from .context import (
    Settings,
    command_settings,
    global_options,
    load_manifests,
    run,
    save_output,
)
from .fleet import Fleet, fleet_plan
from .options import fleet_options, manifest_options
from .summary import append_step_summary


def plan_options(command):
    options = [
        click.option("--bulk-threshold", type=click.FloatRange(0, 1), default=0.3,
                     show_default=True,
                     help="Largest share of a kind's managed objects one plan may archive, "
                     "delete or replace (from 10 objects) without --force."),
        click.option("--force", is_flag=True,
                     help="Allow what is refused by default: exceeding the bulk threshold, "
                     "re-creating meters and payment method configurations."),
        click.option("--stack", default=DEFAULT_STACK, show_default=True, envvar="RECONCILER_STACK",
                     help="Ownership scope: only objects tagged with this stack are managed."),
        click.option("--adopt", is_flag=True,
                     help="Take over unmanaged live objects that match entries by natural key."),
        click.option("--prune", is_flag=True,
                     help="Remove objects this stack owns that are no longer in the manifests "
                     "(reads every kind; without it only the kinds the manifests define and "
                     "refer to)."),
    ]
    for option in options:
        command = option(command)
    return manifest_options(command)


async def plan_from_manifests(settings: Settings, paths: tuple[str, ...], env: str | None,
                              var: tuple[str, ...], options: PlanOptions) -> Plan:
    manifest = load_manifests(paths, env, var)
    async with settings.client() as client:
        return await make_plan(manifest, client, options)


def save_plan(plan: Plan, path: str) -> None:
    """Write the plan for ``apply plan.json``: the same JSON as ``plan --format json``."""
    save_output(path, jsonout.render(plan))


def use_color() -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set to anything but the empty string
    (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render(plan: Plan, fmt: str, verbose: int) -> str:
    return FORMATS[fmt](plan, color=use_color() and fmt == "text", verbose=verbose > 0)


def _refusal_json(error: PlanError) -> None:
    """A refused plan, for programs: every problem with its code (the text goes to stderr)."""
    click.echo(json.dumps({"format_version": FORMAT_VERSION, "refused": True,
                           "problems": [p.as_dict() for p in error.problems]}, indent=2))


@click.command()
@plan_options
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text",
              show_default=True, help="How the plan is printed on stdout.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, writable=True),
              help="Save the plan as JSON for `reconciler apply PLAN_FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes (0 none, 1 error).")
@fleet_options
@global_options
@click.pass_context
def plan(ctx: click.Context, paths, env, var, prune, adopt, stack, force, bulk_threshold, fmt,
         out, detailed_exitcode, **global_values) -> None:
    """Show what would change to make the live account match the manifests.

    Reads the live account (list requests only) and changes nothing.
    """
    fleet = Fleet.pop(global_values)
    settings = command_settings(ctx, global_values)
    options = PlanOptions(stack=stack, prune=prune, adopt=adopt, force=force,
                          bulk_threshold=bulk_threshold)
    if fleet.requested:
        fleet_plan(settings, fleet, paths, env, var, options, fmt, out, detailed_exitcode,
                   use_color() and fmt == "text")
    result = run(lambda: plan_from_manifests(settings, paths, env, var, options),
                 refused=_refusal_json if fmt == "json" else None)
    click.echo(render(result, fmt, settings.verbose), nl=False)
    append_step_summary(render(result, "markdown", settings.verbose))
    if out:
        save_plan(result, out)
        click.echo(f"Plan saved to {out}; apply it with `reconciler apply {out}`.", err=True)
    raise SystemExit(2 if detailed_exitcode and result.has_changes else 0)
