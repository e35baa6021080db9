"""Option types shared by the commands."""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import click

from reconciler.permissions import Grants, parse_grants, parse_restricted_key


class Finite(click.FloatRange):
    """A range of finite numbers: ``float()`` also reads ``nan`` and ``inf``, and nan passes
    any range check, but neither is a setting (it would crash a request or wait forever)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}
_SIZE = re.compile(r"\s*(\d+)\s*([a-z]*)\s*", re.IGNORECASE)


class ByteSize(click.ParamType):
    """A positive number of bytes, with an optional unit: ``5000000``, ``5MB``, ``16MiB``."""

    name = "bytes"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        match = _SIZE.fullmatch(str(value))
        unit = match and _UNITS.get(match[2].lower())
        if not match or not unit or int(match[1]) < 1:
            self.fail(f"{value!r} is not a size in bytes (e.g. 5000000, 5MB, 16MiB).", param, ctx)
        return int(match[1]) * unit


def format_bytes(size: int) -> str:
    """``16 MiB``, ``5 MB`` or ``1234 bytes``: a size as the help and the messages show it."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("GB", 1000**3), ("MB", 1000**2),
                         ("KiB", 1024), ("kB", 1000)):
        if size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class RestrictedKey(click.ParamType):
    """``KEY=PERMS``: a restricted key and its grants (see :mod:`reconciler.permissions`)."""

    name = "KEY=PERMS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return parse_restricted_key(value)
        except ValueError as exc:  # the message never contains the key
            self.fail(str(exc), param, ctx)


class Permissions(click.ParamType):
    """``RESOURCE:LEVEL,...``: the grants of a restricted key."""

    name = "PERMS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Grants):
            return value
        try:
            return parse_grants(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
class Duration(click.ParamType):
    """A duration such as ``30s``, ``5m``, ``1h`` or plain seconds (``90``), in seconds."""

    name = "duration"
    _UNITS: ClassVar[dict[str, int]] = {"s": 1, "m": 60, "h": 3600}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        text = str(value).strip().lower()
        unit = self._UNITS.get(text[-1:], 0)
        try:
            number = float(text[:-1] if unit else text) * (unit or 1)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            self.fail(f"{value!r} is not a duration: a number of seconds, or one followed by "
                      "s, m or h (30s, 5m, 1h).", param, ctx)
        return number
