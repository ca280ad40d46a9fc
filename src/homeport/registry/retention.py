"""Which images a registry keeps: a pure function of its inventory and the retention policy.

Rules, in the order they protect an image (a digest is kept if any rule keeps it):

1. a moving tag (``dev``, ``prod``...) points to it;
2. it is among the newest ``keep_last`` images of an environment group, newest by the image's
   creation time (not by tag string);
3. it was created within the grace period, or a tag on it belongs to no group;
4. it is listed as in use (``--in-use``), or is the child of a kept index.

Deletion is by digest, which takes every tag on the digest with it; so a digest is deleted only
if no kept tag points to it, and an index is deleted whole, with the children no kept image uses.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeport.model.platform import Retention
from homeport.registry.images import Inventory, RepositoryTags


@dataclass(frozen=True)
class GroupRule:
    """An environment group: tags matching ``pattern`` compete for ``keep_last`` places."""

    name: str
    pattern: str
    keep_last: int

    def matches(self, tag: str) -> bool:
        """Whether ``tag`` belongs to this group."""
        return re.search(self.pattern, tag) is not None


@dataclass(frozen=True)
class RetentionPolicy:
    """Everything the planner needs besides the inventory, ``now`` included (no clock inside)."""

    groups: tuple[GroupRule, ...]
    moving_tags: frozenset[str]
    grace: timedelta
    now: datetime
    in_use: frozenset[str] = frozenset()

    @classmethod
    def from_model(
        cls, retention: Retention, *, now: datetime, in_use: frozenset[str] = frozenset()
    ) -> RetentionPolicy:
        """The policy of a platform file's ``registry.retention`` section."""
        groups = tuple(
            GroupRule(
                group.name,
                group.pattern if group.pattern is not None else f"^{re.escape(group.name)}-",
                group.keep_last if group.keep_last is not None else retention.keep_last,
            )
            for group in retention.groups
        )
        return cls(
            groups,
            frozenset(retention.moving_tags),
            timedelta(seconds=retention.grace),
            now,
            in_use,
        )

    def group_of(self, tag: str) -> GroupRule | None:
        """The first group whose pattern matches ``tag``."""
        return next((g for g in self.groups if g.matches(tag)), None)


@dataclass(frozen=True)
class TagDecision:
    """What happens to one tag, and why."""

    repository: str
    tag: str
    digest: str
    group: str | None
    keep: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Deletion:
    """One digest to delete from one repository, with the tags it takes along.

    ``children`` are the child manifests of an index that go with it; ``bytes_freed`` counts
    the blobs only this deletion releases (a blob two deletions share counts in the first).
    """

    repository: str
    digest: str
    media_type: str
    tags: tuple[str, ...]
    children: tuple[str, ...]
    created: str | None
    bytes_freed: int


@dataclass(frozen=True)
class RetentionPlan:
    """The planner's result: a value that prints, serialises to JSON and has a checksum."""

    decisions: tuple[TagDecision, ...]
    deletions: tuple[Deletion, ...]
    bytes_freed: int
    kept_digests: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        """True when anything would be deleted."""
        return bool(self.deletions)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data; :meth:`from_dict` reads it back."""
        data = asdict(self)
        data["kept_digests"] = {k: list(v) for k, v in self.kept_digests.items()}
        data["checksum"] = self.checksum
        return data

    @property
    def checksum(self) -> str:
        """sha256 of the plan's content, so ``apply`` can refuse a plan other than the one read."""
        body = asdict(self)
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=list).encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetentionPlan:
        """The plan :meth:`as_dict` wrote."""
        decisions = tuple(
            TagDecision(**{**d, "reasons": tuple(d["reasons"])}) for d in data["decisions"]
        )
        deletions = tuple(
            Deletion(**{**d, "tags": tuple(d["tags"]), "children": tuple(d["children"])})
            for d in data["deletions"]
        )
        kept = {k: tuple(v) for k, v in data.get("kept_digests", {}).items()}
        return cls(decisions, deletions, int(data["bytes_freed"]), kept)


def plan_retention(inventory: Inventory, policy: RetentionPolicy) -> RetentionPlan:
    """Decide, for every tag of every repository, whether its image stays; see the module doc."""
    decisions: list[TagDecision] = []
    candidates: list[tuple[RepositoryTags, str, tuple[str, ...]]] = []
    kept_digests: dict[str, tuple[str, ...]] = {}
    for repository in inventory.repositories:
        reasons = _keep_reasons(inventory, repository, policy)
        kept_digests[repository.name] = tuple(sorted(reasons))
        by_digest: dict[str, list[str]] = defaultdict(list)
        for tag, digest in repository.tags.items():
            by_digest[digest].append(tag)
            group = policy.group_of(tag)
            why = tuple(dict.fromkeys(reasons.get(digest, ()))) or (_why_not(group),)
            decisions.append(
                TagDecision(
                    repository.name,
                    tag,
                    digest,
                    group.name if group else None,
                    digest in reasons,
                    why,
                )
            )
        for digest, tags in sorted(by_digest.items()):
            if digest not in reasons:
                candidates.append((repository, digest, tuple(sorted(tags))))
    deletions, freed = _deletions(inventory, candidates, kept_digests)
    return RetentionPlan(tuple(decisions), deletions, freed, kept_digests)


