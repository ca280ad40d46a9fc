"""The example platform run by `homeport up --detach` in a scratch copy, with its dashboard."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from homeport.dashboard.store import TelemetryStore
from tests.support.binaries import POSTGRES_BIN_DIRS, require_binary
from tests.support.example import EXAMPLE, poll
from tests.support.orchestrator import kill_leftovers

LONDON = "81.2.69.142"  # a public address the bundled GeoLite2 City places in Great Britain


@dataclass
class RunningPlatform:
    """The example platform under `homeport up`: where it lives and how to reach it."""

    root: Path
    endpoints: dict[str, str]
    dashboard_url: str
    up_output: str

    @property
    def state_dir(self) -> Path:
        return self.root / ".homeport"

    @property
    def dashboard_base(self) -> str:
        return self.dashboard_url.split("/?t=")[0]

    def homeport(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the CLI in the platform's directory."""
        return subprocess.run(
            [sys.executable, "-m", "homeport", *args, "-f", str(self.root / "homeport.yaml")],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The spans of one trace as the dashboard stored them."""
        store = TelemetryStore(self.state_dir / "telemetry.db")
        try:
            return store.trace(trace_id)
        finally:
            store.close()


def new_traceparent() -> tuple[str, str, str]:
    """(traceparent header, trace id, span id) of a fresh sampled caller span."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def create_job(platform: RunningPlatform, title: str) -> tuple[str, str]:
    """POST /api/jobs through the gateway to the microservices, as a visitor from London;
    returns (trace id, the caller's span id)."""
    traceparent, trace_id, span_id = new_traceparent()
    response = httpx.post(
        f"{platform.endpoints['gateway']}/api/jobs",
        json={"title": title, "company_id": 3, "description": "Python, PostgreSQL and Redis"},
        headers={"x-mode": "microservices", "traceparent": traceparent, "X-Forwarded-For": LONDON},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-served-by"] == "jobs"
    return trace_id, span_id


CREATED_JOB_SPANS = frozenset(
    {"POST jobs", "POST /api/jobs", "INSERT jobs", "jobs.events publish", "XADD"}
    | {"jobs.events process", "UPDATE jobs", "XACK"}
)


def wait_for_spans(
    platform: RunningPlatform, trace_id: str, names: frozenset[str] = CREATED_JOB_SPANS
) -> list[dict[str, Any]]:
    """The trace's spans once every span named in ``names`` arrived (each process exports on
    its own schedule, and a parent ends, so is sent, after its children)."""

    def arrived() -> list[dict[str, Any]] | None:
        spans = platform.trace(trace_id)
        return spans if names <= {s["name"] for s in spans} else None

    return poll(arrived, 20, f"spans {sorted(names)} of trace {trace_id}")


@contextlib.contextmanager
def example_platform() -> Iterator[RunningPlatform]:
    """`homeport up --detach` on a copy of examples/jobboard; `homeport down` afterwards."""
    require_binary("initdb", *POSTGRES_BIN_DIRS)
    require_binary("redis-server")
    # Outside pytest's 0700 temp root: PostgreSQL runs as 'postgres' and must reach its data.
    root = Path(tempfile.mkdtemp(prefix="homeport-dashboard-"))
    root.chmod(0o755)
    shutil.copy(EXAMPLE / "homeport.yaml", root)
    for part in ("services", "seeds"):
        shutil.copytree(EXAMPLE / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    platform = RunningPlatform(root, {}, "", "")
    try:
        started = time.monotonic()
        done = platform.homeport("up", "--detach", timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        platform.up_output = done.stdout
        print(f"homeport up --detach: {time.monotonic() - started:.1f}s")
        info = json.loads((platform.state_dir / "dashboard.json").read_text())
        platform.dashboard_url = info["url"]
        services = json.loads((platform.state_dir / "endpoints.json").read_text())["services"]
        platform.endpoints = {name: e["url"] for name, e in services.items()}
        yield platform
    finally:
        platform.homeport("down", timeout=60)
        left = list(kill_leftovers(platform.state_dir))
        shutil.rmtree(root, ignore_errors=True)
        assert left == [], f"processes left behind: {left}"
