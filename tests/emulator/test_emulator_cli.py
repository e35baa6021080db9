"""`reconciler emulator serve`: a real process, its URL on stderr, a clean stop on signals."""

from __future__ import annotations

import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from emulator_helpers import KEY, Api

from reconciler.cli import main
from reconciler.emulator import Emulator


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from reconciler.cli import main; main()", "emulator", "serve",
         "--port", "0", *args],
        stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert found, line
    return proc, found.group(0)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    state = tmp_path / "state.json"
    proc, url = start("--state", str(state), "--seed", "3")
    try:
        made = httpx.post(f"{url}/v1/products", data={"name": "Served"},
                          headers={"Authorization": f"Bearer {KEY}"}).json()
        assert made["name"] == "Served"
        faults = httpx.get(f"{url}/_emulator/faults").json()
        assert faults["seed"] == 3
    finally:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped" in err
    # the state file is shared with an in-process emulator
    api = Api(Emulator(state_file=state))
    assert api.ok(api.get(f"/v1/products/{made['id']}"))["name"] == "Served"


def test_serve_applies_fault_options() -> None:
    proc, url = start("--fail-rate", "1", "--latency-ms", "1")
    try:
        response = httpx.get(f"{url}/v1/products", headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 500
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_serve_sets_the_retry_after_of_rate_limited_answers() -> None:
    proc, url = start("--rate-limit", "1", "--retry-after", "0.25")
    try:
        assert httpx.get(f"{url}/_emulator/faults").json()["retry_after"] == 0.25
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
            # one request a second with a burst of one: the second of two quick ones is refused
            statuses = [client.get("/v1/products") for _ in range(2)]
        assert [r.status_code for r in statuses] == [200, 429]
        assert statuses[1].headers["retry-after"] == "0.25"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_serve_models_the_limits_it_is_given() -> None:
    proc, url = start("--limits", "live")
    try:
        assert httpx.get(f"{url}/_emulator/faults").json()["limits"] == "live"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize(("option", "value"), [
    ("--fail-rate", "2"), ("--fail-rate", "nan"), ("--drop-rate", "nan"), ("--latency-ms", "inf"),
    ("--rate-limit", "inf"), ("--retry-after", "-1"), ("--retry-after", "soon"),
    ("--retry-after", "nan"), ("--retry-after", "inf"), ("--limits", "production"),
])
def test_serve_options_are_checked(option: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def serve_nothing(*args: object) -> None:
        raise AssertionError(f"{option} {value} was let through")  # instead of serving forever

    monkeypatch.setattr("reconciler.emulator.EmulatorServer", serve_nothing)
    result = CliRunner().invoke(main, ["emulator", "serve", option, value])
    assert result.exit_code == 1, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_serve_lists_its_options() -> None:
    help_text = CliRunner().invoke(main, ["emulator", "serve", "--help"]).output
    for option in ("--host", "--port", "--state", "--latency-ms", "--rate-limit", "--fail-rate",
                   "--drop-rate", "--seed", "--retry-after", "--limits"):
        assert option in help_text


def test_serve_reports_a_busy_port() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["emulator", "serve", "--port", str(port)])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output


_POST = ("POST /v1/products HTTP/1.1\r\nHost: emulator\r\nAuthorization: Bearer " + KEY
         + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\n")


@pytest.mark.slow
@pytest.mark.parametrize("sent", [
    _POST[:20],  # killed while sending the request line
    _POST + "name=",  # ... the body
    _POST + "name=Gone",  # the whole request, then killed while the server waits its latency
], ids=["request-line", "body", "before-the-answer"])
def test_a_client_killed_mid_request_is_no_error(sent: str) -> None:
    proc, url = start("--latency-ms", "100")
    try:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(sent.encode())
            time.sleep(0.05)  # the server is reading, or waiting before it answers
            # a killed process's socket: closed with a reset, no FIN, nothing read
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.5)  # past the latency: the server has tried to answer
        response = httpx.get(f"{url}/v1/products", headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and "Error" not in err, err
