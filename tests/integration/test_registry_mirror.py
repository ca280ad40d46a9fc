"""The pull-through cache: a second docker-registry with proxy.remoteurl (render_config)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.registry import (
    RegistryProcess,
    make_image,
    random_layer,
    skopeo_pull,
    skopeo_push,
    start_registry,
    write_layout,
)

from homeport.registry.client import RegistryClient


def wait_until_stored(registry: RegistryProcess, digests: list[str], timeout: float = 15) -> None:
    blobs = registry.storage / "docker/registry/v2/blobs/sha256"
    paths = [blobs / d[7:9] / d[7:] / "data" for d in digests]
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the mirror did not store {digests} within {timeout}s")
        time.sleep(0.02)


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[RegistryProcess]:
    server = start_registry(tmp_path / "upstream")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mirror(tmp_path: Path, upstream: RegistryProcess) -> Iterator[RegistryProcess]:
    server = start_registry(tmp_path / "mirror", proxy_upstream=upstream.url)
    try:
        yield server
    finally:
        server.stop()


def test_the_mirror_serves_an_image_it_pulled_once_after_its_upstream_stops(
    upstream: RegistryProcess, mirror: RegistryProcess, tmp_path: Path
) -> None:
    image = make_image([random_layer(50, 40_000), random_layer(51, 9_000)], datetime.now(UTC))
    layout = write_layout(tmp_path / "layout", {"1.0": image})
    skopeo_push(layout, "1.0", f"{upstream.address}/library/app:1.0")

    skopeo_pull(f"{mirror.address}/library/app:1.0", tmp_path / "first")
    # the proxy streams a blob to the client while it stores it: wait until the cache has it all
    wait_until_stored(mirror, [b.digest for b in image.blobs])
    upstream.stop()
    skopeo_pull(f"{mirror.address}/library/app:1.0", tmp_path / "second")

    pulled = {p.name for p in (tmp_path / "second" / "blobs" / "sha256").iterdir()}
    assert {b.digest.removeprefix("sha256:") for b in image.blobs} <= pulled
    with RegistryClient(mirror.url) as client:
        assert client.head_manifest("library/app", "1.0") is not None


def test_a_push_to_the_mirror_fails(mirror: RegistryProcess, tmp_path: Path) -> None:
    image = make_image([random_layer(52, 1_000)], datetime.now(UTC))
    layout = write_layout(tmp_path / "layout", {"x": image})
    with pytest.raises(RuntimeError, match=r"(?i)unsupported|405|not allowed"):
        skopeo_push(layout, "x", f"{mirror.address}/team/app:x")
    with RegistryClient(mirror.url) as client:
        assert not client.writable()
