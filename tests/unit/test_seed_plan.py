"""The seed plan: which file goes into which database, and where the addresses come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeport.model import load_platform_text
from homeport.seed import SeedJob, load_endpoints, plan_seeds
from homeport.seed.errors import SeedError
from homeport.seed.formats import detect_format
from homeport.seed.plan import redact

PLATFORM = """
name: t
services:
  postgres: {kind: postgres}
  redis: {kind: redis}
  seed:
    kind: seed
    seeds:
      - {into: postgres, database: jobs, from: seeds/jobs.dump}
      - {into: redis, from: seeds/cache.redis}
      - {into: "mysql://app:s3cret@127.0.0.1:3307/shop", from: shop.sql}
      - {into: "redis://127.0.0.1:6380/2", from: seeds/more.redis, format: redis}
"""


def plan(endpoints: dict[str, str], text: str = PLATFORM) -> list[SeedJob]:
    return plan_seeds(load_platform_text(text, "/srv/platform/homeport.yaml"), endpoints)


def test_service_targets_take_the_orchestrator_addresses() -> None:
    jobs = plan({"postgres": "postgresql://postgres@127.0.0.1:5999", "redis": "redis://h:1"})

    assert [(j.name, j.engine, j.url, j.database, j.problem) for j in jobs] == [
        ("postgres/jobs", "postgres", "postgresql://postgres@127.0.0.1:5999", "jobs", None),
        ("redis", "redis", "redis://h:1", None, None),
        ("127.0.0.1:3307/shop", "mariadb", "mysql://app:s3cret@127.0.0.1:3307", "shop", None),
        ("127.0.0.1:6380/2", "redis", "redis://127.0.0.1:6380", "2", None),
    ]
    assert jobs[0].source == Path("/srv/platform/seeds/jobs.dump")
    assert jobs[2].display_url == "mysql://app:***@127.0.0.1:3307"


def test_a_service_without_an_address_is_that_target_problem_only() -> None:
    jobs = plan({"redis": "redis://h:1"})

    assert jobs[0].problem == (
        "no address for service 'postgres': start `homeport up -f /srv/platform/homeport.yaml` "
        "(it records every address) or pass --target postgres=URL"
    )
    assert [j.problem for j in jobs[1:]] == [None, None, None]


@pytest.mark.parametrize(
    ("seed", "problem"),
    [
        ('{into: "postgresql://h:1", from: a.sql}', "a postgres seed needs 'database:'"),
        ('{into: "redis://h:1", database: cache, from: a.redis}', "Redis database 'cache'"),
        ('{into: "http://h:1", from: a.sql}', "'http://h:1' is no database homeport seeds"),
    ],
)
def test_targets_that_cannot_be_seeded_carry_a_problem(seed: str, problem: str) -> None:
    text = f"name: t\nservices:\n  seed: {{kind: seed, seeds: [{seed}]}}\n"

    (job,) = plan({}, text)

    assert job.problem is not None
    assert job.problem.startswith(problem)


def test_two_seeds_into_one_database_are_refused() -> None:
    text = (
        "name: t\nservices:\n  seed: {kind: seed, seeds: ["
        '{into: "postgresql://h:1/a", from: x.sql}, {into: "postgresql://h:1/a", from: y.sql}]}\n'
    )

    first, second = plan({}, text)

    assert first.problem is None
    assert second.problem == "another seed already restores into h:1/a"


def test_unknown_seed_service_is_an_error() -> None:
    with pytest.raises(
        SeedError, match=r"'postgres' is not a seed service .*expected one of: seed"
    ):
        plan_seeds(load_platform_text(PLATFORM), {}, service="postgres")


def test_endpoints_come_from_file_then_environment_then_target(tmp_path: Path) -> None:
    (tmp_path / "endpoints.json").write_text(
        json.dumps(
            {"services": {"postgres": {"url": "postgresql://file"}, "redis": {"url": "r://f"}}}
        )
    )
    environ = {
        "HOMEPORT_ENDPOINTS": json.dumps({"redis": {"host": "h", "port": 1, "url": "redis://env"}})
    }

    found = load_endpoints(tmp_path, environ, ["postgres=postgresql://flag"])

    assert found == {"postgres": "postgresql://flag", "redis": "redis://env"}


@pytest.mark.parametrize("bad", ["postgres", "=postgresql://x", "postgres=localhost:5432"])
def test_bad_target_flag_says_the_expected_shape(bad: str, tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="expected NAME=URL"):
        load_endpoints(tmp_path, {}, [bad])


def test_broken_endpoints_file_says_to_restart_up(tmp_path: Path) -> None:
    (tmp_path / "endpoints.json").write_text("{not json")

    with pytest.raises(SeedError, match=r"endpoints.json: not valid JSON .*restart `homeport up`"):
        load_endpoints(tmp_path, {}, [])


def test_redact_masks_only_the_password() -> None:
    assert redact("postgresql://u:pw@h:1/db") == "postgresql://u:***@h:1/db"
    assert redact("redis://h:1") == "redis://h:1"


def test_formats_are_read_from_the_bytes_and_checked_against_the_engine(tmp_path: Path) -> None:
    custom = tmp_path / "a.dump"
    custom.write_bytes(b"PGDMP\x01\x0e\x00")
    rdb = tmp_path / "a.rdb"
    rdb.write_bytes(b"REDIS0010")
    text = tmp_path / "a.txt"
    text.write_text("SET a 1\n")
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "toc.dat").write_bytes(b"PGDMP")

    assert detect_format(custom, "postgres") == "custom"
    assert detect_format(directory, "postgres") == "directory"
    assert detect_format(text, "postgres") == "sql"
    assert detect_format(text, "mariadb") == "sql"
    assert detect_format(text, "redis") == "redis"
    assert detect_format(rdb, "redis") == "rdb"
    with pytest.raises(SeedError, match="a custom backup cannot be restored into redis"):
        detect_format(custom, "redis")
    with pytest.raises(SeedError, match="a rdb backup cannot be restored into mariadb"):
        detect_format(rdb, "mariadb")
    with pytest.raises(SeedError, match=r"without toc\.dat"):
        detect_format(tmp_path, "postgres")