def _why_not(group: GroupRule | None) -> str:
    if group is None:
        return "no kept tag"
    return f"older than the newest {group.keep_last} of {group.name}"


def _keep_reasons(
    inventory: Inventory, repository: RepositoryTags, policy: RetentionPolicy
) -> dict[str, list[str]]:
    """digest -> why it stays, for every digest of ``repository`` that stays."""
    reasons: dict[str, list[str]] = defaultdict(list)
    members: dict[str, set[str]] = defaultdict(set)
    for tag, digest in repository.tags.items():
        group = policy.group_of(tag)
        if tag in policy.moving_tags:
            reasons[digest].append(f"moving tag {tag}")
        elif group is None:
            reasons[digest].append(f"tag {tag} is in no retention group")
        else:
            members[group.name].add(digest)
    rules = {g.name: g for g in policy.groups}
    for name, digests in members.items():
        for digest in digests:
            if _created(inventory, digest) is None:
                reasons[digest].append("no creation time in its config")
        dated = [d for d in digests if _created(inventory, d) is not None]
        for rank, digest in enumerate(_newest_first(inventory, dated), start=1):
            if rank <= rules[name].keep_last:
                reasons[digest].append(f"#{rank} newest of {name} (keep {rules[name].keep_last})")
    for digest in set(repository.tags.values()):
        created = _created(inventory, digest)
        if created is not None and policy.now - created < policy.grace:
            reasons[digest].append(f"created within the grace period ({policy.grace})")
        closure = {m.digest for m in inventory.closure(digest)} | {digest}
        if closure & policy.in_use:
            reasons[digest].append("in use")
    for digest in list(reasons):
        for child in inventory.closure(digest)[1:]:
            if child.digest in repository.tags.values():
                reasons[child.digest].append(f"child of kept index {digest[:19]}")
    return dict(reasons)


def _newest_first(inventory: Inventory, digests: list[str]) -> list[str]:
    def key(digest: str) -> tuple[float, str]:
        created = _created(inventory, digest)
        return (-created.timestamp() if created else 0.0, digest)

    return sorted(digests, key=key)


def _created(inventory: Inventory, digest: str) -> datetime | None:
    manifest = inventory.manifests.get(digest)
    return manifest.created if manifest else None


def _deletions(
    inventory: Inventory,
    candidates: list[tuple[RepositoryTags, str, tuple[str, ...]]],
    kept_digests: dict[str, tuple[str, ...]],
) -> tuple[tuple[Deletion, ...], int]:
    kept_blobs: set[str] = set()
    protected: dict[str, set[str]] = {}
    for repo, digests in kept_digests.items():
        protected[repo] = set()
        for digest in digests:
            kept_blobs.update(inventory.blob_sizes(digest))
            protected[repo].update(m.digest for m in inventory.closure(digest))
    counted: set[str] = set()
    deletions: list[Deletion] = []
    for repository, digest, tags in candidates:
        closure = inventory.closure(digest)
        manifest = closure[0] if closure else None
        children = tuple(
            m.digest
            for m in closure[1:]
            if m.digest not in protected[repository.name]
            and m.digest not in repository.tags.values()
        )
        sizes = inventory.blob_sizes(digest)
        freed = sum(
            size for blob, size in sizes.items() if blob not in kept_blobs and blob not in counted
        )
        counted.update(sizes)
        deletions.append(
            Deletion(
                repository.name,
                digest,
                manifest.media_type if manifest else "",
                tags,
                children,
                manifest.created.isoformat() if manifest and manifest.created else None,
                freed,
            )
        )
    return tuple(deletions), sum(d.bytes_freed for d in deletions)


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def parse_in_use(text: str) -> frozenset[str]:
    """Digests named in an in-use list: one per line, bare or as ``image@sha256:...``;
    ``#`` starts a comment (e.g. the output of ``docker ps --format '{{.Image}}'`` resolved)."""
    found: set[str] = set()
    for line in text.splitlines():
        found.update(_DIGEST.findall(line.split("#", 1)[0]))
    return frozenset(found)


def over_threshold(plan: RetentionPlan, max_fraction: float, min_tags: int = 10) -> list[str]:
    """Repositories (with at least ``min_tags`` tags) whose plan deletes more than
    ``max_fraction`` of their tags, each as a line saying how many."""
    total: dict[str, int] = defaultdict(int)
    gone: dict[str, int] = defaultdict(int)
    for decision in plan.decisions:
        total[decision.repository] += 1
        gone[decision.repository] += not decision.keep
    return [
        f"{repo}: {gone[repo]} of {count} tags ({100 * gone[repo] / count:.0f}%)"
        for repo, count in sorted(total.items())
        if count >= min_tags and gone[repo] > max_fraction * count
    ]
