"""Manifests by digest, kept between runs: a digest names immutable bytes, so what a manifest
references and when its image was created never change and never need fetching twice.

With a warm cache, reading a registry costs one manifest HEAD per tag, plus a GET of each
manifest and config pushed since the last run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from homeport.registry.images import BlobRef, Manifest, parse_timestamp

FORMAT = 1


class ManifestCache:
    """A digest -> Manifest map, loaded from and saved to one JSON file (or memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[str, Manifest] = {}
        if path is not None and path.exists():
            self._entries = _load(path)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> Manifest | None:
        """The manifest stored under ``digest``, creation time included, or None."""
        return self._entries.get(digest)

    def put(self, manifest: Manifest) -> None:
        """Remember ``manifest`` (its creation time already resolved)."""
        self._entries[manifest.digest] = manifest

    def save(self) -> None:
        """Write the cache atomically (no-op for a memory-only cache)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "manifests": [_dump(m) for m in self._entries.values()]}
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_text(json.dumps(data, separators=(",", ":")))
        temporary.replace(self.path)


def default_cache_path(url: str) -> Path:
    """``$XDG_CACHE_HOME/homeport/registry/<host_port>.json`` for the registry at ``url``."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    host = urlsplit(url).netloc.replace(":", "_") or "registry"
    return base / "homeport" / "registry" / f"{host}.json"


def _dump(manifest: Manifest) -> dict[str, Any]:
    return {
        "d": manifest.digest,
        "t": manifest.media_type,
        "s": manifest.size,
        "c": [manifest.config.digest, manifest.config.size] if manifest.config else None,
        "l": [[b.digest, b.size] for b in manifest.layers],
        "m": [[b.digest, b.size] for b in manifest.children],
        "at": manifest.created.isoformat() if manifest.created else None,
    }


def _load(path: Path) -> dict[str, Manifest]:
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            return {}
        entries = {}
        for item in data["manifests"]:
            manifest = Manifest(
                digest=item["d"],
                media_type=item["t"],
                size=int(item["s"]),
                config=BlobRef(item["c"][0], int(item["c"][1])) if item["c"] else None,
                layers=tuple(BlobRef(d, int(s)) for d, s in item["l"]),
                children=tuple(BlobRef(d, int(s)) for d, s in item["m"]),
                created=parse_timestamp(item["at"]) if item["at"] else None,
            )
            entries[manifest.digest] = manifest
        return entries
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return {}  # a cache is only a shortcut: unreadable means empty
