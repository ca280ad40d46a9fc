"""One run of the supervisor: state files, the hub, the control API, and closing it all.

The foreground ``homeport up`` and the detached supervisor (``homeport up --supervise``) both run
a Session; only what they print differs (and printing is the CLI's business).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeport.dashboard.address import listener_url, reserve_listener
from homeport.model import LoadedPlatform
from homeport.orchestrator.errors import ResourceFailed
from homeport.orchestrator.graph import build_graph, closure
from homeport.orchestrator.logs import LogBook
from homeport.orchestrator.plan import RunPlan, plan_run
from homeport.orchestrator.ports import allocate
from homeport.orchestrator.state import (
    CONTROL,
    FAILURE,
    ControlInfo,
    Leftover,
    PidRegistry,
    reap_leftovers,
    write_control,
    write_endpoints,
    write_json,
)
from homeport.orchestrator.supervisor import Hub

if TYPE_CHECKING:
    import socket
    from pathlib import Path

    from homeport.dashboard.server import Dashboard
    from homeport.orchestrator.control_api import ControlApi


@dataclass(frozen=True)
class UpOptions:
    """What ``homeport up`` was asked for."""

    services: tuple[str, ...] = ()
    fresh: bool = False
    engine: str = "auto"
    keep_going: bool = False


def plan_for(loaded: LoadedPlatform, services: Sequence[str], otlp_endpoint: str = "") -> RunPlan:
    """The plan for ``services`` and all they depend on (everything when none are named)."""
    platform = loaded.platform
    graph = closure(build_graph(platform.services), services)

    def where(name: str) -> str:
        mark = loaded.source.locate(("services", name, "port"))
        return f"{loaded.path}:{mark.line}"

    endpoints = allocate(platform.services, graph.names, where)
    return plan_run(
        platform.name,
        services=platform.services,
        graph=graph,
        endpoints=endpoints,
        root=loaded.root,
        platform_file=loaded.path.resolve(),
        state_dir=loaded.state_dir,
        otlp_endpoint=otlp_endpoint,
    )


def _start_dashboard(state_dir: Path, listener: socket.socket) -> Dashboard:
    from homeport.dashboard.server import start_dashboard  # noqa: PLC0415 - loads while booting

    return start_dashboard(state_dir, listener=listener)


class Session:
    """A supervisor's lifetime for one platform."""

    def __init__(self, loaded: LoadedPlatform, options: UpOptions) -> None:
        self.loaded = loaded
        self.options = options
        self.state_dir = loaded.state_dir
        self.leftovers: list[Leftover] = []
        self.hub: Hub | None = None
        self.api: ControlApi | None = None
        self.book: LogBook | None = None
        self.dashboard: Dashboard | None = None

    async def open(self) -> Hub:
        """Stop leftovers of a dead supervisor, allocate ports, start everything, open the API."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.leftovers = reap_leftovers(self.state_dir)
        listener = reserve_listener()  # the dashboard's: services export their telemetry there
        try:
            plan = plan_for(self.loaded, self.options.services, listener_url(listener))
        except BaseException:
            listener.close()
            raise
        write_endpoints(self.state_dir, plan.endpoints)
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / FAILURE).unlink()
        logs = self.state_dir / "logs"
        for name in plan.resources:
            with contextlib.suppress(FileNotFoundError):
                (logs / f"{name}.log").unlink()
        self.book = LogBook(logs)
        hub = self.hub = Hub(
            plan,
            self.book,
            PidRegistry(self.state_dir),
            fresh=self.options.fresh,
            engine=self.options.engine,
        )
        hub.start()
        await hub.first_wave()
        dashboard = asyncio.create_task(
            asyncio.to_thread(_start_dashboard, self.state_dir, listener)
        )
        # The API (and aiohttp's import) comes after the first processes are on their way.
        from homeport.orchestrator.control_api import ControlApi, new_token  # noqa: PLC0415

        token = new_token()
        self.api = ControlApi(hub, token)
        url = await self.api.start()
        write_control(self.state_dir, ControlInfo(url, token, os.getpid()))
        self.dashboard = await dashboard
        return hub

    async def wait_until_up(self) -> float:
        """Seconds to all healthy; on failure, remember it (for ``--detach``) and re-raise."""
        if self.hub is None:
            raise RuntimeError("Session.open first")
        try:
            return await self.hub.wait_until_up()
        except ResourceFailed as failure:
            write_json(
                self.state_dir / FAILURE,
                {"service": failure.service, "reason": failure.reason, "message": str(failure)},
            )
            raise

    async def until_down(self, stop: asyncio.Event) -> None:
        """Return when ``stop`` is set (a signal) or a client asked ``down``."""
        if self.api is None:
            return
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self.api.down.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()

    async def close(self) -> None:
        """Stop every resource in reverse order, then the API; remove the control file."""
        if self.hub is not None:
            await self.hub.shutdown()
        if self.dashboard is not None:  # after the services, so their last spans arrive
            await asyncio.to_thread(self.dashboard.stop)
        if self.api is not None:  # only the supervisor that wrote control.json removes it
            await self.api.close()
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / CONTROL).unlink()
        if self.book is not None:
            self.book.close()
