"""The registry's storage: without deletes and GC, blobs pile up until pushes fail."""

from __future__ import annotations

from collections.abc import Iterator

from homeport.doctor import Finding, check, finding
from homeport.model import LoadedPlatform


@check("registry-deletes-disabled")
def registry_allows_deletes(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Retention can only untag images when the registry accepts DELETE."""
    registry = loaded.platform.registry
    if registry is None or registry.delete_enabled:
        return
    explicit = ("registry", "delete_enabled")
    yield finding(
        loaded,
        explicit if explicit in loaded.source.keys else ("registry",),
        key=True,
        severity="warning",
        check_id="registry-deletes-disabled",
        message="the registry does not allow deletes, so retention cannot remove old images "
        "and its storage only grows",
        fix="set registry.delete_enabled: true (storage.delete.enabled in its config.yml)",
    )


@check("registry-gc-missing")
def registry_collects_garbage(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Deleting a tag frees nothing until garbage collection removes the blobs."""
    registry = loaded.platform.registry
    if registry is None or (registry.gc is not None and registry.gc.enabled):
        return
    where = ("registry", "gc") if registry.gc is not None else ("registry",)
    yield finding(
        loaded,
        where,
        key=True,
        severity="warning",
        check_id="registry-gc-missing",
        message="the registry has no garbage collection, so deleted images keep their blobs "
        "until the disk fills and pushes fail",
        fix="add registry.gc: {enabled: true, schedule: '0 4 * * 0'}",
    )
