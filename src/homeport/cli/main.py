"""The ``homeport`` command: the command groups hang here, one module each.

Command modules are imported only when their command runs: ``homeport up`` must start its first
process quickly, and importing every group (the Cloudflare SDK, the registry client, the
dashboard...) first would cost it half a second. ``--help`` and unknown commands load them all.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from homeport import __version__

# command name -> (module, attribute, is a sub-app); in the order --help lists them.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "check": ("homeport.cli.check", "check", False),
    "schema": ("homeport.cli.schema", "schema", False),
    "up": ("homeport.cli.up", "up", False),
    "status": ("homeport.cli.status", "status", False),
    "logs": ("homeport.cli.status", "logs", False),
    "restart": ("homeport.cli.status", "restart", False),
    "stop": ("homeport.cli.status", "stop", False),
    "start": ("homeport.cli.status", "start", False),
    "down": ("homeport.cli.status", "down", False),
    "seed": ("homeport.cli.seed", "seed", False),
    "gateway": ("homeport.cli.gateway", "app", True),
    "edge": ("homeport.cli.edge", "app", True),
    "failover": ("homeport.cli.failover", "failover", False),
    "registry": ("homeport.cli.registry", "app", True),
    "dashboard": ("homeport.cli.dashboard", "dashboard", False),
    "traces": ("homeport.cli.traces", "traces", False),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"homeport {__version__}")
        raise typer.Exit()


def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """homeport: check, boot, route, reconcile and clean a self-hosted platform."""


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI with every command, just ``only`` when it names one, none when it is ``""``."""
    app = typer.Typer(
        name="homeport",
        help="Run a production-shaped self-hosted platform from one file, homeport.yaml.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_main)
    names = [only] if only in COMMANDS else [] if only == "" else list(COMMANDS)
    for name in names:
        module, attribute, is_group = COMMANDS[name]
        target = getattr(importlib.import_module(module), attribute)
        if is_group:
            app.add_typer(target, name=name)
        else:
            app.command(name=name)(target)
    return app


def __getattr__(name: str) -> typer.Typer:
    # ``from homeport.cli.main import app`` (tests, tools) gets the whole CLI.
    if name == "app":
        return build_app()
    raise AttributeError(name)


def run() -> None:
    """Console-script entry point."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command is None and "--version" in sys.argv[1:]:
        command = ""
    build_app(command)()
