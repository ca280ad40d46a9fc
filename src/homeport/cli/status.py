"""``homeport status | logs | restart | stop | start | down``: talk to the running supervisor."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from homeport.cli.common import FileOption, JsonOption, console, load, print_json, reports_errors
from homeport.cli.resources_view import chain_lines, resource_table
from homeport.orchestrator.control_client import ControlClient
from homeport.orchestrator.errors import OrchestratorError
from homeport.orchestrator.process import is_alive

ServiceArgument = Annotated[str, typer.Argument(help="The service's name in the platform file.")]
LongFileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="The platform file, or a directory holding homeport.yaml (-f means --follow here).",
        show_default=False,
    ),
]


def _client(file: FileOption) -> ControlClient:
    return ControlClient.for_state_dir(load(file).state_dir)


@reports_errors
def status(
    file: FileOption = None,
    as_json: JsonOption = False,
    timing: Annotated[
        bool, typer.Option("--timing", help="Show the critical chain that set the time to healthy.")
    ] = False,
) -> None:
    """Show each resource of the running platform: state, health, port, restarts, waits."""
    with _client(file) as client:
        if timing:
            data = client.timing()
            if as_json:
                print_json(data)
            else:
                for line in chain_lines(data):
                    console.print(line, markup=False, soft_wrap=True)
            return
        rows = client.resources()
        phase = client.status()
    if as_json:
        print_json(rows)
        return
    console.print(resource_table(rows))
    healthy = sum(1 for r in rows if _settled(r))
    console.print(f"{healthy}/{len(rows)} healthy; supervisor {phase['phase']}", markup=False)


def _settled(row: Mapping[str, Any]) -> bool:
    return bool(
        (row["state"] == "running" and row["health"] == "healthy") or row["state"] == "completed"
    )


@reports_errors
def logs(
    service: Annotated[str | None, typer.Argument(help="Only this service.")] = None,
    file: LongFileOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    tail: Annotated[int, typer.Option("--tail", "-n", help="How many recent lines.")] = 100,
) -> None:
    """Print the recent log lines of one service (or all), and follow them with -f."""
    with _client(file) as client:
        lines = client.follow(service, tail) if follow else iter(client.logs(service, tail))
        for line in lines:
            _print_line(line, service is None)


def _print_line(line: Mapping[str, Any], with_name: bool) -> None:
    stamp = time.strftime("%H:%M:%S", time.localtime(float(line["ts"])))
    name = f"{line['service']} | " if with_name else ""
    console.print(f"{name}{stamp} {line['text']}", markup=False, soft_wrap=True, highlight=False)


def _act(file: FileOption, service: str, action: str, as_json: bool) -> None:
    with _client(file) as client:
        result = client.command(service, action)
    row = result["resource"]
    if as_json:
        print_json(row)
        return
    detail = f" ({row['reason']})" if row.get("reason") else ""
    console.print(
        f"{service}: {row['state']}, health {row['health'] or '-'}, port {row['port']}, "
        f"restarts {row['restarts']}{detail}",
        markup=False,
        soft_wrap=True,
    )
    if not result["ok"]:
        raise typer.Exit(1)


@reports_errors
def restart(service: ServiceArgument, file: FileOption = None, as_json: JsonOption = False) -> None:
    """Restart one service; what waits for it stops and starts again once it is healthy."""
    _act(file, service, "restart", as_json)


@reports_errors
def stop(service: ServiceArgument, file: FileOption = None, as_json: JsonOption = False) -> None:
    """Stop one service until 'homeport start'; what waits for it waits again."""
    _act(file, service, "stop", as_json)


@reports_errors
def start(service: ServiceArgument, file: FileOption = None, as_json: JsonOption = False) -> None:
    """Start a stopped (or failed) service again."""
    _act(file, service, "start", as_json)


@reports_errors
def down(file: FileOption = None) -> None:
    """Stop every resource in reverse dependency order, and the supervisor."""
    with _client(file) as client:
        count = len(client.resources())
        pid = client.info.pid
        began = time.monotonic()
        client.down()
    deadline = time.monotonic() + 30
    while is_alive(pid):
        if time.monotonic() > deadline:
            raise OrchestratorError(f"the supervisor (pid {pid}) is still stopping after 30s")
        time.sleep(0.05)
    console.print(f"stopped {count} resources in {time.monotonic() - began:.2f}s", markup=False)
