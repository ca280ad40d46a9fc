"""`homeport registry gc --service` against a registry that `homeport up` runs: the real
supervisor restarts it read-only through the control API, distribution collects, and the next
restart brings writes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.support.binaries import require_binary
from tests.support.orchestrator import (
    ctrl_c,
    homeport,
    kill_leftovers,
    up_in_foreground,
    write_platform,
)
from tests.support.registry import http_push, make_image, random_layer

from homeport.orchestrator.control_client import ControlClient
from homeport.registry.server import managed_paths


@pytest.fixture
def platform_dir(tmp_path: Path) -> Iterator[Path]:
    """A platform of one `kind: registry` service; nothing may outlive the test."""
    require_binary("docker-registry")
    write_platform(tmp_path, "registry: {kind: registry}")
    yield tmp_path
    left = list(kill_leftovers(tmp_path / ".homeport"))
    assert left == [], f"processes left behind: {left}"


NOW = datetime.now(UTC)


def _registry_url(state_dir: Path) -> str:
    with ControlClient.for_state_dir(state_dir) as supervisor:
        (registry,) = [r for r in supervisor.resources() if r["name"] == "registry"]
        return str(registry["url"]).rstrip("/")


def test_gc_of_the_registry_up_runs_frees_the_deleted_image_and_writes_come_back(
    platform_dir: Path,
) -> None:
    state_dir = platform_dir / ".homeport"
    process, seen = up_in_foreground(platform_dir, timeout=60)
    try:
        assert any("resources healthy in" in line for line in seen), seen
        url = _registry_url(state_dir)
        kept = make_image([random_layer(1, 40_000)], NOW)
        dropped = make_image([random_layer(2, 300_000)], NOW)
        with httpx.Client(base_url=url, timeout=30) as http:
            http_push(http, "web", "prod", kept)
            http_push(http, "web", "dev-old", dropped)
            gone = http.delete(f"/v2/web/manifests/{dropped.manifest.digest}")
            assert gone.status_code == 202, gone.text

        done = homeport(
            "registry", "gc", "--service", "registry", "-f", str(platform_dir), "--json"
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["verified_tags"] == 1
        assert report["bytes_freed"] >= dropped.layers[0].size  # its layer, at least
        storage = managed_paths(state_dir, "registry").storage
        layer = dropped.layers[0].digest.split(":")[1]
        assert not (storage / f"docker/registry/v2/blobs/sha256/{layer[:2]}/{layer}").exists()
        assert not managed_paths(state_dir, "registry").readonly_marker.exists()

        with ControlClient.for_state_dir(state_dir) as supervisor:
            (registry,) = [r for r in supervisor.resources() if r["name"] == "registry"]
        assert registry["restarts"] == 2  # read-only for the collection, then writable again
        with httpx.Client(base_url=_registry_url(state_dir), timeout=30) as http:
            manifest = http.get(
                "/v2/web/manifests/prod", headers={"Accept": kept.manifest.media_type}
            )
            assert manifest.status_code == 200
            http_push(http, "web", "after-gc", make_image([random_layer(3, 1_000)], NOW))
        log = homeport("logs", "registry", "--file", str(platform_dir), "-n", "1000")
        assert "starting read-only: homeport registry gc is collecting garbage" in log.stdout
    finally:
        ctrl_c(process, timeout=30)


def test_the_registry_up_runs_has_gos_collector_tuned(platform_dir: Path) -> None:
    state_dir = platform_dir / ".homeport"
    process, seen = up_in_foreground(platform_dir, timeout=60)
    try:
        assert any("resources healthy in" in line for line in seen), seen
        with ControlClient.for_state_dir(state_dir) as supervisor:
            (registry,) = [r for r in supervisor.resources() if r["name"] == "registry"]
        environ = Path(f"/proc/{registry['pid']}/environ").read_bytes().split(b"\0")
        assert b"GOGC=off" in environ and b"GOMEMLIMIT=128MiB" in environ
    finally:
        ctrl_c(process, timeout=30)
