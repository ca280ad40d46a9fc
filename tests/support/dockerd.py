"""A private dockerd for the tests (DESIGN.md's recipe), and a busybox image imported into it.

No iptables, no bridge, host networking only; the image comes from ``docker import`` of a rootfs
holding Debian's busybox-static, never from a pull.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.support.binaries import require_binary
from tests.support.servers import stop_pid

IMAGE = "homeport-test/busybox:1"


@dataclass
class Dockerd:
    """A running dockerd: its socket (use as DOCKER_HOST) and the test image."""

    host: str
    image: str
    process: subprocess.Popen[bytes]
    root: Path

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this daemon."""
        return subprocess.run(
            ["docker", "-H", self.host, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def stop(self) -> None:
        """Remove every container, stop the daemon by PID, unmount and delete its directories."""
        left = self.docker("ps", "-aq").stdout.split()
        if left:
            self.docker("rm", "-f", *left)
        stop_pid(self.process.pid, grace=20)
        self.process.wait(timeout=10)  # already reaped: this only records it
        for mount in reversed(Path("/proc/mounts").read_text().splitlines()):
            target = mount.split()[1]
            if target.startswith(str(self.root)):
                subprocess.run(["umount", "-l", target], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dockerd() -> Dockerd:
    """Start dockerd on a private socket and import the busybox image; raise if it cannot run."""
    dockerd = require_binary("dockerd")
    require_binary("docker")
    busybox = require_binary("busybox")
    root = Path(tempfile.mkdtemp(prefix="hp-dockerd-"))
    sock = root / "docker.sock"
    with (root / "dockerd.log").open("wb") as log:
        process = _popen(dockerd, root, sock, log)
    daemon = Dockerd(f"unix://{sock}", IMAGE, process, root)
    deadline = time.monotonic() + 60
    while daemon.docker("version", "--format", "{{.Server.Version}}").returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = (root / "dockerd.log").read_text(errors="replace")[-2000:]
            daemon.stop()
            raise RuntimeError(f"dockerd did not start: {tail}")
        time.sleep(0.2)
    tarball = root / "rootfs.tar"
    with tarfile.open(tarball, "w") as archive:
        archive.add(os.path.realpath(busybox), arcname="bin/busybox")
    imported = daemon.docker("import", str(tarball), IMAGE)
    if imported.returncode != 0:
        daemon.stop()
        raise RuntimeError(f"docker import failed: {imported.stderr}")
    return daemon


def _popen(dockerd: str, root: Path, sock: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            dockerd,
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "dockerd.pid"),
            "-H",
            f"unix://{sock}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
