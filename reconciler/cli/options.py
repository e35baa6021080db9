"""Options shared by the commands that read manifests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def manifest_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PATHS, ``--env`` and ``--var``: what every manifest-reading command accepts."""
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
