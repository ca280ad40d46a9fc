"""Read a registry's content through the client, in parallel, fetching as little as possible.

Cold (no cache): one manifest GET per tag, which returns the digest (``Docker-Content-Digest``)
and the body in the round trip a HEAD would take, then one config fetch per distinct image.
Warm (a :class:`ManifestCache` from an earlier run): one manifest HEAD per tag, then a GET only
for the manifests and configs pushed since. A digest names immutable bytes, so this is exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from homeport.registry.cache import ManifestCache
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
    cache: ManifestCache | None = None,
    workers: int = DEFAULT_WORKERS,
) -> Inventory:
    """Every tag of every repository (or of ``repositories``), resolved to parsed manifests
    whose ``created`` comes from the image config (for an index, its newest child).

    ``cache`` is read and filled; saving it is the caller's choice.
    """
    cache = cache if cache is not None else ManifestCache()
    names = sorted(repositories if repositories is not None else client.repositories())
    tag_lists = parallel_map(client.tags, names, workers)
    pairs = [(repo, tag) for repo, tags in zip(names, tag_lists, strict=True) for tag in tags]
    fresh: dict[str, Manifest] = {}
    where: dict[str, str] = {}
    if len(cache):
        digests = _head_tags(client, pairs, workers)
    else:
        digests = _get_tags(client, pairs, workers, fresh)
    tags: dict[str, dict[str, str]] = {name: {} for name in names}
    for (repo, tag), digest in zip(pairs, digests, strict=True):
        if digest is not None:  # None: deleted between the listing and now
            tags[repo][tag] = digest
            where.setdefault(digest, repo)
    missing = {d: r for d, r in where.items() if d not in fresh and cache.get(d) is None}
    _fetch(client, missing, fresh, where, workers)
    _read_children(client, fresh, cache, where, workers)
    _read_created(client, fresh, cache, where, workers)
    for manifest in fresh.values():
        cache.put(manifest)
    manifests: dict[str, Manifest] = {}
    for digest in where:
        known = cache.get(digest)
        if known is not None:
            manifests[digest] = known
    return Inventory(
        repositories=tuple(
            RepositoryTags(name, dict(sorted(tags[name].items()))) for name in names
        ),
        manifests=manifests,
    )


def _head_tags(
    client: RegistryClient, pairs: list[tuple[str, str]], workers: int
) -> list[str | None]:
    heads = parallel_map(lambda pair: client.head_manifest(*pair), pairs, workers)
    return [ref.digest if ref else None for ref in heads]


def _get_tags(
    client: RegistryClient, pairs: list[tuple[str, str]], workers: int, fresh: dict[str, Manifest]
) -> list[str | None]:
    got = parallel_map(lambda pair: client.get_manifest(*pair), pairs, workers)
    for manifest in got:
        if manifest is not None:
            fresh.setdefault(manifest.digest, manifest)
    return [manifest.digest if manifest else None for manifest in got]


def _fetch(
    client: RegistryClient,
    wanted: dict[str, str],
    fresh: dict[str, Manifest],
    where: dict[str, str],
    workers: int,
) -> None:
    """GET manifests by digest (digest -> repository holding it) into ``fresh``."""
    items = sorted(wanted.items())
    got = parallel_map(lambda item: client.get_manifest(item[1], item[0]), items, workers)
    for (digest, repo), manifest in zip(items, got, strict=True):
        if manifest is not None:
            fresh[digest] = manifest
            where.setdefault(digest, repo)


def _read_children(
    client: RegistryClient,
    fresh: dict[str, Manifest],
    cache: ManifestCache,
    where: dict[str, str],
    workers: int,
) -> None:
    """Note where every index's children live, and GET those neither fetched nor cached."""
    wanted: dict[str, str] = {}
    for digest in list(where):
        index = fresh.get(digest) or cache.get(digest)
        for ref in index.children if index else ():
            where.setdefault(ref.digest, where[digest])
            if ref.digest not in fresh and cache.get(ref.digest) is None:
                wanted.setdefault(ref.digest, where[digest])
    _fetch(client, wanted, fresh, where, workers)


def _read_created(
    client: RegistryClient,
    fresh: dict[str, Manifest],
    cache: ManifestCache,
    where: dict[str, str],
    workers: int,
) -> None:
    configs: dict[str, str] = {}
    for manifest in fresh.values():
        if manifest.config is not None:
            configs.setdefault(manifest.config.digest, where[manifest.digest])
    items = sorted(configs.items())
    bodies = parallel_map(lambda item: client.get_blob(item[1], item[0]), items, workers)
    created = {digest: parse_created(body) for (digest, _), body in zip(items, bodies, strict=True)}
    for digest, manifest in list(fresh.items()):
        if manifest.config is not None:
            fresh[digest] = dataclasses.replace(manifest, created=created[manifest.config.digest])
    for digest, manifest in list(fresh.items()):
        if manifest.is_index:
            times = []
            for ref in manifest.children:
                child = fresh.get(ref.digest) or cache.get(ref.digest)
                if child is not None and child.created is not None:
                    times.append(child.created)
            fresh[digest] = dataclasses.replace(manifest, created=max(times, default=None))
