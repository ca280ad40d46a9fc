"""`homeport registry` as a user runs it, against a real docker-registry it did not start.

The registry is run the way an operator's service manager would run it: gc gets a
``--restart-cmd`` (tests/support/registry_restart.py) and toggles read-only in its config.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.binaries import require_binary
from tests.support.registry import http_push, make_image, random_layer
from tests.support.servers import free_port

from homeport.registry.server import render_config

REPO_ROOT = Path(__file__).resolve().parents[2]
RESTART = REPO_ROOT / "tests" / "support" / "registry_restart.py"
EXAMPLE = REPO_ROOT / "examples" / "jobboard" / "homeport.yaml"


@dataclass
class ManagedRegistry:
    url: str
    port: int
    config: Path
    storage: Path
    pidfile: Path

    @property
    def restart_cmd(self) -> str:
        return f"{sys.executable} {RESTART} {self.pidfile} {self.config} {self.port}"


@pytest.fixture
def managed(tmp_path: Path) -> Iterator[ManagedRegistry]:
    require_binary("docker-registry")
    port = free_port()
    registry = ManagedRegistry(
        f"http://127.0.0.1:{port}",
        port,
        tmp_path / "config.yml",
        tmp_path / "storage",
        tmp_path / "registry.pid",
    )
    registry.config.write_text(render_config(registry.storage, port))
    subprocess.run(["sh", "-c", registry.restart_cmd], check=True, timeout=30)
    try:
        yield registry
    finally:
        pid = int(registry.pidfile.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def homeport(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeport", "registry", *args],
        cwd=cwd,
        env={**os.environ, "XDG_CACHE_HOME": str(cwd / "cache"), **(env or {})},
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def push_images(url: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = random_layer(60, 30_000)
    images = {
        f"dev-{i}": make_image([base, random_layer(61 + i, 8_000 + i)], now - timedelta(days=5 - i))
        for i in range(1, 4)
    }
    with httpx.Client(base_url=url, timeout=10) as client:
        for tag, image in images.items():
            http_push(client, "jobboard/api", tag, image)
        http_push(client, "jobboard/api", "dev", images["dev-3"])
        http_push(client, "jobboard/web", "prod-1", make_image([base], now))
    return images


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_status_over_the_threshold_exits_non_zero_and_posts_the_webhook(
    managed: ManagedRegistry, webhook: str, tmp_path: Path
) -> None:
    images = push_images(managed.url)
    done = homeport(
        "status",
        "--url",
        managed.url,
        "--config",
        str(managed.config),
        "--group",
        "dev",
        "--group",
        "prod",
        "--alert",
        "1%",
        "--webhook",
        webhook,
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "ALERT: registry storage" in done.stderr and "(threshold 1%" in done.stderr
    status = json.loads(done.stdout)
    api = next(r for r in status["repositories"] if r["name"] == "jobboard/api")
    assert sorted(t["tag"] for t in api["groups"]["dev"]) == ["dev-1", "dev-2", "dev-3"]
    assert [t["tag"] for t in api["groups"]["moving"]] == ["dev"]
    assert status["disk"]["percent"] >= 1
    (posted,) = Hook.received
    assert posted["text"].startswith("registry storage") and posted["alerts"]

    calm = homeport(
        "status",
        "--url",
        managed.url,
        "--storage",
        str(managed.storage),
        "--alert",
        "100%",
        "--digests",
        cwd=tmp_path,
    )
    assert calm.returncode == 0, calm.stderr
    assert "2 repositories, 5 tags, 4 images" in calm.stdout
    dev3 = next(line for line in calm.stdout.splitlines() if " dev-3 " in line)
    assert images["dev-3"].digest[:19] in dev3


def test_plan_apply_and_gc_with_a_restart_command(managed: ManagedRegistry, tmp_path: Path) -> None:
    images = push_images(managed.url)
    policy = ["--group", "dev:1", "--grace", "1h", "--moving", "dev"]
    plan = homeport(
        "plan",
        "--url",
        managed.url,
        *policy,
        "--exit-code",
        "--out",
        str(tmp_path / "plan.json"),
        cwd=tmp_path,
    )
    assert plan.returncode == 2, plan.stderr
    assert "Plan: delete 2 images (2 tags), keep 3 tags" in plan.stdout
    assert f"jobboard/api@{images['dev-1'].digest[:19]}" in plan.stdout

    applied = homeport(
        "apply", "--url", managed.url, "--plan", str(tmp_path / "plan.json"), cwd=tmp_path
    )
    assert applied.returncode == 0, applied.stderr
    assert "Applied: 2 deleted, 0 skipped" in applied.stdout

    original = managed.config.read_bytes()
    gc = homeport(
        "gc",
        "--url",
        managed.url,
        "--config",
        str(managed.config),
        "--restart-cmd",
        managed.restart_cmd,
        "--delete-untagged",
        "--json",
        cwd=tmp_path,
    )
    assert gc.returncode == 0, gc.stderr
    report = json.loads(gc.stdout)
    freed = json.loads((tmp_path / "plan.json").read_text())["bytes_freed"]
    assert report["delete_untagged"] is True  # no index here, so -m is safe
    assert abs(report["bytes_freed"] - freed) <= 0.05 * freed
    assert report["verified_tags"] == 3
    assert managed.config.read_bytes() == original  # read-only was switched off again
    started = httpx.post(f"{managed.url}/v2/jobboard/api/blobs/uploads/")
    assert started.status_code == 202  # writable again


def test_gc_without_a_way_to_go_read_only_refuses(managed: ManagedRegistry, tmp_path: Path) -> None:
    done = homeport("gc", "--url", managed.url, "--config", str(managed.config), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("gc must make the registry read-only while it collects")
    assert "Traceback" not in done.stderr


def test_mirror_config_prints_the_daemon_json_fragment(tmp_path: Path) -> None:
    done = homeport("mirror-config", "-f", str(EXAMPLE), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "registry-mirrors": ["http://192.168.1.151:5001"],
        "insecure-registries": ["192.168.1.151:5001"],
    }


def test_without_a_file_or_url_the_error_says_what_to_give(tmp_path: Path) -> None:
    done = homeport("plan", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "no registry to talk to: give -f FILE (with a registry: section) or --url URL"
    )
    unreachable = homeport("status", "--url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path)
    assert unreachable.returncode == 1
    assert "did not answer" in unreachable.stderr and "Traceback" not in unreachable.stderr
