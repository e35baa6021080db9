"""Shared by the hardening suites: a per-input time bound and measured subprocess runs.
The figures each suite records are tests/figures_plugin.py's.

The short/long switch is support.runs, which the property tests share: ``pytest
tests/hardening --long`` or ``RECONCILER_LONG=1`` in the environment (the variable works
whatever paths pytest is given; the option only when ``tests/hardening`` is among them,
because pytest reads options of initial conftest files only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parents[1]
class InputTimeout(Exception):
    """One fuzz input took longer than its bound: treated as a hang."""


@contextlib.contextmanager
def time_bound(seconds: float, what: str = "input") -> Iterator[None]:
    """Raise :class:`InputTimeout` in the main thread if the block runs over ``seconds``."""
    def alarm(signum: int, frame: Any) -> None:
        raise InputTimeout(f"{what} took more than {seconds} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclasses.dataclass
class Measured:
    """A finished child process: its exit code, output, wall time and peak memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_measured(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
                 memory_cap_mb: int = 2048) -> Measured:
    """Run ``argv`` and measure it: its peak resident memory comes from ``wait4``'s rusage
    of that one process. It is started by a small launcher, not by the test run itself: Linux
    carries a process's peak memory over ``fork`` and ``exec``, so a command forked straight
    from a long test run would report the test run's own size (seen: 313 MB for a 47 MB
    command late in a full run). The launcher caps the address space at ``memory_cap_mb``
    (a regression then fails with a MemoryError instead of taking the shared machine's
    memory), forks and execs the command, and writes its peak to a file; a command still
    running after ``timeout`` seconds is killed with its launcher and fails the test."""
    limit = memory_cap_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "peak"
        launcher = [sys.executable, "-c", (
            "import os, resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.execv(sys.argv[2], sys.argv[2:])\n"
            "_, status, usage = os.wait4(pid, 0)\n"
            "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
            "sys.exit(os.waitstatus_to_exitcode(status) % 256)\n"), str(report)]
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.monotonic()
            proc = subprocess.Popen([*launcher, *argv], cwd=cwd, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(f"still running after {timeout} s (a hang?)") from None
            seconds = time.monotonic() - started
            returncode = proc.returncode if proc.returncode < 128 else proc.returncode - 256
            out.seek(0)
            err.seek(0)
            return Measured(returncode, out.read(), err.read(), seconds,
                            int(report.read_text()) / 1024)
