"""``${VAR}`` substitution in manifest strings, so one set of files serves test and live.

``${NAME}`` takes the variable (from ``--var NAME=VALUE`` first, then the environment) and a
missing one is an error; ``${NAME:-default}`` falls back to the default; ``$${`` writes a
literal ``${``. Only string values are interpolated, never mapping keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import Location

_PATTERN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


class Variables:
    """The variables a run may interpolate; ``--var`` values win over the environment."""

    def __init__(self, overrides: Mapping[str, str] | None = None,
                 environ: Mapping[str, str] | None = None):
        self.overrides = dict(overrides or {})
        self.environ = environ if environ is not None else {}

    def get(self, name: str) -> str | None:
        if name in self.overrides:
            return self.overrides[name]
        return self.environ.get(name)

    def substitute(self, text: str, where: Location) -> tuple[Any, str | None]:
        """Replace every reference in ``text``; returns (result, first error or None)."""
        errors: list[str] = []

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            parsed = _NAME.match(match.group(1))
            if not parsed:
                errors.append(f"invalid variable reference '{match.group(0)}'")
                return match.group(0)
            name, default = parsed.group(1), parsed.group(2)
            value = self.get(name)
            if value is None:
                if default is not None:
                    return default
                errors.append(f"variable '{name}' is not set (pass --var {name}=... or set it "
                              "in the environment)")
                return match.group(0)
            return value

        result = _PATTERN.sub(replace, text)
        return result, (errors[0] if errors else None)


def parse_var_options(pairs: list[str]) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` -> ``{"A": "1", "B": "x=y"}``; raises ValueError on a bad pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not _NAME.match(name) or ":-" in name:
            raise ValueError(f"--var expects NAME=VALUE, got {pair!r}")
        out[name] = value
    return out
