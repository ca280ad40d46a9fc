"""``homeport seed`` as a user runs it: a platform file, real servers, the health endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from tests.support.seed import count_rows, drop_databases, fill_jobs, pg_dump, unique
from tests.support.servers import PostgresServer, RedisServer, free_port

PLATFORM = """
name: shop
services:
  postgres: {{kind: postgres}}
  redis: {{kind: redis}}
  seed:
    kind: seed
    seeds:
      - {{into: postgres, database: {database}, from: seeds/jobs.dump}}
      - {{into: redis, database: "11", from: {cache}}}
    wait_for: [postgres, redis]
  warmup:
    kind: seed
    seeds:
      - {{into: redis, database: "10", from: {cache}}}
"""


def clean_environ() -> dict[str, str]:
    """This environment without the variables `homeport up` sets, so tests see only their own."""
    return {
        k: v for k, v in os.environ.items() if k not in ("HOMEPORT_ENDPOINTS", "HOMEPORT_SERVICE")
    }


def homeport(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeport", "seed", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean_environ(), **(env or {})},
        check=False,
    )


@pytest.fixture
def platform(
    postgres_server: PostgresServer, redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[Path, str]]:
    """A platform file beside its seeds: a custom dump of 300 jobs and a Redis commands file."""
    source, database = unique("cli_src"), unique("cli_jobs")
    fill_jobs(postgres_server, source, 300)
    (tmp_path / "seeds").mkdir()
    pg_dump(postgres_server, source, tmp_path / "seeds" / "jobs.dump", "c")
    (tmp_path / "seeds" / "cache.redis").write_text('SET motd "hello world"\n')
    file = tmp_path / "homeport.yaml"
    file.write_text(PLATFORM.format(database=database, cache="seeds/cache.redis"))
    yield file, database
    drop_databases(postgres_server, source, database)
    for db in (10, 11):
        redis.Redis(host=redis_server.host, port=redis_server.port, db=db).flushdb()


def targets(postgres_server: PostgresServer, redis_server: RedisServer) -> list[str]:
    return ["--target", f"postgres={postgres_server.url}", "--target", f"redis={redis_server.url}"]


def test_seed_then_rerun_from_state_file_then_reset(
    postgres_server: PostgresServer, redis_server: RedisServer, platform: tuple[Path, str]
) -> None:
    file, database = platform
    flags = ["-f", str(file), *targets(postgres_server, redis_server)]

    first = homeport(*flags)
    state = file.parent / ".homeport"
    state.mkdir()
    services = {
        "postgres": {"host": "127.0.0.1", "port": postgres_server.port, "url": postgres_server.url},
        "redis": {"host": "127.0.0.1", "port": redis_server.port, "url": redis_server.url},
    }
    (state / "endpoints.json").write_text(json.dumps({"services": services}))
    second = homeport("-f", str(file), "--json")
    reset = homeport(*flags, "--reset")

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"postgres/{database}: done in ")
    assert "— restored jobs.dump (sha256 " in lines[0]
    assert lines[1].startswith("redis/11: done in ")
    assert "— 1 commands (sha256 " in lines[1]
    assert lines[2].startswith("redis/10: done in ")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["status"] == "ready"
    assert [t["state"] for t in report["targets"].values()] == ["skipped"] * 3
    assert report["targets"]["redis/11"]["message"].startswith("nothing to do")
    assert reset.returncode == 0
    assert f"recreated from template {database}__homeport_template" in reset.stdout
    assert count_rows(postgres_server, database) == 300


def test_no_address_says_to_start_up_or_pass_target(platform: tuple[Path, str]) -> None:
    file, _ = platform

    done = homeport("-f", str(file), "--wait-timeout", "1")

    assert done.returncode == 1
    assert (
        f"no address for service 'postgres': start `homeport up -f {file}` "
        "(it records every address) or pass --target postgres=URL"
    ) in done.stderr
    assert "seed failed: 3 of 3 targets" in done.stderr
    assert "Traceback" not in done.stderr


def wait_health(url: str, until: int) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == until:
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"/healthz never answered {until}"
        time.sleep(0.1)


def serve(file: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "homeport", "seed", "-f", str(file), "--serve", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean_environ(), **env},
    )


def test_serve_reports_healthy_and_idles_until_sigterm(
    postgres_server: PostgresServer, redis_server: RedisServer, platform: tuple[Path, str]
) -> None:
    file, database = platform
    endpoints = {
        "postgres": {"host": "127.0.0.1", "port": postgres_server.port, "url": postgres_server.url},
        "redis": {"host": "127.0.0.1", "port": redis_server.port, "url": redis_server.url},
    }
    port = free_port()
    env = {"HOMEPORT_ENDPOINTS": json.dumps(endpoints), "HOMEPORT_SERVICE": "seed"}
    process = serve(file, port, env)
    try:
        healthy = wait_health(f"http://127.0.0.1:{port}/healthz", 200)
        assert process.poll() is None  # still serving after seeding
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)

    targets = healthy.json()["targets"]
    assert targets[f"postgres/{database}"]["state"] == "done"
    assert sorted(targets) == sorted([f"postgres/{database}", "redis/11"])  # not warmup's
    assert process.returncode == 0, err
    assert out.splitlines()[0] == f"health: http://127.0.0.1:{port}/healthz"


def test_serve_reports_a_failure_with_its_reason(
    postgres_server: PostgresServer, redis_server: RedisServer, platform: tuple[Path, str]
) -> None:
    file, _ = platform
    (file.parent / "seeds" / "jobs.dump").write_bytes(b"PGDMP garbage")
    endpoints = {"postgres": {"url": postgres_server.url}, "redis": {"url": redis_server.url}}
    port = free_port()
    process = serve(file, port, {"HOMEPORT_ENDPOINTS": json.dumps(endpoints)})
    try:
        deadline = time.monotonic() + 30
        while True:
            body = wait_health(f"http://127.0.0.1:{port}/healthz", 503).json()
            if body["status"] == "failed" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)

    assert body["status"] == "failed"
    failed = [t for t in body["targets"].values() if t["state"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["message"].startswith("pg_restore: error:")
    assert process.returncode == 1
    assert "pg_restore: error:" in err
