"""`reconciler drift`: what changed outside git, for a scheduled job. Changes nothing."""

from __future__ import annotations

import click

from reconciler.drift import Baseline, BaselineError, DriftReport, detect
from reconciler.plan import DEFAULT_STACK, read_for
from reconciler.render.drift import DRIFT_FORMATS

from .context import command_settings, global_options, load_manifests, run, save_output
from .fleet import Fleet, fleet_drift
from .options import fleet_options, manifest_options
from .summary import append_step_summary


@click.command()
@manifest_options
@click.option("--format", "fmt", type=click.Choice(sorted(DRIFT_FORMATS)), default="text",
              show_default=True, help="Report format (html is one self-contained file).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to FILE instead of stdout.")
@click.option("--include-unmanaged", is_flag=True,
              help="Also list live objects no manifest manages, with coverage per kind (reads "
              "every kind; without it only the kinds the manifests define and refer to, so "
              "objects the stack owns in other kinds are not reported).")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False),
              help="YAML file of accepted drift (patterns); accepted drift does not count.")
@click.option("--stack", default=DEFAULT_STACK, show_default=True, envvar="RECONCILER_STACK",
              help="Ownership scope the manifests are applied with.")
@fleet_options
@global_options
@click.pass_context
def drift(ctx: click.Context, paths, env, var, fmt, out, include_unmanaged, baseline, stack,
          **global_values) -> None:
    """Report where the live account differs from the manifests; change nothing.

    Exit 0 without drift, 2 with drift, 1 on error.
    """
    fleet = Fleet.pop(global_values)
    settings = command_settings(ctx, global_values)
    try:
        accepted = Baseline.load(baseline) if baseline else Baseline()
    except BaselineError as exc:
        raise click.BadParameter(str(exc), param_hint="--baseline") from None
    if fleet.requested:
        fleet_drift(settings, fleet, paths, env, var, stack, include_unmanaged, accepted, fmt, out)

    async def work() -> DriftReport:
        manifest = load_manifests(paths, env, var)
        async with settings.client() as client:
            live = await read_for(manifest, client, everything=include_unmanaged)
        return detect(manifest, live, stack=stack, include_unmanaged=include_unmanaged,
                      baseline=accepted)

    report = run(work)
    append_step_summary(DRIFT_FORMATS["markdown"](report))
    text = DRIFT_FORMATS[fmt](report)
    if out:
        save_output(out, text)
        click.echo(f"Drift report written to {out}.", err=True)
    else:
        click.echo(text, nl=False)
    raise SystemExit(2 if report.has_drift else 0)
