"""Real PostgreSQL and Redis servers on free loopback ports, started and stopped by PID.

These are test fixtures' engines, written straight from DESIGN.md's recipes; they do not use
homeport's own orchestrator, so that the orchestrator's tests are not testing it with itself.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.binaries import POSTGRES_BIN_DIRS, require_binary

UNPRIVILEGED_USER = "postgres"


def free_port() -> int:
    """A port the OS says is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll until 127.0.0.1:port accepts a connection, or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode} before listening on {port}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def stop_pid(pid: int, grace: float = 10.0) -> None:
    """TERM the process, wait up to ``grace`` seconds, then KILL it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = pid if not _alive(pid) else 0
        if finished:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class PostgresServer:
    """A running PostgreSQL cluster; ``url`` has no database name (append ``/dbname``)."""

    host: str
    port: int
    user: str
    datadir: Path
    process: subprocess.Popen[bytes]
    bindir: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}"

    def dsn(self, database: str = "postgres") -> str:
        return f"{self.url}/{database}"

    def stop(self) -> None:
        stop_pid(self.process.pid)
        self.process.wait(5)  # stop_pid reaped it; this tells Popen, which would warn otherwise


def start_postgres(workdir: Path | None = None) -> PostgresServer:
    """initdb and start PostgreSQL as an unprivileged user on a free loopback port."""
    initdb = require_binary("initdb", *POSTGRES_BIN_DIRS)
    bindir = os.path.dirname(os.path.realpath(initdb))
    postgres = os.path.join(bindir, "postgres")
    base = Path(workdir or tempfile.mkdtemp(prefix="homeport-pg-"))
    datadir = base / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        _ensure_user(UNPRIVILEGED_USER)
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        base.mkdir(parents=True, exist_ok=True)
        os.chown(base, user.pw_uid, user.pw_gid)
        os.chmod(base, 0o755)
        run_as = ["runuser", "-u", UNPRIVILEGED_USER, "--"]
    subprocess.run(
        [*run_as, initdb, "-D", str(datadir), "--auth=trust", "-U", "postgres", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            *run_as,
            postgres,
            "-D",
            str(datadir),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={base}",
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = PostgresServer("127.0.0.1", port, "postgres", datadir, process, bindir)
    _wait_for_query(server)
    return server


def _wait_for_query(server: PostgresServer, timeout: float = 30.0) -> None:
    psql = os.path.join(server.bindir, "psql")
    psql = psql if os.path.exists(psql) else "psql"
    deadline = time.monotonic() + timeout
    wait_for_port(server.port, timeout, server.process)
    while time.monotonic() < deadline:
        done = subprocess.run(
            [psql, server.dsn(), "-Atc", "select 1"], capture_output=True, check=False
        )
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise TimeoutError("PostgreSQL listened but never answered a query")


def _ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )


@dataclass
class RedisServer:
    """A running Redis server with no persistence."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    def stop(self) -> None:
        stop_pid(self.process.pid)
        self.process.wait(5)  # stop_pid reaped it; this tells Popen, which would warn otherwise
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis() -> RedisServer:
    """redis-server on a free loopback port, persisting nothing."""
    binary = require_binary("redis-server")
    workdir = Path(tempfile.mkdtemp(prefix="homeport-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for_port(port, 15, process)
    return RedisServer("127.0.0.1", port, process, workdir)
