"""Where each target stands, shared by the seeders (writers), the CLI and the health endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

State = Literal["pending", "waiting", "seeding", "done", "skipped", "failed"]
FINISHED: tuple[State, ...] = ("done", "skipped", "failed")


@dataclass
class TargetStatus:
    """One target's progress: its state, units done of the total, timing, and the last message."""

    name: str
    engine: str | None = None
    state: State = "pending"
    message: str = ""
    unit: str = "bytes"
    done: int = 0
    total: int | None = None
    started: float | None = None
    finished: float | None = None
    warnings: list[str] = field(default_factory=list)

    def elapsed(self, now: float | None = None) -> float:
        """Seconds since the target started (until it finished)."""
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else (now or time.monotonic())
        return end - self.started

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-ready data."""
        data = asdict(self)
        data.pop("started")
        data.pop("finished")
        data["elapsed"] = round(self.elapsed(), 3)
        return data


class StatusBoard:
    """Thread-safe statuses of every target, in plan order."""

    def __init__(self, names: list[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._targets = {name: TargetStatus(name) for name in names}

    def update(self, name: str, **fields: Any) -> None:
        """Set fields of one target; entering a state stamps the start or finish time."""
        with self._lock:
            status = self._targets[name]
            for key, value in fields.items():
                setattr(status, key, value)
            state = fields.get("state")
            if state in ("waiting", "seeding") and status.started is None:
                status.started = self._clock()
            if state in FINISHED:
                status.started = status.started if status.started is not None else self._clock()
                status.finished = self._clock()

    def advance(self, name: str, units: int) -> None:
        """Count ``units`` more done for one target."""
        with self._lock:
            self._targets[name].done += units

    def warn(self, name: str, text: str) -> None:
        """Attach a warning to one target."""
        with self._lock:
            self._targets[name].warnings.append(text)

    def snapshot(self) -> list[TargetStatus]:
        """Copies of every status, safe to read while seeding goes on."""
        with self._lock:
            return [replace(s, warnings=list(s.warnings)) for s in self._targets.values()]

    def overall(self) -> Literal["seeding", "ready", "failed"]:
        """ready when every target is done or skipped; failed once all finished and one failed."""
        states = [s.state for s in self.snapshot()]
        if any(state not in FINISHED for state in states):
            return "seeding"
        return "failed" if "failed" in states else "ready"

    def report(self) -> dict[str, Any]:
        """The health endpoint's body: the overall status and one entry per target."""
        snapshot = self.snapshot()
        return {
            "status": self.overall(),
            "targets": {s.name: s.as_dict() for s in snapshot},
        }


@dataclass(frozen=True)
class Reporter:
    """What a seeder sees of the board: its own target only."""

    board: StatusBoard
    name: str

    def state(self, state: State, message: str = "") -> None:
        """Move to ``state`` with a message a user reads."""
        self.board.update(self.name, state=state, message=message)

    def total(self, total: int | None, unit: str) -> None:
        """Announce how many units the restore holds (None when unknown), and reset the count."""
        self.board.update(self.name, total=total, unit=unit, done=0)

    def advance(self, units: int) -> None:
        """Count units done."""
        self.board.advance(self.name, units)

    def warn(self, text: str) -> None:
        """Record a warning the user should read."""
        self.board.warn(self.name, text)
