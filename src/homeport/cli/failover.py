"""``homeport failover standby|home dev|prod|both``: flip hostnames between tunnel and standby."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from homeport.cli.common import (
    FileOption,
    JsonOption,
    console,
    err_console,
    load,
    print_json,
    reports_errors,
)
from homeport.cli.edge import connect, edge_of


class Direction(StrEnum):
    """Where the hostnames go."""

    standby = "standby"
    home = "home"


class Scope(StrEnum):
    """Which environments' hostnames move."""

    dev = "dev"
    prod = "prod"
    both = "both"


@reports_errors
def failover(
    direction: Annotated[Direction, typer.Argument(help="standby: to Pages; home: to the tunnel")],
    scope: Annotated[Scope, typer.Argument(help="dev, prod or both")],
    file: FileOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Skip the Pages and tunnel health checks.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Point the environment's hostnames at the Pages standby or back at the tunnel."""
    from homeport.edge.failover import run_failover  # noqa: PLC0415  (the SDK loads slowly)

    edge = edge_of(load(file))
    report = run_failover(connect(), edge, direction.value, scope.value, force=force)
    if as_json:
        print_json(
            {
                "direction": direction.value,
                "scope": scope.value,
                "changed": report.changed,
                "unchanged": report.unchanged,
                "points_to": report.points_to,
                "warnings": report.warnings,
            }
        )
        return
    if report.changed:
        console.print(f"moved to {direction.value}: {', '.join(report.changed)}", markup=False)
    else:
        console.print(
            f"nothing to change: every hostname of {scope.value} already points at "
            f"{'the standby' if direction is Direction.standby else 'the tunnel'}",
            markup=False,
        )
    for hostname, target in report.points_to.items():
        console.print(f"  {hostname} -> {target}", markup=False)
    for warning in report.warnings:
        err_console.print(f"note: {warning}", style="yellow", markup=False)
