"""Safe garbage collection around distribution's own collector.

The sequence: restart the registry read-only so no push races the collector; read what is kept
(every tag and what it needs); run ``garbage-collect --dry-run`` and refuse if it would delete
any blob a kept tag needs; run the real collection; restore writes (always, even on failure);
then HEAD every kept manifest and blob, and report the bytes the storage lost.

``--delete-untagged`` (``-m``) is only passed when no image index would lose children: the
collector in distribution 2.x treats an index's child manifests as untagged and deletes them,
which breaks every multi-arch image (distribution/distribution#3178, fixed only in 3.x).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from homeport.registry.client import RegistryClient
from homeport.registry.control import RegistryControl
from homeport.registry.disk import blob_bytes
from homeport.registry.errors import GcError, VerificationError
from homeport.registry.images import Inventory
from homeport.registry.scan import DEFAULT_WORKERS, parallel_map, read_inventory

_ELIGIBLE = re.compile(r"^(blob|manifest) eligible for deletion: (sha256:[0-9a-f]{64})", re.M)
_MARKED = re.compile(r"^(\d+) blobs marked", re.M)


@dataclass(frozen=True)
class CollectorRun:
    """What one ``garbage-collect`` run printed: blobs and manifests it (would) delete."""

    blobs: tuple[str, ...]
    manifests: tuple[str, ...]
    marked: int


@dataclass(frozen=True)
class GcReport:
    """The outcome of a safe collection."""

    delete_untagged: bool
    untagged_refused: tuple[str, ...]
    dry_run: CollectorRun
    collected: CollectorRun
    bytes_before: int
    bytes_after: int
    verified_tags: int
    verified_blobs: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def bytes_freed(self) -> int:
        """Blob bytes the storage holds no longer."""
        return self.bytes_before - self.bytes_after


def parse_collector_output(text: str) -> CollectorRun:
    """The digests a ``garbage-collect`` run lists as eligible for deletion."""
    found: dict[str, list[str]] = {"blob": [], "manifest": []}
    for kind, digest in _ELIGIBLE.findall(text):
        found[kind].append(digest)
    marked = _MARKED.search(text)
    return CollectorRun(
        tuple(found["blob"]), tuple(found["manifest"]), int(marked.group(1)) if marked else 0
    )


def untagged_risks(inventory: Inventory) -> list[str]:
    """Why ``--delete-untagged`` is unsafe now: every index child that carries no tag itself."""
    risks: list[str] = []
    for repository in inventory.repositories:
        tagged = set(repository.tags.values())
        for digest in sorted(tagged):
            manifest = inventory.manifests.get(digest)
            for child in manifest.children if manifest else ():
                if child.digest not in tagged:
                    risks.append(
                        f"{repository.name}: index {digest[:19]} would lose its untagged child "
                        f"{child.digest[:19]}"
                    )
    return risks


def kept_digests(inventory: Inventory) -> dict[str, str]:
    """Every manifest and blob a tag needs -> the repository to HEAD it in."""
    needed: dict[str, str] = {}
    for repository in inventory.repositories:
        for digest in set(repository.tags.values()):
            for blob in inventory.blob_sizes(digest):
                needed.setdefault(blob, repository.name)
    return needed


def collect_garbage(
    client: RegistryClient,
    control: RegistryControl,
    config: Path,
    storage: Path,
    *,
    delete_untagged: bool,
    binary: str = "docker-registry",
    timeout: float = 600.0,
) -> GcReport:
    """Run the whole safe sequence (module doc); raise VerificationError if a kept tag broke."""
    notes: list[str] = []
    control.set_readonly(True)
    try:
        if client.writable():
            raise GcError(
                "the registry still accepts pushes after the read-only restart; "
                "check that the restart applies storage.maintenance.readonly"
            )
        # read what is kept only now that nothing can change it until writes come back
        inventory = read_inventory(client)
        refused = tuple(untagged_risks(inventory)) if delete_untagged else ()
        use_untagged = delete_untagged and not refused
        needed = kept_digests(inventory)
        before = blob_bytes(storage)
        dry = _collect(binary, config, dry_run=True, untagged=use_untagged, timeout=timeout)
        if use_untagged and set(dry.manifests) & set(needed):
            notes.append("the dry run would delete manifests kept tags need; ran without -m")
            use_untagged = False
            dry = _collect(binary, config, dry_run=True, untagged=False, timeout=timeout)
        doomed = sorted(set(dry.blobs) & set(needed))
        if doomed:
            raise GcError(
                "refusing to collect: the dry run would delete blobs that kept tags need "
                f"({', '.join(d[:19] for d in doomed[:5])}); nothing was deleted"
            )
        done = _collect(binary, config, dry_run=False, untagged=use_untagged, timeout=timeout)
    finally:
        control.set_readonly(False)
    missing, tags = verify_kept(client, inventory)
    if missing:
        raise VerificationError(missing)
    return GcReport(
        use_untagged,
        refused,
        dry,
        done,
        before,
        blob_bytes(storage),
        tags,
        len(needed),
        tuple(notes),
    )


def _collect(
    binary: str, config: Path, *, dry_run: bool, untagged: bool, timeout: float
) -> CollectorRun:
    command = [binary, "garbage-collect"]
    if dry_run:
        command.append("--dry-run")
    if untagged:
        command.append("--delete-untagged")
    command.append(str(config))
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise GcError(
            f"{binary} not found; install Debian's docker-registry or give --registry-bin"
        ) from None
    except subprocess.TimeoutExpired:
        raise GcError(f"{' '.join(command)} ran longer than {timeout:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise GcError(f"{' '.join(command)} exited {done.returncode}: {' / '.join(tail)}")
    return parse_collector_output(done.stdout + done.stderr)


def verify_kept(
    client: RegistryClient, inventory: Inventory, workers: int = DEFAULT_WORKERS
) -> tuple[list[str], int]:
    """HEAD every kept tag's manifests and blobs; the missing ones as ``repo@digest``."""
    needed = kept_digests(inventory)
    manifests = set(inventory.manifests)

    def present(item: tuple[str, str]) -> bool:
        digest, repository = item
        if digest in manifests:
            return client.head_manifest(repository, digest) is not None
        return client.head_blob(repository, digest) is not None

    items = sorted(needed.items())
    found = parallel_map(present, items, workers)
    missing = [
        f"{repo}@{digest}" for (digest, repo), ok in zip(items, found, strict=True) if not ok
    ]
    tags = sum(len(r.tags) for r in inventory.repositories)
    return missing, tags
