"""Benchmark ``homeport seed`` against its peers: the slowest target alone, the sequential sum,
a fresh ``pg_restore``, and a bare ``pg_restore`` of the same dump.

    .venv/bin/python benchmarks/seed_parallel.py [--mb 110] [--repeat 3] [--cpu] [--parts 123]

It starts its own PostgreSQL (set up as ``homeport up`` runs it), Redis and MariaDB on free loopback
ports (stopped by PID at the end),
generates a PostgreSQL custom dump of at least ``--mb`` MB (uncompressed, so the file is that big),
a Redis commands file and a MariaDB .sql dump, then prints:

1. three targets seeded in parallel / the slowest of them alone   (target <= 1.15x)
   and / the sum of the three seeded one after another
2. fresh restore of the big dump / ``homeport seed --reset`` through the template   (target >= 5x)
3. ``homeport seed`` of the big dump / a bare ``pg_restore -j N`` of it   (target < 1.10x)

With ``--cpu`` every measure also prints the CPU seconds each process burnt (read from
/proc/PID/stat: pg_restore, the PostgreSQL backends, redis-server, mariadbd, the mariadb client,
this Python runner), the whole machine's busy cores (a run that other jobs disturbed says so), and
part 1 the shortest parallel run any scheduler could give on this machine's cores.
"""

from __future__ import annotations

import argparse
import os
import pwd
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.mariadb import MariadbServer, start_mariadb
from tests.support.servers import (
    PostgresServer,
    RedisServer,
    free_port,
    start_redis,
    wait_for_port,
)

from homeport.orchestrator.datastores import postgres_bindir
from homeport.seed import SeedJob, SeedOptions, seed_all
from homeport.seed.base import default_parallel_jobs
from homeport.seed.marker import content_sha256
from homeport.seed.tools import find_tool

BYTES_PER_ROW = 106  # the COPY text of one generated row


