"""PostgreSQL: custom and directory dumps through pg_restore (in parallel), plain SQL through psql.

A restore fills a fresh ``<db>__homeport_staging`` database, never the live one, so rows are never
appended twice and a broken dump leaves the database as it was. The marker row is written into the
staging database (in the restore's own transaction for plain SQL); only then does the staging
database replace the target, which is copied to ``<db>__homeport_template`` so that a reset is a
``CREATE DATABASE ... TEMPLATE``.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from homeport.seed.base import (
    Outcome,
    SeedRequest,
    engine_message,
    needs_reseed,
    up_to_date,
    wait_until,
)
from homeport.seed.errors import SeedError
from homeport.seed.marker import MARKER_SCHEMA, MARKER_TABLE, Marker, content_size
from homeport.seed.plan import redact, with_path
from homeport.seed.processes import Processes
from homeport.seed.status import Reporter
from homeport.seed.tools import find_tool

VERSION = "postgres/1"
TEMPLATE_SUFFIX = "__homeport_template"
STAGING_SUFFIX = "__homeport_staging"
MAINTENANCE_DB = "postgres"
_NOT_ITEMS = ("ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE")
_PROGRESS = re.compile(r"^pg_restore: (processing item \d+ (\S+)|finished item )")
_CLONE_ATTEMPTS = 5
FILE_COPY_FROM_BYTES = 64 << 20


def template_name(database: str) -> str:
    """The template kept beside ``database`` (database names stop at 63 bytes)."""
    return f"{database[: 63 - len(TEMPLATE_SUFFIX)]}{TEMPLATE_SUFFIX}"


def staging_name(database: str) -> str:
    """The database a restore fills before it replaces ``database`` (which stays usable)."""
    return f"{database[: 63 - len(STAGING_SUFFIX)]}{STAGING_SUFFIX}"


def marker_sql(name: str, marker: Marker) -> str:
    """SQL that records ``marker`` for seed ``name`` (run inside the restore's transaction)."""
    return (  # every value below is quoted by _literal
        f"CREATE SCHEMA IF NOT EXISTS {MARKER_SCHEMA}; "  # noqa: S608
        f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (name text PRIMARY KEY, "
        "sha256 text NOT NULL, seeder_version text NOT NULL, "
        "seeded_at timestamptz NOT NULL DEFAULT pg_catalog.now()); "
        f"DELETE FROM {MARKER_TABLE} WHERE name = {_literal(name)}; "
        f"INSERT INTO {MARKER_TABLE} (name, sha256, seeder_version) VALUES "
        f"({_literal(name)}, {_literal(marker.sha256)}, {_literal(marker.seeder_version)});"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PostgresSeeder:
    """Seeds databases of one PostgreSQL server, given as ``postgresql://user[:pw]@host:port``."""

    version = VERSION

    def __init__(self, url: str, procs: Processes) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self._url = url
        self._procs = procs
        self._env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
        if parts.password is not None:
            self._env["PGPASSWORD"] = parts.password
        netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
        self._tool_url = url if parts.password is None else url.replace(parts.netloc, netloc, 1)

    def wait_until_ready(self, timeout: float) -> None:
        """Wait for TCP, then for ``SELECT 1`` on the maintenance database."""
        wait_until((self.host, self.port), self._ping, timeout, "PostgreSQL", self._procs)

    def seed(self, request: SeedRequest, reporter: Reporter) -> Outcome:
        """Skip, recreate from the template, or restore from the file, as the markers say."""
        database = request.job.database
        assert database is not None  # the plan refuses a postgres seed without one
        name, template = request.job.name, template_name(database)
        if not needs_reseed(self._read_marker(database, name), request):
            return up_to_date(request.marker)
        kept = self._read_marker(template, name)
        if kept is not None and kept == request.marker:
            reporter.state("seeding", f"recreating from {template}")
            self._clone(template, database)
            short = request.marker.short
            return Outcome("reset", f"recreated from template {template} (sha256 {short})")
        reporter.state("seeding", f"restoring {request.format} dump")
        staging = staging_name(database)
        self._recreate(staging)
        try:
            if request.format == "sql":
                self._restore_sql(request, staging, reporter)
            else:
                self._restore_archive(request, staging, reporter)
        except SeedError:
            self._drop(staging)
            raise
        self._swap_in(staging, database)
        reporter.state("seeding", f"keeping template {template}")
        self._clone(database, template)
        short = request.marker.short
        return Outcome("restored", f"restored {request.job.source.name} (sha256 {short})")

    def _restore_sql(self, request: SeedRequest, database: str, reporter: Reporter) -> None:
        reporter.total(content_size(request.job.source), "bytes")
        argv = [
            *(find_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"),
            *("-d", with_path(self._tool_url, database), "-f", "-"),
            *("-c", marker_sql(request.job.name, request.marker)),
        ]
        done = self._procs.run(argv, self._env, request.job.source, on_bytes=reporter.advance)
        if done.returncode != 0:
            raise SeedError(engine_message(done.stderr, f"psql exited with {done.returncode}"))

    def _restore_archive(self, request: SeedRequest, database: str, reporter: Reporter) -> None:
        source = request.job.source
        reporter.total(None, "items")
        # Listing the archive only feeds the progress total: it runs beside the restore.
        listing = threading.Thread(target=self._count_items, args=(source, reporter), daemon=True)
        listing.start()
        jobs = max(1, request.parallel_jobs)
        argv = [
            *(find_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"),
            *("--verbose", "-d", with_path(self._tool_url, database)),
            *(["-j", str(jobs)] if jobs > 1 else ["--single-transaction"]),
            str(source),
        ]

        def on_line(line: str) -> None:
            match = _PROGRESS.match(line)
            if match and match.group(2) not in _NOT_ITEMS:
                reporter.advance(1)

        done = self._procs.run(argv, self._env, on_line=on_line)
        listing.join(10)
        if done.returncode != 0:
            raise SeedError(
                engine_message(done.stderr, f"pg_restore exited with {done.returncode}")
            )
        with self._connect(database) as conn:
            conn.execute(marker_sql(request.job.name, request.marker).encode())

    def _count_items(self, source: Path, reporter: Reporter) -> None:
        listing = subprocess.run(
            [find_tool("pg_restore"), "-l", str(source)], capture_output=True, check=False
        )
        if listing.returncode == 0:  # an unreadable archive is reported by the restore itself
            lines = listing.stdout.decode(errors="replace").splitlines()
            count = sum(1 for line in lines if line.strip() and not line.startswith(";"))
            reporter.board.update(reporter.name, total=count)

    def _recreate(self, database: str) -> None:
        with self._connect(MAINTENANCE_DB, autocommit=True) as conn:
            self._terminate(conn, database)
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(database))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(_ident(database)))

    def _swap_in(self, staging: str, database: str) -> None:
        """Replace ``database`` by the fully restored ``staging`` database, ending its sessions."""
        with self._connect(MAINTENANCE_DB, autocommit=True) as conn:
            self._terminate(conn, database)
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(database))
            )
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(_ident(staging), _ident(database))
            )

    def _drop(self, database: str) -> None:
        try:
            with self._connect(MAINTENANCE_DB, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(database))
                )
        except SeedError:
            pass  # the restore's own error is the one to report

    def _clone(self, source: str, target: str) -> None:
        """Make ``target`` a copy of ``source``; other sessions on either are ended first."""
        with self._connect(MAINTENANCE_DB, autocommit=True) as conn:
            create = sql.SQL("CREATE DATABASE {} TEMPLATE {}" + self._strategy(conn, source))
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_ident(target))
            conn.execute(drop)
            for attempt in range(_CLONE_ATTEMPTS):
                self._terminate(conn, source)
                try:
                    conn.execute(create.format(_ident(target), _ident(source)))
                    return
                except psycopg.errors.ObjectInUse as exc:
                    if attempt == _CLONE_ATTEMPTS - 1:
                        raise SeedError(f"cannot copy {source} to {target}: {exc}") from exc
                    time.sleep(0.2)

    def _strategy(self, conn: psycopg.Connection[tuple[object, ...]], source: str) -> str:
        """FILE_COPY for big databases (a checkpoint, then a file copy); WAL_LOG for small ones."""
        if conn.info.server_version < 150000:
            return ""  # before 15 every copy is a file copy
        size = conn.execute("SELECT pg_database_size(%s)", (source,)).fetchone()
        big = size is not None and int(str(size[0])) >= FILE_COPY_FROM_BYTES
        return " STRATEGY FILE_COPY" if big else " STRATEGY WAL_LOG"

    def _terminate(self, conn: psycopg.Connection[tuple[object, ...]], database: str) -> None:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )

    def _read_marker(self, database: str, name: str) -> Marker | None:
        with self._connect(MAINTENANCE_DB) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if exists.fetchone() is None:
                return None
        with self._connect(database) as conn:
            found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (MARKER_TABLE,)).fetchone()
            if not found or not found[0]:
                return None
            row = conn.execute(
                f"SELECT sha256, seeder_version FROM {MARKER_TABLE} WHERE name = %s",  # noqa: S608
                (name,),
            ).fetchone()
        return Marker(str(row[0]), str(row[1])) if row else None

    def _ping(self) -> None:
        with self._connect(MAINTENANCE_DB) as conn:
            conn.execute("SELECT 1")

    @contextmanager
    def _connect(
        self, database: str, autocommit: bool = False
    ) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        try:
            conn = psycopg.connect(
                with_path(self._url, database), autocommit=autocommit, connect_timeout=5
            )
        except psycopg.Error as exc:
            raise SeedError(f"{redact(self._url)}/{database}: {exc}".strip()) from exc
        try:
            with conn:
                yield conn
        except psycopg.errors.ObjectInUse:
            raise
        except psycopg.Error as exc:
            raise SeedError(f"{redact(self._url)}/{database}: {exc}".strip()) from exc


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)
