"""Options shared by the commands that read manifests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from reconciler import plural
from reconciler.kinds import MANIFEST_KINDS
from reconciler.manifests import DEFAULT_MAX_FILE_BYTES

from .types import ByteSize, format_bytes

_MAX_FILE_BYTES = "reconciler.max_file_bytes"


def _keep_max_file_bytes(ctx: click.Context, param: click.Parameter, value: int) -> None:
    ctx.meta[_MAX_FILE_BYTES] = value


def max_file_bytes() -> int:
    """``--max-file-bytes`` of the running command. Why kept in the click context rather than
    passed as an argument: every command that reads manifests takes it, and this way it
    reaches the loader without running through each command's signature."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_MAX_FILE_BYTES, DEFAULT_MAX_FILE_BYTES) if ctx else DEFAULT_MAX_FILE_BYTES


def manifest_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PATHS, ``--env``, ``--var`` and ``--max-file-bytes``: what every manifest-reading
    command accepts."""
    command = click.option(
        "--max-file-bytes", metavar="SIZE", envvar="RECONCILER_MAX_FILE_BYTES", type=ByteSize(),
        default=DEFAULT_MAX_FILE_BYTES, expose_value=False, callback=_keep_max_file_bytes,
        help="Largest manifest file read, e.g. 20MB (default: "
        f"{format_bytes(DEFAULT_MAX_FILE_BYTES)}); a larger file is a problem, not read. "
        "[env: RECONCILER_MAX_FILE_BYTES]",
    )(command)
    command = click.option(
        "--var", multiple=True, metavar="NAME=VALUE",
        help="Set a variable for ${NAME} interpolation (wins over the environment). Repeatable.",
    )(command)
    command = click.option(
        "--env", metavar="ENV",
        help="Apply the overlays in <dir>/overlays/ENV/ on top of the base manifests.",
    )(command)
    return click.argument("paths", nargs=-1, required=True,
                          type=click.Path(path_type=str))(command)


def chosen_kinds(text: str | None) -> list[str] | None:
    """``--kinds a,b`` of export and import: the kinds named, or None for every kind. Raises
    BadParameter naming the unknown ones and the kinds to choose from."""
    chosen = [k.strip() for k in text.split(",")] if text else None
    unknown = [k for k in chosen or () if k not in MANIFEST_KINDS]
    if unknown:
        raise click.BadParameter(
            f"{plural.form(len(unknown), 'unknown kind', 'unknown kinds')} "
            f"{', '.join(unknown)}; choose from {', '.join(MANIFEST_KINDS)}", param_hint="--kinds")
    return chosen


FLEET_OPTIONS = ("accounts", "all_connected_accounts", "account_filter", "shard",
                 "target_parallelism", "fail_fast")


def fleet_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that run a command across many accounts (docs/fleet.md)."""
    options = [
        click.option("--fail-fast", is_flag=True,
                     help="With targets: start no further target once one has failed."),
        click.option("--target-parallelism", type=click.IntRange(1, 64), default=4,
                     show_default=True, help="Targets worked on at once."),
        click.option("--shard", metavar="I/N", envvar="RECONCILER_SHARD",
                     help="Only the targets of shard I of N (stable by account): N CI jobs "
                     "cover every target exactly once. [env: RECONCILER_SHARD]"),
        click.option("--account-filter", multiple=True, metavar="FIELD=VALUE",
                     help="With --all-connected-accounts: only accounts whose FIELD (dotted, "
                     "e.g. metadata.region, country) is VALUE. Repeatable: all must match."),
        click.option("--all-connected-accounts", is_flag=True,
                     help="Target every connected account of the platform (GET /v1/accounts)."),
        click.option("--accounts", metavar="FILE", type=click.Path(dir_okay=False),
                     envvar="RECONCILER_ACCOUNTS",
                     help="YAML targets file (schemas/targets.schema.json): run for each "
                     "target. [env: RECONCILER_ACCOUNTS]"),
    ]
    for option in options:
        command = option(command)
    return command
