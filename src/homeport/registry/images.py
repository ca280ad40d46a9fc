"""What homeport knows about a registry's content: tags, manifests, blobs. Plain values.

A manifest digest names the same bytes in every repository, so images are keyed by digest alone;
which repository holds which tag is in :class:`RepositoryTags`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$")
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = (
    OCI_INDEX,
    DOCKER_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    DOCKER_SCHEMA1_SIGNED,
    DOCKER_SCHEMA1,
)


@dataclass(frozen=True, order=True)
class BlobRef:
    """A blob a manifest references: its digest and size in bytes."""

    digest: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """One stored manifest: an image (config + layers) or an index (child manifests)."""

    digest: str
    media_type: str
    size: int
    config: BlobRef | None = None
    layers: tuple[BlobRef, ...] = ()
    children: tuple[BlobRef, ...] = ()
    created: datetime | None = None
    platform: str | None = None

    @property
    def is_index(self) -> bool:
        """True for an OCI image index or a Docker manifest list."""
        return self.media_type in INDEX_TYPES

    @property
    def blobs(self) -> tuple[BlobRef, ...]:
        """The blobs this manifest references directly (config and layers)."""
        return ((self.config,) if self.config else ()) + self.layers


@dataclass(frozen=True)
class RepositoryTags:
    """One repository's tags and the manifest digest each points to."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inventory:
    """A registry's content as read at one moment: tags per repository, manifests by digest."""

    repositories: tuple[RepositoryTags, ...]
    manifests: dict[str, Manifest]

    def closure(self, digest: str) -> list[Manifest]:
        """The manifest and, for an index, its children that the registry holds."""
        top = self.manifests.get(digest)
        if top is None:
            return []
        found = [top]
        for child in top.children:
            if child.digest in self.manifests:
                found.append(self.manifests[child.digest])
        return found

    def blob_sizes(self, digest: str) -> dict[str, int]:
        """Every blob that pulling ``digest`` needs, manifests included, with its size."""
        sizes: dict[str, int] = {}
        for manifest in self.closure(digest):
            sizes[manifest.digest] = manifest.size
            for blob in manifest.blobs:
                sizes[blob.digest] = blob.size
        return sizes


def parse_manifest(digest: str, media_type: str, body: bytes) -> Manifest:
    """Read a manifest's references from its bytes, whatever the (known) media type."""
    document: dict[str, Any] = json.loads(body)
    declared = document.get("mediaType")
    if isinstance(declared, str) and declared:
        media_type = declared
    elif "manifests" in document:
        media_type = OCI_INDEX
    if media_type in INDEX_TYPES or "manifests" in document:
        children = tuple(
            BlobRef(str(m["digest"]), int(m.get("size", 0))) for m in document["manifests"]
        )
        return Manifest(digest, media_type, len(body), children=children)
    if document.get("schemaVersion") == 1:
        layers = tuple(BlobRef(str(fs["blobSum"]), 0) for fs in document.get("fsLayers", []))
        return Manifest(digest, DOCKER_SCHEMA1_SIGNED, len(body), layers=layers)
    config = document.get("config") or {}
    return Manifest(
        digest,
        media_type or OCI_MANIFEST,
        len(body),
        config=BlobRef(str(config["digest"]), int(config.get("size", 0))) if config else None,
        layers=tuple(
            BlobRef(str(layer["digest"]), int(layer.get("size", 0)))
            for layer in document.get("layers", [])
        ),
    )


def parse_created(config_body: bytes) -> datetime | None:
    """The image's creation time from its config blob, or None when it has none."""
    try:
        created = json.loads(config_body).get("created")
    except (ValueError, AttributeError):
        return None
    if not isinstance(created, str) or not created:
        return None
    return parse_timestamp(created)


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 time as written by Go (nanoseconds, ``Z``), or None if unreadable."""
    match = _RFC3339.match(text.strip())
    if match is None:
        return None
    head, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    micro = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
    try:
        return datetime.fromisoformat(f"{head}{micro}{zone}")
    except ValueError:
        return None
