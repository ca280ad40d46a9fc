"""Read a registry's content through the client: one manifest request per tag, one config
fetch per distinct image, in parallel.

A GET of a manifest by tag returns the digest (``Docker-Content-Digest``) and the body in the same
round trip a HEAD would take, so tags never cost two requests; a manifest is immutable under its
digest, so each distinct config is fetched once however many tags or repositories share it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from homeport.registry.client import RegistryClient
from homeport.registry.images import Inventory, Manifest, RepositoryTags, parse_created

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_WORKERS = 8


def parallel_map(
    function: Callable[[T], R], items: Iterable[T], workers: int = DEFAULT_WORKERS
) -> list[R]:
    """``[function(item) for item in items]``, computed by ``workers`` threads, in order."""
    listed = list(items)
    if len(listed) <= 1:
        return [function(item) for item in listed]
    with ThreadPoolExecutor(max_workers=min(workers, len(listed))) as pool:
        return list(pool.map(function, listed))


def read_inventory(
    client: RegistryClient,
    repositories: Sequence[str] | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
) -> Inventory:
    """Every tag of every repository (or of ``repositories``), resolved to parsed manifests
    whose ``created`` comes from the image config (for an index, its newest child)."""
    names = sorted(repositories if repositories is not None else client.repositories())
    tag_lists = parallel_map(client.tags, names, workers)
    pairs = [(repo, tag) for repo, tags in zip(names, tag_lists, strict=True) for tag in tags]
    resolved = parallel_map(lambda pair: client.get_manifest(*pair), pairs, workers)
    manifests: dict[str, Manifest] = {}
    where: dict[str, str] = {}
    tags: dict[str, dict[str, str]] = {name: {} for name in names}
    for (repo, tag), manifest in zip(pairs, resolved, strict=True):
        if manifest is None:  # deleted between the listing and the GET
            continue
        tags[repo][tag] = manifest.digest
        manifests.setdefault(manifest.digest, manifest)
        where.setdefault(manifest.digest, repo)
    _read_children(client, manifests, where, workers)
    _read_created(client, manifests, where, workers)
    return Inventory(
        repositories=tuple(
            RepositoryTags(name, dict(sorted(tags[name].items()))) for name in names
        ),
        manifests=manifests,
    )


def _read_children(
    client: RegistryClient, manifests: dict[str, Manifest], where: dict[str, str], workers: int
) -> None:
    wanted: dict[str, str] = {}
    for manifest in list(manifests.values()):
        for ref in manifest.children:
            if ref.digest not in manifests:
                wanted.setdefault(ref.digest, where[manifest.digest])
    fetched = parallel_map(
        lambda item: client.get_manifest(item[1], item[0]), wanted.items(), workers
    )
    for (digest, repo), child in zip(wanted.items(), fetched, strict=True):
        if child is not None:
            manifests[digest] = child
            where[digest] = repo


def _read_created(
    client: RegistryClient, manifests: dict[str, Manifest], where: dict[str, str], workers: int
) -> None:
    configs: dict[str, str] = {}
    for manifest in manifests.values():
        if manifest.config is not None:
            configs.setdefault(manifest.config.digest, where[manifest.digest])
    bodies = parallel_map(lambda item: client.get_blob(item[1], item[0]), configs.items(), workers)
    created = {digest: parse_created(body) for digest, body in zip(configs, bodies, strict=True)}
    for digest, manifest in list(manifests.items()):
        if manifest.config is not None:
            manifests[digest] = dataclasses.replace(
                manifest, created=created[manifest.config.digest]
            )
    for digest, manifest in list(manifests.items()):
        if manifest.is_index:
            times = [
                manifests[c.digest].created
                for c in manifest.children
                if c.digest in manifests and manifests[c.digest].created is not None
            ]
            newest = max((t for t in times if t is not None), default=None)
            manifests[digest] = dataclasses.replace(manifest, created=newest)
