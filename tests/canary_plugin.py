"""Secrets canary over the whole test suite's captured output (issue 9, hardening).

Registered by ``tests/conftest.py`` (``pytest_plugins = ["canary_plugin"]``). After every
phase of every test (setup, call, teardown) it scans what pytest captured for that phase —
stdout, stderr and log records —, the failure text, and what the test's child processes
wrote to it (below), for:

- every secret registered with :func:`reconciler.stripe.redaction.register_secret` so far
  (each API key a ``StripeClient`` was built with, each webhook signing secret the applier
  received), literally;
- anything shaped like a Stripe secret: ``sk_test_``/``sk_live_``/``rk_test_``/``rk_live_``
  keys and ``whsec_`` signing secrets with at least 8 characters after the prefix (a masked
  ``sk_test_…WXYZ`` does not match).

Most CLI tests run ``reconciler`` with ``subprocess.run(..., capture_output=True)`` or
``Popen``: what the child prints lands in Python objects, never in pytest's capture, so a
secret the CLI prints would go unseen unless the test printed it. For the length of each
test, ``subprocess.Popen`` is therefore watched: what ``communicate()`` returns (so
``run``, ``check_output``), the partial output of its ``TimeoutExpired``, what the test
reads from ``proc.stdout``/``proc.stderr``, and a regular file passed as a child's
``stdout=``/``stderr=`` are scanned too, and a hit names the child (``argv[0]``'s name and
``argv[1]``). Files a child writes on its own (``--secrets-out``, journals) are not: some
hold secrets on purpose.

A test whose output holds one fails with a message naming the masked secret and where it
was seen, and the captured sections shown for it are redacted, so the report does not leak
it again. Tests that must print a secret (none do: secrets go to ``--secrets-out`` files) can
be marked ``@pytest.mark.canary_exempt(reason=...)``. Output a test reads itself (``capsys``,
``capfd``, ``caplog.text``), a child's output read straight from its file descriptor
(``os.read``, a pty) and anything under ``-s`` are not seen by the canary; tests that check
those assert on them directly.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import subprocess
from collections.abc import Generator, Iterator
from typing import Any, Self

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


# -- child processes ------------------------------------------------------------------------

class _Children:
    """What the running test's child processes wrote to it, scanned; leaks not reported yet."""

    def __init__(self) -> None:
        self.leaks: dict[tuple[str, str], None] = {}  # (where, secret), first seen first
        self.reported = 0
        self.files: list[tuple[str, str, int]] = []  # (where, path, offset the child began at)

    def scan(self, where: str, data: str | bytes | None) -> None:
        if data:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            for secret in find_secrets(text):
                self.leaks.setdefault((where, secret))

    def take(self) -> list[tuple[str, str]]:
        """Leaks found since the last call (files are read again: a child may still write)."""
        for where, path, offset in self.files:
            self.scan(where, _read_from(path, offset))
        new = list(self.leaks)[self.reported:]
        self.reported = len(self.leaks)
        return new


_current: _Children | None = None
_POPEN_INIT, _POPEN_COMMUNICATE = subprocess.Popen.__init__, subprocess.Popen.communicate


def _scan(where: str, data: str | bytes | None) -> None:
    if _current is not None:  # a thread may outlive its test
        _current.scan(where, data)


def _command(args: Any) -> str:
    """``argv[0]``'s name and ``argv[1]`` (and the module after ``-m``): which child it was,
    without the rest of its argv (it may carry ``--api-key``); masked all the same."""
    if isinstance(args, (str, bytes)):
        words = os.fsdecode(args).split()  # a shell command line
    elif isinstance(args, os.PathLike):
        words = [os.fsdecode(args)]
    else:
        words = [os.fsdecode(a) if isinstance(a, (str, bytes, os.PathLike)) else str(a)
                 for a in args]
    if not words:
        return "?"
    shown = [os.path.basename(words[0]), *words[1:3 if words[1:2] == ["-m"] else 2]]
    shown = [_scrub(w) for w in shown]
    return " ".join(w if len(w) <= 40 else f"{w[:39]}\u2026" for w in shown)


