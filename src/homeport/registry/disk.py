"""The registry's storage on local disk: usage, free space, blob bytes; and the disk alert."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from homeport.registry.errors import RegistryError

BLOBS = Path("docker/registry/v2/blobs")


@dataclass(frozen=True)
class DiskUsage:
    """The filesystem holding the storage (total/used/free) and the registry's own bytes."""

    path: str
    total: int
    used: int
    free: int
    registry_bytes: int

    @property
    def percent(self) -> float:
        """How full the filesystem is, in percent (what ``df`` shows)."""
        return 100.0 * self.used / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "path": self.path,
            "total": self.total,
            "used": self.used,
            "free": self.free,
            "percent": round(self.percent, 1),
            "registry_bytes": self.registry_bytes,
        }


def disk_usage(storage: Path) -> DiskUsage:
    """Usage of the filesystem under ``storage`` and the bytes the registry's files take."""
    if not storage.is_dir():
        raise RegistryError(
            f"registry storage {storage} is not a directory; give --storage (or --config) "
            "as seen from this machine"
        )
    usage = shutil.disk_usage(storage)
    return DiskUsage(str(storage), usage.total, usage.used, usage.free, tree_bytes(storage))


def tree_bytes(root: Path) -> int:
    """The sum of the sizes of every file under ``root`` (apparent sizes, like ``du -b``)."""
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except FileNotFoundError:  # removed while walking
                continue
    return total


def blob_bytes(storage: Path) -> int:
    """Bytes of every blob the storage holds: what garbage collection can free."""
    return tree_bytes(storage / BLOBS)


def storage_from_config(config: Path) -> Path:
    """The filesystem root directory a distribution ``config.yml`` stores into."""
    try:
        document: Any = yaml.safe_load(config.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"cannot read the registry config {config}: {exc}") from exc
    try:
        return Path(document["storage"]["filesystem"]["rootdirectory"])
    except (KeyError, TypeError):
        raise RegistryError(
            f"{config}: no storage.filesystem.rootdirectory; homeport can only measure and "
            "collect a registry stored on a local filesystem (give --storage if it is one)"
        ) from None


def over_threshold(usage: DiskUsage, threshold: float) -> bool:
    """True when the filesystem is at least ``threshold`` percent full."""
    return usage.percent >= threshold


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    """POST ``payload`` as JSON to ``url`` (a chat or alerting webhook); raise if refused."""
    try:
        response = httpx.post(url, json=payload, timeout=timeout)
    except httpx.HTTPError as exc:
        raise RegistryError(f"the alert webhook {url} did not answer: {exc}") from exc
    if response.status_code >= 300:
        raise RegistryError(f"the alert webhook {url} answered {response.status_code}")
