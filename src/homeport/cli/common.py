"""What every command shares: the consoles, the -f option, and turning errors into exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from homeport.errors import HomeportError
from homeport.model import LoadedPlatform, load_platform

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")

FileOption = Annotated[
    Path | None,
    typer.Option(
        "-f",
        "--file",
        help="The platform file, or a directory holding homeport.yaml (default ./homeport.yaml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only what scripts need.")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    for line in message.splitlines() or [message]:
        err_console.print(line, markup=False, soft_wrap=True)
    return typer.Exit(code)


def reports_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn HomeportError into its message on stderr and its exit code: never a traceback."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except HomeportError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def load(file: Path | None) -> LoadedPlatform:
    """Load the platform file named by -f (errors propagate to ``reports_errors``)."""
    return load_platform(file)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
