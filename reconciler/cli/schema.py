"""`reconciler schema`: print the manifest JSON Schema for editors and other tools."""

from __future__ import annotations

import click

from reconciler import limits_doc
from reconciler.manifests import reference_doc
from reconciler.manifests import schema as json_schema

from .context import save_output

RENDERERS = {"json": json_schema.render, "markdown": reference_doc.render,
             "limits": limits_doc.render}


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="json",
              show_default=True,
              help="json: the JSON Schema (draft 2020-12); markdown: the manifest reference; "
              "limits: the table of Stripe's limits that validate and the emulator enforce.")
def schema(output: str | None, fmt: str) -> None:
    """Print the manifest format: JSON Schema for editors, or the Markdown reference.

    All are generated from the kind descriptions and the reference data;
    `schemas/manifest.schema.json`, `docs/manifest-reference.md` and `docs/limits.md` in the
    repository are this command's output.
    """
    text = RENDERERS[fmt]()
    if output:
        save_output(output, text)
    else:
        click.echo(text, nl=False)