def start_postgres_as_up(base: Path) -> PostgresServer:
    """PostgreSQL set up exactly as ``homeport up`` runs a ``kind: postgres`` service.

    The same flags as ``PostgresLauncher`` (src/homeport/orchestrator/datastores.py): initdb
    ``--no-sync``, then ``fsync=off`` and nothing else, so full_page_writes, synchronous_commit and
    shared_buffers keep PostgreSQL's defaults. (The tests' server turns more safety off.)
    """
    bindir = postgres_bindir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        base.mkdir(parents=True, exist_ok=True)
        os.chmod(base.parent, 0o755)  # postgres must be able to enter its directory
        os.chown(base, user.pw_uid, user.pw_gid)
        os.chmod(base, 0o755)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"]
    subprocess.run([*run_as, *initdb, "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [
            *(*run_as, str(bindir / "postgres"), "-D", str(data), "-p", str(port)),
            *("-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={base}"),
            *("-c", "fsync=off"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = PostgresServer("127.0.0.1", port, "postgres", data, process, str(bindir))
    wait_for_port(port, 30, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            sql(server, "SELECT 1")
            return server
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def settings(server: PostgresServer) -> str:
    """The server settings that matter to a restore, as one line."""
    names = ("fsync", "full_page_writes", "synchronous_commit", "shared_buffers", "max_wal_size")
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        values = [str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names]  # type: ignore[index]
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


TICK = os.sysconf("SC_CLK_TCK")
POSTGRES_AUX = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical")


class CpuMeter:
    """CPU seconds burnt by each process in the trees under ``roots``, sampled from /proc.

    A process's own utime+stime is read every ``interval`` until it exits (a process that exits
    between two samples loses at most that interval); the sampler's own CPU is kept apart, since
    it runs in the benchmark's process, which is also the seed runner.
    """

    def __init__(self, roots: dict[str, int], interval: float = 0.1) -> None:
        self.roots = roots
        self.interval = interval
        self._seen: dict[int, tuple[str, float]] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.sampler_cpu = 0.0
        self.wall = 0.0
        self.machine: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._machine0 = _machine_times()
        self._sample()
        self._start = {pid: cpu for pid, (_, cpu) in self._seen.items()}
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.perf_counter() - self._t0
        before, after = self._machine0, _machine_times()
        busy, iowait, steal = (b - a for a, b in zip(before, after, strict=True))
        self.machine = (busy, iowait, steal)

    def _loop(self) -> None:
        begin = time.thread_time()
        while not self._stop.wait(self.interval):
            self._sample()
        self._sample()
        self.sampler_cpu = time.thread_time() - begin

    def _sample(self) -> None:
        others = set(self.roots.values())
        for label, root in self.roots.items():
            for pid, depth in _tree(root, others - {root}):
                found = _cpu_of(pid)
                if found is not None:
                    kind = _label(label, pid, depth, found[0])
                    if kind == "postmaster" and pid in self._seen:
                        kind = self._seen[pid][0]  # an exited backend has no title any more
                    self._seen[pid] = (kind, found[1])

    def by_label(self) -> dict[str, float]:
        """CPU seconds per kind of process over the metered run (the sampler's own excluded)."""
        totals: dict[str, float] = {}
        for pid, (label, cpu) in self._seen.items():
            used = cpu - self._start.get(pid, 0.0)
            if label == "runner (python)":
                used -= self.sampler_cpu
            totals[label] = totals.get(label, 0.0) + used
        return {k: v for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v >= 0.005}

    def report(self, indent: str = "     ") -> str:
        """Lines: CPU per kind, the total against 2 x wall, and the whole machine's busy time."""
        totals = self.by_label()
        used = sum(totals.values())
        cores = len(os.sched_getaffinity(0))
        busy, iowait, steal = self.machine
        others = max(0.0, busy - used - self.sampler_cpu) / self.wall
        parts = ", ".join(f"{k} {v:.2f}" for k, v in totals.items())
        return (
            f"{indent}cpu s: {parts}\n"
            f"{indent}seed cpu {used:.2f} s in {self.wall:.2f} s wall = {used / self.wall:.2f} "
            f"of {cores} cores; machine busy {busy / self.wall:.2f} cores, iowait "
            f"{iowait / self.wall:.2f}, stolen by the host {steal / self.wall:.2f}; "
            f"the meter's own cpu {self.sampler_cpu:.2f} s"
            + (f"\n{indent}DISTURBED: other jobs used {others:.2f} cores" if others > 0.25 else "")
        )


def _tree(root: int, skip: set[int]) -> list[tuple[int, int]]:
    """The root and its descendants with their depth, leaving out the trees under ``skip``."""
    out, todo = [], [(root, 0)]
    while todo:
        pid, depth = todo.pop()
        if pid in skip:
            continue
        out.append((pid, depth))
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                kids = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            except OSError:
                continue
            todo.extend((int(kid), depth + 1) for kid in kids)
    return out


def _cpu_of(pid: int) -> tuple[str, float] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    close = raw.rindex(b")")
    fields = raw[close + 2 :].split()
    comm = raw[raw.index(b"(") + 1 : close].decode(errors="replace")
    return comm, (int(fields[11]) + int(fields[12])) / TICK


def _label(root_label: str, pid: int, depth: int, comm: str) -> str:
    if root_label != "postgres":
        return root_label if depth == 0 else comm
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        title = ""
    if not title.startswith("postgres: "):
        return "postmaster"  # itself, or runuser above it (as root); not yet a titled child
    for aux in POSTGRES_AUX:
        if title.startswith(f"postgres: {aux}"):
            return f"pg {aux}"
    return "pg backends"


def _machine_times() -> tuple[float, float, float]:
    """All CPUs' busy, iowait and steal seconds since boot (from /proc/stat's first line)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6]
    return busy / TICK, values[4] / TICK, values[7] / TICK


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


ROOTS: dict[str, int] = {}  # process trees to meter (--cpu): label -> root pid
CPU: dict[str, CpuMeter] = {}  # label of a measure -> the meter of its best run
BEST: dict[str, float] = {}


def best(
    action: Callable[[], object], prepare: Callable[[], object], repeat: int, label: str = ""
) -> float:
    """The best of ``repeat`` timed runs, each after ``prepare``; metered when ROOTS is set."""
    runs: list[tuple[float, CpuMeter | None]] = []
    for _ in range(repeat):
        prepare()
        if ROOTS:
            with CpuMeter(ROOTS) as meter:
                action()
            runs.append((meter.wall, meter))
        else:
            runs.append((timed(action), None))
    seconds, best_meter = min(runs, key=lambda run: run[0])
    if label and best_meter and (label not in BEST or seconds < BEST[label]):
        CPU[label], BEST[label] = best_meter, seconds
    return seconds


def show_cpu(label: str) -> None:
    if label in CPU:
        print(CPU[label].report())


def packing_floor(alone: dict[str, float]) -> str:
    """The shortest parallel run any scheduler could give, from each target's CPU alone.

    The slowest target keeps its own pace at best; the others fit in the CPU it leaves idle on
    the machine's cores, and what does not fit lengthens the run. A lower bound: it ignores
    that the slowest target's own phases (one COPY stream, then index builds) cannot all run at
    once, and the extra CPU that contention itself costs.
    """
    if not all(name in CPU for name in alone):
        return ""
    cores = len(os.sched_getaffinity(0))
    cpu = {name: sum(CPU[name].by_label().values()) for name in alone}
    slowest = max(alone, key=lambda name: alone[name])
    idle = cores * alone[slowest] - cpu[slowest]
    others = sum(cpu.values()) - cpu[slowest]
    floor = max(alone[slowest] + max(0.0, others - idle) / cores, sum(cpu.values()) / cores)
    parts = ", ".join(f"{name} {cpu[name]:.2f}" for name in alone)
    return (
        f"   cpu alone (s): {parts}; {slowest} leaves {idle:.2f} cpu-s idle on {cores} cores,\n"
        f"   the others need {others:.2f}: no scheduler can finish before {floor:.2f} s "
        f"= {floor / alone[slowest]:.2f}x"
    )


def sql(server: PostgresServer, statement: str, database: str = "postgres") -> None:
    with psycopg.connect(server.dsn(database), autocommit=True) as conn:
        conn.execute(statement.encode())


def drop(server: PostgresServer, *names: str) -> None:
    for name in names:
        sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        sql(server, f'DROP DATABASE IF EXISTS "{name}__homeport_template" WITH (FORCE)')


def make_pg_dump(server: PostgresServer, out: Path, megabytes: int) -> Path:
    rows = megabytes * 1_000_000 // BYTES_PER_ROW + 1
    drop(server, "bench_src")
    sql(server, 'CREATE DATABASE "bench_src"')
    sql(
        server,
        "CREATE TABLE big (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL);"
        f"INSERT INTO big SELECT g, md5(g::text), md5((g * 7)::text) || md5((g * 13)::text) "
        f"FROM generate_series(1, {rows}) g;"
        "CREATE INDEX big_a ON big (a);",
        "bench_src",
    )
    pg_dump = str(Path(server.bindir) / "pg_dump")
    subprocess.run(
        [pg_dump, "-Fc", "-Z0", "--no-owner", "-f", str(out), server.dsn("bench_src")], check=True
    )
    drop(server, "bench_src")
    return out


def make_redis_file(out: Path, commands: int) -> Path:
    with out.open("w") as handle:
        handle.write("# generated by benchmarks/seed_parallel.py\n")
        for i in range(commands):
            handle.write(f'SET bench:{i} "value number {i} with some padding text"\n')
    return out


def make_mariadb_dump(out: Path, rows: int) -> Path:
    with out.open("w") as handle:
        handle.write("CREATE TABLE t (id int PRIMARY KEY, a varchar(64), b varchar(64));\n")
        for start in range(0, rows, 1000):
            values = ",".join(
                f"({i},'a{i:032d}','b{i:032d}')" for i in range(start, min(start + 1000, rows))
            )
            handle.write(f"INSERT INTO t VALUES {values};\n")
    return out


def seed(jobs: list[SeedJob], reset: bool = False) -> None:
    board = seed_all(jobs, SeedOptions(reset=reset, wait_timeout=60))
    failed = [s for s in board.snapshot() if s.state == "failed"]
    if failed:
        raise SystemExit(f"seeding failed: {failed[0].name}: {failed[0].message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=110, help="size of the big PostgreSQL dump")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (best kept)")
    parser.add_argument("--redis-commands", type=int, default=400_000)
    parser.add_argument("--mariadb-rows", type=int, default=300_000)
    parser.add_argument("--parts", default="123", help="which measures to run, e.g. 1 or 23")
    parser.add_argument("--cpu", action="store_true", help="meter CPU per process from /proc")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="homeport-bench-seed-"))
    pg: PostgresServer | None = None
    rd: RedisServer | None = None
    my: MariadbServer | None = None
    try:
        pg = start_postgres_as_up(work / "pg")
        rd, my = start_redis(), start_mariadb()
        if args.cpu:
            roots = {"postgres": pg.process.pid, "redis-server": rd.process.pid}
            ROOTS.update(roots, mariadbd=my.process.pid, **{"runner (python)": os.getpid()})
        print(f"generating a {args.mb} MB PostgreSQL dump, Redis and MariaDB seeds in {work}")
        print(f"postgres as homeport up runs it: {settings(pg)}")
        dump = make_pg_dump(pg, work / "big.dump", args.mb)
        cache = make_redis_file(work / "cache.redis", args.redis_commands)
        shop = make_mariadb_dump(work / "shop.sql", args.mariadb_rows)
        mb = dump.stat().st_size / 1e6
        print(
            f"dump: {mb:.0f} MB; redis: {cache.stat().st_size / 1e6:.0f} MB of commands; "
            f"mariadb: {shop.stat().st_size / 1e6:.0f} MB of SQL; "
            f"{len(os.sched_getaffinity(0))} cores"
        )
        pg_job = SeedJob("postgres/bench", dump, "auto", "postgres", pg.url, "bench")
        redis_job = SeedJob("redis/1", cache, "auto", "redis", rd.url, "1")
        maria_job = SeedJob("mariadb/shop", shop, "auto", "mariadb", my.url, "shop")
        fresh_pg = lambda: drop(pg, "bench")  # noqa: E731
        fresh = 0.0
        if "1" in args.parts:
            fresh = parallel_part(pg_job, redis_job, maria_job, fresh_pg, args.repeat)
        if "2" in args.parts:
            reset_part(pg_job, fresh_pg, fresh, mb, args.repeat)
        if "3" in args.parts:
            overhead_part(pg, pg_job, fresh_pg, mb, args.repeat)
    finally:
        for server in (pg, rd, my):
            if server is not None:
                server.stop()
        subprocess.run(["rm", "-rf", str(work)], check=False)


def parallel_part(
    pg_job: SeedJob,
    redis_job: SeedJob,
    maria_job: SeedJob,
    fresh_pg: Callable[[], None],
    repeat: int,
) -> float:
    """1. parallel against the slowest alone and the sequential sum; returns postgres alone.

    Each round runs every measure once, so that the machine's drift falls on all of them alike.
    """
    everything = [pg_job, redis_job, maria_job]
    measures: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "postgres": (lambda: seed([pg_job]), fresh_pg),
        "redis": (lambda: seed([redis_job], reset=True), lambda: None),
        "mariadb": (lambda: seed([maria_job], reset=True), lambda: None),
        "parallel": (lambda: seed(everything, reset=True), fresh_pg),
    }
    times: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(repeat):
        for name, (action, prepare) in measures.items():
            times[name].append(best(action, prepare, 1, name))
    parallel = min(times.pop("parallel"))
    alone = {name: min(seconds) for name, seconds in times.items()}
    slowest = max(alone.values())
    total = sum(alone.values())
    print("\n1. three targets at once")
    for name, seconds in alone.items():
        print(f"   {name:9} alone      {seconds:7.2f} s")
        show_cpu(name)
    print(f"   all three in parallel {parallel:7.2f} s")
    show_cpu("parallel")
    print(f"   parallel / slowest alone   = {parallel / slowest:5.2f}x (target <= 1.15x)")
    print(f"   parallel / sequential sum  = {parallel / total:5.2f}x ({total:.2f} s)")
    if floor := packing_floor(alone):
        print(floor)
    return alone["postgres"]


def reset_part(
    pg_job: SeedJob, fresh_pg: Callable[[], None], fresh: float, mb: float, repeat: int
) -> None:
    """2. template reset against a fresh restore by homeport seed."""
    if not fresh:
        fresh = best(lambda: seed([pg_job]), fresh_pg, repeat, "postgres")
    seed([pg_job])  # leaves the template
    reset = best(lambda: seed([pg_job], reset=True), lambda: None, repeat, "reset")
    print(f"\n2. reset of a {mb:.0f} MB dump")
    print(f"   fresh restore (homeport seed)      {fresh:7.2f} s")
    print(f"   homeport seed --reset (template)   {reset:7.2f} s")
    show_cpu("reset")
    print(f"   fresh / template reset     = {fresh / reset:5.1f}x (target >= 5x)")


def overhead_part(
    pg: PostgresServer, pg_job: SeedJob, fresh_pg: Callable[[], None], mb: float, repeat: int
) -> None:
    """3. homeport seed against a bare createdb + pg_restore of the same dump, same server.

    The runs are interleaved so that the machine's load drifts over both alike.
    """
    jobs_n = default_parallel_jobs()

    def bare() -> None:
        sql(pg, 'CREATE DATABASE "bench"')
        subprocess.run(
            [
                find_tool("pg_restore"),
                *("--no-owner", "--no-privileges", "--exit-on-error", "-j", str(jobs_n)),
                *("-d", pg.dsn("bench"), str(pg_job.source)),
            ],
            check=True,
        )

    copy_sql = 'CREATE DATABASE "bench_copy" TEMPLATE "bench" STRATEGY FILE_COPY'
    bare_times, seed_times, copies = [], [], []
    for _ in range(repeat):
        sql(pg, 'DROP DATABASE IF EXISTS "bench_copy"')
        bare_times.append(best(bare, fresh_pg, 1, "bare"))
        copies.append(timed(lambda: sql(pg, copy_sql)))  # what the seeder's template costs
        seed_times.append(best(lambda: seed([pg_job]), fresh_pg, 1, "seed"))
    sql(pg, 'DROP DATABASE IF EXISTS "bench_copy"')
    hashing = timed(lambda: content_sha256(pg_job.source))
    bare_time, seed_time, copy = min(bare_times), min(seed_times), min(copies)
    print(f"\n3. overhead on {mb:.0f} MB")
    print(f"   bare createdb + pg_restore -j {jobs_n}        {bare_time:7.2f} s")
    show_cpu("bare")
    print(f"   homeport seed                          {seed_time:7.2f} s")
    show_cpu("seed")
    print(f"     sha256 of the dump (beside the restore) {hashing:5.2f} s")
    print(f"     the template copy (FILE_COPY, measured right after a bare restore) {copy:.2f} s")
    print(f"   homeport / bare            = {seed_time / bare_time:5.2f}x (target < 1.10x)")
    print(f"   template copy / bare       = {copy / bare_time:5.2f}x")
    print(f"   (homeport - copy) / bare   = {(seed_time - copy) / bare_time:5.2f}x")


if __name__ == "__main__":
    main()
