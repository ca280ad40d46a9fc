"""The health endpoint: 503 while waiting or seeding, 200 when done, 503 on failure."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.binaries import require_binary
from tests.support.servers import RedisServer, free_port, stop_pid, wait_for_port

from homeport.seed import HealthServer, SeedJob, SeedOptions, SeedRun


def poll(fetch: Callable[[], httpx.Response], until: Callable[[httpx.Response], bool]) -> Any:
    deadline = time.monotonic() + 20
    while True:
        response = fetch()
        if until(response):
            return response
        assert time.monotonic() < deadline, f"health never matched; last: {response.text}"
        time.sleep(0.05)


@pytest.fixture
def late_redis() -> Iterator[tuple[int, Callable[[], None]]]:
    """A free port, and a function that starts redis-server on it later; stopped by PID."""
    binary = require_binary("redis-server")
    port = free_port()
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", "/tmp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        wait_for_port(port, 10, process)

    yield port, start
    for process in started:
        stop_pid(process.pid)
        process.wait(5)


def test_health_goes_from_503_while_waiting_to_200_when_seeded(
    late_redis: tuple[int, Callable[[], None]], tmp_path: Path
) -> None:
    port, start_redis_later = late_redis
    source = tmp_path / "cache.redis"
    source.write_text("SET greeting hello\n")
    job = SeedJob("cache", source, "auto", "redis", f"redis://127.0.0.1:{port}", "0")
    run = SeedRun([job], SeedOptions(wait_timeout=20))
    health = HealthServer(run.board, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{health.address[1]}/healthz"
    try:
        run.start()
        waiting = poll(
            lambda: httpx.get(url),
            lambda r: r.json()["targets"]["cache"]["state"] == "waiting",
        )
        assert waiting.status_code == 503
        assert waiting.json()["status"] == "seeding"
        assert waiting.headers["content-type"] == "application/json"

        start_redis_later()
        ready = poll(lambda: httpx.get(url), lambda r: r.status_code != 503)

        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready"
        assert body["targets"]["cache"]["state"] == "done"
        assert body["targets"]["cache"]["message"].startswith("1 commands")
        assert httpx.get(url.replace("/healthz", "/nope")).status_code == 404
    finally:
        run.cancel()
        run.wait(10)
        health.close()


def test_health_reports_503_and_the_reason_after_a_failure(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    good = tmp_path / "good.redis"
    good.write_text("SET a 1\n")
    jobs = [
        SeedJob("good", good, "auto", "redis", redis_server.url, "14"),
        SeedJob("missing", tmp_path / "gone.dump", "auto", "postgres", "postgresql://x@h:1", "d"),
    ]
    run = SeedRun(jobs, SeedOptions(wait_timeout=5)).start()
    health = HealthServer(run.board, "127.0.0.1", 0).start()
    try:
        assert run.wait(30)
        response = httpx.get(f"http://127.0.0.1:{health.address[1]}/healthz")
    finally:
        health.close()

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert body["targets"]["good"]["state"] == "done"
    assert body["targets"]["missing"] == {
        **body["targets"]["missing"],
        "state": "failed",
        "message": f"seed file {tmp_path / 'gone.dump'} does not exist; "
        "fix 'from:' or create the backup",
    }