class _Pipe:
    """A child's stdout or stderr pipe that shows the canary what the test reads from it;
    the last 256 characters read are scanned again with the next read, so a secret cut in
    two by ``read(n)`` is still seen. Everything else is the pipe's own."""

    def __init__(self, pipe: Any, where: str) -> None:
        self._pipe, self._where, self._tail = pipe, where, ""

    def _seen(self, data: Any) -> Any:
        if data:
            chunk = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            _scan(self._where, self._tail + chunk)
            self._tail = (self._tail + chunk)[-256:]
        return data

    def __getattr__(self, name: str) -> Any:
        if name == "_pipe":  # not set yet (a copy): no endless recursion
            raise AttributeError(name)
        return getattr(self._pipe, name)

    def read(self, *args: Any) -> Any:
        return self._seen(self._pipe.read(*args))

    def read1(self, *args: Any) -> Any:
        return self._seen(self._pipe.read1(*args))

    def readline(self, *args: Any) -> Any:
        return self._seen(self._pipe.readline(*args))

    def readlines(self, *args: Any) -> list[Any]:
        lines = self._pipe.readlines(*args)
        for line in lines:
            self._seen(line)
        return lines

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        return self._seen(next(self._pipe))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipe.close()


def _read_from(path: str, offset: int) -> bytes | None:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(16 << 20)
    except OSError:
        return None


def _watch_file(target: Any, where: str) -> None:
    """A regular file given as a child's stdout or stderr: read back at each report, from
    where the child began writing. Pipes, ``DEVNULL``, ``STDOUT`` and ttys are not files."""
    try:
        fd = target if isinstance(target, int) else target.fileno()
        if fd < 0 or not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        name = getattr(target, "name", None)
        path = os.path.abspath(name) if isinstance(name, str) else os.readlink(
            f"/proc/self/fd/{fd}")
        offset = os.lseek(fd, 0, os.SEEK_CUR)
    except (AttributeError, OSError, ValueError):
        return
    if _current is not None:
        _current.files.append((where, path, offset))


@functools.wraps(_POPEN_INIT)
def _popen_init(self: subprocess.Popen, *args: Any, **kwargs: Any) -> None:
    _POPEN_INIT(self, *args, **kwargs)
    name = _command(self.args)
    for stream in ("stdout", "stderr"):
        pipe = getattr(self, stream)
        if pipe is not None:
            setattr(self, stream, _Pipe(pipe, f"{stream} of child `{name}`"))
        elif kwargs.get(stream) is not None:  # given by keyword, as every test here does
            _watch_file(kwargs[stream], f"{stream} file of child `{name}`")


@functools.wraps(_POPEN_COMMUNICATE)
def _popen_communicate(self: subprocess.Popen, *args: Any, **kwargs: Any) -> Any:
    name = _command(self.args)
    try:
        out, err = _POPEN_COMMUNICATE(self, *args, **kwargs)
    except subprocess.TimeoutExpired as partial:
        _scan(f"stdout of child `{name}`", partial.stdout)
        _scan(f"stderr of child `{name}`", partial.stderr)
        raise
    _scan(f"stdout of child `{name}`", out)
    _scan(f"stderr of child `{name}`", err)
    return out, err


# -- hooks ----------------------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "canary_exempt(reason): the secrets canary does not "
                            "check this test's output")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, object, object]:
    """Watches ``subprocess.Popen`` while the test (its fixtures included) runs."""
    global _current
    if item.get_closest_marker("canary_exempt"):
        return (yield)
    _current = _Children()
    subprocess.Popen.__init__ = _popen_init  # type: ignore[method-assign]
    subprocess.Popen.communicate = _popen_communicate  # type: ignore[method-assign]
    try:
        return (yield)
    finally:
        subprocess.Popen.__init__ = _POPEN_INIT  # type: ignore[method-assign]
        subprocess.Popen.communicate = _POPEN_COMMUNICATE  # type: ignore[method-assign]
        _current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    children = _current.take() if _current is not None else []
    if item.get_closest_marker("canary_exempt") or hasattr(report, "wasxfail"):
        return report
    leaks = [(name, secret) for name, text in _texts(report) for secret in find_secrets(text)]
    leaks += children
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
