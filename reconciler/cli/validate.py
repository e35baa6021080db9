"""`reconciler validate`: offline checks of manifests, for editors, pre-commit and CI."""

from __future__ import annotations

import json
import os

import click

from reconciler import plural
from reconciler.manifests import Variables, load, parse_var_options, summarise
from reconciler.manifests import validate as check

from .options import manifest_options, max_file_bytes


@click.command()
@manifest_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format for the list of problems.")
def validate(paths: tuple[str, ...], env: str | None, var: tuple[str, ...], fmt: str) -> None:
    """Check manifests offline: YAML, schema, Stripe rules, references, uniqueness.

    Reports every problem with file:line:column and the manifest key. Exit 0 when valid,
    1 when not. Needs no API key and makes no network request.
    """
    try:
        variables = Variables(parse_var_options(list(var)), os.environ)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--var") from None
    manifest, issues = load(paths, env=env, variables=variables,
                            max_file_bytes=max_file_bytes())
    issues = sorted(issues + check(manifest))
    if fmt == "json":
        click.echo(json.dumps({"valid": not issues, "files": manifest.files,
                               "entries": len(manifest),
                               "errors": [i.as_dict() for i in issues]}, indent=2, allow_nan=False))
    else:
        for line in summarise(issues):
            click.echo(line, err=True)
        summary = f"{plural.problems(len(issues))} found" if issues else "valid"
        entries = plural.count(len(manifest), "entry", "entries")
        click.echo(f"{summary}: {entries} in {plural.count(len(manifest.files), 'file')}",
                   err=bool(issues))
    raise SystemExit(1 if issues else 0)
