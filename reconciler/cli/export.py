"""`reconciler export`: write the live account as manifests (bootstrap from the dashboard)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.export import export as export_account
from reconciler.export.target import ExportTargetError
from reconciler.plan import DEFAULT_STACK

from .context import command_settings, global_options, run
from .fleet import Fleet
from .options import chosen_kinds, fleet_options


@click.command()
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="catalog",
              show_default=True, help="Directory to write the manifests (one file per kind) to.")
@click.option("--kinds", metavar="KIND,...",
              help="Only these kinds (comma-separated), plus every kind they reference.")
@click.option("--include-archived", is_flag=True,
              help="Also export archived objects (as active: false).")
@click.option("--stack", default=DEFAULT_STACK, show_default=True, envvar="RECONCILER_STACK",
              help="Objects this stack already manages keep their manifest keys.")
@click.option("--force", is_flag=True,
              help="Write into a folder that already holds manifests, replacing the files of "
              "the kinds exported.")
@fleet_options
@global_options
@click.pass_context
def export(ctx: click.Context, out_dir, kinds, include_archived, stack, force,
           **global_values) -> None:
    """Write the live account's catalog as manifests that pass `reconciler validate`.

    Then `reconciler import OUT` adopts the objects, or `reconciler plan OUT --adopt` shows
    the adoption as a plan. Secrets are never written. With targets (--accounts), each
    target's catalog goes to OUT/<target name>/.
    """
    fleet = Fleet.pop(global_values)
    settings = command_settings(ctx, global_values)
    chosen = chosen_kinds(kinds)
    if fleet.requested:
        from .fleet_tools import fleet_export

        fleet_export(settings, fleet, out_dir, chosen, include_archived, stack, force)
        return

    async def work() -> list[Path]:
        async with settings.client() as client:
            return await export_account(client, Path(out_dir), kinds=chosen,
                                        include_archived=include_archived, stack=stack,
                                        force=force)

    try:
        written = run(work)
    except ExportTargetError as exc:
        click.echo(f"Error: {exc}; nothing was written.", err=True)
        raise SystemExit(1) from None
    for path in written:
        click.echo(f"wrote {path}", err=True)
