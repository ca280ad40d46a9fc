"""Which backup goes into which database: the seed plan, a pure function of the platform file.

Addresses come from outside (the orchestrator's endpoints, or ``--target``), so the plan takes
them as a plain mapping of service name to URL. A seed that cannot run (no address, the same
target twice) is still in the plan, carrying its ``problem``: it is reported as that target's
failure while the other targets go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from homeport.model import LoadedPlatform, Seed
from homeport.seed.errors import SeedError

Engine = Literal["postgres", "redis", "mariadb"]
SCHEMES: dict[str, Engine] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "mysql": "mariadb",
    "mariadb": "mariadb",
}


@dataclass(frozen=True)
class SeedJob:
    """One backup restored into one database."""

    name: str
    source: Path
    format: str
    engine: Engine | None = None
    url: str = ""
    database: str | None = None
    problem: str | None = None

    @property
    def display_url(self) -> str:
        """The server's URL with any password masked, fit for output."""
        return redact(self.url)


def plan_seeds(
    loaded: LoadedPlatform, endpoints: Mapping[str, str], service: str | None = None
) -> list[SeedJob]:
    """Every seed of every ``kind: seed`` service (or of ``service`` only), in file order."""
    services = loaded.platform.services
    if service is not None and (service not in services or services[service].kind != "seed"):
        seeders = [n for n, s in services.items() if s.kind == "seed"]
        raise SeedError(
            f"'{service}' is not a seed service of {loaded.path}; "
            f"expected one of: {', '.join(seeders) or '(none)'}"
        )
    jobs: list[SeedJob] = []
    for name, spec in services.items():
        if spec.kind != "seed" or (service is not None and name != service):
            continue
        jobs.extend(plan_one(seed, loaded.root, endpoints, loaded.path) for seed in spec.seeds)
    return _refuse_duplicates(jobs)


def plan_one(seed: Seed, root: Path, endpoints: Mapping[str, str], platform_file: Path) -> SeedJob:
    """The job for one seed entry: its target's address, engine and database resolved."""
    source = root / seed.from_
    url = seed.into if "://" in seed.into else endpoints.get(seed.into)
    if url is None:
        return SeedJob(
            seed.into if seed.database is None else f"{seed.into}/{seed.database}",
            source,
            seed.format,
            problem=(
                f"no address for service '{seed.into}': start `homeport up -f {platform_file}` "
                f"(it records every address) or pass --target {seed.into}=URL"
            ),
        )
    parts = urlsplit(url)
    engine = SCHEMES.get(parts.scheme)
    path_database = parts.path.strip("/") or None
    database = seed.database or path_database
    label = seed.into if "://" not in seed.into else f"{parts.hostname}:{parts.port}"
    name = label if database is None else f"{label}/{database}"
    job = SeedJob(name, source, seed.format, engine, _strip_path(url), database)
    if engine is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        return replace(job, problem=f"'{redact(url)}' is no database homeport seeds; use {known}")
    if engine != "redis" and database is None:
        return replace(job, problem=f"a {engine} seed needs 'database:' (the database to fill)")
    if engine == "redis" and database is not None and not database.isdigit():
        return replace(job, problem=f"Redis database '{database}' is not a number (0-15)")
    return job


def _refuse_duplicates(jobs: list[SeedJob]) -> list[SeedJob]:
    seen: set[str] = set()
    out: list[SeedJob] = []
    for job in jobs:
        duplicate = job.name in seen and job.problem is None
        seen.add(job.name)
        problem = f"another seed already restores into {job.name}"
        out.append(replace(job, problem=problem) if duplicate else job)
    return out


def _strip_path(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def with_path(url: str, path: str) -> str:
    """``url`` pointing at database ``path``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{path}"))
