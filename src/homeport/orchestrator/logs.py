"""Log lines of every resource: timestamped, kept in memory (bounded) and in files."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

MEMORY_LINES = 2000


@dataclass(frozen=True)
class LogLine:
    """One line a resource wrote (or homeport wrote about it, stream ``homeport``)."""

    ts: float
    service: str
    stream: str
    text: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)

    def render(self) -> str:
        """``2026-01-01T12:00:00.123Z text``, as in the log files."""
        stamp = datetime.fromtimestamp(self.ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return f"{stamp}Z {self.text}"


class LogBook:
    """Every resource's recent lines, their files, and the readers following them."""

    def __init__(self, directory: Path, limit: int = MEMORY_LINES) -> None:
        self.directory = directory
        self.limit = limit
        self._lines: dict[str, deque[LogLine]] = {}
        self._files: dict[str, IO[str]] = {}
        self._followers: list[tuple[str | None, asyncio.Queue[LogLine]]] = []
        self._listeners: dict[str, Callable[[], None]] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, service: str) -> Path:
        """The log file of ``service``."""
        return self.directory / f"{service}.log"

    def write(self, service: str, stream: str, text: str) -> LogLine:
        """Record one line: in memory, in the file, and to every follower."""
        line = LogLine(time.time(), service, stream, text.rstrip("\r\n"))
        self._lines.setdefault(service, deque(maxlen=self.limit)).append(line)
        handle = self._files.get(service)
        if handle is None:
            handle = self._files[service] = self.path(service).open("a", encoding="utf-8")
        handle.write(line.render() + "\n")
        handle.flush()
        listener = self._listeners.get(service)
        if listener is not None:
            listener()
        for wanted, queue in self._followers:
            if wanted in (None, service) and queue.qsize() < self.limit:
                queue.put_nowait(line)
        return line

    def tail(self, service: str | None = None, count: int = 100) -> list[LogLine]:
        """The last ``count`` lines of one service, or of all of them merged by time."""
        if service is not None:
            return list(self._lines.get(service, ()))[-count:] if count > 0 else []
        merged = sorted((line for lines in self._lines.values() for line in lines), key=_ts)
        return merged[-count:] if count > 0 else []

    def recent(self, service: str) -> deque[LogLine]:
        """The kept lines of ``service`` themselves (no copy; read, do not change)."""
        return self._lines.get(service) or deque()

    def follow(self, service: str | None = None) -> asyncio.Queue[LogLine]:
        """A queue that receives each new line of ``service`` (or of all); ``unfollow`` it."""
        queue: asyncio.Queue[LogLine] = asyncio.Queue()
        self._followers.append((service, queue))
        return queue

    def unfollow(self, queue: asyncio.Queue[LogLine]) -> None:
        """Stop feeding a queue from ``follow``."""
        self._followers = [(s, q) for s, q in self._followers if q is not queue]

    def listen(self, service: str, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` on each line of ``service`` (None: stop); health checks re-run then."""
        if callback is None:
            self._listeners.pop(service, None)
        else:
            self._listeners[service] = callback

    def close(self) -> None:
        """Close the log files."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)


def _ts(line: LogLine) -> float:
    return line.ts


async def pump(stream: asyncio.StreamReader, book: LogBook, service: str, name: str) -> None:
    """Copy a child's output into the book line by line until it closes."""
    pending = b""
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            book.write(service, name, raw.decode("utf-8", "replace"))
    if pending:
        book.write(service, name, pending.decode("utf-8", "replace"))
