"""A real distribution registry (Debian's ``docker-registry``) and OCI images built in Python.

The images are OCI layouts written here byte by byte (small random tar layers, configs with
``created`` times, two-platform indexes), so every size and digest is known; ``skopeo`` pushes
them to the registry the way a CI job would.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from homeport.registry.server import render_config
from tests.support.binaries import require_binary
from tests.support.servers import free_port, stop_pid, wait_for_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    """The OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def random_layer(seed: int, size: int) -> bytes:
    """A gzipped tar holding one file of ``size`` pseudo-random bytes (deterministic per seed).

    Compressed already, so skopeo pushes it as it is (it gzips uncompressed layers itself).
    """
    payload = random.Random(seed).randbytes(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(f"layer-{seed}.bin")
        info.size = size
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    return gzip.compress(buffer.getvalue(), mtime=0)


@dataclass
class Blob:
    """Bytes with their media type and digest."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: object) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


@dataclass
class Image:
    """One single-platform image: its manifest, config and layers."""

    manifest: Blob
    config: Blob
    layers: list[Blob]

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> list[Blob]:
        return [self.manifest, self.config, *self.layers]


@dataclass
class Index:
    """A multi-platform image index and its child images."""

    manifest: Blob
    children: list[Image]

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> list[Blob]:
        return [self.manifest, *(b for child in self.children for b in child.blobs)]


def make_image(
    layers: Sequence[bytes], created: datetime, *, arch: str = "amd64", label: str = ""
) -> Image:
    """A single-platform OCI image made of ``layers``, created at ``created``."""
    layer_blobs = [Blob(OCI_LAYER, data) for data in layers]
    config = {
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "architecture": arch,
        "os": "linux",
        "config": {"Labels": {"homeport.test": label}} if label else {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(gzip.decompress(d)) for d in layers]},
    }
    config_blob = Blob(OCI_CONFIG, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [b.descriptor() for b in layer_blobs],
    }
    return Image(
        Blob(OCI_MANIFEST, json.dumps(manifest, separators=(",", ":")).encode()),
        config_blob,
        layer_blobs,
    )


def make_index(children: Sequence[Image]) -> Index:
    """An OCI image index over ``children`` (linux/amd64, linux/arm64... from their configs)."""
    entries = []
    for child in children:
        arch = json.loads(child.config.data)["architecture"]
        entries.append(child.manifest.descriptor(platform={"architecture": arch, "os": "linux"}))
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    return Index(Blob(OCI_INDEX, json.dumps(body, separators=(",", ":")).encode()), list(children))


def write_layout(directory: Path, tagged: dict[str, Image | Index]) -> Path:
    """Write an OCI image layout holding every image of ``tagged`` under its tag name."""
    blobs_dir = directory / "blobs" / "sha256"
    blobs_dir.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    entries = []
    for tag, image in tagged.items():
        for blob in image.blobs:
            path = blobs_dir / blob.digest.removeprefix("sha256:")
            if not path.exists():
                path.write_bytes(blob.data)
        entries.append(
            image.manifest.descriptor(annotations={"org.opencontainers.image.ref.name": tag})
        )
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": entries}))
    return directory


def skopeo_push(layout: Path, tag: str, destination: str, *, all_platforms: bool = False) -> None:
    """``skopeo copy oci:LAYOUT:TAG docker://DESTINATION`` to a plain-HTTP registry."""
    skopeo = require_binary("skopeo")
    command = [skopeo, "copy", "--quiet", "--dest-tls-verify=false"]
    if all_platforms:
        command.append("--all")
    command += [f"oci:{layout}:{tag}", f"docker://{destination}"]
    _run(command)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")


def skopeo_pull(source: str, layout: Path, *, all_platforms: bool = False) -> None:
    """``skopeo copy docker://SOURCE oci:LAYOUT:pulled``: fails unless every blob is served."""
    skopeo = require_binary("skopeo")
    command = [skopeo, "copy", "--quiet", "--src-tls-verify=false"]
    if all_platforms:
        command.append("--all")
    command += [f"docker://{source}", f"oci:{layout}:pulled"]
    _run(command)


def http_push(client: httpx.Client, repository: str, tag: str, image: Image | Index) -> None:
    """Push ``image`` through the distribution API directly (faster than skopeo for bulk)."""
    children = image.children if isinstance(image, Index) else [image]
    for child in children:
        for blob in [child.config, *child.layers]:
            _upload_blob(client, repository, blob)
        _put_manifest(client, repository, child.digest, child.manifest)
    if isinstance(image, Index):
        _put_manifest(client, repository, tag, image.manifest)
    else:
        _put_manifest(client, repository, tag, image.manifest)


def _upload_blob(client: httpx.Client, repository: str, blob: Blob) -> None:
    if client.head(f"/v2/{repository}/blobs/{blob.digest}").status_code == 200:
        return
    started = client.post(f"/v2/{repository}/blobs/uploads/")
    started.raise_for_status()
    location = started.headers["location"]
    separator = "&" if "?" in location else "?"
    done = client.put(
        f"{location}{separator}digest={blob.digest}",
        content=blob.data,
        headers={"content-type": "application/octet-stream"},
    )
    done.raise_for_status()


def _put_manifest(client: httpx.Client, repository: str, reference: str, blob: Blob) -> None:
    response = client.put(
        f"/v2/{repository}/manifests/{reference}",
        content=blob.data,
        headers={"content-type": blob.media_type},
    )
    response.raise_for_status()


@dataclass
class RegistryProcess:
    """A running ``docker-registry serve``; ``restart(readonly=...)`` keeps port and storage."""

    port: int
    storage: Path
    config: Path
    proxy_upstream: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, readonly: bool = False) -> None:
        """Write the config and start serving; returns once /v2/ answers."""
        binary = require_binary("docker-registry")
        self.config.write_text(
            render_config(
                self.storage,
                self.port,
                delete_enabled=True,
                readonly=readonly,
                proxy_upstream=self.proxy_upstream,
            )
        )
        self.log = self.config.with_suffix(".log")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "serve", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(self.port, 15, self.process)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v2/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"registry on {self.url} never answered /v2/")

    def stop(self) -> None:
        """Stop the process (TERM, then KILL after 10 s) and reap it."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def restart(self, readonly: bool) -> None:
        """Stop, rewrite the config with writes on or off, start again on the same port."""
        self.stop()
        self.start(readonly=readonly)


def start_registry(workdir: Path, *, proxy_upstream: str | None = None) -> RegistryProcess:
    """A fresh registry with its storage and config under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    registry = RegistryProcess(
        port=free_port(),
        storage=workdir / "storage",
        config=workdir / "config.yml",
        proxy_upstream=proxy_upstream,
    )
    registry.start()
    return registry


