"""The `reconciler` command line: a thin click shell over the library.

Each subcommand lives in its own module here, parses options, calls the library and maps the
library's errors to exit codes. Plans and reports go to stdout; logs and progress to stderr.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler import __version__

from .apply import apply
from .context import global_options, make_settings
from .doctor import doctor
from .drift import drift
from .emulator import emulator
from .export import export
from .import_ import import_
from .plan import plan
from .schema import schema
from .unlock import unlock
from .validate import validate


class _Group(click.Group):
    """Exit 1 for usage errors too: exit 2 means "changes" (``plan --detailed-exitcode``) or
    "drift", and a CI job must never read a mistyped option or a missing key as either."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("standalone_mode", None)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
@global_options
@click.pass_context
def main(ctx: click.Context, **settings: object) -> None:
    """Stripe configuration as code: validate, plan and apply a catalog kept in YAML."""
    ctx.obj = make_settings(**settings)


main.add_command(validate)
main.add_command(schema)
main.add_command(plan)
main.add_command(apply)
main.add_command(drift)
main.add_command(export)
main.add_command(import_)
main.add_command(unlock)
main.add_command(emulator)
main.add_command(doctor)
