"""The supervisor: every resource's lifecycle at once, the commands, and the stop in order.

Every lifecycle task sleeps on one broadcast (``changed``) and re-reads the graph when woken, so
a resource starts the moment its last wait is satisfied and nothing is ever serialised.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from homeport.orchestrator.containers import ContainerLauncher, Engine, detect_engine
from homeport.orchestrator.datastores import PostgresLauncher, RedisLauncher
from homeport.orchestrator.errors import OrchestratorError, ResourceFailed
from homeport.orchestrator.graph import (
    Progress,
    Timing,
    critical_chain,
    regated_by,
    stop_levels,
)
from homeport.orchestrator.launchers import Launcher
from homeport.orchestrator.logs import LogBook
from homeport.orchestrator.plan import ResourceSpec, RunPlan
from homeport.orchestrator.registries import RegistryLauncher
from homeport.orchestrator.runtime import Runtime
from homeport.orchestrator.state import PidRegistry
from homeport.orchestrator.status import Event, Status

LAUNCHERS: dict[str, type[Launcher]] = {
    "postgres": PostgresLauncher,
    "redis": RedisLauncher,
    "container": ContainerLauncher,
    "registry": RegistryLauncher,
}
SHUTDOWN_BUDGET = 4.0
FAILURE_LINES = 20


def make_launcher(spec: ResourceSpec, book: LogBook) -> Launcher:
    """The launcher for the spec's kind (executables, seed and gateway run a command)."""
    return LAUNCHERS.get(spec.kind, Launcher)(spec, book)


