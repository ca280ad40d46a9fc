"""The ``homeport`` command: the command groups hang here, one module each."""

from __future__ import annotations

from typing import Annotated

import typer

from homeport import __version__
from homeport.cli import check, schema, traces
from homeport.cli import dashboard as dashboard_cli
from homeport.cli import edge as edge_cli
from homeport.cli import failover as failover_cli
from homeport.cli import gateway as gateway_cli
from homeport.cli import registry as registry_cli
from homeport.cli import seed as seed_cli
from homeport.cli import status as status_cli
from homeport.cli import up as up_cli

app = typer.Typer(
    name="homeport",
    help="Run a production-shaped self-hosted platform from one file, homeport.yaml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"homeport {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """homeport: check, boot, route, reconcile and clean a self-hosted platform."""


app.command()(check.check)
app.command()(schema.schema)
app.command()(traces.traces)
app.command()(dashboard_cli.dashboard)
app.add_typer(edge_cli.app)
app.command()(failover_cli.failover)
app.add_typer(gateway_cli.app)
app.command()(seed_cli.seed)
app.add_typer(registry_cli.app)
app.command()(up_cli.up)
for _command in (status_cli.status, status_cli.logs, status_cli.restart, status_cli.stop):
    app.command()(_command)
app.command()(status_cli.start)
app.command()(status_cli.down)


def run() -> None:
    """Console-script entry point."""
    app()