def retag(registry_url: str, repository: str, source: str, tag: str) -> str:
    """Point ``tag`` at the manifest ``source`` names (what ``crane tag`` does); its digest."""
    with httpx.Client(base_url=registry_url, timeout=10) as client:
        got = client.get(
            f"/v2/{repository}/manifests/{source}",
            headers={"accept": f"{OCI_MANIFEST}, {OCI_INDEX}"},
        )
        got.raise_for_status()
        put = client.put(
            f"/v2/{repository}/manifests/{tag}",
            content=got.content,
            headers={"content-type": got.headers["content-type"]},
        )
        put.raise_for_status()
        return str(got.headers["docker-content-digest"])


@dataclass
class Scenario:
    """The jobboard's images: per-environment tags, shared layers, two indexes.

    With dev keep 2, prod keep 1, grace 24h, moving dev/prod and D1 in use, the retention that
    is right deletes exactly D3 (dev-b3 and prod-b3), the old index X (prod-x9, whole) and
    P_single (prod-s7); dev-e0 stays because release-1, a tag in no group, shares its digest.
    """

    images: dict[str, Image | Index]
    tags: dict[str, str]  # tag -> image name

    def image_of(self, tag: str) -> Image | Index:
        return self.images[self.tags[tag]]

    def digest_of(self, tag: str) -> str:
        return self.image_of(tag).digest

    def layout(self, directory: Path) -> Path:
        return write_layout(directory, {tag: self.image_of(tag) for tag in self.tags})

    def blob_sizes(self, names: Sequence[str]) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for name in names:
            for blob in self.images[name].blobs:
                sizes[blob.digest] = blob.size
        return sizes


