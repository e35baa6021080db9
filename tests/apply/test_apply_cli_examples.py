"""Acceptance: every example catalog, applied through the command line against an emulator
served on a real loopback socket, leaves nothing to change."""

from __future__ import annotations

import re

import pytest
from apply_helpers import (
    assert_exactly_once,
    example,
    load,
    lock_writes,
    plan_of,
    reconciler,
    show,
    write_count,
)

from reconciler.emulator import Emulator, serve_in_thread

CASES = [
    pytest.param("saas", [], id="saas"),
    pytest.param("usage-based", [], id="usage-based"),
    pytest.param("usage-based", ["--env", "live"], id="usage-based-env-live"),
    pytest.param("shop", [], id="shop"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "extra"), CASES)
def test_example_applies_then_plans_no_changes(tmp_path, name, extra):
    emu = Emulator()
    env = extra[1] if extra else None
    manifest = load(example(name), env=env)
    expected = plan_of(emu, manifest)  # what a first apply must do, from a fresh account
    assert expected.has_changes
    with serve_in_thread(emu) as base:
        applied = reconciler("apply", str(example(name)), *extra, "--auto-approve",
                             cwd=tmp_path, base=base)
        assert applied.returncode == 0, show(applied)
        counts = expected.summary()
        assert applied.stdout.splitlines()[-1] == (
            f"Apply complete: {counts['create']} created, 0 updated, 0 replaced, "
            "0 archived/deleted."), show(applied)
        assert counts["create"] == len(expected.pending)
        _check_streams(applied, expected)

        again = reconciler("plan", str(example(name)), *extra, "--detailed-exitcode",
                           cwd=tmp_path, base=base)
        assert again.returncode == 0, show(again)
        assert "No changes" in again.stdout, show(again)

        if name != "saas":
            return _done(emu, manifest)
        # apply is idempotent as a whole: a second run does nothing and writes nothing but
        # its lock (taken, then released)
        writes, (lock_posts, lock_deletes) = write_count(emu), lock_writes(emu)
        second = reconciler("apply", str(example(name)), *extra, "--auto-approve",
                            cwd=tmp_path, base=base)
        assert second.returncode == 0, show(second)
        assert "Apply complete: nothing to do." in second.stdout
        assert write_count(emu) == writes
        assert lock_writes(emu) == (lock_posts + 1, lock_deletes + 1)
        assert emu.request_counts()["DELETE /v1/products/{id}"] == lock_deletes + 1
    _done(emu, manifest)


def _done(emu: Emulator, manifest) -> None:
    assert_exactly_once(emu, manifest)


def _check_streams(proc, plan) -> None:
    """The plan and the final line on stdout; one start and one outcome line per change, and
    nothing else of the run, on stderr."""
    for change in plan.pending:
        assert f"+ create {change.address}" in proc.stdout
        assert f"{change.address}: done" not in proc.stdout
        assert re.search(rf"^  create {re.escape(change.address)}\.\.\.$", proc.stderr, re.MULTILINE)
        assert re.search(rf"^  {re.escape(change.address)}: done$", proc.stderr, re.MULTILINE)
    assert len(re.findall(r": done$", proc.stderr, re.MULTILINE)) == len(plan.pending)
    assert "Apply complete" not in proc.stderr

