"""A real distribution registry (Debian's ``docker-registry``) and OCI images built in Python.

The images are OCI layouts written here byte by byte (small random tar layers, configs with
``created`` times, two-platform indexes), so every size and digest is known; ``skopeo`` pushes
them to the registry the way a CI job would.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from homeport.registry.server import render_config
from tests.support.binaries import require_binary
from tests.support.servers import free_port, stop_pid, wait_for_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha256(data: bytes) -> str:
    """The OCI digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def random_layer(seed: int, size: int) -> bytes:
    """A tar holding one file of ``size`` pseudo-random bytes (deterministic per seed)."""
    payload = random.Random(seed).randbytes(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(f"layer-{seed}.bin")
        info.size = size
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


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
        "rootfs": {"type": "layers", "diff_ids": [b.digest for b in layer_blobs]},
    }
    config_blob = Blob(OCI_CONFIG, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [b.descriptor() for b in layer_blobs],
    }
    return Image(Blob(OCI_MANIFEST, json.dumps(manifest).encode()), config_blob, layer_blobs)


def make_index(children: Sequence[Image]) -> Index:
    """An OCI image index over ``children`` (linux/amd64, linux/arm64... from their configs)."""
    entries = []
    for child in children:
        arch = json.loads(child.config.data)["architecture"]
        entries.append(child.manifest.descriptor(platform={"architecture": arch, "os": "linux"}))
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    return Index(Blob(OCI_INDEX, json.dumps(body).encode()), list(children))


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
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def skopeo_pull(source: str, layout: Path, *, all_platforms: bool = False) -> None:
    """``skopeo copy docker://SOURCE oci:LAYOUT:pulled``: fails unless every blob is served."""
    skopeo = require_binary("skopeo")
    command = [skopeo, "copy", "--quiet", "--src-tls-verify=false"]
    if all_platforms:
        command.append("--all")
    command += [f"docker://{source}", f"oci:{layout}:pulled"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


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
        """Stop the process by PID."""
        if self.process is not None:
            stop_pid(self.process.pid)
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