DELETED_TAGS = {"dev-b3", "prod-b3", "prod-x9", "prod-s7"}
DELETED_IMAGES = ("D3", "X", "P_single")
KEPT_IMAGES = ("D0", "D1", "D2", "D4", "DF", "P_idx")


def jobboard_scenario(now: datetime) -> Scenario:
    """Build the scenario's images, created relative to ``now``."""

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    base = random_layer(1, 64_000)  # every image's base layer
    shared = random_layer(2, 24_000)  # D3 and D4 share it
    images: dict[str, Image | Index] = {
        "D0": make_image([base, random_layer(10, 11_000)], ago(10), label="D0"),
        "D1": make_image([base, random_layer(11, 12_000)], ago(9), label="D1"),
        "D2": make_image([base, random_layer(12, 13_000)], ago(8), label="D2"),
        "D3": make_image([base, shared, random_layer(13, 14_000)], ago(7), label="D3"),
        "D4": make_image([base, shared, random_layer(14, 15_000)], ago(6), label="D4"),
        "DF": make_image([base, random_layer(15, 16_000)], ago(1 / 24), label="DF"),
        "X": make_index(
            [
                make_image([base, random_layer(20, 17_000)], ago(15), label="X"),
                make_image([random_layer(21, 40_000)], ago(15), arch="arm64", label="X"),
            ]
        ),
        "P_idx": make_index(
            [
                make_image([base, random_layer(30, 18_000)], ago(4), label="P"),
                make_image([random_layer(31, 41_000)], ago(4), arch="arm64", label="P"),
            ]
        ),
        "P_single": make_image([base, random_layer(40, 19_000)], ago(20), label="Ps"),
    }
    tags = {
        "dev-e0": "D0",
        "release-1": "D0",
        "dev-d1": "D1",
        "dev-c2": "D2",
        "dev": "D2",
        "dev-b3": "D3",
        "prod-b3": "D3",
        "dev-a4": "D4",
        "dev-ff": "DF",
        "prod-x9": "X",
        "prod-p5": "P_idx",
        "prod": "P_idx",
        "prod-s7": "P_single",
    }
    return Scenario(images, tags)


def push_scenario(
    scenario: Scenario, layout: Path, registry: RegistryProcess, repository: str
) -> None:
    """Push every tag of the scenario with skopeo (indexes with ``--all``).

    One tag per image first, one at a time: distribution 2.8 can answer 500 when two uploads of
    the same blob race; then the other tags, whose blobs are all there already, in parallel.
    """

    def push(tag: str) -> None:
        image = scenario.image_of(tag)
        skopeo_push(
            layout,
            tag,
            f"{registry.address}/{repository}:{tag}",
            all_platforms=isinstance(image, Index),
        )

    first = {name: tag for tag, name in reversed(list(scenario.tags.items()))}
    for tag in first.values():
        push(tag)
    rest = [tag for tag in scenario.tags if tag not in first.values()]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(push, rest))


@contextmanager
def registry_with(directory: Path, adjust: Callable[[dict[str, Any]], None]) -> Iterator[int]:
    """Debian's docker-registry on render_config's configuration as changed by ``adjust`` (auth,
    TLS...), storing under ``directory``; yields its port and stops it by PID afterwards."""
    binary = require_binary("docker-registry")
    port = free_port()
    config = yaml.safe_load(render_config(directory / "storage", port))
    adjust(config)
    (directory / "config.yml").write_text(yaml.safe_dump(config))
    with (directory / "registry.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", str(directory / "config.yml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, 15, process)
        yield port
    finally:
        stop_pid(process.pid)
        process.wait(5)
