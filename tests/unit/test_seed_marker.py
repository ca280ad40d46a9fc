"""The seed file's hash: computed beside the restore, waited for only when it is compared."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeport.seed.base import SeedRequest, needs_reseed
from homeport.seed.errors import SeedError
from homeport.seed.marker import Hashing, Marker
from homeport.seed.plan import SeedJob


@pytest.fixture
def unreadable_yet(tmp_path: Path) -> Iterator[Path]:
    """A FIFO: hashing it blocks until the test lets a writer in, which it does at the end."""
    fifo = tmp_path / "seed.dump"
    os.mkfifo(fifo)
    yield fifo
    with fifo.open("wb") as writer:
        writer.write(b"x")


def request(path: Path, reset: bool = False) -> SeedRequest:
    job = SeedJob("postgres/app", path, "auto", "postgres", "postgresql://h:1", "app")
    return SeedRequest(job, "custom", Hashing(path), "postgres/1", reset)


def test_a_target_without_marker_is_seeded_without_waiting_for_the_hash(
    unreadable_yet: Path,
) -> None:
    assert needs_reseed(None, request(unreadable_yet))


def test_a_marker_is_compared_with_the_finished_hash(tmp_path: Path) -> None:
    seed = tmp_path / "cache.redis"
    seed.write_bytes(b"SET a 1\n")
    digest = hashlib.sha256(b"SET a 1\n").hexdigest()

    assert request(seed).marker == Marker(digest, "postgres/1")
    assert not needs_reseed(Marker(digest, "postgres/1"), request(seed))
    assert needs_reseed(Marker(digest, "postgres/1"), request(seed, reset=True))
    assert needs_reseed(Marker(digest, "postgres/0"), request(seed))


def test_a_file_that_cannot_be_read_fails_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "gone.dump"

    with pytest.raises(SeedError, match=f"^cannot read {missing}: No such file or directory$"):
        Hashing(missing).result()
