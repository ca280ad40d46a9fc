"""`homeport gateway` as a user runs it: render nginx (accepted by nginx -t), clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.support.binaries import require_binary
from tests.support.gateway import REPO, start_upstreams, stop_process, write_platform
from tests.support.servers import free_port, wait_for_port

HOMEPORT = [sys.executable, "-m", "homeport", "gateway"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOMEPORT, *args], capture_output=True, text=True, cwd=REPO, check=False, env=env
    )


def test_render_nginx_writes_a_config_nginx_accepts(tmp_path: Path) -> None:
    nginx = require_binary("nginx")
    platform = write_platform(tmp_path)
    endpoints = {
        name: {"host": "127.0.0.1", "port": 9000 + i, "url": f"http://127.0.0.1:{9000 + i}"}
        for i, name in enumerate(["jobs", "companies", "admin", "monolith", "landing"])
    }

    env = {**os.environ, "HOMEPORT_ENDPOINTS": json.dumps(endpoints)}
    out = tmp_path / "nginx" / "nginx.conf"
    out.parent.mkdir()
    done = run(
        "render", "nginx", "-f", str(platform), "-o", str(out), "--listen", "127.0.0.1:1", env=env
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stderr
    assert "map $http_x_mode" in out.read_text()
    checked = subprocess.run(
        [nginx, "-t", "-p", str(out.parent), "-c", str(out), "-g", f"pid {out.parent}/nginx.pid;"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_serve_waits_for_services_that_start_later(tmp_path: Path) -> None:
    """`homeport up` may start a service after the gateway: its routes answer 502, then work."""
    platform = write_platform(tmp_path)
    upstreams = start_upstreams(("jobs", "companies", "admin", "monolith", "landing"))
    state = tmp_path / "state"
    state.mkdir()
    known = {k: {"url": f"http://127.0.0.1:{p}"} for k, p in upstreams.ports.items()}
    landing = known.pop("landing")
    port = free_port()
    gateway = subprocess.Popen(
        [*HOMEPORT, "serve", "-f", str(platform), "--port", str(port)],
        cwd=REPO,
        env={
            **os.environ,
            "HOMEPORT_ENDPOINTS": json.dumps(known),
            "HOMEPORT_STATE_DIR": str(state),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 30, gateway)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            waiting = client.get("/about")
            assert waiting.status_code == 502
            assert waiting.json() == {"error": "upstream unavailable", "route": "landing"}
            assert client.get("/api/echo").headers["x-served-by"] == "monolith"
            (state / "endpoints.json").write_text(json.dumps({"services": {"landing": landing}}))
            deadline = time.monotonic() + 5
            status = 502
            while status == 502 and time.monotonic() < deadline:
                time.sleep(0.1)
                status = client.get("/about").status_code
            assert status == 200
    finally:
        stop_process(gateway)
        upstreams.stop()
    assert gateway.stderr is not None
    stderr = gateway.stderr.read()
    gateway.stderr.close()
    assert "service 'landing' is not running yet" in stderr


def test_serve_without_a_gateway_section(tmp_path: Path) -> None:
    platform = tmp_path / "homeport.yaml"
    platform.write_text("name: bare\n")
    done = run("serve", "-f", str(platform))
    assert done.returncode == 1
    assert "has no 'gateway:' section" in done.stderr


def test_serve_the_example_platform_through_homeport_endpoints() -> None:
    """As `homeport up` runs it: services found through HOMEPORT_ENDPOINTS, x-mode routing."""
    upstreams = start_upstreams(("jobs", "companies", "monolith", "landing"))
    port = free_port()
    endpoints = {
        name: {"host": "127.0.0.1", "port": p, "url": f"http://127.0.0.1:{p}"}
        for name, p in upstreams.ports.items()
    }
    command = [*HOMEPORT, "serve", "-f", str(REPO / "examples" / "jobboard" / "homeport.yaml")]
    gateway = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "HOMEPORT_ENDPOINTS": json.dumps(endpoints)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 30, gateway)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            micro = client.get("/api/jobs", headers={"x-mode": "microservices"})
            assert micro.headers["x-served-by"] == "jobs"
            assert client.get("/api/jobs").headers["x-served-by"] == "monolith"
            assert client.get("/").headers["x-served-by"] == "landing"
            assert client.get("/healthz").status_code == 200
    finally:
        stop_process(gateway)
        if gateway.stderr is not None:
            gateway.stderr.close()
        upstreams.stop()
