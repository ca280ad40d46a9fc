"""One resource's lifecycle: gate on its waits, start, become healthy, watch, restart or stop.

Every kind goes through the same loop; the kind-specific parts come from its launcher. The
supervisor (``Hub``) owns the graph and wakes every lifecycle whenever anything changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Literal

from homeport.model.services import Probe
from homeport.orchestrator.graph import Progress, blocked_by, unmet
from homeport.orchestrator.launchers import Launch, Launcher
from homeport.orchestrator.logs import pump
from homeport.orchestrator.plan import ResourceSpec
from homeport.orchestrator.probes import (
    Check,
    Outcome,
    Watcher,
    log_check,
    network_check,
    until_healthy,
)
from homeport.orchestrator.process import spawn, terminate
from homeport.orchestrator.status import Status

if TYPE_CHECKING:
    from homeport.orchestrator.supervisor import Hub

Request = Literal["regate", "restart", "stop", "liveness"]
Ending = Literal["exit", "unhealthy", "regate", "restart", "stop", "liveness"]
STABLE_AFTER = 10.0
"""A resource healthy this long before a crash starts its backoff from the beginning again."""
BUILTIN_PROBE = Probe(tcp=True, interval=0.05, timeout=2.0)
"""Timing for the checks a kind brings (postgres, redis): poll fast until ready."""


class Runtime:
    """The running side of one resource."""

    def __init__(self, spec: ResourceSpec, launcher: Launcher, hub: Hub) -> None:
        self.spec = spec
        self.launcher = launcher
        self.hub = hub
        self.status = Status(spec.name, spec.kind, spec.endpoint.port, spec.endpoint.url)
        self.process: asyncio.subprocess.Process | None = None
        self.launch: Launch | None = None
        self.wanted: Literal["running", "stopped"] = "running"
        self.prepared: asyncio.Task[None] | None = None
        self.pumps: list[asyncio.Task[None]] = []
        self.first_spawn: float | None = None
        self.healthy_since: float | None = None
        self.ever_healthy = False
        self.crashes = 0
        self.timing_started: float | None = None
        self.timing_ready: float | None = None
        self.timing_prepared: float | None = None
        self._request: Request | None = None
        self._interrupt = asyncio.Event()
        self._output = asyncio.Event()

    # -- what others ask ---------------------------------------------------------------------

    def progress(self) -> Progress:
        """What the graph needs to know about this resource now."""
        state = self.status.state
        return Progress(
            started=state in ("starting", "running"),
            healthy=self.status.settled,
            completed=state == "completed",
            failed=state in ("failed", "blocked"),
        )

    def request(self, what: Request) -> None:
        """Interrupt the lifecycle: stop the process and regate, restart or stay stopped."""
        self._request = what
        self._interrupt.set()
        self.hub.notify()

    def tail(self, count: int = 20) -> list[str]:
        """The last lines this resource wrote, rendered."""
        return [line.render() for line in self.hub.book.tail(self.spec.name, count)]

    # -- the loop ----------------------------------------------------------------------------

    async def lifecycle(self) -> None:
        """Run until the supervisor cancels it (at shutdown)."""
        while True:
            if self.wanted == "stopped" or self.status.state in ("failed", "completed"):
                await self._idle()
                continue
            if not await self._gate():
                continue
            ending, code, reason = await self._run_once()
            await self._after(ending, code, reason)

    async def _idle(self) -> None:
        """Stay stopped, failed or completed until ``start`` or ``restart`` is asked."""
        if self.wanted == "stopped":
            self._set(state="stopped", pid=None, waiting_on=[])
        while True:
            request = self._take_request()
            if request == "restart" or (
                self.wanted == "running" and self.status.state == "stopped"
            ):
                if request == "restart":
                    self.status.restarts += 1
                self.crashes = 0
                self.first_spawn = None
                self._set(state="pending", reason="")
                return
            await self.hub.changed()

    async def _gate(self) -> bool:
        """Wait until every wait is satisfied and the kind is prepared; False to go round again."""
        while True:
            self._take_request()
            if self.wanted == "stopped":
                return False
            progress = self.hub.progress()
            missing = unmet(self.hub.graph, self.spec.name, progress)
            if not missing:
                break
            blockers = blocked_by(self.hub.graph, self.spec.name, progress)
            self._set(
                state="blocked" if blockers else "waiting",
                waiting_on=[w.target for w in missing],
                reason=f"{', '.join(blockers)} failed" if blockers else "",
                health=None,
            )
            await self.hub.changed()
        if self.prepared is not None and not self.prepared.done():
            self._set(state="waiting", waiting_on=[f"({self.spec.kind} preparation)"])
            await asyncio.wait([self.prepared])
        if self.prepared is not None and self.prepared.exception() is not None:
            self._set(state="failed", reason=str(self.prepared.exception()), waiting_on=[])
            self.hub.record(self.spec.name, "failed", self.status.reason)
            return False
        return True

    async def _run_once(self) -> tuple[Ending, int | None, str]:
        """Start the process and follow it until it ends or is interrupted."""
        self._interrupt.clear()
        self._request = None
        launch = self.launch = self.launcher.launch()
        try:
            process = await spawn(
                launch.argv, launch.env, launch.cwd, launch.death_signal, launch.user
            )
        except OSError as exc:
            reason = f"cannot start {launch.argv[0]}: {exc.strerror or exc}"
            self.launcher.note(reason)
            return "exit", None, reason
        self.process = process
        self.hub.book.listen(self.spec.name, self._output.set)
        self._started(process.pid)
        self.pumps = [
            asyncio.create_task(pump(stream, self.hub.book, self.spec.name, name))
            for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
            if stream is not None
        ]
        exited = asyncio.create_task(process.wait())
        interrupted = asyncio.create_task(self._interrupt.wait())
        helpers: list[asyncio.Task[None]] = []
        try:
            check = self._readiness()
            if check is None:
                self._healthy()
            else:
                becoming = asyncio.create_task(self._become_healthy(check))
                done, _ = await asyncio.wait(
                    {exited, interrupted, becoming}, return_when=asyncio.FIRST_COMPLETED
                )
                becoming.cancel()
                if exited in done or interrupted in done:
                    return await self._ending(exited, launch)
                outcome = becoming.result()
                if not outcome.ok:
                    await self._stop_process(launch, 0.5)
                    return "unhealthy", None, outcome.detail
                self._healthy()
            helpers = self._watchers(check)
            await asyncio.wait({exited, interrupted}, return_when=asyncio.FIRST_COMPLETED)
            return await self._ending(exited, launch)
        finally:
            for task in (interrupted, *helpers):
                task.cancel()

    async def _ending(
        self, exited: asyncio.Task[int], launch: Launch
    ) -> tuple[Ending, int | None, str]:
        if exited.done():
            await asyncio.wait(self.pumps, timeout=1.0)
            code = exited.result()
            self._gone()
            return "exit", code, f"exited with code {code}"
        request = self._take_request() or "regate"
        await self._stop_process(launch, self.spec.stop_grace)
        return request, self.process.returncode if self.process else None, ""

    async def _after(self, ending: Ending, code: int | None, reason: str) -> None:
        """Decide what follows an ending: gate again, back off and restart, complete or fail."""
        name = self.spec.name
        self.status.exit_code = code
        if ending in ("regate", "restart", "stop"):
            if ending == "restart":
                self.status.restarts += 1
                self.crashes = 0
            if ending == "stop":
                self.wanted = "stopped"
            self.hub.record(name, ending)
            self._set(state="pending", health=None)
            self.hub.regate(name)
            return
        starting = self.status.state == "starting" or self.hub.phase == "starting"
        if ending == "unhealthy":
            self.hub.regate(name)
            timeout = self.spec.startup_timeout
            self._fail(f"not healthy within {timeout:g}s: {reason}")
            return
        if ending == "liveness":
            reason = "liveness check failed; stopped it"
        failed = ending == "liveness" or code != 0
        policy = self.spec.restart
        if not failed and policy.policy != "always":
            # A step that finished stays satisfied: what waits for it keeps running.
            self._set(state="completed", health=None, pid=None, reason="")
            self.hub.record(name, "completed")
            return
        self.hub.regate(name)
        allowed = policy.policy == "always" or (policy.policy == "on-failure" and failed)
        exhausted = policy.max_restarts is not None and self.status.restarts >= policy.max_restarts
        if not allowed or exhausted:
            when = " while starting" if starting else ""
            gave_up = f" after {self.status.restarts} restarts" if exhausted and allowed else ""
            self._fail(f"{reason}{when}{gave_up}")
            return
        await self._back_off(reason)

    async def _back_off(self, reason: str) -> None:
        if self.healthy_since is not None and time.monotonic() - self.healthy_since > STABLE_AFTER:
            self.crashes = 0
        delay = min(self.spec.restart.backoff * 2**self.crashes, self.spec.restart.max_backoff)
        self.crashes += 1
        self.status.restarts += 1
        self._set(
            state="backoff", health=None, pid=None, reason=f"{reason}; restart in {delay:.1f}s"
        )
        self.hub.record(self.spec.name, "backoff", self.status.reason)
        self.launcher.note(f"{reason}; restarting in {delay:.2f}s")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._interrupt.wait()
        if self._take_request() == "stop":
            self.wanted = "stopped"
        self._set(state="pending")

    # -- health ------------------------------------------------------------------------------

    def _readiness(self) -> Check | None:
        builtin = self.launcher.builtin_check()
        if builtin is not None and self.spec.health is None:
            return builtin
        return self._check_for(self.spec.health)

    def _check_for(self, probe: Probe | None) -> Check | None:
        if probe is None:
            return None
        if probe.log is not None:
            return log_check(self.hub.book, self.spec.name, probe.log, self._since)
        return network_check(
            probe, self.spec.endpoint.host, self.spec.endpoint.port, self.launcher.run_exec
        )

    def _since(self) -> float:
        return self.status.started_at or 0.0

    async def _become_healthy(self, readiness: Check) -> Outcome:
        timeout = self.spec.startup_timeout
        deadline = (self.first_spawn if not self.ever_healthy else time.monotonic()) or 0.0
        deadline += timeout
        startup = self._check_for(self.spec.startup)
        if startup is not None and self.spec.startup is not None:
            outcome = await until_healthy(startup, self.spec.startup, deadline, self._output)
            if not outcome.ok:
                return outcome
        probe = self.spec.health or BUILTIN_PROBE
        return await until_healthy(readiness, probe, deadline, self._output)

    def _watchers(self, readiness: Check | None) -> list[asyncio.Task[None]]:
        tasks: list[asyncio.Task[None]] = []
        if readiness is not None and self.spec.health is not None:
            watcher = Watcher(readiness, self.spec.health, self._readiness_changed)
            tasks.append(asyncio.create_task(watcher.run()))
        liveness = self._check_for(self.spec.liveness)
        if liveness is not None and self.spec.liveness is not None:
            tasks.append(
                asyncio.create_task(Watcher(liveness, self.spec.liveness, self._alive).run())
            )
        return tasks

    async def _readiness_changed(self, healthy: bool, detail: str) -> None:
        self._set(health="healthy" if healthy else "unhealthy", reason=detail)
        self.hub.record(self.spec.name, "healthy" if healthy else "unhealthy", detail)

    async def _alive(self, alive: bool, detail: str) -> None:
        if not alive:
            self.launcher.note(f"liveness check failed: {detail}")
            self.request("liveness")

    # -- bookkeeping -------------------------------------------------------------------------

    def _started(self, pid: int) -> None:
        now = time.monotonic()
        self.first_spawn = self.first_spawn or now
        if self.timing_started is None:
            self.timing_started = now - self.hub.t0
        self.hub.pids.add(self.spec.name, pid)
        self._set(
            state="starting",
            health="starting",
            pid=pid,
            started_at=time.time(),
            healthy_at=None,
            waiting_on=[],
            reason="",
        )
        self.hub.record(self.spec.name, "started", f"pid {pid}")

    def _healthy(self) -> None:
        self.ever_healthy = True
        self.healthy_since = time.monotonic()
        if self.timing_ready is None:
            self.timing_ready = self.healthy_since - self.hub.t0
        self._set(state="running", health="healthy", healthy_at=time.time(), reason="")
        self.hub.record(self.spec.name, "healthy")

    def _gone(self) -> None:
        self.hub.pids.remove(self.spec.name)
        self._set(pid=None)

    def _fail(self, reason: str) -> None:
        self._set(state="failed", health=None, pid=None, reason=reason)
        self.launcher.note(f"failed: {reason}")
        self.hub.record(self.spec.name, "failed", reason)

    async def _stop_process(self, launch: Launch, grace: float) -> None:
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            self._set(state="stopping")
            await self.launcher.stop_hook(grace)
            await terminate(process, grace, launch.stop_signal, launch.whole_group)
        await asyncio.wait(self.pumps, timeout=1.0)
        self._gone()

    async def stop_now(self, deadline: float) -> None:
        """Stop the process for shutdown, within what is left of the shutdown's budget."""
        if self.process is None or self.launch is None:
            return
        grace = min(self.spec.stop_grace, max(0.0, deadline - time.monotonic()))
        await self._stop_process(self.launch, grace)
        code = self.process.returncode if self.process is not None else None
        self._set(state="stopped", health=None, exit_code=code)
        self.hub.record(self.spec.name, "stopped", f"exit code {code}")

    def _take_request(self) -> Request | None:
        request, self._request = self._request, None
        self._interrupt.clear()
        return request

    def _set(self, **changes: object) -> None:
        for key, value in changes.items():
            setattr(self.status, key, value)
        self.hub.notify()
