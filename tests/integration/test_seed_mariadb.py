"""The MariaDB seeder against a real mariadbd: restore, idempotency, changed input, failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.mariadb import MariadbServer, start_mariadb
from tests.support.seed import seed_once, unique


@pytest.fixture(scope="module")
def mariadb_server() -> Iterator[MariadbServer]:
    """One MariaDB for this module, stopped by PID."""
    server = start_mariadb()
    try:
        yield server
    finally:
        server.stop()


def dump(path: Path, rows: int, title: str) -> Path:
    """A .sql dump as mysqldump writes one: a table and its rows."""
    values = ",".join(f"({i},'{title} {i}')" for i in range(1, rows + 1))
    path.write_text(
        "/*!40101 SET NAMES utf8mb4 */;\n"
        "DROP TABLE IF EXISTS `jobs`;\n"
        "CREATE TABLE `jobs` (`id` int NOT NULL, `title` varchar(64) NOT NULL, "
        "PRIMARY KEY (`id`)) ENGINE=InnoDB;\n"
        f"INSERT INTO `jobs` VALUES {values};\n"
    )
    return path


def test_sql_dump_restores_and_second_run_does_nothing(
    mariadb_server: MariadbServer, tmp_path: Path
) -> None:
    database = unique("jobs")
    source = dump(tmp_path / "jobs.sql", 300, "first")

    status = seed_once("mariadb", mariadb_server.url, source, database)
    again = seed_once("mariadb", mariadb_server.url, source, database)

    assert status.state == "done", status.message
    assert (status.done, status.total) == (source.stat().st_size, source.stat().st_size)
    assert mariadb_server.query("SELECT COUNT(*) FROM jobs", database).strip() == "300"
    marker = mariadb_server.query(
        f"SELECT seeder_version FROM homeport.seed_marker WHERE name = 'mariadb/{database}'"
    )
    assert marker.strip() == "mariadb/1"
    assert again.state == "skipped"


def test_changed_dump_recreates_the_database(mariadb_server: MariadbServer, tmp_path: Path) -> None:
    database = unique("jobs")
    seed_once("mariadb", mariadb_server.url, dump(tmp_path / "a.sql", 300, "first"), database)
    mariadb_server.query("CREATE TABLE stray (id int)", database)

    status = seed_once(
        "mariadb", mariadb_server.url, dump(tmp_path / "a.sql", 120, "second"), database
    )

    assert status.state == "done", status.message
    assert mariadb_server.query("SELECT COUNT(*), MIN(title) FROM jobs", database).split() == [
        "120",
        "second",
        "1",
    ]
    assert mariadb_server.query("SHOW TABLES", database).split() == ["jobs"]


def test_broken_dump_fails_with_the_server_message_and_no_marker(
    mariadb_server: MariadbServer, tmp_path: Path
) -> None:
    database = unique("jobs")
    source = tmp_path / "broken.sql"
    source.write_text("CREATE TABLE t (id int);\nINSERT INTO missing VALUES (1);\n")

    status = seed_once("mariadb", mariadb_server.url, source, database)

    assert status.state == "failed"
    assert f"ERROR 1146 (42S02) at line 2: Table '{database}.missing' doesn't exist" in (
        status.message
    )
    marker = mariadb_server.query(
        f"SELECT COUNT(*) FROM homeport.seed_marker WHERE name = 'mariadb/{database}'"
    )
    assert marker.strip() == "0"
