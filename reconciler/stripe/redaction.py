"""Keeping secrets out of text: API keys, webhook signing secrets, Authorization headers.

Every string this package produces for a person (log lines, exception messages, reprs) passes
through :func:`redact`. The patterns cover any Stripe secret or restricted key
(``sk_test_``, ``sk_live_``, ``rk_test_``, ``rk_live_``), webhook signing secrets
(``whsec_``) and ``Bearer`` credentials. Secrets that do not look like Stripe's (an odd test
key, a secret read from a file) can be registered with :func:`register_secret` and are then
redacted literally as well.

:class:`RedactingFilter` is a :class:`logging.Filter` that redacts a record's message, its
arguments and its formatted exception, so it is safe at DEBUG level. It is attached to the
``reconciler.stripe`` and ``httpx`` loggers on import; other layers can attach it to their own
loggers or handlers. httpx's request lines also lose their query strings (parameter values,
percent-encoded past :func:`redact`'s patterns).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import httpx

__all__ = [
    "RedactingFilter",
    "install_filter",
    "mask",
    "redact",
    "register_secret",
]

_KEY_RE = re.compile(
    r"(?<![0-9A-Za-z])(?P<prefix>(?:sk|rk)_(?:test|live)_|whsec_)(?P<body>[0-9A-Za-z_]+)"
)
# Anything that looks like a secret key even without the mode segment (sk_..., rk_...).
_LOOSE_KEY_RE = re.compile(r"(?<![0-9A-Za-z])(?P<prefix>(?:sk|rk)_)(?P<body>[0-9A-Za-z_]{16,})")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\",}]+")
_AUTH_HEADER_RE = re.compile(r"(?i)(['\"]?authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\n,}]+")

_lock = threading.Lock()
_known: set[str] = set()

_ELLIPSIS = "\u2026"


def mask(secret: str | None) -> str:
    """A display form of a secret: its prefix and at most its last four characters.

    ``sk_test_51Habcd...wxyz`` becomes ``sk_test_…wxyz``. Short secrets (under 12 characters
    after the prefix) show no tail at all, so a mask never reveals most of a key.
    """
    if not secret:
        return "<none>"
    m = _KEY_RE.match(secret) or _LOOSE_KEY_RE.match(secret)
    prefix, body = (m.group("prefix"), secret[m.end("prefix"):]) if m else ("", secret)
    tail = body[-4:] if len(body) >= 12 else ""
    return f"{prefix}{_ELLIPSIS}{tail}"


def register_secret(secret: str | None) -> None:
    """Redact this exact string wherever :func:`redact` runs from now on."""
    if secret and len(secret) >= 6:
        with _lock:
            _known.add(secret)


def redact(text: Any) -> str:
    """``text`` (made a string) with every secret replaced by its :func:`mask`."""
    s = text if isinstance(text, str) else str(text)
    if _known:
        with _lock:
            known = sorted(_known, key=len, reverse=True)
        for secret in known:
            if secret in s:
                s = s.replace(secret, mask(secret))
    s = _KEY_RE.sub(lambda m: mask(m.group(0)), s)
    s = _LOOSE_KEY_RE.sub(lambda m: mask(m.group(0)), s)
    s = _BEARER_RE.sub(lambda m: f"{m.group(1)} [redacted]", s)
    s = _AUTH_HEADER_RE.sub(lambda m: f"{m.group(1)}[redacted]", s)
    return s


class RedactingFilter(logging.Filter):
    """Redacts a log record in place: message, arguments, exception and stack text.

    The record's message is rendered once (``getMessage``), redacted and stored back with no
    arguments, so later formatting cannot re-introduce a secret from an argument's ``repr``.
    A formatted exception is stored in ``exc_text``, which :class:`logging.Formatter` uses
    instead of formatting ``exc_info`` again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: keep the raw parts
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_filter(logger: logging.Logger | logging.Handler) -> None:
    """Attach a :class:`RedactingFilter` once to a logger or handler."""
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


class _NoQueryFilter(logging.Filter):
    """httpx logs each request's URL at INFO (``HTTP Request: GET https://...?query=...``),
    which an application showing every logger prints: drop the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(a.copy_with(query=None) if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


install_filter(logging.getLogger("reconciler.stripe"))
_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _NoQueryFilter) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_NoQueryFilter())
install_filter(_httpx_logger)
