"""Redis: a commands file streamed pipelined over one socket, or an RDB snapshot's keys copied in.

A re-seed flushes the target database (``database:``, default 0) first, so a changed file never
leaves stale or doubled keys; the marker key ``homeport:seed:<name>`` is set only after every
command was accepted.
"""

from __future__ import annotations

import socket
import threading
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import redis as redis_py
from redis.backoff import NoBackoff
from redis.retry import Retry

from homeport.seed.base import Outcome, SeedRequest, needs_reseed, up_to_date, wait_until
from homeport.seed.batches import Batch, resp_batches, text_batches
from homeport.seed.errors import SeedError
from homeport.seed.marker import REDIS_MARKER_PREFIX, Marker
from homeport.seed.processes import Processes
from homeport.seed.rdb import restore_snapshot
from homeport.seed.resp import ReplyReader, encode_command, is_raw_resp
from homeport.seed.status import Reporter

VERSION = "redis/1"
_SHOWN_ERRORS = 3


def marker_key(name: str) -> str:
    """The key that remembers which seed the database holds."""
    return f"{REDIS_MARKER_PREFIX}{name}"


class RedisSeeder:
    """Seeds one database of a Redis server given as ``redis://[user:pw@]host:port``."""

    version = VERSION

    def __init__(self, url: str, procs: Processes, database: int = 0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.database = database
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._procs = procs

    def client(self) -> redis_py.Redis:
        """A client of the target database."""
        return redis_py.Redis(
            host=self.host,
            port=self.port,
            db=self.database,
            username=self._username,
            password=self._password,
            socket_timeout=30,
            socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 0),  # wait_until_ready does the retrying, with a deadline
        )

    def wait_until_ready(self, timeout: float) -> None:
        """Wait for TCP, then for PING to answer."""
        wait_until((self.host, self.port), self._ping, timeout, "Redis", self._procs)

    def seed(self, request: SeedRequest, reporter: Reporter) -> Outcome:
        """Flush and refill the database unless it already holds this seed."""
        key = marker_key(request.job.name)
        try:
            with self.client() as client:
                raw = client.get(key)
                current = Marker.decode(raw.decode() if isinstance(raw, bytes) else None)
                if not needs_reseed(current, request):
                    return up_to_date(request.marker)
                reporter.state("seeding", f"restoring {request.format} file")
                client.flushdb()
                if request.format == "rdb":
                    _warn_about_aof(client, reporter)
                    count = restore_snapshot(request, reporter, client, self._procs)
                else:
                    count = self._pipe(request.job.source, reporter)
                client.set(key, request.marker.encode())
        except redis_py.RedisError as exc:
            raise SeedError(f"Redis {self.host}:{self.port}: {exc}") from exc
        unit = "keys" if request.format == "rdb" else "commands"
        return Outcome("restored", f"{count} {unit} (sha256 {request.marker.short})")

    def _pipe(self, source: Path, reporter: Reporter) -> int:
        reporter.total(source.stat().st_size, "bytes")
        with source.open("rb") as handle:
            raw = is_raw_resp(handle.read(64))
        batches = _resp_file(source) if raw else _text_file(source)
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            sender = _PipeSender(sock, batches, reporter)
            prelude = self._prelude()
            return sender.run(prelude, "command" if raw else "line")

    def _prelude(self) -> list[bytes]:
        out: list[bytes] = []
        if self._password is not None:
            auth = [self._username, self._password] if self._username else [self._password]
            out.append(encode_command(["AUTH", *auth]))
        out.append(encode_command(["SELECT", str(self.database)]))
        return out

    def _ping(self) -> None:
        try:
            with self.client() as client:
                client.ping()
        except redis_py.RedisError as exc:
            raise SeedError(str(exc)) from exc


def _warn_about_aof(client: redis_py.Redis, reporter: Reporter) -> None:
    try:
        config = client.config_get("appendonly")
    except redis_py.ResponseError:
        return  # CONFIG is renamed or refused on this server; nothing to check
    values = {str(k, "utf-8") if isinstance(k, bytes) else str(k): v for k, v in config.items()}
    if values.get("appendonly") in (b"yes", "yes"):
        reporter.warn(
            "the target runs with appendonly yes: Redis ignores dump.rdb at startup when AOF is "
            "on, so homeport copied the snapshot's keys in instead of placing the file"
        )


def _text_file(source: Path) -> Iterator[Batch]:
    with source.open("rb") as handle:
        yield from text_batches(handle, str(source))


def _resp_file(source: Path) -> Iterator[Batch]:
    yield from resp_batches(source.read_bytes(), str(source))


class _PipeSender:
    """Writes commands on one thread while this one reads the replies, as redis-cli --pipe does."""

    def __init__(self, sock: socket.socket, batches: Iterator[Batch], reporter: Reporter) -> None:
        self._sock = sock
        self._batches = batches
        self._reporter = reporter
        self._starts: list[int] = []  # the index of each batch's first reply
        self._origins: list[Sequence[int]] = []  # each batch's line (or command) numbers
        self._sent = 0
        self._done_sending = threading.Event()
        self._failure: BaseException | None = None

    def run(self, prelude: list[bytes], origin_word: str) -> int:
        """Send everything, read every reply; raise SeedError with Redis's own first errors."""
        self._sock.sendall(b"".join(prelude))
        self._sent = len(prelude)
        writer = threading.Thread(target=self._write, daemon=True)
        writer.start()
        errors, received = self._read(origin_word)
        writer.join()
        if self._failure is not None:
            if isinstance(self._failure, SeedError):
                raise self._failure
            raise SeedError(f"sending to Redis failed: {self._failure}")
        if errors:
            raise SeedError("; ".join(errors[:_SHOWN_ERRORS]) + _more(len(errors)))
        return received - len(prelude)

    def _write(self) -> None:
        try:
            for batch in self._batches:
                if batch.origins:
                    # known before the bytes leave, so that every reply finds its origin
                    self._starts.append(self._sent)
                    self._origins.append(batch.origins)
                    self._sock.sendall(batch.data)
                    self._sent += len(batch.origins)
                self._reporter.advance(batch.consumed)
        except (OSError, SeedError) as exc:
            self._failure = exc
        finally:
            self._done_sending.set()

    def _origin(self, reply: int) -> int:
        """The line (or command) number of the reply'th command; 0 for the prelude."""
        at = bisect_right(self._starts, reply) - 1
        return self._origins[at][reply - self._starts[at]] if at >= 0 else 0

    def _read(self, origin_word: str) -> tuple[list[str], int]:
        reader = ReplyReader()
        errors: list[str] = []
        received = 0
        self._sock.settimeout(0.2)
        while not (self._done_sending.is_set() and received >= self._sent):
            try:
                chunk = self._sock.recv(1 << 18)
            except TimeoutError:
                continue
            if not chunk:
                raise SeedError("Redis closed the connection while seeding")
            count, refused = reader.feed_counting(chunk)
            for index, message in refused:
                errors.append(f"{origin_word} {self._origin(received + index)}: {message}")
            received += count
        return errors, received


def _more(count: int) -> str:
    return f" (and {count - _SHOWN_ERRORS} more)" if count > _SHOWN_ERRORS else ""
