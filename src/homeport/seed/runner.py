"""Seed every target at once, one thread per target, each reporting on the shared board.

A target's failure is recorded on its own line of the board with the engine's message; the other
targets carry on. The runner never prints: the CLI and the health endpoint read the board.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from homeport.seed.base import Seeder, SeedRequest, default_parallel_jobs
from homeport.seed.errors import SeedCancelled, SeedError
from homeport.seed.formats import detect_format
from homeport.seed.mariadb import MariadbSeeder
from homeport.seed.marker import Hashing
from homeport.seed.plan import SeedJob
from homeport.seed.postgres import PostgresSeeder
from homeport.seed.processes import Processes
from homeport.seed.redis import RedisSeeder
from homeport.seed.status import Reporter, StatusBoard


@dataclass(frozen=True)
class SeedOptions:
    """How to seed: force a reset, restore jobs per target, how long to wait for each server."""

    reset: bool = False
    parallel_jobs: int = 0
    wait_timeout: float = 60.0


def make_seeder(job: SeedJob, procs: Processes) -> Seeder:
    """The seeder for the job's engine."""
    if job.engine == "postgres":
        return PostgresSeeder(job.url, procs)
    if job.engine == "redis":
        return RedisSeeder(job.url, procs, int(job.database or 0))
    if job.engine == "mariadb":
        return MariadbSeeder(job.url, procs)
    raise SeedError(f"no seeder for {job.display_url}")


def seed_one(job: SeedJob, options: SeedOptions, board: StatusBoard, procs: Processes) -> None:
    """Seed one target, leaving its final state (done, skipped or failed) on the board."""
    reporter = Reporter(board, job.name)
    board.update(job.name, engine=job.engine)
    try:
        if job.problem is not None:
            raise SeedError(job.problem)
        assert job.engine is not None  # a job without a problem has an engine
        file_format = detect_format(job.source, job.engine, job.format)
        seeder = make_seeder(job, procs)
        reporter.state("waiting", f"waiting for {job.display_url}")
        seeder.wait_until_ready(options.wait_timeout)
        reporter.state("seeding", "reading what the target holds")
        jobs = options.parallel_jobs or default_parallel_jobs()
        request = SeedRequest(
            job,
            file_format,
            Hashing(job.source),
            seeder.version,
            options.reset,
            jobs,
            options.wait_timeout,
        )
        outcome = seeder.seed(request, reporter)
    except SeedCancelled as exc:
        reporter.state("failed", str(exc))
    except SeedError as exc:
        reporter.state("failed", str(exc))
    except Exception as exc:  # a bug in one seeder must not stop the others
        reporter.state("failed", f"unexpected {type(exc).__name__}: {exc}")
    else:
        reporter.state("skipped" if outcome.action == "skipped" else "done", outcome.message)


class SeedRun:
    """Every job seeding at once on its own thread; ``wait`` joins them, ``cancel`` stops them."""

    def __init__(self, jobs: list[SeedJob], options: SeedOptions) -> None:
        self.jobs = jobs
        self.options = options
        self.board = StatusBoard([job.name for job in jobs])
        self.procs = Processes()
        self._threads = [
            threading.Thread(
                target=seed_one,
                args=(job, options, self.board, self.procs),
                name=f"seed {job.name}",
                daemon=True,
            )
            for job in jobs
        ]

    def start(self) -> SeedRun:
        """Start every target's thread."""
        for thread in self._threads:
            thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every target (up to ``timeout`` seconds); True once all finished."""
        for thread in self._threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self._threads)

    def cancel(self) -> None:
        """Stop every running restore tool; unfinished targets end as failed."""
        self.procs.cancel()


def seed_all(jobs: list[SeedJob], options: SeedOptions) -> StatusBoard:
    """Seed every job in parallel and return the board once all finished."""
    run = SeedRun(jobs, options).start()
    run.wait()
    return run.board
