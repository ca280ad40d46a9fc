"""The distribution registry's own configuration, rendered for a storage directory and a port.

``homeport up`` runs ``kind: registry`` services with Debian's ``docker-registry serve CONFIG``;
``homeport registry gc`` re-renders the same file with writes off while it collects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


def render_config(
    storage: Path,
    port: int,
    *,
    delete_enabled: bool = True,
    readonly: bool = False,
    proxy_upstream: str | None = None,
    host: str = "127.0.0.1",
) -> str:
    """The ``config.yml`` of a registry serving ``storage`` on ``host:port``.

    ``readonly`` sets ``storage.maintenance.readonly`` (pushes are refused, pulls still work),
    the state garbage collection needs. ``proxy_upstream`` makes the instance a pull-through
    cache of that registry; its credentials, if any, belong in the environment
    (``REGISTRY_PROXY_USERNAME``/``REGISTRY_PROXY_PASSWORD``), never in this file.
    """
    return yaml.safe_dump(
        config_document(
            storage,
            port,
            delete_enabled=delete_enabled,
            readonly=readonly,
            proxy_upstream=proxy_upstream,
            host=host,
        ),
        sort_keys=False,
    )


def config_document(
    storage: Path,
    port: int,
    *,
    delete_enabled: bool = True,
    readonly: bool = False,
    proxy_upstream: str | None = None,
    host: str = "127.0.0.1",
) -> dict[str, Any]:
    """The same configuration as :func:`render_config`, as data."""
    document: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            # as in the registry:2 image: blob stats served from memory (gc restarts the
            # registry afterwards, so the cache never outlives a collection)
            "cache": {"blobdescriptor": "inmemory"},
            "delete": {"enabled": delete_enabled},
            "maintenance": {
                "readonly": {"enabled": readonly},
                # interrupted pushes leave partial uploads behind; purge them weekly
                # (never while read-only: the purger writes)
                "uploadpurging": {
                    "enabled": not readonly,
                    "age": "168h",
                    "interval": "24h",
                    "dryrun": False,
                },
            },
        },
        "http": {"addr": f"{host}:{port}"},
    }
    if proxy_upstream:
        document["proxy"] = {"remoteurl": proxy_upstream}
    return document


# Go's collector tuned for distribution 2.8: every request rebuilds the API router (regexps
# compiled anew, fixed upstream by distribution/distribution#3683, not in 2.8.x) and every blob
# read allocates a 4 MiB buffer, while the live heap stays at a few MiB, so the default GOGC=100
# collects every few requests. Measured here on 2,000 manifest + 1,560 config GETs: 7.5 s of
# registry CPU by default, 3.7 s with these settings; peak RSS 73 MB by default, 141 MB with.
GO_RUNTIME_DEFAULTS = {"GOGC": "off", "GOMEMLIMIT": "128MiB"}


def registry_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The environment to start ``docker-registry`` with: ``environment`` plus
    :data:`GO_RUNTIME_DEFAULTS`, unless the user set any Go collector variable already.

    ``GOGC=off`` with a ``GOMEMLIMIT`` collects when the heap reaches the limit instead of at
    twice the live heap; Go caps the collector at half the CPU should the live heap ever
    approach the limit, so the limit bounds memory without risking a stall.
    """
    merged = dict(environment)
    if not any(name in environment for name in GO_RUNTIME_DEFAULTS):
        merged.update(GO_RUNTIME_DEFAULTS)
    return merged


@dataclass(frozen=True)
class ManagedPaths:
    """Where a ``kind: registry`` service run by ``homeport up`` keeps its files.

    The launcher renders ``config`` at every start with
    ``readonly=paths.readonly_requested`` and stores blobs in ``storage``; ``homeport registry
    gc`` creates ``readonly_marker``, restarts the service through the control API, collects,
    then removes the marker and restarts it again.
    """

    home: Path
    config: Path
    storage: Path
    readonly_marker: Path

    @property
    def readonly_requested(self) -> bool:
        """Whether gc has asked for the next start to be read-only."""
        return self.readonly_marker.exists()


def managed_paths(state_dir: Path, service: str) -> ManagedPaths:
    """``<state_dir>/registry/<service>/{config.yml,storage,readonly}``."""
    home = state_dir / "registry" / service
    return ManagedPaths(home, home / "config.yml", home / "storage", home / "readonly")
