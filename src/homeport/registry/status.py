"""``homeport registry status`` as a value: repositories, tags per environment group, sizes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from homeport.registry.disk import DiskUsage
from homeport.registry.images import Inventory
from homeport.registry.retention import RetentionPolicy

MOVING = "moving"
UNGROUPED = "other"


@dataclass(frozen=True)
class TagStatus:
    """One tag: the digest it points to and the image's creation time."""

    tag: str
    digest: str
    created: str | None


@dataclass(frozen=True)
class RepositoryStatus:
    """One repository: its tags by group, distinct images, and unique blob bytes."""

    name: str
    groups: dict[str, list[TagStatus]]
    images: int
    unique_bytes: int


@dataclass(frozen=True)
class RegistryStatus:
    """The whole registry; ``unique_bytes`` counts a layer shared by many images once."""

    url: str
    repositories: list[RepositoryStatus]
    tags: int
    images: int
    unique_bytes: int
    disk: DiskUsage | None = None
    alert_threshold: float | None = None
    alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "url": self.url,
            "tags": self.tags,
            "images": self.images,
            "unique_bytes": self.unique_bytes,
            "repositories": [
                {
                    "name": r.name,
                    "images": r.images,
                    "unique_bytes": r.unique_bytes,
                    "groups": {g: [vars(t) for t in tags] for g, tags in sorted(r.groups.items())},
                }
                for r in self.repositories
            ],
            "disk": self.disk.as_dict() if self.disk else None,
            "alert_threshold": self.alert_threshold,
            "alerts": self.alerts,
        }


def summarize(
    url: str, inventory: Inventory, policy: RetentionPolicy, disk: DiskUsage | None = None
) -> RegistryStatus:
    """Group every tag by environment and add up the bytes each repository really holds."""
    repositories: list[RepositoryStatus] = []
    all_blobs: dict[str, int] = {}
    for repository in inventory.repositories:
        groups: dict[str, list[TagStatus]] = defaultdict(list)
        blobs: dict[str, int] = {}
        for tag, digest in repository.tags.items():
            group = policy.group_of(tag)
            name = MOVING if tag in policy.moving_tags else (group.name if group else UNGROUPED)
            manifest = inventory.manifests.get(digest)
            created = manifest.created.isoformat() if manifest and manifest.created else None
            groups[name].append(TagStatus(tag, digest, created))
            blobs.update(inventory.blob_sizes(digest))
        all_blobs.update(blobs)
        repositories.append(
            RepositoryStatus(
                repository.name,
                dict(groups),
                len(set(repository.tags.values())),
                sum(blobs.values()),
            )
        )
    return RegistryStatus(
        url=url,
        repositories=repositories,
        tags=sum(len(r.tags) for r in inventory.repositories),
        images=len({d for r in inventory.repositories for d in r.tags.values()}),
        unique_bytes=sum(all_blobs.values()),
        disk=disk,
    )


def with_alert(status: RegistryStatus, threshold: float) -> RegistryStatus:
    """The status with an alert line when its storage is at least ``threshold`` percent full."""
    alerts: list[str] = []
    if status.disk is not None and status.disk.percent >= threshold:
        alerts.append(
            f"registry storage {status.disk.path} is {status.disk.percent:.1f}% full "
            f"(threshold {threshold:g}%, {human_bytes(status.disk.free)} free)"
        )
    return RegistryStatus(
        status.url,
        status.repositories,
        status.tags,
        status.images,
        status.unique_bytes,
        status.disk,
        threshold,
        alerts,
    )


def human_bytes(count: int) -> str:
    """``1234567`` -> ``1.2 MB`` (decimal units, like ``df -H``)."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
