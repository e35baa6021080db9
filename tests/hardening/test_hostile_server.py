"""A hostile server behind ``--api-base``: the command line ends, exit 1, with a message that
names the URL, the limit and the option that raises it, in bounded time and memory.

The server is a real socket on loopback in a thread of the test: it answers every request
with headers, then either drips its body one byte every 0.5 s (a total deadline is the only
bound: every read is quick) or sends body for ever (only a size cap bounds it).
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_helpers import cli_command, cli_env
from hardening_helpers import run_measured

EXAMPLE = Path(__file__).parents[2] / "examples" / "saas"


class _Hostile(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        received = b""
        while b"\r\n\r\n" not in received:
            data = self.request.recv(65536)
            if not data:
                return
            received += data
        drip = self.server.mode == "drip"
        length = "Content-Length: 1000000\r\n" if drip else "Connection: close\r\n"
        chunk, pause = (b" ", 0.5) if drip else (b" " * 65536, 0.0)
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 + length.encode() + b"\r\n")
            while not self.server.stopping.wait(pause):
                self.request.sendall(chunk)
        except OSError:  # the client gave up: what the test wants
            return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Hostile)
        self.mode = mode
        self.stopping = threading.Event()


def _serve(mode: str) -> Iterator[str]:
    server = _Server(mode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def dripping() -> Iterator[str]:
    yield from _serve("drip")


@pytest.fixture
def endless() -> Iterator[str]:
    yield from _serve("endless")


def _plan(base: str, *options: str, tmp_path: Path):
    return run_measured(cli_command(*options, "plan", str(EXAMPLE), base=base), cwd=tmp_path,
                        env=cli_env(), timeout=120, memory_cap_mb=1024)


@pytest.mark.slow
def test_a_dripping_server_misses_the_deadline(dripping: str, tmp_path: Path) -> None:
    result = _plan(dripping, "--request-timeout", "1", tmp_path=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # plan reads several lists at once: whichever fails first is reported
    assert re.search(rf"cannot reach the API at {dripping} \(is the emulator running\?\) for GET (/v1/\S+): "
                     rf"no complete response from "
                     rf"{dripping}\1 within 1 s; raise --request-timeout", result.stderr)
    assert "(after 5 attempts)" in result.stderr  # retried like a timeout, then reported
    # five 1 s attempts and the backoff between them (at most 7.5 s): the drip would take
    # 500,000 s to finish its body
    assert result.seconds < 60


@pytest.mark.slow
def test_an_endless_body_stops_at_the_cap(endless: str, tmp_path: Path) -> None:
    result = _plan(endless, "--max-response-bytes", "1MiB", tmp_path=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(rf"Error: Stripe failed GET (/v1/\S+): HTTP 200: the response from "
                     rf"{endless}\1 is larger than 1,048,576 bytes; raise --max-response-bytes",
                     result.stderr)
    assert result.seconds < 30
    assert result.peak_mb < 300  # the body is dropped at 1 MiB; the interpreter is most of it
