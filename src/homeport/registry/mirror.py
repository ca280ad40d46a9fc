"""The pull-through cache: the Docker daemon's side of it, and what users get wrong about it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

DOCKER_HUB_HOSTS = frozenset(
    {"registry-1.docker.io", "docker.io", "index.docker.io", "registry.hub.docker.com"}
)


def is_docker_hub(url: str) -> bool:
    """True when ``url`` is Docker Hub's registry, the only one dockerd's mirrors apply to."""
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    return host in DOCKER_HUB_HOSTS


def daemon_json(mirror_url: str) -> dict[str, Any]:
    """The ``/etc/docker/daemon.json`` fragment that makes an app host pull through the mirror.

    A plain-HTTP mirror must also be listed under ``insecure-registries`` or dockerd refuses it.
    """
    fragment: dict[str, Any] = {"registry-mirrors": [mirror_url.rstrip("/")]}
    parts = urlsplit(mirror_url)
    if parts.scheme == "http" and parts.netloc:
        fragment["insecure-registries"] = [parts.netloc]
    return fragment


def host_of(url_or_image: str) -> str:
    """The ``host[:port]`` of a registry URL or of an image reference."""
    if "://" in url_or_image:
        return urlsplit(url_or_image).netloc
    first = url_or_image.split("/", 1)[0]
    return first if ("." in first or ":" in first or first == "localhost") else "docker.io"
