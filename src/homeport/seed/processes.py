"""The engines' client tools (pg_restore, psql, mariadb) run as children that a stop can end."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from homeport.seed.errors import SeedCancelled, SeedError

_CHUNK = 1 << 20
_KEEP_LINES = 200


@dataclass(frozen=True)
class Finished:
    """A child's exit status and the last lines it wrote on stderr."""

    returncode: int
    stderr: list[str]


class Processes:
    """Every child the seeders started; ``cancel`` terminates them all and stops new ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self.cancelled = threading.Event()

    @property
    def running(self) -> int:
        """How many children are running now."""
        with self._lock:
            return len(self._running)

    def check_cancelled(self) -> None:
        """Raise SeedCancelled once a stop was asked."""
        if self.cancelled.is_set():
            raise SeedCancelled("seeding stopped before it finished")

    def cancel(self) -> None:
        """Stop every running child (TERM) and refuse to start more."""
        self.cancelled.set()
        with self._lock:
            for child in self._running:
                child.terminate()

    def spawn(self, argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
        """Start a long-running helper server, its output to ``log``; ``stop`` ends it."""
        self.check_cancelled()
        with log.open("wb") as out:
            child = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        with self._lock:
            self._running.add(child)
        return child

    def stop(self, child: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        """TERM a child started by ``spawn``, then KILL it after ``grace`` seconds."""
        with self._lock:
            self._running.discard(child)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        stdin_path: Path | None = None,
        on_bytes: Callable[[int], None] | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> Finished:
        """Run a tool to completion, feeding it ``stdin_path`` and reporting bytes and lines."""
        self.check_cancelled()
        try:
            child = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if stdin_path else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            raise SeedError(f"cannot run {argv[0]}: {exc}") from exc
        with self._lock:
            self._running.add(child)
        lines: deque[str] = deque(maxlen=_KEEP_LINES)
        reader = threading.Thread(target=_read_lines, args=(child, lines, on_line), daemon=True)
        reader.start()
        try:
            if stdin_path is not None:
                _feed(child, stdin_path, on_bytes)
            child.wait()
            reader.join()
        finally:
            with self._lock:
                self._running.discard(child)
            if child.poll() is None:
                child.kill()
                child.wait()
            reader.join(5)
            for stream in (child.stdin, child.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self.check_cancelled()
        return Finished(child.returncode, list(lines))


def _read_lines(
    child: subprocess.Popen[bytes], lines: deque[str], on_line: Callable[[str], None] | None
) -> None:
    assert child.stderr is not None
    for raw in child.stderr:
        line = raw.decode(errors="replace").rstrip("\n")
        lines.append(line)
        if on_line is not None:
            on_line(line)


def _feed(
    child: subprocess.Popen[bytes], path: Path, on_bytes: Callable[[int], None] | None
) -> None:
    assert child.stdin is not None
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                child.stdin.write(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        child.stdin.close()
    except BrokenPipeError:
        # The tool stopped reading, usually on an error it reports on stderr.
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
    except ValueError:
        pass  # stdin closed under us by a cancel
