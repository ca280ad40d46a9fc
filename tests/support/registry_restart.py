"""A registry's restart command, as an operator's ``systemctl restart`` would be, for e2e tests.

    python registry_restart.py PIDFILE CONFIG PORT

Stops the ``docker-registry`` whose PID is in PIDFILE (if any), waits until its port is closed,
starts ``docker-registry serve CONFIG`` detached, writes its PID, and waits until the port
answers. homeport's ``gc --restart-cmd`` runs this after editing CONFIG. Stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 15.0


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit(f"registry_restart: {what} within {TIMEOUT}s")


def main(pidfile: Path, config: Path, port: int) -> None:
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        wait(lambda: not port_open(port), "the old registry did not stop")
    with config.with_suffix(".log").open("ab") as log:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pidfile.write_text(str(process.pid))
    wait(lambda: port_open(port), "the registry did not listen")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
