"""The emulator on a real socket: a threaded HTTP/1.1 server, and a helper for tests.

Each connection gets a thread, so concurrent requests overlap their latency. A dropped write
closes the connection without a byte of answer. A client that goes away mid-request (killed,
timed out) is an ordinary event for a server whose tests kill clients on purpose: one debug
line, not the traceback socketserver prints for a handler's error. :func:`serve_in_thread`
runs a server for the duration of a ``with`` block (``port=0`` picks a free port) and yields
its base URL.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .app import Emulator

_log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait 40 ms
    server: EmulatorServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-request (killed): as Stripe does,
            self.close_connection = True  # run nothing; an idempotency key is not spent
            return
        emulator = self.server.emulator
        url = urlsplit(self.path)
        with emulator.in_flight(url.path):
            time.sleep(emulator.latency(url.path))
            response = emulator.handle(self.command, url.path, url.query,
                                       dict(self.headers.items()), body)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests and CI logs do not want a line per request."""


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the connection attempts of a client that
    # opens more at once (a plan opens one per kind): each then waits out a 1 s SYN retry
    request_queue_size = 128

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 12111) -> None:
        self.emulator = emulator
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Called by socketserver while a handler's exception is being handled."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # reset, broken pipe, aborted
            _log.debug("client %s went away: %s", client_address, error)
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


@contextlib.contextmanager
def serve_in_thread(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``emulator`` in a background thread; yields the base URL, stops on exit."""
    server = EmulatorServer(emulator, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="stripe-emulator", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
