"""`reconciler schema`: print the manifest JSON Schema for editors and other tools."""

from __future__ import annotations

import click

from reconciler.manifests import reference_doc
from reconciler.manifests import schema as json_schema

from .context import save_output

RENDERERS = {"json": json_schema.render, "markdown": reference_doc.render}


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="json",
              show_default=True,
              help="json: the JSON Schema (draft 2020-12); markdown: the manifest reference.")
def schema(output: str | None, fmt: str) -> None:
    """Print the manifest format: JSON Schema for editors, or the Markdown reference.

    Both are generated from the kind descriptions; `schemas/manifest.schema.json` and
    `docs/manifest-reference.md` in the repository are this command's output.
    """
    text = RENDERERS[fmt]()
    if output:
        save_output(output, text)
    else:
        click.echo(text, nl=False)
