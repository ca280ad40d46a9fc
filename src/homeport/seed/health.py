"""``GET /healthz``: 503 and each target's status while seeding or after a failure; 200 when done.

It serves from a thread of its own, before seeding starts and long after it ends, as the case
study's seed-runner container does: every service waits for this endpoint.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from homeport.seed.errors import SeedError
from homeport.seed.status import StatusBoard


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, meaning 127.0.0.1) as a tuple."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SeedError(f"--serve {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def health_response(board: StatusBoard) -> tuple[int, dict[str, Any]]:
    """The status code and body of /healthz for the board as it stands."""
    report = board.report()
    return (200 if report["status"] == "ready" else 503), report


class HealthServer:
    """The health endpoint for one board, served on a daemon thread until ``close``."""

    def __init__(self, board: StatusBoard, host: str, port: int) -> None:
        handler = _handler_for(board)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise SeedError(f"cannot serve health on {host}:{port}: {exc.strerror}") from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        """Where the endpoint listens (the port the OS chose when 0 was asked)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> HealthServer:
        """Start serving."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _handler_for(board: StatusBoard) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/healthz", "/"):
                self._send(404, {"error": f"no such path {self.path}; try /healthz"})
                return
            status, body = health_response(board)
            self._send(status, body)

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Probes every second would flood the terminal; stay quiet."""

    return Handler
