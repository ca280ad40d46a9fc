"""``homeport seed``: restore every database from its backup, in parallel, then report healthy."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from homeport.cli.common import (
    FileOption,
    JsonOption,
    QuietOption,
    console,
    err_console,
    load,
    print_json,
    reports_errors,
)

if TYPE_CHECKING:
    from homeport.model import Service
    from homeport.seed import SeedRun, StatusBoard, TargetStatus

STATE_STYLES = {
    "pending": "dim",
    "waiting": "yellow",
    "seeding": "cyan",
    "done": "green",
    "skipped": "green",
    "failed": "bold red",
}
STATE_WORDS = {"skipped": "up to date"}


@reports_errors
def seed(
    file: FileOption = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            "-t",
            help="Point a seed target at a server: NAME=URL, e.g. postgres=postgresql://…",
            metavar="NAME=URL",
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Re-seed even up-to-date targets (fast: templates).")
    ] = False,
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve",
            help="Serve GET /healthz on HOST:PORT (503 until seeded, 200 after) and idle.",
            metavar="HOST:PORT",
        ),
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Only this seed service's targets.")
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="pg_restore jobs per target (0: one per CPU).")
    ] = 0,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", help="Seconds to wait for each server to answer.")
    ] = 60.0,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Restore every seed of the platform file into its database, every target at once."""
    # Imported here: the database drivers cost every other command's start-up otherwise.
    from homeport.seed import (  # noqa: PLC0415
        HealthServer,
        SeedOptions,
        SeedRun,
        load_endpoints,
        parse_address,
        plan_seeds,
    )

    loaded = load(file)
    endpoints = load_endpoints(loaded.state_dir, os.environ, target or [])
    planned = plan_seeds(loaded, endpoints, service or _started_as(loaded.platform.services))
    address = parse_address(serve) if serve else None
    run = SeedRun(planned, SeedOptions(reset, jobs, wait_timeout))
    health = HealthServer(run.board, *address).start() if address else None
    stop = threading.Event()

    def on_stop() -> None:
        stop.set()
        run.cancel()

    _on_stop_signals(on_stop)
    try:
        if health is not None and not json_output:
            host, port = health.address
            console.print(f"health: http://{host}:{port}/healthz")
        if not planned and not json_output:
            console.print(f"{loaded.path}: no seeds to restore")
        _run_with_progress(run, show=not (quiet or json_output))
        board = run.board
        if json_output:
            print_json(board.report())
        else:
            _print_summary(board, quiet)
        if health is not None and not stop.is_set():
            while not stop.wait(0.5):
                pass  # keep answering /healthz until told to stop, as a seed container does
    finally:
        if health is not None:
            health.close()
    if board.overall() != "ready":
        raise typer.Exit(1)


def _started_as(services: Mapping[str, Service]) -> str | None:
    """The seed service `homeport up` started this as ($HOMEPORT_SERVICE): seed only its own."""
    name = os.environ.get("HOMEPORT_SERVICE", "")
    return name if name in services and services[name].kind == "seed" else None


def _on_stop_signals(handler: Callable[[], None]) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        handler()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def _run_with_progress(run: SeedRun, show: bool) -> None:
    run.start()
    if not show or not console.is_terminal:
        run.wait()
        return
    with Live(_render(run.board.snapshot()), console=console, refresh_per_second=8) as live:
        while not run.wait(0.125):
            live.update(_render(run.board.snapshot()))
        live.update(_render(run.board.snapshot()))


def _render(statuses: list[TargetStatus]) -> RenderableType:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("target", "state", "progress", "", "elapsed", ""):
        table.add_column(column)
    for status in statuses:
        table.add_row(
            status.name,
            Text(STATE_WORDS.get(status.state, status.state), style=STATE_STYLES[status.state]),
            _bar(status),
            _amount(status),
            f"{status.elapsed():.1f}s",
            Text(status.message, overflow="ellipsis", no_wrap=True),
        )
    return Group(table)


def _bar(status: TargetStatus) -> RenderableType:
    if status.state in ("done", "skipped"):
        return ProgressBar(total=1, completed=1, width=24)
    if status.total:
        return ProgressBar(total=status.total, completed=min(status.done, status.total), width=24)
    return ProgressBar(total=None, width=24, pulse=status.state in ("waiting", "seeding"))


def _amount(status: TargetStatus) -> str:
    if not status.total and not status.done:
        return ""
    if status.unit == "bytes":
        done = _size(status.done)
        return f"{done} / {_size(status.total)}" if status.total else done
    total = f"/{status.total}" if status.total else ""
    return f"{status.done}{total} {status.unit}"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _print_summary(board: StatusBoard, quiet: bool) -> None:
    for status in board.snapshot():
        word = STATE_WORDS.get(status.state, status.state)
        line = f"{status.name}: {word} in {status.elapsed():.1f}s — {status.message}"
        if status.state == "failed":
            err_console.print(line, markup=False, soft_wrap=True, style="red")
        elif not quiet:
            console.print(line, markup=False, soft_wrap=True)
        for warning in status.warnings:
            err_console.print(f"{status.name}: warning: {warning}", markup=False, soft_wrap=True)
    overall = board.overall()
    if overall == "failed":
        failed = sum(1 for s in board.snapshot() if s.state == "failed")
        err_console.print(f"seed failed: {failed} of {len(board.snapshot())} targets", markup=False)
