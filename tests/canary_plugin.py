"""Secrets canary over the whole test suite's captured output (issue 9, hardening).

Registered by ``tests/conftest.py`` (``pytest_plugins = ["canary_plugin"]``). After every
phase of every test (setup, call, teardown) it scans what pytest captured for that phase —
stdout, stderr and log records — and the failure text, for:

- every secret registered with :func:`reconciler.stripe.redaction.register_secret` so far
  (each API key a ``StripeClient`` was built with, each webhook signing secret the applier
  received), literally;
- anything shaped like a Stripe secret: ``sk_test_``/``sk_live_``/``rk_test_``/``rk_live_``
  keys and ``whsec_`` signing secrets with at least 8 characters after the prefix (a masked
  ``sk_test_…WXYZ`` does not match).

A test whose output holds one fails with a message naming the masked secret and where it
was seen, and the captured sections shown for it are redacted, so the report does not leak
it again. Tests that must print a secret (none do: secrets go to ``--secrets-out`` files) can
be marked ``@pytest.mark.canary_exempt(reason=...)``. Output a test reads itself (``capsys``,
``capfd``, ``caplog.text``), a subprocess's captured output and anything under ``-s`` are not
seen by the canary; tests that check those assert on them directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from reconciler.stripe import mask, redact
from reconciler.stripe import redaction as _redaction

SECRET_SHAPE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:sk|rk)_(?:test|live)_|whsec_)[0-9A-Za-z_]{8,}")


def _registered() -> list[str]:
    with _redaction._lock:
        return sorted(_redaction._known, key=len, reverse=True)


def find_secrets(text: str) -> list[str]:
    """The secrets in ``text``: registered ones and Stripe-shaped ones, first seen first."""
    found = [s for s in _registered() if s in text]
    found += [m.group(0) for m in SECRET_SHAPE.finditer(text)
              if not any(m.group(0) in s or s in m.group(0) for s in found)]
    return list(dict.fromkeys(found))


def _texts(report: pytest.TestReport) -> Iterator[tuple[str, str]]:
    for name, content in report.sections:
        if name.endswith(f" {report.when}"):
            yield name, content
    if report.failed and report.longrepr is not None:
        yield "the failure report", str(report.longrepr)


def _scrub(text: str) -> str:
    for secret in find_secrets(text):
        text = text.replace(secret, mask(secret))
    return redact(text)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "canary_exempt(reason): the secrets canary does not "
                            "check this test's output")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo
                              ) -> Iterator[None]:  # type: ignore[misc]
    report: pytest.TestReport = yield
    if item.get_closest_marker("canary_exempt") or hasattr(report, "wasxfail"):
        return report
    leaks = [(name, secret) for name, text in _texts(report) for secret in find_secrets(text)]
    if not leaks:
        return report
    where = "; ".join(f"{mask(secret)} in {name}" for name, secret in leaks)
    message = f"secrets canary: the test's output holds a secret: {where}"
    report.sections = [(name, _scrub(text)) for name, text in report.sections]
    if report.failed:
        report.longrepr = f"{_scrub(str(report.longrepr))}\n\n{message}"
    else:
        report.outcome = "failed"
        report.longrepr = message
    return report
