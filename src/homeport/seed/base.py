"""The one interface every seeder implements, and the pieces all of them share."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from homeport.seed.errors import SeedError
from homeport.seed.marker import Hashing, Marker
from homeport.seed.plan import SeedJob
from homeport.seed.processes import Processes
from homeport.seed.status import Reporter

Action = Literal["restored", "reset", "skipped"]


@dataclass(frozen=True)
class SeedRequest:
    """Everything a seeder needs to restore one job."""

    job: SeedJob
    format: str
    hashing: Hashing
    seeder_version: str
    reset: bool = False
    parallel_jobs: int = 2
    wait_timeout: float = 60.0

    @property
    def marker(self) -> Marker:
        """The marker this seed leaves; waits for the file's hash if it is still being computed."""
        return Marker(self.hashing.result(), self.seeder_version)


@dataclass(frozen=True)
class Outcome:
    """What a seeder did: restored from the file, reset from a template, or skipped."""

    action: Action
    message: str


class Seeder(Protocol):
    """Restores backups into one engine; the runner calls ``wait_until_ready`` then ``seed``."""

    version: str

    def wait_until_ready(self, timeout: float) -> None:
        """Return once the server accepts TCP and answers a real query; else raise SeedError."""

    def seed(self, request: SeedRequest, reporter: Reporter) -> Outcome:
        """Bring the target to hold exactly the seed file's content, marked with its hash."""


def needs_reseed(current: Marker | None, request: SeedRequest) -> bool:
    """True unless the target already holds this exact seed (and no reset was asked).

    A target with no marker is seeded whatever the hash, so it does not wait for the hash.
    """
    return current is None or request.reset or current != request.marker


def up_to_date(marker: Marker) -> Outcome:
    """The outcome of a target that already holds the seed."""
    return Outcome("skipped", f"nothing to do: it already holds this file (sha256 {marker.short})")


def wait_until(
    address: tuple[str, int],
    query: Callable[[], object],
    timeout: float,
    what: str,
    procs: Processes,
) -> None:
    """Poll until host:port accepts TCP and ``query`` succeeds, raising a clear error on timeout."""
    host, port = address
    deadline = time.monotonic() + timeout
    last = "nothing tried yet"
    while True:
        procs.check_cancelled()
        try:
            with socket.create_connection((host, port), timeout=min(2.0, timeout)):
                pass
            query()
            return
        except (OSError, SeedError) as exc:
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if time.monotonic() >= deadline:
            raise SeedError(
                f"{what} at {host}:{port} did not answer within {timeout:g}s (last error: {last}); "
                "start it (homeport up) or fix the address"
            )
        time.sleep(0.1)


def engine_message(lines: list[str], fallback: str) -> str:
    """The engine's own error lines from its stderr, or the last thing it said."""
    wanted = [
        line.strip()
        for line in lines
        if any(word in line.lower() for word in ("error", "fatal", "could not", "invalid"))
    ]
    chosen = wanted[:3] or [line.strip() for line in lines if line.strip()][-2:]
    return "; ".join(chosen) or fallback


def default_parallel_jobs() -> int:
    """Parallel restore jobs when none are asked: the CPUs this process may use."""
    return max(1, len(os.sched_getaffinity(0)))
