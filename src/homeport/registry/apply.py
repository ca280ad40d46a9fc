"""Carry out a retention plan: delete by digest, re-resolving the tags first, skipping moved ones.

Between ``plan`` and ``apply`` a CI job may push: a tag the plan deletes may now point elsewhere,
or a kept tag (``prod`` promoted) may now point to a digest the plan deletes. Deleting by digest
would then take the new tag with it, so each repository's tags are resolved again (HEAD) just
before its deletions, and a deletion whose digest's tags changed in any way is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from homeport.registry.client import RegistryClient
from homeport.registry.images import INDEX_TYPES
from homeport.registry.retention import Deletion, RetentionPlan
from homeport.registry.scan import DEFAULT_WORKERS, parallel_map


@dataclass(frozen=True)
class Outcome:
    """What happened to one planned deletion."""

    repository: str
    digest: str
    tags: tuple[str, ...]
    deleted: bool
    detail: str


def apply_plan(
    client: RegistryClient, plan: RetentionPlan, *, workers: int = DEFAULT_WORKERS
) -> list[Outcome]:
    """Delete what ``plan`` deletes, except where the registry changed since; one Outcome each."""
    by_repository: dict[str, list[Deletion]] = defaultdict(list)
    for deletion in plan.deletions:
        by_repository[deletion.repository].append(deletion)
    outcomes: list[Outcome] = []
    for repository, deletions in sorted(by_repository.items()):
        current, children = _resolve_now(client, repository, workers)
        for deletion in deletions:
            reason = _changed(deletion, current, children)
            if reason:
                outcomes.append(_outcome(deletion, False, f"skipped: {reason}"))
                continue
            gone = not client.delete_manifest(repository, deletion.digest)
            for child in deletion.children:
                client.delete_manifest(repository, child)
            outcomes.append(_outcome(deletion, True, "already gone" if gone else "deleted"))
    return outcomes


def _outcome(deletion: Deletion, deleted: bool, detail: str) -> Outcome:
    return Outcome(deletion.repository, deletion.digest, deletion.tags, deleted, detail)


def _resolve_now(
    client: RegistryClient, repository: str, workers: int
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Every tag's digest now, and the children of every index a tag points to now."""
    tags = client.tags(repository)
    heads = parallel_map(lambda tag: client.head_manifest(repository, tag), tags, workers)
    current = {tag: ref.digest for tag, ref in zip(tags, heads, strict=True) if ref is not None}
    indexes = {ref.digest for ref in heads if ref is not None and ref.media_type in INDEX_TYPES}
    children: dict[str, set[str]] = {}
    for digest in sorted(indexes):
        manifest = client.get_manifest(repository, digest)
        if manifest is not None:
            children[digest] = {child.digest for child in manifest.children}
    return current, children


def _changed(
    deletion: Deletion, current: dict[str, str], children: dict[str, set[str]]
) -> str | None:
    """Why deleting now would hit something the plan did not mean to, or None."""
    for tag in deletion.tags:
        now = current.get(tag)
        if now != deletion.digest:
            where = f"now points to {now[:19]}" if now else "is gone"
            return f"tag {tag} moved since the plan ({where})"
    doomed = {deletion.digest, *deletion.children}
    for tag, digest in sorted(current.items()):
        if tag in deletion.tags:
            continue
        if digest in doomed:
            return f"tag {tag} now points to {digest[:19]}"
        shared = sorted(doomed & children.get(digest, set()))
        if shared:
            return f"{shared[0][:19]} is now part of index {digest[:19]} (tag {tag})"
    return None
