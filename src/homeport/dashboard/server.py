"""The dashboard's web server: pages, actions, live events, and the OTLP receiver, on loopback.

``start_dashboard`` runs it on a thread of its own (``homeport up`` does this before it starts
any service, so each can be given ``OTEL_EXPORTER_OTLP_ENDPOINT``); ``python -m
homeport.dashboard`` runs it as a process of its own. Pages are rendered on the server; a small
script re-fetches the live part of a page when the event stream says it changed.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from homeport.dashboard import views
from homeport.dashboard.auth import token_middleware
from homeport.dashboard.control import ControlLink
from homeport.dashboard.graph_svg import graph_svg
from homeport.dashboard.html import esc, page
from homeport.dashboard.live import Broadcaster, stream
from homeport.dashboard.receiver import Receiver
from homeport.dashboard.store import Limits, TelemetryStore
from homeport.dashboard.waterfall import waterfall
from homeport.errors import HomeportError
from homeport.orchestrator.control_client import ControlClient
from homeport.orchestrator.state import read_json, write_json

TELEMETRY_DB = "telemetry.db"
DASHBOARD_FILE = "dashboard.json"
STATIC = Path(__file__).parent / "static"
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
ACTIONS = ("restart", "stop", "start")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DashboardError(HomeportError):
    """The dashboard could not start (its port, its state directory)."""


class DashboardApp:
    """The handlers, over one telemetry store and one link to the supervisor."""

    def __init__(self, store: TelemetryStore, link: ControlLink, token: str) -> None:
        self.store = store
        self.link = link
        self.receiver = Receiver(store)
        self.hub = Broadcaster(link, lambda: sum(self.receiver.received.values()))
        self.app = web.Application(
            middlewares=[token_middleware(token)], client_max_size=64 * 1024 * 1024
        )
        self.app.add_routes(
            [
                *self.receiver.routes(),
                web.get("/", self.resources),
                web.get("/graph", self.graph),
                web.get("/console", self.console),
                web.get("/traces", self.traces),
                web.get("/traces/find", self.find_trace),
                web.get("/traces/{trace_id}", self.trace),
                web.get("/logs", self.logs),
                web.get("/visitors", self.visitors),
                web.get("/events", self.events),
                web.post("/api/resources/{name}/{action}", self.command),
                web.static("/static", STATIC, append_version=False),
            ]
        )
        self.app.on_startup.append(self._started)
        self.app.on_cleanup.append(self._cleanup)

    async def _started(self, _app: web.Application) -> None:
        self.hub.start()

    async def _cleanup(self, _app: web.Application) -> None:
        await self.hub.stop()
        await asyncio.to_thread(self.receiver.close)

    # -- pages ---------------------------------------------------------------------------------

    async def _read(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A store query on a worker thread, so the loop keeps serving while SQLite reads."""
        return await asyncio.to_thread(method, *args, **kwargs)

    def _answer(
        self, request: web.Request, title: str, main: str, live: str = "", before: str = ""
    ) -> web.Response:
        if request.headers.get("X-Fragment") == "main":
            return web.Response(text=main, content_type="text/html")
        html = page(title, request.path, main, live=live, before=before)
        return web.Response(text=html, content_type="text/html")

    async def _resources(self) -> tuple[list[dict[str, Any]], str]:
        try:
            return list(await self.link.call("resources")), ""
        except HomeportError as exc:
            return [], f'<p class="problem">{esc(exc)}</p>'

    async def resources(self, request: web.Request) -> web.Response:
        rows, problem = await self._resources()
        main = problem or views.resources_table(rows, time.time())
        return self._answer(request, "Resources", main, live="resources")

    async def graph(self, request: web.Request) -> web.Response:
        rows, problem = await self._resources()
        try:
            graph = await self.link.call("graph")
        except HomeportError as exc:
            return self._answer(request, "Dependency graph", f'<p class="problem">{esc(exc)}</p>')
        classes = {str(r["name"]): views.state_class(r) for r in rows}
        states = {str(r["name"]): " ".join(filter(None, (r["state"], r["health"]))) for r in rows}
        legend = (
            '<p class="legend">An arrow points from a resource to what it waits for; dashed: '
            "waits only until it has started. Colour: healthy, starting, failed.</p>"
        )
        return self._answer(
            request,
            "Dependency graph",
            problem + graph_svg(graph, classes, states) + legend,
            "resources",
        )

    async def console(self, request: web.Request) -> web.Response:
        service = request.query.get("service", "")
        rows, problem = await self._resources()
        lines: list[dict[str, Any]] = []
        if not problem:
            try:
                lines = await self.link.call("logs", service or None, 500)
            except HomeportError as exc:
                problem = f'<p class="problem">{esc(exc)}</p>'
        names = [str(r["name"]) for r in rows]
        options = "".join(
            f'<option value="{esc(n)}"{" selected" if n == service else ""}>{esc(n)}</option>'
            for n in names
        )
        before = (
            '<form class="filters" method="get" action="/console">'
            f'<label>resource <select name="service" onchange="this.form.submit()">'
            f'<option value="">all (merged)</option>{options}</select></label>'
            '<label>search <input id="console-search" type="search" '
            f'value="{esc(request.query.get("q", ""))}" placeholder="filter lines"></label></form>'
        )
        main = problem + (
            f'<div id="console" data-service="{esc(service)}">{views.console_lines(lines)}</div>'
        )
        return self._answer(request, "Console logs", main, before=before)

    async def traces(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            min_ms = float(query.get("min_ms") or 0)
        except ValueError:
            min_ms = 0.0
        found = await self._read(
            self.store.traces,
            service=query.get("service") or None,
            errors_only=query.get("status") == "error",
            min_duration_ms=min_ms,
            limit=100,
        )
        services = await self._read(self.store.services)
        before = views.trace_filters(services, query)
        return self._answer(request, "Traces", views.trace_rows(found), "telemetry", before)

    async def find_trace(self, request: web.Request) -> web.StreamResponse:
        wanted = request.query.get("trace_id", "").strip().lower().replace("-", "")
        if not TRACE_ID.match(wanted):
            before = views.trace_filters(await self._read(self.store.services), request.query)
            main = '<p class="problem">A trace id is 32 hexadecimal digits.</p>'
            return self._answer(request, "Traces", main, before=before)
        return web.Response(status=303, headers={"Location": f"/traces/{wanted}"})

    async def trace(self, request: web.Request) -> web.Response:
        trace_id = request.match_info["trace_id"].lower()
        spans = await self._read(self.store.trace, trace_id)
        records = await self._read(self.store.logs, trace_id=trace_id, limit=200)
        main = waterfall(spans) + "<h2>Structured logs of this trace</h2>"
        main += views.logs_table(records)
        return self._answer(request, f"Trace {trace_id}", main, live="telemetry")

    async def logs(self, request: web.Request) -> web.Response:
        query = request.query
        fields = {k: query.get(k, "") for k in ("service", "q", "trace_id")}
        records = await self._read(
            self.store.logs,
            service=fields["service"] or None,
            search=fields["q"] or None,
            trace_id=fields["trace_id"].lower() or None,
            limit=300,
        )
        labels = {"service": "service", "q": "message contains", "trace_id": "trace id"}
        before = views.search_form("/logs", fields, labels)
        return self._answer(
            request, "Structured logs", views.logs_table(records), "telemetry", before
        )

    async def visitors(self, request: web.Request) -> web.Response:
        rows = await self._read(self.store.visitors)
        return self._answer(request, "Visitors", views.visitors_table(rows), "telemetry")

    # -- live and actions ----------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        return await stream(request, self.hub, request.query.get("console"))

    async def command(self, request: web.Request) -> web.Response:
        name, action = request.match_info["name"], request.match_info["action"]
        if action not in ACTIONS:
            return web.json_response({"error": f"unknown action '{action}'"}, status=404)
        try:
            result = await self.link.call("command", name, action, False)
        except HomeportError as exc:
            return web.json_response({"error": str(exc)}, status=502)
        return web.json_response(result)


@dataclass
class Dashboard:
    """A running dashboard: its address (with and without the token) and how to stop it."""

    base_url: str
    token: str
    state_dir: Path
    link: ControlLink
    _stop: Callable[[], None] = field(repr=False)

    @property
    def url(self) -> str:
        """The address to open: it carries the token once, then a cookie does."""
        return f"{self.base_url}/?t={self.token}"

    @property
    def otlp_endpoint(self) -> str:
        """What to give services as ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return self.base_url

    def attach(self, client: ControlClient) -> None:
        """Act through this control client (``homeport up`` attaches its own)."""
        self.link.attach(client)

    def stop(self) -> None:
        """Stop serving, flush pending writes, close the store; forget ``dashboard.json``."""
        self._stop()
        forget_dashboard_file(self.state_dir)


def forget_dashboard_file(state_dir: Path) -> None:
    """Remove ``dashboard.json`` if this process wrote it (not another dashboard's)."""
    path = state_dir / DASHBOARD_FILE
    data = read_json(path)
    if isinstance(data, dict) and data.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


async def open_dashboard(
    state_dir: Path,
    link: ControlLink,
    host: str,
    port: int,
    token: str,
    *,
    listener: socket.socket | None = None,
    limits: Limits | None = None,
) -> tuple[web.AppRunner, TelemetryStore, str]:
    """Build and bind the dashboard on the running loop (on ``listener`` when given, already
    bound); returns its runner, store and base URL."""
    store = TelemetryStore(state_dir / TELEMETRY_DB, limits)
    runner = web.AppRunner(
        DashboardApp(store, link, token).app, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        if listener is None:
            await web.TCPSite(runner, host, port).start()
        else:
            await web.SockSite(runner, listener).start()
    except OSError as exc:
        await runner.cleanup()
        store.close()
        raise DashboardError(
            f"the dashboard cannot listen on {host}:{port} ({exc.strerror}); choose another port"
        ) from exc
    bound_host, bound_port = runner.addresses[0][:2]
    base_url = f"http://{bound_host}:{bound_port}"
    write_json(
        state_dir / DASHBOARD_FILE,
        {"url": f"{base_url}/?t={token}", "base_url": base_url, "pid": os.getpid()},
        mode=0o600,
    )
    return runner, store, base_url


def start_dashboard(
    state_dir: Path,
    control: ControlClient | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    listener: socket.socket | None = None,
) -> Dashboard:
    """Serve the dashboard on a thread of its own (with its own event loop); return once it
    listens. Safe to call from inside a running event loop."""
    token = token or secrets.token_urlsafe(24)
    link = ControlLink(state_dir, control)
    loop = asyncio.new_event_loop()
    opened: Future[tuple[web.AppRunner, TelemetryStore, str]] = Future()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            opening = open_dashboard(state_dir, link, host, port, token, listener=listener)
            opened.set_result(loop.run_until_complete(opening))
        except BaseException as exc:  # handed to the caller, who raises it
            opened.set_exception(exc)
            loop.close()
            return
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="homeport-dashboard", daemon=True)
    thread.start()
    runner, store, base_url = opened.result(timeout=30)

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        store.close()
        link.close()

    return Dashboard(base_url, token, state_dir, link, stop)
