"""The control API: loopback HTTP with a bearer token, for the CLI and the dashboard.

GET  /api/resources                      every resource's status
GET  /api/status                         phase (starting, up, failed, stopping), failure
GET  /api/graph                          nodes and waits
GET  /api/logs?service=S&tail=N          recent lines; &follow=1 streams NDJSON
GET  /api/timing                         start/ready times and the critical chain
GET  /api/events?after=SEQ               what happened, in order
POST /api/resources/{name}/restart|stop|start   (&wait=1: until it is done)
POST /api/down                           stop everything and the supervisor
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from homeport.orchestrator.errors import OrchestratorError
from homeport.orchestrator.status import Status
from homeport.orchestrator.supervisor import Hub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COMMAND_WAIT = 120.0
FOLLOW_CHECK = 0.5


def new_token() -> str:
    """A fresh random token for one supervisor's lifetime."""
    return secrets.token_urlsafe(32)


class ControlApi:
    """The HTTP side of a Hub; ``down`` is set when a client asks everything to stop."""

    def __init__(self, hub: Hub, token: str) -> None:
        self.hub = hub
        self.token = token
        self.down = asyncio.Event()
        self.closing = asyncio.Event()
        self.app = web.Application(middlewares=[self._auth])
        self.app.add_routes(
            [
                web.get("/api/resources", self.resources),
                web.get("/api/status", self.status),
                web.get("/api/graph", self.graph),
                web.get("/api/logs", self.logs),
                web.get("/api/timing", self.timing),
                web.get("/api/events", self.events),
                web.post("/api/resources/{name}/{action}", self.command),
                web.post("/api/down", self.stop_all),
            ]
        )
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen on a free loopback port; return the base URL."""
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        """Stop listening (followers of the logs are let go first)."""
        self.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        try:
            return await handler(request)
        except OrchestratorError as exc:
            return web.json_response({"error": str(exc)}, status=404)

    async def resources(self, _request: web.Request) -> web.Response:
        return web.json_response([s.as_dict() for s in self.hub.statuses()])

    async def status(self, _request: web.Request) -> web.Response:
        failure = self.hub.failure
        return web.json_response(
            {
                "platform": self.hub.plan.platform_name,
                "phase": self.hub.phase,
                "up_after": self.hub.up_after,
                "started_at": self.hub.started_wall,
                "failure": None
                if failure is None
                else {
                    "service": failure.service,
                    "reason": failure.reason,
                    "log": failure.log_tail,
                },
                "message": str(failure) if failure else "",
            }
        )

    async def graph(self, _request: web.Request) -> web.Response:
        return web.json_response(self.hub.graph.as_dict())

    async def timing(self, _request: web.Request) -> web.Response:
        return web.json_response(self.hub.timing())

    async def events(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "0") or 0)
        return web.json_response([e.as_dict() for e in self.hub.events if e.seq > after])

    async def logs(self, request: web.Request) -> web.StreamResponse:
        service = request.query.get("service") or None
        if service is not None:
            self.hub.runtime(service)
        tail = int(request.query.get("tail", "100") or 100)
        lines = self.hub.book.tail(service, tail)
        if request.query.get("follow") not in ("1", "true"):
            return web.json_response({"lines": [line.as_dict() for line in lines]})
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        queue = self.hub.book.follow(service)
        try:
            for line in lines:
                await response.write(json.dumps(line.as_dict()).encode() + b"\n")
            while not self.closing.is_set():
                try:
                    async with asyncio.timeout(FOLLOW_CHECK):
                        line = await queue.get()
                except TimeoutError:
                    if request.transport is None or request.transport.is_closing():
                        break
                    continue
                await response.write(json.dumps(line.as_dict()).encode() + b"\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.hub.book.unfollow(queue)
        return response

    async def command(self, request: web.Request) -> web.Response:
        name, action = request.match_info["name"], request.match_info["action"]
        hub = self.hub
        hub.runtime(name)
        wait = request.query.get("wait") in ("1", "true")
        done: Callable[[Status], bool]
        if action == "restart":
            before = hub.runtime(name).status.restarts
            await hub.restart(name)
            done = _settled_after(before)
        elif action == "stop":
            await hub.stop(name)
            done = _stopped
        elif action == "start":
            await hub.start_one(name)
            done = _settled_or_failed
        else:
            return web.json_response({"error": f"unknown action '{action}'"}, status=404)
        status = hub.runtime(name).status
        if wait:
            try:
                status = await hub.wait_for(name, done, COMMAND_WAIT)
            except TimeoutError:
                return web.json_response(
                    {"error": f"'{name}' did not {action} within {COMMAND_WAIT:g}s"}, status=504
                )
        return web.json_response({"ok": status.state != "failed", "resource": status.as_dict()})

    async def stop_all(self, _request: web.Request) -> web.Response:
        self.down.set()
        return web.json_response({"ok": True})


def _settled_after(before: int) -> Callable[[Status], bool]:
    return lambda s: s.restarts > before and (s.settled or s.state == "failed")


def _stopped(status: Status) -> bool:
    return status.state == "stopped"


def _settled_or_failed(status: Status) -> bool:
    return status.settled or status.state == "failed"
