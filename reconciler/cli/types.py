"""Option types shared by the commands."""

from __future__ import annotations

import math
from typing import Any

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
