"""The HTTP server: authentication, the rate-limit budget, faults, routing and the request log.

Requests below ``/client/v4`` are the emulated API; ``/__emulator__/`` is the control API
(see ``control.py``). Every API answer carries the ``Ratelimit`` headers.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.emulators.cloudflare import control
from tests.emulators.cloudflare.api import ApiError, JsonDict, Reply
from tests.emulators.cloudflare.call import Call
from tests.emulators.cloudflare.faults import FaultBook, RateLimiter, RequestLog, rate_limited
from tests.emulators.cloudflare.routes import Route, find_route
from tests.emulators.cloudflare.state import EmulatorState

API_PREFIX = "/client/v4"
HEX32 = re.compile(r"[0-9a-f]{32}")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Server(ThreadingHTTPServer):
    """A thread per connection; remembers open connections so ``stop`` can end them all
    (a stopped emulator must not keep answering on a client's pooled connection)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class CloudflareEmulator:
    """The emulator: state, faults, rate limiter and request log behind one HTTP server."""

    def __init__(
        self,
        state: EmulatorState,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int = 1200,
        rate_window: float = 300.0,
    ) -> None:
        self.state = state
        self.faults = FaultBook()
        self.limiter = RateLimiter(limit=rate_limit, window=rate_window)
        self.rate_policy = (rate_limit, rate_window)  # what /__emulator__/reset goes back to
        self.log = RequestLog()
        handler = type("BoundHandler", (EmulatorHandler,), {"emulator": self})
        self.httpd = _Server((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (useful when started with port 0)."""
        return int(self.httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, where ``/__emulator__/`` lives."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give the SDK (``CLOUDFLARE_BASE_URL``)."""
        return self.root_url + API_PREFIX

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open keep-alive connection."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        """Answer one API request (``target`` is the path and query below ``/client/v4``)."""
        split = urlsplit(target)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        entry: JsonDict = {
            "method": method,
            "path": API_PREFIX + path,
            "query": query,
            "time": time.time(),
        }
        extra: dict[str, str] = {}
        try:
            body = _parse_body(raw)
            if method in WRITE_METHODS:
                entry["body"] = body
            token = self._authenticate(headers.get("authorization"))
            remaining, reset = self.limiter.hit(token["value"])
            extra = self.limiter.headers(remaining, reset)
            late_failure = self._inject(method, path)
            route, params, known = find_route(method, path)
            if route is None:
                if known:
                    raise ApiError(405, 7001, f"Method {method} not allowed for {API_PREFIX}{path}")
                raise ApiError(404, 7000, "No route for that URI")
            _authorize(token, route)
            with self.state.lock:
                call = Call(
                    method, path, params, query, body, self.state, self.faults, _visible(token)
                )
                self._check_scope(call, path)
                result = route.handler(call)
            if late_failure is not None:
                raise late_failure
            if isinstance(result, Reply):
                status, payload = result.status, result.payload
            else:
                status, payload = 200, result
        except ApiError as error:
            status, payload = error.status, error.body()
            extra = {**extra, **error.headers}
        except Exception as error:  # a bug here must reach the test as an answer, not a hang
            status, payload = 500, ApiError(500, 10001, f"emulator error: {error!r}").body()
        entry["status"] = status
        self.log.add(entry)
        return Reply(status, payload, extra)

    def _authenticate(self, header: str | None) -> JsonDict:
        if not header:
            raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(
                400,
                6003,
                "Invalid request headers",
                [{"code": 6111, "message": "Invalid format for Authorization header"}],
            )
        for token in self.state.tokens:
            if token.get("value") == value.strip():
                return token
        raise ApiError(401, 1000, "Invalid API Token")

    def _inject(self, method: str, path: str) -> ApiError | None:
        """Fire the faults due on this request; a 5xx with ``applied`` is returned, to be raised
        after the request has been carried out (the change is made, the answer lost)."""
        fault = self.faults.take(method, path, ("dashboard_edit_tunnel",))
        if fault is not None:
            with self.state.lock:
                control.apply_dashboard_edit(self.state, fault)
        fault = self.faults.take(method, path, ("429",))
        if fault is not None:
            raise rate_limited(fault.retry_after, self.limiter.limit, self.limiter.window)
        fault = self.faults.take(method, path, ("500", "502", "503", "5xx"))
        if fault is None:
            return None
        error = ApiError(fault.status, 10001, "Internal Server Error: please try again later")
        if fault.applied:
            return error
        raise error

    def _check_scope(self, call: Call, path: str) -> None:
        account_id = call.params.get("account_id")
        if account_id is not None and account_id != self.state.account["id"]:
            raise ApiError(403, 9109, "Unauthorized to access requested resource")
        zone_id = call.params.get("zone_id")
        if zone_id is None:
            return
        zone = self.state.zones.get(zone_id)
        if not HEX32.fullmatch(zone_id) or zone is None:
            raise ApiError(
                404,
                7003,
                f"Could not route to {API_PREFIX}{path}, "
                "perhaps your object identifier is invalid?",
            )
        visible = call.visible_zones
        if visible is not None and zone["name"] not in visible:
            raise ApiError(403, 9109, "Unauthorized to access requested resource")


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, 6007, "Malformed JSON in request body") from None


def _authorize(token: JsonDict, route: Route) -> None:
    granted = set(token.get("permissions", []))
    resource, _, level = route.permission.partition(":")
    if route.permission in granted or (level == "read" and f"{resource}:write" in granted):
        return
    raise ApiError(
        403,
        10000,
        "Authentication error",
        [{"code": 10000, "message": f"the token lacks the {route.permission} permission"}],
    )


def _visible(token: JsonDict) -> frozenset[str] | None:
    zones = token.get("zones")
    return None if zones is None else frozenset(name.lower() for name in zones)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Reads one request, hands it to the emulator or the control API, writes JSON back."""

    emulator: CloudflareEmulator
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle: otherwise keep-alive clients stall ~40 ms
    # per request on delayed ACKs.
    wbufsize = -1
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection's thread ends after this many seconds

    def do_GET(self) -> None:
        """Handle GET."""
        self._handle()

    def do_POST(self) -> None:
        """Handle POST."""
        self._handle()

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._handle()

    def do_PATCH(self) -> None:
        """Handle PATCH."""
        self._handle()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is kept in memory and served by the control API."""

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        if self.path.startswith(control.PREFIX):
            reply = control.answer(self.emulator, self.command, self.path, raw)
        elif self.path.startswith(API_PREFIX + "/") or self.path == API_PREFIX:
            target = self.path[len(API_PREFIX) :] or "/"
            reply = self.emulator.answer(self.command, target, headers, raw)
        else:
            reply = Reply(404, ApiError(404, 7000, "No route for that URI").body(), {})
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        data = b"" if reply.status == 204 else json.dumps(reply.payload).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        if reply.status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.send_header("cf-ray", "8a0b1c2d3e4f5061-DFW")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
