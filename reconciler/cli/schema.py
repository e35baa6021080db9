"""`reconciler schema`: print the manifest JSON Schema for editors and other tools."""

from __future__ import annotations

import click

from reconciler.manifests.schema import render


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the schema to this file instead of stdout.")
def schema(output: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of the manifest format.

    It is generated from the kind descriptions; `schemas/manifest.schema.json` in the
    repository is this command's output.
    """
    text = render()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
