"""``homeport up``: boot the platform locally, dependency-ordered and health-gated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.live import Live
from rich.table import Table

from homeport.cli.common import FileOption, console, err_console, fail, load, reports_errors
from homeport.cli.resources_view import resource_table
from homeport.errors import HomeportError
from homeport.model import LoadedPlatform
from homeport.orchestrator.errors import NotRunning, ResourceFailed
from homeport.orchestrator.session import Session, UpOptions
from homeport.orchestrator.state import (
    FAILURE,
    Leftover,
    read_control,
    read_json,
    reap_leftovers,
    write_json,
)
from homeport.orchestrator.supervisor import Hub

if TYPE_CHECKING:
    from homeport.orchestrator.control_client import ControlClient

ServicesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Start these services and what they depend on (default: all).", show_default=False
    ),
]
DETACH_POLL = 0.1


@reports_errors
def up(
    services: ServicesArgument = None,
    file: FileOption = None,
    detach: Annotated[
        bool,
        typer.Option("--detach", "-d", help="Return once healthy; keep running in the background."),
    ] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start databases empty (drop their data in .homeport/).")
    ] = False,
    engine: Annotated[
        str, typer.Option("--engine", help="Container engine: auto, docker or podman.")
    ] = "auto",
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Keep the rest running when a resource fails.")
    ] = False,
    supervise: Annotated[bool, typer.Option("--supervise", hidden=True)] = False,
) -> None:
    """Boot the whole platform (or SERVICES and what they need), health-gated, in parallel."""
    started = time.monotonic()
    if engine not in ("auto", "docker", "podman"):
        raise fail(f"--engine must be auto, docker or podman, not '{engine}'")
    loaded = load(file)
    options = UpOptions(tuple(services or ()), fresh, engine, keep_going)
    if supervise:
        raise typer.Exit(asyncio.run(_supervise(loaded, options)))
    if detach:
        _detach(loaded, options, started)
        return
    code = asyncio.run(_foreground(loaded, options, started))
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    """Leave without the interpreter's teardown of every module (seconds on a busy machine):
    everything is stopped and closed already, and Ctrl-C promises a return within 5 s."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _say_leftovers(leftovers: list[Leftover]) -> None:
    if not leftovers:
        return
    names = ", ".join(
        f"{x.service} (pid {x.pid})" if x.pid else f"{x.service} (container {x.container})"
        for x in leftovers
    )
    err_console.print(
        f"found {len(leftovers)} left running by a supervisor that died, and stopped them: {names}",
        style="yellow",
        markup=False,
        soft_wrap=True,
    )


