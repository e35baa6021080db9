"""Acceptance: confirmation before applying from manifests, and what apply prints.

- without ``--auto-approve`` and without a terminal, apply refuses and writes nothing;
- on a terminal (a pseudo-terminal here) only ``yes`` applies; anything else cancels;
- progress goes to stderr (a bar on a terminal, plain lines elsewhere), and the final line
  on stdout has exact counts of every action.
"""

from __future__ import annotations

import importlib
import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from apply_helpers import (
    cli_command,
    cli_env,
    example,
    objects,
    reconciler,
    show,
    write_count,
    write_manifest,
)

from reconciler.emulator import Emulator, serve_in_thread


def test_no_terminal_without_auto_approve_refuses(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        proc = reconciler("apply", str(example("shop")), cwd=tmp_path, base=base)
    assert proc.returncode == 1, show(proc)
    assert "not asking for confirmation without a terminal" in proc.stderr
    assert "--auto-approve" in proc.stderr
    assert "+ create products.mug" in proc.stdout  # the plan was shown
    assert write_count(emu) == 0, emu.request_counts()
    assert "Apply complete" not in proc.stdout


def _apply_on_terminal(base: str, cwd, answer: str | None,
                       timeout: float = 60) -> tuple[int, str]:
    """Run apply with stdin on a pseudo-terminal, type ``answer`` at the prompt (None: press
    Ctrl-C there instead); returns the exit code and everything written to the terminal's
    stderr (stdout is a pipe)."""
    master, slave = pty.openpty()
    try:
        # a shell's background job (`.ci/run &`) ignores SIGINT, and its children inherit
        # that: give the command Ctrl-C's default, as a terminal would
        default_sigint = [sys.executable, "-c", "import os, signal, sys; "
                          "signal.signal(signal.SIGINT, signal.SIG_DFL); "
                          "os.execv(sys.argv[1], sys.argv[1:])"]
        command = [*default_sigint, *cli_command("apply", str(example("shop")), base=base)]
        proc = subprocess.Popen(command,
                                cwd=cwd, env=cli_env(), stdin=slave, stdout=subprocess.PIPE,
                                stderr=slave, text=True)
        os.close(slave)
        seen = _read_until(master, b"Only 'yes' is accepted", timeout)
        if answer is None:
            _ctrl_c(proc)
        else:
            os.write(master, answer.encode() + b"\n")
        stdout, _ = proc.communicate(timeout=timeout)
        seen += _drain(master)
        return proc.returncode, seen.decode(errors="replace") + "\n--- stdout\n" + stdout
    finally:
        os.close(master)


def _ctrl_c(proc: subprocess.Popen) -> None:
    """Ctrl-C at the prompt (the pty is not the command's controlling terminal, so the test
    signals it). A SIGINT that lands after the prompt is written but before the process blocks
    reading the answer stays pending until the read returns (CPython checks signals only when
    a blocking call is interrupted): on a loaded machine that window is wide, so, as a person
    would, press it again if the first did not end the prompt."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        assert time.monotonic() < deadline, f"no prompt: {data!r}"
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            data += chunk
    return data


def _drain(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.05)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.slow
@pytest.mark.parametrize("answers", [["no", None]], ids=["no-then-ctrl-c"])
def test_only_yes_applies_on_a_terminal(tmp_path, answers):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        for answer in answers:
            code, out = _apply_on_terminal(base, tmp_path, answer)
            assert code == 1, out
            assert "Apply cancelled; nothing was changed." in out, out
            assert write_count(emu) == 0, (answer, emu.request_counts())
        code, out = _apply_on_terminal(base, tmp_path, "yes")
    assert code == 0, out
    assert "Apply complete: 15 created, 0 updated, 0 replaced, 0 archived/deleted." in out
    assert len(objects(emu)["product"]) == 3
    # progress on the terminal is one bar redrawn in place (\r), not a line per change
    terminal, _ = out.split("\n--- stdout\n")
    bar = terminal[terminal.index("Applying"):].split("\n")[0]
    assert bar.count("\r") >= 2 and bar.count("Applying") >= 2, bar
    assert re.search(r"Applying\s+\[#+\]\s+15/15\s+prices\.", bar), bar
    assert not re.search(r"(done|\.\.\.)\r?$", terminal, re.MULTILINE), terminal


A = """
products:
  p1: {name: P1}
  p2: {name: P2}
prices:
  p1-a: {product: p1, currency: usd, unit_amount: 500}
  p2-a: {product: p2, currency: usd, unit_amount: 500}
tax_rates:
  t1: {display_name: VAT, percentage: 10, inclusive: false}
coupons:
  c1: {percent_off: 10, duration: once}
"""

B = """
products:
  p1: {name: P1 renamed}
prices:
  p1-a: {product: p1, currency: usd, unit_amount: 900}
  p1-b: {product: p1, currency: usd, unit_amount: 1200}
tax_rates:
  t1: {display_name: Tax, percentage: 10, inclusive: false}
"""


@pytest.mark.slow
def test_final_line_counts_every_action_and_progress_goes_to_stderr(tmp_path):
    emu = Emulator()
    with serve_in_thread(emu) as base:
        first = reconciler("apply", str(write_manifest(tmp_path / "a", A).parent),
                           "--auto-approve", cwd=tmp_path, base=base)
        assert first.returncode == 0, show(first)
        assert first.stdout.splitlines()[-1] == (
            "Apply complete: 6 created, 0 updated, 0 replaced, 0 archived/deleted.")
        proc = reconciler("apply", str(write_manifest(tmp_path / "b", B).parent),
                          "--auto-approve", "--prune", cwd=tmp_path, base=base)
    assert proc.returncode == 0, show(proc)
    # p1 and t1 updated, p1-a replaced, p1-b created, p2 / p2-a archived, c1 deleted
    assert proc.stdout.splitlines()[-1] == (
        "Apply complete: 1 created, 2 updated, 1 replaced, 3 archived/deleted.")
    assert "Plan: 1 to create, 2 to update, 1 to replace, 3 to archive/delete." in proc.stdout
    changes = ["products.p1", "tax_rates.t1", "prices.p1-a", "prices.p1-b", "products.p2",
               "prices.p2-a", "coupons.c1"]
    for address in changes:
        assert f"{address}: done" in proc.stderr, show(proc)
        assert f"{address}: done" not in proc.stdout
    starts = [line for line in proc.stderr.splitlines() if line.endswith("...")]
    assert sorted(starts) == sorted([
        "  update products.p1...", "  update tax_rates.t1...", "  replace prices.p1-a...",
        "  create prices.p1-b...", "  archive products.p2...", "  archive prices.p2-a...",
        "  delete coupons.c1..."])
    assert "Apply complete" not in proc.stderr
    found = objects(emu)
    assert {p["id"]: p["active"] for p in found["product"]} == {"p1": True, "p2": False}
    assert not found.get("coupon")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal(monkeypatch):
    """The apply command's module, with stdin pretending to be a terminal."""
    module = importlib.import_module("reconciler.cli.apply")
    monkeypatch.setattr(sys, "stdin", _Terminal())
    return module


@pytest.mark.parametrize("answer", ["no", "y", "YES", "Yes", "", "yes please", "oui"])
def test_confirm_accepts_only_yes(monkeypatch, answer):
    cli_apply = _terminal(monkeypatch)
    monkeypatch.setattr(cli_apply.click, "prompt", lambda *a, **k: answer)
    with pytest.raises(SystemExit) as exit_:
        cli_apply._confirm(auto_approve=False)
    assert exit_.value.code == 1


def test_confirm_yes_and_auto_approve_go_ahead(monkeypatch):
    cli_apply = _terminal(monkeypatch)
    monkeypatch.setattr(cli_apply.click, "prompt", lambda *a, **k: "yes")
    cli_apply._confirm(auto_approve=False)
    monkeypatch.setattr(cli_apply.click, "prompt", lambda *a, **k: pytest.fail("asked"))
    cli_apply._confirm(auto_approve=True)
