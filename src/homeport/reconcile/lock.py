"""A local lock (flock) that serialises applies to one target from this machine."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homeport.reconcile.errors import ReconcileError


class LockHeldError(ReconcileError):
    """Another apply to the same target is running."""


@contextmanager
def local_lock(path: Path, what: str, *, wait: float = 0.0) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` for the block; refuse (or wait ``wait`` s) if held.

    The file keeps the holder's pid, so the refusal can name it. The kernel drops the lock when
    the holder dies, so a killed apply never leaves a stale lock behind on this machine.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    raise LockHeldError(
                        f"another apply to {what} is running (pid {holder}, lock {path}); "
                        "wait for it to finish, then run plan again"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