async def _foreground(loaded: LoadedPlatform, options: UpOptions, started: float) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    session = Session(loaded, options)
    try:
        hub = await session.open()
    except HomeportError:
        await session.close()
        raise
    _say_leftovers(session.leftovers)
    if session.dashboard is not None:
        _say_dashboard(session.dashboard.url)
    code = 0
    with _View(hub) as view:
        up_task = asyncio.create_task(session.wait_until_up())
        stop_task = asyncio.create_task(session.until_down(stop))
        await asyncio.wait({up_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if up_task.done() and not up_task.cancelled():
            failure = up_task.exception()
            view.refresh()
            if isinstance(failure, ResourceFailed):
                view.stop()
                for line in str(failure).splitlines():
                    err_console.print(line, markup=False, soft_wrap=True, style="red")
                code = 1
                if not options.keep_going:
                    stop.set()
            elif failure is not None:
                raise failure
            else:
                view.stop()
                _all_healthy(hub, time.monotonic() - started, session)
                view.follow_events()
            await stop_task
        else:
            up_task.cancel()
            await asyncio.gather(up_task, return_exceptions=True)
        view.stop()
    console.print("stopping...", style="yellow")
    stopping = time.monotonic()
    await session.close()
    console.print(f"stopped {len(hub.runtimes)} resources in {time.monotonic() - stopping:.2f}s")
    return code


def _say_dashboard(url: str) -> None:
    console.print(f"dashboard: {url}", style="bold", markup=False, soft_wrap=True)


def _all_healthy(hub: Hub, elapsed: float, session: Session) -> None:
    console.print(resource_table([s.as_dict() for s in hub.statuses()]))
    console.print(
        f"all {len(hub.runtimes)} resources healthy in {elapsed:.2f}s "
        f"(logs in {session.state_dir / 'logs'}; Ctrl-C stops everything)",
        style="bold green",
        markup=False,
        soft_wrap=True,
    )


class _View:
    """A live table on a terminal; elsewhere one line per event."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.live: Live | None = None
        self.task: asyncio.Task[None] | None = None
        self.seen = 0
        self.stopped = False

    def __enter__(self) -> _View:
        if console.is_terminal:
            self.live = Live(self._table(), console=console, auto_refresh=False, transient=True)
            self.live.start()
        self.task = asyncio.create_task(self._loop())
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _table(self) -> Table:
        return resource_table([s.as_dict() for s in self.hub.statuses()])

    async def _loop(self) -> None:
        while True:
            self.refresh()
            await asyncio.sleep(0.25 if self.live else 0.1)

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._table(), refresh=True)
            return
        for event in list(self.hub.events):
            if event.seq > self.seen:
                self.seen = event.seq
                detail = f" ({event.detail})" if event.detail else ""
                console.print(
                    f"{event.service}: {event.what}{detail}", markup=False, soft_wrap=True
                )

    def follow_events(self) -> None:
        """After the table: one line per new event (restarts, crashes) until stopped."""
        self.seen = max((e.seq for e in self.hub.events), default=0)
        self.stopped = False
        self.task = asyncio.create_task(self._loop())

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.refresh()
        if self.live is not None:
            self.live.stop()
            self.live = None


async def _supervise(loaded: LoadedPlatform, options: UpOptions) -> int:
    """The detached supervisor: the same session, its output in .homeport/supervisor.log."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    session = Session(loaded, options)
    try:
        await session.open()
    except HomeportError as exc:
        write_json(
            session.state_dir / FAILURE, {"service": "", "reason": str(exc), "message": str(exc)}
        )
        await session.close()
        return 1
    code = 0
    try:
        elapsed = await session.wait_until_up()
        print(f"all healthy in {elapsed:.2f}s", flush=True)
    except ResourceFailed as failure:
        print(str(failure), flush=True)
        code = 1
        if not options.keep_going:
            await session.close()
            return code
    await session.until_down(stop)
    await session.close()
    return code


def _detach(loaded: LoadedPlatform, options: UpOptions, started: float) -> None:
    state_dir = loaded.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    _say_leftovers(reap_leftovers(state_dir))
    (state_dir / FAILURE).unlink(missing_ok=True)
    argv = [sys.executable, "-m", "homeport", "up", "--supervise", "-f", str(loaded.path.resolve())]
    argv += ["--engine", options.engine]
    argv += ["--fresh"] if options.fresh else []
    argv += ["--keep-going"] if options.keep_going else []
    argv += list(options.services)
    with (state_dir / "supervisor.log").open("w") as log:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(loaded.root),
        )
    limit = max(s.startup_timeout for s in loaded.platform.services.values()) + 60
    deadline = time.monotonic() + limit
    client: ControlClient | None = None
    try:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                _detached_failure(state_dir, child.returncode)
            client = client or _client_of(state_dir, child.pid)
            if client is not None:
                try:
                    status = client.status()
                except NotRunning:
                    # It failed and closed its API between two polls: its reason is on disk.
                    child.wait(timeout=15)
                    _detached_failure(state_dir, child.returncode)
                if status["phase"] == "up":
                    rows = client.resources()
                    console.print(resource_table(rows))
                    console.print(
                        f"all {len(rows)} resources healthy in {time.monotonic() - started:.2f}s; "
                        f"supervisor pid {child.pid} (homeport status | logs | down)",
                        style="bold green",
                        markup=False,
                        soft_wrap=True,
                    )
                    dashboard = read_json(state_dir / "dashboard.json")
                    if isinstance(dashboard, dict) and dashboard.get("url"):
                        _say_dashboard(str(dashboard["url"]))
                    return
                if status["phase"] == "failed":
                    if options.keep_going:
                        console.print(resource_table(client.resources()))
                        raise fail(status["message"])
                    child.wait(timeout=15)
                    _detached_failure(state_dir, child.returncode)
            time.sleep(DETACH_POLL)
    finally:
        if client is not None:
            client.close()
    raise fail(f"the supervisor (pid {child.pid}) did not report healthy within {limit:g}s")


def _client_of(state_dir: Path, pid: int) -> ControlClient | None:
    from homeport.orchestrator.control_client import ControlClient  # noqa: PLC0415

    info = read_control(state_dir)
    if info is None or info.pid != pid:
        return None
    return ControlClient(info)


def _detached_failure(state_dir: Path, code: int | None) -> NoReturn:
    failure = read_json(state_dir / FAILURE)
    if isinstance(failure, dict) and failure.get("message"):
        raise fail(str(failure["message"]))
    log = (state_dir / "supervisor.log").read_text(errors="replace").strip().splitlines()[-20:]
    raise fail("\n".join([f"the supervisor exited with code {code} before it was up:", *log]))