class Hub:
    """Owns the runtimes, the graph, the log book; wakes lifecycles on every change."""

    def __init__(
        self,
        plan: RunPlan,
        book: LogBook,
        pids: PidRegistry,
        *,
        fresh: bool = False,
        engine: str = "auto",
        launcher_for: Callable[[ResourceSpec, LogBook], Launcher] = make_launcher,
    ) -> None:
        self.plan = plan
        self.graph = plan.graph
        self.book = book
        self.pids = pids
        self.fresh = fresh
        self.engine_choice = engine
        self.t0 = time.monotonic()
        self.started_wall = time.time()
        self.runtimes = {
            name: Runtime(spec, launcher_for(spec, book), self)
            for name, spec in plan.resources.items()
        }
        self.events: deque[Event] = deque(maxlen=1000)
        self.phase = "starting"
        self.failure: ResourceFailed | None = None
        self.up_after: float | None = None
        self.shutting_down = False
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._seq = 0

    # -- the broadcast -----------------------------------------------------------------------

    def notify(self) -> None:
        """Wake everything that waits for a change."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def changed(self) -> None:
        """Return at the next change."""
        await self._changed.wait()

    def progress(self) -> dict[str, Progress]:
        """Every resource's progress, for the graph functions."""
        return {name: runtime.progress() for name, runtime in self.runtimes.items()}

    def record(self, service: str, what: str, detail: str = "") -> None:
        """Remember an event (the foreground view and the dashboard read them)."""
        self._seq += 1
        self.events.append(Event(self._seq, time.time(), service, what, detail))

    def regate(self, name: str) -> None:
        """``name`` no longer runs: what waits for it (transitively) stops and waits again."""
        if self.shutting_down:
            return
        for waiter in regated_by(self.graph, name):
            runtime = self.runtimes[waiter]
            if runtime.process is not None and runtime.status.state in ("starting", "running"):
                runtime.request("regate")

    # -- start, up, stop ---------------------------------------------------------------------

    def start(self) -> None:
        """Prepare every kind and start every lifecycle now; they gate themselves."""
        engine: asyncio.Task[Engine] | None = None
        for runtime in self.runtimes.values():
            launcher = runtime.launcher
            if isinstance(launcher, ContainerLauncher):
                engine = engine or asyncio.create_task(detect_engine(self.engine_choice))
                launcher.engine_ready = engine
            if launcher.prepares:
                runtime.prepared = asyncio.create_task(launcher.prepare(self.fresh))
                runtime.prepared.add_done_callback(self._prepared(runtime.spec.name))
        if engine is not None:
            engine.add_done_callback(_retrieve)
        for runtime in self.runtimes.values():
            self._tasks.append(asyncio.create_task(runtime.lifecycle(), name=runtime.spec.name))

    async def first_wave(self, timeout: float = 1.0) -> None:
        """Return once every lifecycle has passed its first gate (the first processes started)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(r.status.state == "pending" for r in self.runtimes.values()):
                    await self.changed()

    def _prepared(self, name: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is None:
                self.runtimes[name].timing_prepared = time.monotonic() - self.t0
                self.record(name, "prepared")

        return done

    async def wait_until_up(self) -> float:
        """Seconds until every resource is healthy (or completed); raise ResourceFailed."""
        while True:
            for runtime in self.runtimes.values():
                if runtime.status.state == "failed":
                    self.phase = "failed"
                    self.failure = ResourceFailed(
                        runtime.spec.name, runtime.status.reason, runtime.tail(FAILURE_LINES)
                    )
                    raise self.failure
            if all(r.status.settled for r in self.runtimes.values()):
                self.phase = "up"
                self.up_after = time.monotonic() - self.t0
                return self.up_after
            await self.changed()

    async def shutdown(self, budget: float = SHUTDOWN_BUDGET) -> None:
        """Stop everything in reverse dependency order: TERM, grace, KILL, all within budget."""
        self.shutting_down = True
        self.phase = "stopping"
        preparing = [r.prepared for r in self.runtimes.values() if r.prepared is not None]
        for task in [*self._tasks, *preparing]:
            task.cancel()
        await asyncio.gather(*self._tasks, *preparing, return_exceptions=True)
        deadline = time.monotonic() + budget
        for level in stop_levels(self.graph):
            await asyncio.gather(*(self.runtimes[name].stop_now(deadline) for name in level))
        self.pids.clear()
        self.phase = "stopped"
        self.notify()

    # -- commands ----------------------------------------------------------------------------

    def runtime(self, name: str) -> Runtime:
        """The runtime of ``name``; raise OrchestratorError naming the choices."""
        try:
            return self.runtimes[name]
        except KeyError:
            raise OrchestratorError(
                f"no resource named '{name}' runs here; expected one of: {', '.join(self.runtimes)}"
            ) from None

    async def restart(self, name: str) -> None:
        """Stop what waits for ``name``, then restart it; they start again once it is healthy."""
        runtime = self.runtime(name)
        runtime.wanted = "running"
        self.regate(name)
        runtime.request("restart")

    async def stop(self, name: str) -> None:
        """Stop ``name`` until ``start``; what waits for it waits again."""
        runtime = self.runtime(name)
        runtime.wanted = "stopped"
        runtime.request("stop")
        self.regate(name)

    async def start_one(self, name: str) -> None:
        """Start ``name`` again after ``stop`` (or after it failed)."""
        runtime = self.runtime(name)
        if runtime.status.state in ("failed", "completed"):
            runtime.request("restart")
        runtime.wanted = "running"
        self.notify()

    async def wait_for(self, name: str, wanted: Callable[[Status], bool], timeout: float) -> Status:
        """Wait until ``name``'s status passes ``wanted`` (or time out); return it."""
        runtime = self.runtime(name)
        async with asyncio.timeout(timeout):
            while not wanted(runtime.status):
                await self.changed()
        return runtime.status

    # -- views -------------------------------------------------------------------------------

    def statuses(self) -> list[Status]:
        """Every resource's status, in the file's order."""
        return [self.runtimes[name].status for name in self.graph.names]

    def timing(self) -> dict[str, object]:
        """Start and ready times (seconds after ``up`` began) and the critical chain."""
        timings = {
            name: Timing(r.timing_started, r.timing_ready) for name, r in self.runtimes.items()
        }
        chain = critical_chain(self.graph, timings)
        starts = [t.started for t in timings.values() if t.started is not None]
        return {
            "up_after": self.up_after,
            "first_start": min(starts) if starts else None,
            "chain": [
                {
                    "name": c.name,
                    "at": c.at,
                    "took": c.took,
                    "prepared": self.runtimes[c.name].timing_prepared,
                }
                for c in chain
            ],
            "resources": {
                name: {"started": t.started, "ready": t.ready} for name, t in timings.items()
            },
        }


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a background task's exception as seen; the lifecycle reports it."""
    if not task.cancelled():
        task.exception()
