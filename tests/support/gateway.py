"""Gateway test rigs: upstream servers, the Python gateway and nginx, each on loopback by PID."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from homeport.gateway.nginx import render_nginx
from homeport.model import load_platform
from tests.support.binaries import require_binary
from tests.support.servers import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]

PLATFORM = """\
name: conformance
services:
  jobs: {{run: "python -m jobs"}}
  companies: {{run: "python -m companies"}}
  admin: {{run: "python -m admin"}}
  monolith: {{run: "python -m monolith"}}
  landing: {{run: "python -m landing"}}
  gateway: {{kind: gateway}}
gateway:
  routes:
    - {{when: {{header: x-mode, equals: microservices}}, path: /api/jobs, to: jobs}}
    - {{when: {{header: x-mode, equals: microservices}}, path: /api/companies, to: companies}}
    - {{when: {{header: X-Version, regex: "^v[23]$"}}, path: /api/companies, to: companies}}
    - {{method: [DELETE, PUT], path: /api/admin, to: admin}}
    - {{host: admin.example.test, to: admin}}
    - {{path: /api/down, to: "http://127.0.0.1:{closed_port}", name: down}}
    - {{when: {{header: x-client, prefix: "mobile/"}}, path: /mobile, to: jobs, strip_prefix: true}}
    - {{path: /api, to: monolith}}
    - {{when: {{header: x-block, exists: false}}, to: landing}}
  cors: [https://jobs.elkhair.tech, "https://*.eelkhair.net"]
  trusted_proxies: [127.0.0.1/32]
  limits: {{max_body: {max_body}, connect_timeout: 1s, read_timeout: {read_timeout}}}
"""
SERVICES = ("jobs", "companies", "admin", "monolith", "landing")
MAX_BODY = 101_000_000


@dataclass
class Upstreams:
    """The upstream test servers: one process, one port per service."""

    process: subprocess.Popen[bytes]
    ports: dict[str, int]

    @property
    def options(self) -> list[str]:
        return [f"{name}=http://127.0.0.1:{port}" for name, port in self.ports.items()]

    def stop(self) -> None:
        stop_process(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """TERM a process we started, wait for it, KILL it after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace)


def start_upstreams(names: tuple[str, ...] = SERVICES) -> Upstreams:
    """Start tests/support/gateway_upstream.py and read the ports it listens on."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.gateway_upstream", *names],
        cwd=REPO,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        stop_process(process)
        process.stdout.close()
        raise RuntimeError("the upstream test servers exited before listening")
    return Upstreams(process, json.loads(line))


def write_platform(directory: Path, read_timeout: str = "1s", max_body: int = MAX_BODY) -> Path:
    """The conformance platform file, with a route to a port where nothing listens."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "homeport.yaml"
    text = PLATFORM.format(closed_port=free_port(), max_body=max_body, read_timeout=read_timeout)
    path.write_text(text)
    return path


@dataclass
class Plane:
    """A running data plane (the Python gateway or nginx) at ``url``."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process)


def start_python_gateway(
    platform: Path, upstreams: Upstreams, env: dict[str, str] | None = None
) -> Plane:
    """``python -m homeport gateway serve`` on a free port; waits until it listens."""
    port = free_port()
    log = platform.parent / f"gateway-{port}.log"
    options = [x for option in upstreams.options for x in ("--upstream", option)]
    command = [sys.executable, "-m", "homeport", "gateway", "serve", "-f", str(platform)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port), *options],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        wait_for_port(port, 20, process)
    except (RuntimeError, TimeoutError) as exc:
        stop_process(process)
        raise RuntimeError(f"{exc}: {log.read_text()}") from exc
    return Plane("python", f"http://127.0.0.1:{port}", process, log)


def start_nginx(platform: Path, upstreams: Upstreams, geo_url: str, workdir: Path) -> Plane:
    """Debian's nginx on the rendered configuration, every path under ``workdir``."""
    nginx = require_binary("nginx")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    endpoints = dict(option.split("=", 1) for option in upstreams.options)
    text = render_nginx(
        load_platform(platform), endpoints, geo_url=geo_url, listen=f"127.0.0.1:{port}", workers="1"
    )
    conf = workdir / "nginx.conf"
    conf.write_text(text)
    log = workdir / "error.log"
    directives = f"daemon off; pid {workdir}/nginx.pid;"
    process = subprocess.Popen(
        [nginx, "-p", str(workdir), "-c", str(conf), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 20, process)
    except (RuntimeError, TimeoutError) as exc:
        stop_process(process)
        raise RuntimeError(f"{exc}: {log.read_text() if log.exists() else ''}") from exc
    return Plane("nginx", f"http://127.0.0.1:{port}", process, log)


@dataclass
class RawResponse:
    """A response read off a raw socket."""

    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def raw_request(url: str, request: bytes, timeout: float = 10.0) -> RawResponse:
    """Send ``request`` as is (it should say Connection: close) and read the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
            if _complete(b"".join(chunks)):
                break
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in (headers.get("transfer-encoding") or [""])[0]:
        body = _dechunk(body)
    return RawResponse(int(lines[0].split()[1]), headers, body)


def _complete(raw: bytes) -> bool:
    """True once a response with a Content-Length has all of its body."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(body) >= int(value)
    return False


def _dechunk(body: bytes) -> bytes:
    out = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(out)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (nginx's workers)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(c) for c in text]
    return children
