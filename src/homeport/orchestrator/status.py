"""The observable state of one resource, as the control API, the CLI and the dashboard see it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

State = Literal[
    "pending",
    "waiting",
    "blocked",
    "starting",
    "running",
    "completed",
    "backoff",
    "stopping",
    "stopped",
    "failed",
]
Health = Literal["starting", "healthy", "unhealthy"] | None
LIVE_STATES = ("starting", "running", "stopping")


@dataclass
class Status:
    """State, health, port, restarts, what it waits on; times are Unix seconds."""

    name: str
    kind: str
    port: int
    url: str
    state: State = "pending"
    health: Health = None
    restarts: int = 0
    waiting_on: list[str] = field(default_factory=list)
    pid: int | None = None
    started_at: float | None = None
    healthy_at: float | None = None
    exit_code: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (the ``GET /api/resources`` contract)."""
        return asdict(self)

    @property
    def settled(self) -> bool:
        """Up: running and healthy, or a step that completed."""
        return (self.state == "running" and self.health == "healthy") or self.state == "completed"


@dataclass(frozen=True)
class Event:
    """Something that happened to a resource (for the foreground log and the dashboard)."""

    seq: int
    ts: float
    service: str
    what: str
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)
