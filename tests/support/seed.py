"""Helpers of the seed tests: dumps made from real databases, and one-target seed runs."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import psycopg

from homeport.seed import SeedJob, SeedOptions, TargetStatus, seed_all
from homeport.seed.plan import Engine
from tests.support.servers import PostgresServer


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def seed_once(
    engine: Engine,
    url: str,
    source: Path,
    database: str | None = None,
    *,
    file_format: str = "auto",
    reset: bool = False,
    wait_timeout: float = 20.0,
    name: str | None = None,
) -> TargetStatus:
    """Seed one target the way ``homeport seed`` does; return its final status."""
    label = name or f"{engine}/{database}"
    job = SeedJob(label, source, file_format, engine, url, database)
    board = seed_all([job], SeedOptions(reset=reset, parallel_jobs=2, wait_timeout=wait_timeout))
    return board.snapshot()[0]


def fill_jobs(server: PostgresServer, database: str, rows: int, title: str = "job") -> None:
    """Create ``database`` holding a jobs table of ``rows`` rows and an index."""
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(server.dsn(database), autocommit=True) as conn:
        conn.execute("CREATE TABLE jobs (id serial PRIMARY KEY, title text NOT NULL)")
        conn.execute(
            "INSERT INTO jobs (title) SELECT %s || ' ' || g FROM generate_series(1, %s) g",
            (title, rows),
        )
        conn.execute("CREATE INDEX jobs_title ON jobs (title)")


def pg_dump(server: PostgresServer, database: str, out: Path, fmt: str) -> Path:
    """pg_dump ``database`` in format c, d or p to ``out``."""
    pg_dump_bin = Path(server.bindir) / "pg_dump"
    subprocess.run(
        [str(pg_dump_bin), f"-F{fmt}", "--no-owner", "-f", str(out), server.dsn(database)],
        check=True,
        capture_output=True,
    )
    return out


def drop_databases(server: PostgresServer, *names: str) -> None:
    """Drop databases (and their homeport templates) a test made."""
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        for name in names:
            for database in (name, f"{name}__homeport_template"):
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def count_rows(server: PostgresServer, database: str, table: str = "jobs") -> int:
    """How many rows ``table`` of ``database`` holds."""
    with psycopg.connect(server.dsn(database)) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])
