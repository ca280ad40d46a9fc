"""Pre-images, written before the first write of an apply, one JSON file per apply."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from homeport.reconcile.errors import ReconcileError


@dataclass(frozen=True)
class Journal:
    """``<state_dir>/journal/<subsystem>/<stamp>.json``: what an apply is about to change."""

    state_dir: Path
    subsystem: str

    @property
    def directory(self) -> Path:
        """Where this subsystem's journals live."""
        return self.state_dir / "journal" / self.subsystem

    def write(self, entry: dict[str, Any], now: datetime | None = None) -> Path:
        """Write ``entry`` atomically (0600) and return its path; raise before any write fails."""
        moment = now or datetime.now(UTC)
        path = self.directory / f"{moment.strftime('%Y%m%dT%H%M%S.%fZ')}.json"
        temporary = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"created_at": moment.isoformat(), **entry}, handle, indent=2)
            os.replace(temporary, path)
        except OSError as exc:
            raise ReconcileError(
                f"cannot write the apply journal {path}: {exc.strerror}; nothing was changed"
            ) from exc
        return path

    def entries(self) -> list[Path]:
        """Every journal of this subsystem, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    def read(self, path: Path) -> dict[str, Any]:
        """One journal's content."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReconcileError(f"cannot read the apply journal {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ReconcileError(f"the apply journal {path} is not a JSON object")
        return data
