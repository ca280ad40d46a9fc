"""The PostgreSQL seeder against a real server: every format, idempotency, resets, failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.support.seed import count_rows, drop_databases, fill_jobs, pg_dump, seed_once, unique
from tests.support.servers import PostgresServer, free_port


@pytest.fixture(scope="module")
def dumps(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    """Dumps of a 500-row and a 700-row jobs database, in every format pg_dump writes."""
    out = tmp_path_factory.mktemp("pg-dumps")
    small, large = unique("src_small"), unique("src_large")
    fill_jobs(postgres_server, small, 500, "small")
    fill_jobs(postgres_server, large, 700, "large")
    made = {
        "custom": pg_dump(postgres_server, small, out / "jobs.dump", "c"),
        "directory": pg_dump(postgres_server, small, out / "jobs.dir", "d"),
        "sql": pg_dump(postgres_server, small, out / "jobs.sql", "p"),
        "custom-large": pg_dump(postgres_server, large, out / "jobs-large.dump", "c"),
    }
    drop_databases(postgres_server, small, large)
    yield made


@pytest.fixture
def target(postgres_server: PostgresServer) -> Iterator[str]:
    """A database name to seed into; it and its template are dropped afterwards."""
    name = unique("seeded")
    yield name
    drop_databases(postgres_server, name)


def marker_of(server: PostgresServer, database: str) -> tuple[str, str]:
    with psycopg.connect(server.dsn(database)) as conn:
        row = conn.execute("SELECT sha256, seeder_version FROM homeport.seed_marker").fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def database_exists(server: PostgresServer, database: str) -> bool:
    with psycopg.connect(server.dsn()) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        return found.fetchone() is not None


@pytest.mark.parametrize("fmt", ["custom", "directory", "sql"])
def test_each_format_restores_rows_marker_and_template(
    postgres_server: PostgresServer, dumps: dict[str, Path], target: str, fmt: str
) -> None:
    status = seed_once("postgres", postgres_server.url, dumps[fmt], target)

    assert status.state == "done", status.message
    assert count_rows(postgres_server, target) == 500
    digest, version = marker_of(postgres_server, target)
    assert status.message.endswith(f"(sha256 {digest[:12]})")
    assert version == "postgres/1"
    assert database_exists(postgres_server, f"{target}__homeport_template")
    assert status.total and status.done >= 1


def test_second_run_with_same_file_does_nothing(
    postgres_server: PostgresServer, dumps: dict[str, Path], target: str
) -> None:
    assert seed_once("postgres", postgres_server.url, dumps["custom"], target).state == "done"
    with psycopg.connect(postgres_server.dsn(target), autocommit=True) as conn:
        conn.execute("INSERT INTO jobs (title) VALUES ('added by the app')")

    status = seed_once("postgres", postgres_server.url, dumps["custom"], target)

    assert status.state == "skipped"
    assert status.message.startswith("nothing to do")
    assert count_rows(postgres_server, target) == 501  # the app's row survives


def test_changed_file_reseeds_from_scratch_without_duplicates(
    postgres_server: PostgresServer, dumps: dict[str, Path], target: str
) -> None:
    seed_once("postgres", postgres_server.url, dumps["custom"], target)
    before = marker_of(postgres_server, target)

    status = seed_once("postgres", postgres_server.url, dumps["custom-large"], target)

    assert status.state == "done", status.message
    assert count_rows(postgres_server, target) == 700
    with psycopg.connect(postgres_server.dsn(target)) as conn:
        titles = conn.execute("SELECT count(*) FROM jobs WHERE title LIKE 'small%'").fetchone()
    assert titles == (0,)
    assert marker_of(postgres_server, target) != before


def test_reset_recreates_the_database_from_its_template(
    postgres_server: PostgresServer, dumps: dict[str, Path], target: str
) -> None:
    seed_once("postgres", postgres_server.url, dumps["custom"], target)
    with psycopg.connect(postgres_server.dsn(target), autocommit=True) as conn:
        conn.execute("DELETE FROM jobs WHERE id <= 100")
    holder = psycopg.connect(postgres_server.dsn(target))  # a session the reset must end

    status = seed_once("postgres", postgres_server.url, dumps["custom"], target, reset=True)

    holder.close()
    assert status.state == "done", status.message
    assert status.message.startswith(f"recreated from template {target}__homeport_template")
    assert count_rows(postgres_server, target) == 500


def test_reset_without_a_template_restores_from_the_file(
    postgres_server: PostgresServer, dumps: dict[str, Path], target: str
) -> None:
    seed_once("postgres", postgres_server.url, dumps["sql"], target)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{target}__homeport_template"')

    status = seed_once("postgres", postgres_server.url, dumps["sql"], target, reset=True)

    assert status.state == "done"
    assert status.message.startswith("restored jobs.sql")
    assert count_rows(postgres_server, target) == 500


def test_corrupt_dump_fails_with_pg_restore_message_and_leaves_the_database_as_it_was(
    postgres_server: PostgresServer, dumps: dict[str, Path], target: str, tmp_path: Path
) -> None:
    seed_once("postgres", postgres_server.url, dumps["custom"], target)
    before = marker_of(postgres_server, target)
    data = dumps["custom-large"].read_bytes()
    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(data[: len(data) * 2 // 3])

    failed = seed_once("postgres", postgres_server.url, corrupt, target)

    assert failed.state == "failed"
    assert "pg_restore: error:" in failed.message
    assert count_rows(postgres_server, target) == 500
    assert marker_of(postgres_server, target) == before
    assert not database_exists(postgres_server, f"{target}__homeport_staging")


def test_corrupt_dump_into_a_new_database_creates_nothing(
    postgres_server: PostgresServer, target: str, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(b"PGDMP\x01\x0e\x00garbage")

    failed = seed_once("postgres", postgres_server.url, corrupt, target)

    assert failed.state == "failed"
    assert failed.message.startswith("pg_restore: error:")
    assert not database_exists(postgres_server, target)


def test_failing_sql_rolls_back_whole_restore(
    postgres_server: PostgresServer, target: str, tmp_path: Path
) -> None:
    script = tmp_path / "broken.sql"
    script.write_text(
        "CREATE TABLE jobs (id int);\nINSERT INTO jobs VALUES (1);\nINSERT INTO nope;\n"
    )

    failed = seed_once("postgres", postgres_server.url, script, target)

    assert failed.state == "failed"
    assert 'syntax error at or near ";"' in failed.message
    assert not database_exists(postgres_server, target)
    assert not database_exists(postgres_server, f"{target}__homeport_staging")


def test_server_that_never_answers_fails_with_timeout(dumps: dict[str, Path]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}"

    failed = seed_once("postgres", url, dumps["custom"], "jobs", wait_timeout=0.5)

    assert failed.state == "failed"
    assert "PostgreSQL at 127.0.0.1:" in failed.message
    assert "did not answer within 0.5s" in failed.message


def test_missing_file_fails_before_waiting(tmp_path: Path) -> None:
    failed = seed_once("postgres", "postgresql://postgres@127.0.0.1:1", tmp_path / "no.dump", "x")

    assert failed.state == "failed"
    assert (
        failed.message
        == f"seed file {tmp_path / 'no.dump'} does not exist; fix 'from:' or create the backup"
    )
