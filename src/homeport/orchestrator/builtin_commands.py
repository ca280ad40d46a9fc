"""The commands behind the built-in kinds that are homeport's own subcommands (seed, gateway).

Kept in one place so that when those commands change, only this mapping follows.
"""

from __future__ import annotations

import sys
from pathlib import Path

from homeport.model.services import Probe

BUILTIN_HEALTH = Probe(http="/healthz")


def seed_command(platform_file: Path, port: int) -> list[str]:
    """``homeport seed`` restoring every backup, then serving /healthz on the port."""
    return [
        sys.executable,
        "-m",
        "homeport",
        "seed",
        "-f",
        str(platform_file),
        "--serve",
        f"127.0.0.1:{port}",
    ]


def gateway_command(platform_file: Path, port: int) -> list[str]:
    """``homeport gateway serve`` on the port."""
    return [
        sys.executable,
        "-m",
        "homeport",
        "gateway",
        "serve",
        "-f",
        str(platform_file),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


BUILTIN_COMMANDS = {"seed": seed_command, "gateway": gateway_command}
