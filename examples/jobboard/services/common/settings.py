"""Everything a service reads from its environment, read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_STREAM = "jobs.events"


@dataclass(frozen=True)
class Settings:
    """A service's settings: where it listens, who it is, what it connects to."""

    service: str
    host: str
    port: int
    database_url: str | None
    redis_url: str | None
    api_url: str | None
    stream: str

    @classmethod
    def from_env(cls, default_service: str) -> Settings:
        """Read PORT, HOST, HOMEPORT_SERVICE, DATABASE_URL, REDIS_URL, API_URL, JOBS_STREAM."""
        port = os.environ.get("PORT", "8000")
        if not port.isdigit():
            raise SystemExit(f"PORT must be a number, got {port!r}")
        return cls(
            service=os.environ.get("HOMEPORT_SERVICE") or default_service,
            host=os.environ.get("HOST") or "127.0.0.1",
            port=int(port),
            database_url=os.environ.get("DATABASE_URL") or None,
            redis_url=os.environ.get("REDIS_URL") or None,
            api_url=(os.environ.get("API_URL") or "").rstrip("/") or None,
            stream=os.environ.get("JOBS_STREAM") or DEFAULT_STREAM,
        )

    def require(self, name: str, value: str | None) -> str:
        """The value of a required setting, or exit with a line naming it."""
        if not value:
            raise SystemExit(f"{self.service}: {name} is not set; the service needs it")
        return value
