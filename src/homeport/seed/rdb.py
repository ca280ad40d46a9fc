"""Restoring an RDB snapshot into a running Redis: load it in a private redis-server, copy keys.

Redis reads an RDB only at startup, so the snapshot is opened by a temporary redis-server on a free
loopback port (no AOF, no saving); every key of every database in it is copied into the target
database with DUMP and RESTORE ... REPLACE, keeping its time to live.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis as redis_py
from redis.backoff import NoBackoff
from redis.retry import Retry

from homeport.seed.base import SeedRequest
from homeport.seed.errors import SeedError
from homeport.seed.processes import Processes
from homeport.seed.status import Reporter
from homeport.seed.tools import find_tool

_BATCH = 500


def restore_snapshot(
    request: SeedRequest, reporter: Reporter, target: redis_py.Redis, procs: Processes
) -> int:
    """Copy every key of the snapshot into ``target``; return how many keys were copied."""
    with tempfile.TemporaryDirectory(prefix="homeport-rdb-") as tmp:
        workdir = Path(tmp)
        (workdir / "dump.rdb").symlink_to(request.job.source.resolve())
        port = _free_port()
        argv = [
            find_tool("redis-server"),
            *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir)),
            *("--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"),
        ]
        log = workdir / "redis.log"
        server = procs.spawn(argv, log)
        try:
            source = _wait_loaded(port, server, log, request.wait_timeout)
            databases = _databases(source)
            reporter.total(sum(databases.values()), "keys")
            copied = 0
            for number in databases:
                with redis_py.Redis(host="127.0.0.1", port=port, db=number) as db:
                    copied += _copy_keys(db, target, reporter)
            return copied
        finally:
            procs.stop(server)


def _copy_keys(source: redis_py.Redis, target: redis_py.Redis, reporter: Reporter) -> int:
    copied = 0
    batch: list[bytes] = []
    for key in source.scan_iter(count=_BATCH):
        batch.append(key)
        if len(batch) >= _BATCH:
            copied += _copy_batch(source, target, batch, reporter)
            batch = []
    if batch:
        copied += _copy_batch(source, target, batch, reporter)
    return copied


def _copy_batch(
    source: redis_py.Redis, target: redis_py.Redis, keys: list[bytes], reporter: Reporter
) -> int:
    reading = source.pipeline(transaction=False)
    for key in keys:
        reading.dump(key)
        reading.pttl(key)
    values = reading.execute()
    writing = target.pipeline(transaction=False)
    count = 0
    for index, key in enumerate(keys):
        payload, ttl = values[2 * index], values[2 * index + 1]
        if payload is None:
            continue  # expired between SCAN and DUMP
        writing.restore(key, max(int(ttl), 0), payload, replace=True)
        count += 1
    writing.execute()
    reporter.advance(count)
    return count


def _databases(source: redis_py.Redis) -> dict[int, int]:
    keyspace = source.info("keyspace")
    found: dict[int, int] = {}
    for name, stats in keyspace.items():
        if str(name).startswith("db") and isinstance(stats, dict):
            found[int(str(name)[2:])] = int(stats.get("keys", 0))
    return dict(sorted(found.items()))


def _wait_loaded(
    port: int, server: subprocess.Popen[bytes], log: Path, timeout: float
) -> redis_py.Redis:
    deadline = time.monotonic() + timeout
    client = redis_py.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    while True:
        if server.poll() is not None:
            raise SeedError(f"Redis could not load the snapshot: {_last_log_line(log)}")
        try:
            client.ping()
            return client
        except (redis_py.ConnectionError, redis_py.BusyLoadingError):
            pass
        if time.monotonic() >= deadline:
            raise SeedError(f"Redis did not finish loading the snapshot within {timeout:g}s")
        time.sleep(0.05)


def _last_log_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    warnings = [line.split(" # ", 1)[1] for line in lines if " # " in line]
    return (warnings or lines or ["it exited without a message"])[-1].strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
