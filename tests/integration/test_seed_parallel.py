"""Every target of a platform seeds at once; one target's failure leaves the others finished."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from tests.conftest import EXAMPLE
from tests.support.seed import count_rows, drop_databases, fill_jobs, pg_dump, unique
from tests.support.servers import PostgresServer, RedisServer

from homeport.model import load_platform, load_platform_text
from homeport.seed import SeedOptions, plan_seeds, seed_all
from homeport.seed.errors import SeedCancelled
from homeport.seed.processes import Processes

PLATFORM = """
name: t
services:
  postgres: {{kind: postgres}}
  redis: {{kind: redis}}
  other: {{kind: postgres}}
  seed:
    kind: seed
    seeds:
      - {{into: postgres, database: {database}, from: jobs.dump}}
      - {{into: redis, database: "13", from: cache.redis}}
      - {{into: other, database: jobs, from: jobs.dump}}
"""


@pytest.fixture
def platform_dir(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    source, database = unique("par_src"), unique("par_dst")
    fill_jobs(postgres_server, source, 200)
    pg_dump(postgres_server, source, tmp_path / "jobs.dump", "c")
    (tmp_path / "cache.redis").write_text("SET a 1\nSET b 2\n")
    (tmp_path / "homeport.yaml").write_text(PLATFORM.format(database=database))
    yield tmp_path, database
    drop_databases(postgres_server, source, database)


def test_all_targets_seed_and_a_failing_one_does_not_stop_the_others(
    postgres_server: PostgresServer, redis_server: RedisServer, platform_dir: tuple[Path, str]
) -> None:
    root, database = platform_dir
    loaded = load_platform_text((root / "homeport.yaml").read_text(), str(root / "homeport.yaml"))
    endpoints = {"postgres": postgres_server.url, "redis": redis_server.url}

    board = seed_all(plan_seeds(loaded, endpoints), SeedOptions(wait_timeout=10))

    states = {s.name: (s.state, s.message) for s in board.snapshot()}
    assert states[f"postgres/{database}"][0] == "done"
    assert states["redis/13"][0] == "done"
    assert states["other/jobs"] == (
        "failed",
        f"no address for service 'other': start `homeport up -f {root / 'homeport.yaml'}` "
        "(it records every address) or pass --target other=URL",
    )
    assert board.overall() == "failed"
    assert count_rows(postgres_server, database) == 200
    client = redis.Redis(host=redis_server.host, port=redis_server.port, db=13)
    assert client.mget("a", "b") == [b"1", b"2"]
    client.flushdb()


def test_the_example_platform_seeds_restore(
    postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    loaded = load_platform(EXAMPLE / "homeport.yaml")
    seeds = [s for spec in loaded.platform.services.values() for s in spec.seeds]
    if not all((loaded.root / s.from_).exists() for s in seeds):
        pytest.skip("the example's seeds are not written yet")
    database = unique("example_jobs")  # its own database: other suites use 'jobs'
    endpoints = {"postgres": postgres_server.url, "redis": f"{redis_server.url}/12"}
    jobs = [
        replace(j, database=database) if j.engine == "postgres" else j
        for j in plan_seeds(loaded, endpoints)
    ]
    try:
        board = seed_all(jobs, SeedOptions(wait_timeout=10))

        assert [(s.state, s.message) for s in board.snapshot() if s.state != "done"] == []
        assert count_rows(postgres_server, database) > 0
        client = redis.Redis(host=redis_server.host, port=redis_server.port, db=12)
        assert client.get("jobboard:company:1:name") is not None
    finally:
        drop_databases(postgres_server, database)
        redis.Redis(host=redis_server.host, port=redis_server.port, db=12).flushdb()


def test_cancel_ends_a_running_restore_tool_promptly() -> None:
    procs = Processes()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            procs.run(["sleep", "30"], dict(os.environ))
        except SeedCancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while not procs.running and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    procs.cancel()
    worker.join(10)

    assert time.monotonic() - started < 5
    assert [str(e) for e in outcome] == ["seeding stopped before it finished"]
