"""Running the example platform's services (examples/jobboard/services) as real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.support.binaries import POSTGRES_BIN_DIRS, require_binary
from tests.support.servers import free_port, stop_pid, wait_for_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobboard"
SEEDS = EXAMPLE / "seeds"
T = TypeVar("T")


def restore_jobs_dump(dsn: str) -> None:
    """Restore seeds/jobs.dump into ``dsn`` the way the README tells users to."""
    pg_restore = require_binary("pg_restore", *POSTGRES_BIN_DIRS)
    subprocess.run(
        [pg_restore, "--no-owner", "-d", dsn, str(SEEDS / "jobs.dump")],
        check=True,
        capture_output=True,
    )


@dataclass
class Service:
    """One example service running as a subprocess on a loopback port."""

    module: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_service(module: str, env: dict[str, str], log_dir: Path) -> Service:
    """``python -m services.<module>`` from examples/jobboard, listening on a free port."""
    port = free_port()
    log = log_dir / f"{module}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{module}"],
            cwd=EXAMPLE,
            env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(module, port, process, log)
    try:
        wait_for_port(port, 20, process)
    except (RuntimeError, TimeoutError) as exc:
        stop_pid(process.pid)
        process.wait(5)
        raise AssertionError(f"{module} did not start: {exc}\n{service.output()}") from exc
    return service


@contextmanager
def running(module: str, env: dict[str, str], log_dir: Path) -> Iterator[Service]:
    """A started service, stopped by PID when the block ends."""
    service = start_service(module, env, log_dir)
    try:
        yield service
    finally:
        stop_pid(service.process.pid)
        service.process.wait(5)  # already reaped by stop_pid; records it on the Popen


def poll(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call ``probe`` until it returns something other than None, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def send_inline_commands(path: Path, host: str, port: int) -> list[bytes]:
    """Send every non-comment line of a commands file to Redis verbatim (the inline protocol);
    returns the first line of each reply."""
    lines = [
        line
        for line in path.read_text(encoding="ascii").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    replies: list[bytes] = []
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"".join(line.encode() + b"\r\n" for line in lines))
        buffer = b""
        while len(replies) < len(lines):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            *complete, buffer = buffer.split(b"\r\n")
            replies.extend(complete)
    return replies
