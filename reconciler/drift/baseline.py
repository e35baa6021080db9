"""The baseline: drift that is known and accepted, so it no longer fails the drift job.

A YAML file with one list, ``accept``, of glob patterns::

    accept:
      - prices.pro-monthly:nickname   # one field of one entry
      - products.*:metadata.*         # any metadata key of any product
      - coupons.legacy                # a whole entry, whatever its drift
      - unmanaged:webhook_endpoints:* # unmanaged objects of a kind (by live id)

A field pattern is ``<kind>.<manifest key>:<field path>``; an object pattern has no ``:``
after the key. Accepted drift is still listed, marked accepted, and does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from reconciler import plural
from reconciler.kinds import KINDS


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class Baseline:
    patterns: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        try:
            data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except OSError as exc:
            raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            problem = getattr(exc, "problem", None) or exc
            raise BaselineError(f"{where}: cannot read the baseline: not valid YAML "
                                f"({problem})") from None
        accept = data.get("accept", []) if isinstance(data, dict) else None
        if not isinstance(accept, list) or not all(isinstance(p, str) for p in accept):
            raise BaselineError(f"{path}: expected a mapping with 'accept': a list of patterns")
        unknown = set(data) - {"accept"}
        if unknown:
            keys = plural.form(len(unknown), "unknown key", "unknown keys")
            raise BaselineError(f"{path}: {keys} {', '.join(sorted(unknown))}")
        for pattern in accept:
            kind_name = (pattern.split(":")[1] if pattern.startswith("unmanaged:")
                         else re.split(r"[.:]", pattern, maxsplit=1)[0])
            if not any(c in kind_name for c in "*?[") and kind_name not in KINDS:
                raise BaselineError(f"{path}: pattern {pattern!r}: unknown kind {kind_name!r} "
                                    f"(kinds: {', '.join(KINDS)})")
        return cls(tuple(accept))

    def accepts_object(self, address: str) -> bool:
        return any(fnmatchcase(address, p) for p in self.patterns if not _is_field(p))

    def accepts_field(self, address: str, path: str) -> bool:
        return any(fnmatchcase(f"{address}:{path}", p) for p in self.patterns if _is_field(p))


def _is_field(pattern: str) -> bool:
    return ":" in pattern and not pattern.startswith("unmanaged:")
