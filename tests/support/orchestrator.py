"""Platforms of tiny Python services for the orchestrator's tests, and ways to run them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

from homeport.model import LoadedPlatform, load_platform
from homeport.orchestrator.process import is_same_process
from homeport.orchestrator.session import Session, UpOptions
from homeport.orchestrator.supervisor import Hub

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
HOMEPORT = [sys.executable, "-m", "homeport"]

SERVICE = textwrap.dedent(
    """
    import http.server, json, os, signal, socket, sys, time
    mode = os.environ.get("MODE", "http")
    name = os.environ["HOMEPORT_SERVICE"]
    print(f"booting {name} on {os.environ['PORT']}", flush=True)
    if os.environ.get("DUMP_ENV"):
        with open(os.environ["DUMP_ENV"], "w") as handle:
            json.dump(dict(os.environ), handle)
    if os.environ.get("IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(float(os.environ.get("DELAY", "0")))
    if mode == "crash":
        print("crashing now", file=sys.stderr, flush=True)
        sys.exit(int(os.environ.get("CODE", "3")))
    if mode == "oneshot":
        print("step done", flush=True)
        sys.exit(int(os.environ.get("CODE", "0")))
    if mode == "sleep":
        print("ready to work", flush=True)
        while True:
            time.sleep(3600)
    status = 500 if mode == "unhealthy" else 200
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.end_headers()
            self.wfile.write(name.encode())
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    print("listening", flush=True)
    server.serve_forever()
    """
)


def write_platform(directory: Path, services_yaml: str, name: str = "demo") -> LoadedPlatform:
    """A platform file whose services run ``svc.py`` (the tiny service above) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "svc.py").write_text(SERVICE)
    body = textwrap.indent(textwrap.dedent(services_yaml).strip(), "  ")
    (directory / "homeport.yaml").write_text(f"name: {name}\nservices:\n{body}\n")
    return load_platform(directory / "homeport.yaml")


def run_session(
    loaded: LoadedPlatform,
    body: Callable[[Hub, Session], Awaitable[T]],
    options: UpOptions | None = None,
    timeout: float = 60.0,
) -> T:
    """Open a session, run ``body`` against it, and always close it (everything stopped)."""

    async def main() -> T:
        session = Session(loaded, options or UpOptions())
        try:
            hub = await session.open()
            async with asyncio.timeout(timeout):
                return await body(hub, session)
        finally:
            await session.close()

    return asyncio.run(main())


def processes_of(state_dir: Path) -> list[int]:
    """PIDs of live processes whose environment names this state dir (what homeport started)."""
    marker = f"HOMEPORT_STATE_DIR={state_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def wait_until(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def homeport(
    *args: str, cwd: Path | None = None, timeout: float = 90.0
) -> subprocess.CompletedProcess[str]:
    """Run the homeport CLI as a user would; never raises on a non-zero exit."""
    return subprocess.run(
        [*HOMEPORT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        check=False,
    )


def kill_leftovers(state_dir: Path) -> Iterator[int]:
    """KILL whatever a failed test left (so one failure does not leak into the next).

    The supervisor named in pids.json is stopped too (its environment does not name the state
    dir), but not counted: a test that ran ``down`` leaves no pids.json behind.
    """
    try:
        supervisor = json.loads((state_dir / "pids.json").read_text())["supervisor"]
        pid, started = int(supervisor["pid"]), supervisor.get("start_time")
    except (OSError, ValueError, KeyError, TypeError):
        pid, started = 0, None
    if pid and pid != os.getpid() and is_same_process(pid, started):
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    for pid in processes_of(state_dir):
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
        yield pid


def up_in_foreground(platform: Path, timeout: float) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``homeport up -f platform`` and read its output until the all-healthy line, a
    failure, or ``timeout``; returns the running process and the lines seen."""
    process = subprocess.Popen(
        [*HOMEPORT, "up", "-f", str(platform)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if not line or "resources healthy in" in line or "failed:" in line:
            break
    return process, seen


def ctrl_c(process: subprocess.Popen[str], timeout: float) -> tuple[str, float]:
    """Press Ctrl-C on a foreground ``homeport up``: the rest of its output and how many seconds
    it took to exit."""
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=timeout)
    return rest, time.monotonic() - began
