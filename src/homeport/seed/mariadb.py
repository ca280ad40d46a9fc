"""MariaDB and MySQL: a ``.sql`` dump fed to the ``mariadb`` client.

DDL commits on its own in MariaDB, so the restore and the marker cannot share a transaction: the
marker row (table ``homeport.seed_marker``) is removed before the database is dropped and written
only after the client exits cleanly, so a broken restore is never marked done.
"""

from __future__ import annotations

import os
import subprocess
from urllib.parse import unquote, urlsplit

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
from homeport.seed.processes import Processes
from homeport.seed.status import Reporter
from homeport.seed.tools import find_tool

VERSION = "mariadb/1"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


class MariadbSeeder:
    """Seeds databases of one server given as ``mysql://user[:pw]@host:port`` (or mariadb://)."""

    version = VERSION

    def __init__(self, url: str, procs: Processes) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 3306
        self._procs = procs
        self._env = dict(os.environ)
        if parts.password is not None:
            self._env["MYSQL_PWD"] = unquote(parts.password)
        user = unquote(parts.username) if parts.username else "root"
        self._client = [
            find_tool("mariadb", "mysql"),
            "--no-defaults",
            "--protocol=TCP",
            *("-h", self.host, "-P", str(self.port), "-u", user),
            "--batch",
            "--skip-column-names",
            "--connect-timeout=5",
        ]

    def wait_until_ready(self, timeout: float) -> None:
        """Wait for TCP, then for ``SELECT 1``."""
        ping = lambda: self._query("SELECT 1")  # noqa: E731
        wait_until((self.host, self.port), ping, timeout, "MariaDB", self._procs)

    def seed(self, request: SeedRequest, reporter: Reporter) -> Outcome:
        """Drop, recreate and refill the database unless it already holds this seed."""
        database, name = request.job.database or "", request.job.name
        if not needs_reseed(self._read_marker(name), request):
            return up_to_date(request.marker)
        reporter.state("seeding", "restoring sql dump")
        self._query(
            f"{self._forget(name)} DROP DATABASE IF EXISTS {_ident(database)}; "
            f"CREATE DATABASE {_ident(database)};"
        )
        reporter.total(content_size(request.job.source), "bytes")
        done = self._procs.run(
            [*self._client, database], self._env, request.job.source, on_bytes=reporter.advance
        )
        if done.returncode != 0:
            raise SeedError(engine_message(done.stderr, f"mariadb exited with {done.returncode}"))
        self._query(  # every value below is quoted by _literal
            f"CREATE DATABASE IF NOT EXISTS {MARKER_SCHEMA}; "  # noqa: S608
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (name varchar(255) PRIMARY KEY, "
            "sha256 char(64) NOT NULL, seeder_version varchar(64) NOT NULL, "
            "seeded_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP); "
            f"REPLACE INTO {MARKER_TABLE} (name, sha256, seeder_version) VALUES ({_literal(name)}, "
            f"{_literal(request.marker.sha256)}, {_literal(request.marker.seeder_version)});"
        )
        return Outcome(
            "restored", f"restored {request.job.source.name} (sha256 {request.marker.short})"
        )

    def _forget(self, name: str) -> str:
        return (  # every value below is quoted by _literal
            f"CREATE DATABASE IF NOT EXISTS {MARKER_SCHEMA}; "  # noqa: S608
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (name varchar(255) PRIMARY KEY, "
            "sha256 char(64) NOT NULL, seeder_version varchar(64) NOT NULL, "
            "seeded_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP); "
            f"DELETE FROM {MARKER_TABLE} WHERE name = {_literal(name)};"
        )

    def _read_marker(self, name: str) -> Marker | None:
        exists = self._query(
            "SELECT COUNT(*) FROM information_schema.tables "  # noqa: S608
            f"WHERE table_schema = {_literal(MARKER_SCHEMA)} AND table_name = 'seed_marker'"
        )
        if exists.strip() != "1":
            return None
        row = self._query(
            f"SELECT sha256, seeder_version FROM {MARKER_TABLE} WHERE name = {_literal(name)}"  # noqa: S608
        ).split("\t")
        return Marker(row[0].strip(), row[1].strip()) if len(row) == 2 else None

    def _query(self, statements: str) -> str:
        done = subprocess.run(
            [*self._client, "-e", statements], capture_output=True, env=self._env, check=False
        )
        if done.returncode != 0:
            lines = done.stderr.decode(errors="replace").splitlines()
            raise SeedError(engine_message(lines, f"mariadb exited with {done.returncode}"))
        return done.stdout.decode(errors="replace")
