"""'Did you mean' suggestions for misspelt names and values."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: str, options: Iterable[str]) -> str | None:
    """The closest option to ``value``, case differences first, or None."""
    options = list(options)
    folded = value.casefold()
    for option in options:
        if option.casefold() == folded:
            return option
    by_fold = {o.casefold(): o for o in options}
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.7)
    return by_fold[close[0]] if close else None


def hint(value: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    match = did_you_mean(value, options)
    return f" (did you mean '{match}'?)" if match else ""
