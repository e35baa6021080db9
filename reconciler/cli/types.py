"""Option types shared by the commands."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import click


class Finite(click.FloatRange):
    """A range of finite numbers: ``float()`` also reads ``nan`` and ``inf``, and nan passes
    any range check, but neither is a setting (it would crash a request or wait forever)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


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
