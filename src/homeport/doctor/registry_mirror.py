"""The pull-through cache: what dockerd does with a mirror is narrower than people expect.

dockerd consults ``registry-mirrors`` only for Docker Hub images; an image named
``mcr.microsoft.com/...`` or ``ghcr.io/...`` is pulled from its own registry, mirror or not.
And a distribution registry running as a proxy (``proxy.remoteurl``) refuses every push.
"""

from __future__ import annotations

from collections.abc import Iterator

from homeport.doctor import Finding, check, finding
from homeport.model import LoadedPlatform
from homeport.registry.mirror import host_of, is_docker_hub

CHECK_ID = "registry-mirror"


def _mirrors(loaded: LoadedPlatform) -> Iterator[tuple[tuple[str | int, ...], str, str | None]]:
    """(where in the file, mirror name or URL, upstream if known) for every mirror declared."""
    registry = loaded.platform.registry
    if registry is not None and registry.mirror:
        yield ("registry", "mirror"), registry.mirror, None
    for name, service in loaded.platform.services.items():
        if service.kind == "registry" and service.mirror is not None:
            yield ("services", name, "mirror"), name, service.mirror.upstream


@check(CHECK_ID)
def mirror_limits(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Warn what a mirror cannot do: serve non-Docker-Hub images to dockerd, accept pushes."""
    for path, mirror, upstream in _mirrors(loaded):
        if upstream is not None and not is_docker_hub(upstream):
            message = (
                f"mirror '{mirror}' caches {upstream}, but dockerd uses registry-mirrors only "
                "for Docker Hub images, so app hosts never pull through it"
            )
            fix = (
                "mirror https://registry-1.docker.io, or reference this cache's images by its "
                "own host name"
            )
        else:
            message = (
                f"mirror {mirror}: dockerd uses registry-mirrors only for Docker Hub images "
                "(mcr.microsoft.com, ghcr.io... bypass it), and pushes to a pull-through cache fail"
            )
            fix = (
                "push to registry.url; print the app hosts' daemon.json with "
                "'homeport registry mirror-config'"
            )
        yield finding(loaded, path, severity="warning", check_id=CHECK_ID, message=message, fix=fix)
    yield from _pushes_to_mirror(loaded)


def _pushes_to_mirror(loaded: LoadedPlatform) -> Iterator[Finding]:
    registry = loaded.platform.registry
    if registry is None or not registry.mirror:
        return
    mirror_host = host_of(registry.mirror)
    if host_of(registry.url) == mirror_host:
        yield finding(
            loaded,
            ("registry", "url"),
            severity="warning",
            check_id=CHECK_ID,
            message=f"registry.url and registry.mirror are the same registry ({mirror_host}); "
            "a pull-through cache refuses pushes",
            fix="run the private registry and the cache as two instances on two ports",
        )
    for name, service in loaded.platform.services.items():
        if service.image and host_of(service.image) == mirror_host:
            yield finding(
                loaded,
                ("services", name, "image"),
                severity="warning",
                check_id=CHECK_ID,
                message=f"service {name}'s image is on the mirror {mirror_host}; CI pushes "
                "to a pull-through cache fail",
                fix="point the image at registry.url",
            )
