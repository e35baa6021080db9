"""The secrets canary (``tests/canary_plugin.py``) really fails a test that leaks a secret.

A small test file runs in a pytest subprocess with the canary as its only plugin: tests that
print an API key, log a webhook signing secret or write a registered secret to stderr fail,
with the secret masked in the report; so do tests whose child process prints one (through
``run``, ``check_output``, a ``Popen`` pipe read line by line, a ``TimeoutExpired``'s partial
output, a file given as its stdout), the report naming the child; clean, masked and exempt
tests pass; the fake secrets appear nowhere in the subprocess's own output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hardening_helpers import TESTS

from reconciler.stripe import mask

# built at run time, so neither this file's source nor a traceback quoting it shows them whole
FAKE_KEY = "sk_test_" + "CanaryFakeKey0123456789abcdef"
FAKE_RK = "rk_live_" + "CanaryRestricted0123456789"
FAKE_WHSEC = "whsec_" + "CanaryFakeSigningSecret0123"
ODD = "odd-" + "registered-secret-4711"

TEST_FILE = textwrap.dedent('''
    import logging
    import subprocess
    import sys

    import pytest

    from reconciler.stripe import StripeClient, mask, register_secret

    KEY, RK, WHSEC, ODD = sys.argv_secrets = {secrets!r}

    def test_prints_key():
        print("using", KEY)

    def test_prints_restricted_key_in_setup(leaky_fixture):
        pass

    @pytest.fixture
    def leaky_fixture():
        print("fixture sees", RK)

    def test_logs_signing_secret():
        logging.getLogger("app").warning("hook secret %s", WHSEC)

    def test_registered_secret_on_stderr():
        register_secret(ODD)
        print("token:", ODD, file=sys.stderr)

    def test_failing_assertion_shows_key():
        assert KEY == "something else"

    def test_clean():
        print("nothing secret here; masked:", mask(KEY))
        logging.getLogger("app").warning("masked %s", mask(WHSEC))

    def test_client_key_is_registered_then_masked_output_is_fine():
        client = StripeClient(KEY)
        print(repr(client))

    @pytest.mark.canary_exempt(reason="prints a secret on purpose")
    def test_exempt():
        print(KEY)

    PRINT = "import sys; print(*sys.argv[2:], file=getattr(sys, sys.argv[1]), flush=True)"

    def child(stream, *words):
        """A Python child printing ``words`` to its ``stream``; the secret in its argv is
        not output."""
        return [sys.executable, "-c", PRINT, stream, *words]

    def test_child_prints_key():
        proc = subprocess.run(child("stdout", "key:", KEY), capture_output=True, text=True)
        assert proc.returncode == 0

    def test_child_prints_signing_secret_as_bytes_on_stderr():
        subprocess.check_output(child("stderr", WHSEC), stderr=subprocess.PIPE)

    def test_child_prints_registered_secret():
        register_secret(ODD)
        subprocess.run(child("stdout", ODD), capture_output=True, check=True)

    def test_served_child_line_read_from_its_pipe():
        proc = subprocess.Popen(child("stderr", "listening; key", RK), stderr=subprocess.PIPE,
                                text=True)
        assert proc.stderr.readline().startswith("listening")
        proc.stderr.close()
        proc.wait()

    def test_child_output_before_a_timeout():
        proc = subprocess.Popen([sys.executable, "-c", PRINT + "; import time; time.sleep(60)",
                                 "stdout", KEY], stdout=subprocess.PIPE)
        try:
            while True:
                try:
                    proc.communicate(timeout=0.1)
                except subprocess.TimeoutExpired as partial:
                    if partial.stdout:
                        break
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()

    def test_child_writes_key_to_a_file_given_as_stdout(tmp_path):
        with open(tmp_path / "out.log", "w") as out:
            subprocess.run(child("stdout", KEY), stdout=out, check=True)

    def test_clean_child():
        proc = subprocess.run(child("stdout", "masked:", mask(KEY)), capture_output=True,
                              text=True, check=True)
        assert proc.stdout.startswith("masked: sk_test_")

    @pytest.mark.canary_exempt(reason="its child prints a secret on purpose")
    def test_exempt_child():
        subprocess.run(child("stdout", KEY), capture_output=True, check=True)
''')


@pytest.mark.slow
def test_canary_fails_leaking_tests_and_only_those(tmp_path: Path) -> None:
    secrets = (FAKE_KEY, FAKE_RK, FAKE_WHSEC, ODD)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["canary_plugin"]\n')
    (tmp_path / "test_leaky.py").write_text(TEST_FILE.format(secrets=secrets))
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rfEp", "-q",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout + proc.stderr
    # the report itself leaks nothing (captured sections are redacted); checked first, and
    # without quoting ``out`` or a secret in the assertion (it would leak them itself)
    leaked = [mask(secret) for secret in secrets if secret in out]
    assert not leaked, f"shown in the report: {leaked}"
    assert proc.returncode == 1, out
    outcomes = {name: status for status, name in
                re.findall(r"^(PASSED|FAILED|ERROR) test_leaky\.py::(\w+)", out, re.MULTILINE)}
    assert outcomes == {
        "test_prints_key": "FAILED",
        "test_prints_restricted_key_in_setup": "ERROR",
        "test_logs_signing_secret": "FAILED",
        "test_registered_secret_on_stderr": "FAILED",
        "test_failing_assertion_shows_key": "FAILED",
        "test_clean": "PASSED",
        "test_client_key_is_registered_then_masked_output_is_fine": "PASSED",
        "test_exempt": "PASSED",
        "test_child_prints_key": "FAILED",
        "test_child_prints_signing_secret_as_bytes_on_stderr": "FAILED",
        "test_child_prints_registered_secret": "FAILED",
        "test_served_child_line_read_from_its_pipe": "FAILED",
        "test_child_output_before_a_timeout": "FAILED",
        "test_child_writes_key_to_a_file_given_as_stdout": "FAILED",
        "test_clean_child": "PASSED",
        "test_exempt_child": "PASSED",
    }, out
    # once per leaking test in its own section; the short summary repeats the message, in
    # full or cut to the terminal width depending on the CI variable, so it is not counted
    sections = out.partition("short test summary info")[0]
    assert sections.count("secrets canary: the test's output holds a secret") == 11, out
    assert "sk_test_\u2026cdef in Captured stdout call" in out
    assert "whsec_\u20260123 in Captured log call" in out
    assert "\u20264711 in Captured stderr call" in out
    assert "rk_live_\u20266789 in Captured stdout setup" in out
    assert "in the failure report" in out
    # a child's output: the stream and the child's argv[0] and argv[1], never its code or key
    python = Path(sys.executable).name
    assert f"sk_test_\u2026cdef in stdout of child `{python} -c`" in out
    assert f"whsec_\u20260123 in stderr of child `{python} -c`" in out
    assert f"\u20264711 in stdout of child `{python} -c`" in out
    assert f"rk_live_\u20266789 in stderr of child `{python} -c`" in out
    assert f"sk_test_\u2026cdef in stdout file of child `{python} -c`" in out
    assert "import sys" not in sections
