"""Content-addressed idempotency: what a seeded database remembers about the seed it holds."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from homeport.seed.errors import SeedError

MARKER_SCHEMA = "homeport"
MARKER_TABLE = f"{MARKER_SCHEMA}.seed_marker"
REDIS_MARKER_PREFIX = "homeport:seed:"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Marker:
    """The hash of the seed file and the version of the seeder that restored it."""

    sha256: str
    seeder_version: str

    def encode(self) -> str:
        """The marker as one string, as Redis stores it."""
        return f"{self.seeder_version} {self.sha256}"

    @classmethod
    def decode(cls, text: str | None) -> Marker | None:
        """The marker stored as ``encode`` wrote it, or None for anything else."""
        if not text or " " not in text:
            return None
        version, digest = text.rsplit(" ", 1)
        return cls(digest, version)

    @property
    def short(self) -> str:
        """The first twelve hex digits, enough to tell two seeds apart in output."""
        return self.sha256[:12]


def content_sha256(path: Path) -> str:
    """The sha256 of a file, or of a directory's files (names and contents, in sorted order)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(member.relative_to(path).as_posix().encode() + b"\0")
            _feed(digest, member)
    else:
        _feed(digest, path)
    return digest.hexdigest()


class Hashing:
    """The sha256 of a seed, computed on its own thread from the moment this is made.

    A seeder that finds no marker at all restores at once and reads the hash only to write the
    marker, so hashing a big dump costs no time of its own; hashlib leaves the GIL while it works.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._digest = ""
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name=f"hash {path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = content_sha256(self.path)
        except OSError as exc:
            self._error = exc

    def result(self) -> str:
        """The hex digest, once the file is hashed."""
        self._thread.join()
        if self._error is not None:
            raise SeedError(f"cannot read {self.path}: {self._error.strerror or self._error}")
        return self._digest


def content_size(path: Path) -> int:
    """The bytes a seed holds: the file's size, or the sum over a directory's files."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _feed(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
