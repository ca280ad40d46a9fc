"""How each kind of resource is launched: the command, its user, its stop signal, built-in checks.

A launcher is the kind-specific part of a resource; the lifecycle (gating, probes, restarts,
stop) is the same for every kind and lives in ``runtime.py``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homeport.orchestrator.environment import child_env
from homeport.orchestrator.logs import LogBook
from homeport.orchestrator.plan import ResourceSpec
from homeport.orchestrator.probes import Check, Outcome, check_exec


@dataclass(frozen=True)
class Launch:
    """One way to start a process, and how to stop it."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    whole_group: bool = True
    death_signal: int = signal.SIGTERM
    cleanup: list[list[str]] = field(default_factory=list)


class Launcher:
    """An executable: the ``run:`` command with the service's environment."""

    prepares = False
    """Whether ``prepare`` does work (an image, initdb); executables start without it."""

    def __init__(self, spec: ResourceSpec, book: LogBook) -> None:
        self.spec = spec
        self.book = book

    async def prepare(self, fresh: bool) -> None:
        """Work done once at the very start, before any wait (images, initdb)."""

    def launch(self) -> Launch:
        """The command that starts the resource now."""
        return Launch(list(self.spec.argv), child_env(self.spec.env), self.spec.cwd)

    def builtin_check(self) -> Check | None:
        """A readiness check the kind brings (postgres answers a query), or None."""
        return None

    async def run_exec(self, argv: list[str], timeout: float) -> Outcome:
        """Run an exec probe where the resource runs (a container runs it inside)."""
        return await check_exec(argv, timeout, child_env(self.spec.env), str(self.spec.cwd))

    async def stop_hook(self, grace: float) -> None:
        """Extra work to stop the resource before its process is signalled (containers)."""

    def note(self, text: str) -> None:
        """A line about this resource from homeport itself, in its log."""
        self.book.write(self.spec.name, "homeport", text)


LauncherFactory = Callable[[ResourceSpec, LogBook], Launcher]
