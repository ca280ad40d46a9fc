"""A real MariaDB server on a free loopback port, for the seed tests; stopped by PID."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.binaries import require_binary
from tests.support.servers import free_port, stop_pid, wait_for_port


@dataclass
class MariadbServer:
    """A running mariadbd whose root user logs in over TCP without a password."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path

    @property
    def url(self) -> str:
        return f"mysql://root@{self.host}:{self.port}"

    def query(self, statements: str, database: str | None = None) -> str:
        """Run SQL through the mariadb client; return its tab-separated output."""
        argv = [
            "mariadb",
            "--no-defaults",
            "--protocol=TCP",
            *("-h", self.host, "-P", str(self.port), "-u", "root", "--batch"),
            "--skip-column-names",
            *([database] if database else []),
            "-e",
            statements,
        ]
        return subprocess.run(argv, capture_output=True, check=True, text=True).stdout

    def stop(self) -> None:
        stop_pid(self.process.pid, grace=20)
        self.process.wait(5)  # stop_pid reaped it; this tells Popen, which would warn otherwise
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_mariadb() -> MariadbServer:
    """mariadb-install-db into a temp dir, then mariadbd on 127.0.0.1 and a free port."""
    mariadbd = require_binary("mariadbd", "/usr/sbin")
    install = require_binary("mariadb-install-db")
    require_binary("mariadb")
    workdir = Path(tempfile.mkdtemp(prefix="homeport-mariadb-"))
    datadir = workdir / "data"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            f"--datadir={datadir}",
            "--skip-test-db",
            *as_root,
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = (workdir / "mariadbd.log").open("wb")
    process = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={workdir / 'sock'}",
            f"--pid-file={workdir / 'pid'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            "--innodb-flush-log-at-trx-commit=0",
            *as_root,
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    server = MariadbServer("127.0.0.1", port, process, workdir)
    try:
        wait_for_port(port, 30, process)
        _wait_for_query(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_query(server: MariadbServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            server.query("SELECT 1")
            return
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    raise TimeoutError("MariaDB listened but never answered a query")
