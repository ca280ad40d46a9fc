"""Rebuild the job board's seeds: ``jobs.dump`` (pg_dump custom format) and ``cache.redis``.

    .venv/bin/python examples/jobboard/seeds/build_seeds.py [--server-url postgresql://...]

The data is generated from a fixed random seed, so every rebuild holds the same rows (the dump's
bytes still differ: pg_dump stamps the time). Without --server-url a throwaway PostgreSQL is
started the way the tests start one (tests/support/servers.py) and stopped afterwards.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

SEEDS = Path(__file__).resolve().parent
EXAMPLE = SEEDS.parent
REPO = EXAMPLE.parent.parent
sys.path[:0] = [str(EXAMPLE), str(REPO)]

from services.common.tags import tags_for  # noqa: E402
from tests.support.servers import start_postgres  # noqa: E402

RANDOM_SEED = 20240611
COMPANY_COUNT = 240
JOB_COUNT = 600
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

FIRST = "Acme Blue Bright Cedar Copper Delta Ember Fern Granite Harbor Iron Juniper Kite Lumen "
FIRST += "Maple Nimbus Orbit Pine Quartz River Summit Tidal Umbra Vector Willow Zephyr"
SECOND = "Labs Systems Works Cloud Data Analytics Robotics Health Logistics Finance Studio Energy"
CITIES = ["Berlin", "Lisbon", "Toronto", "Austin", "Nairobi", "Singapore", "Remote", "Casablanca"]
LEVELS = ["Junior", "", "", "Senior", "Staff", "Lead"]
ROLES = [
    ("Backend Engineer", "Python", "APIs on PostgreSQL with Django"),
    ("Frontend Engineer", "TypeScript", "React and CSS for a design system"),
    ("Platform Engineer", "Go", "Kubernetes, Terraform and CI/CD for every team"),
    ("Data Engineer", "Python", "ETL pipelines and a Spark warehouse"),
    ("Machine Learning Engineer", "Python", "LLM features with PyTorch"),
    ("Site Reliability Engineer", "Go", "on-call, Docker and Ansible, SRE practice"),
    ("Security Engineer", "Rust", "AppSec reviews and pentest follow-ups"),
    ("Full-Stack Developer", "Java", "Spring services behind a Vue front-end"),
    ("Mobile Developer", "Kotlin", "an Android app and its backend"),
    ("Product Analyst", "SQL", "analytics dashboards for the product team"),
]


@dataclass(frozen=True)
class Company:
    name: str
    website: str
    headquarters: str
    created_at: datetime


@dataclass(frozen=True)
class Job:
    company_id: int
    title: str
    description: str
    location: str
    tags: list[str]
    created_at: datetime


def generate(rng: random.Random) -> tuple[list[Company], list[Job]]:
    """The companies and jobs, the same for the same generator state."""
    names = [f"{a} {b}" for a in FIRST.split() for b in SECOND.split()]
    rng.shuffle(names)
    companies = [
        Company(
            name=name,
            website=f"https://{re.sub('[^a-z]+', '-', name.lower())}.example",
            headquarters=rng.choice(CITIES),
            created_at=EPOCH - timedelta(days=400 - i),
        )
        for i, name in enumerate(names[:COMPANY_COUNT])
    ]
    jobs = []
    for i in range(JOB_COUNT):
        role, language, work = rng.choice(ROLES)
        title = f"{rng.choice(LEVELS)} {role}".strip()
        location = rng.choice(CITIES)
        description = f"You will build {work}. Our stack is {language}."
        if location == "Remote":
            description += " Fully remote, anywhere in Europe or the Americas."
        jobs.append(
            Job(
                company_id=rng.randint(1, COMPANY_COUNT),
                title=title,
                description=description,
                location=location,
                tags=tags_for(title, description),
                created_at=EPOCH - timedelta(minutes=37 * (JOB_COUNT - i)),
            )
        )
    return companies, jobs


def load(dsn: str, companies: list[Company], jobs: list[Job]) -> None:
    """Create the schema in ``dsn`` and copy the rows in (ids come from the identity columns)."""
    with psycopg.connect(dsn) as conn:
        conn.execute((SEEDS / "schema.sql").read_text())
        with conn.cursor().copy(
            "COPY companies (name, website, headquarters, created_at) FROM STDIN"
        ) as copy:
            for c in companies:
                copy.write_row((c.name, c.website, c.headquarters, c.created_at))
        with conn.cursor().copy(
            "COPY jobs (company_id, title, description, location, tags, created_at) FROM STDIN"
        ) as copy:
            for j in jobs:
                copy.write_row(
                    (j.company_id, j.title, j.description, j.location, j.tags, j.created_at)
                )


def redis_quote(value: str) -> str:
    """One argument as redis-cli and the inline protocol read it (sdssplitargs quoting)."""
    if re.fullmatch(r"[A-Za-z0-9_:.\-/@+]+", value):
        return value
    out = []
    for byte in value.encode():
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + "".join(out) + '"'


CACHE_HEADER = """\
# cache.redis: the job board's Redis seed, written by seeds/build_seeds.py (do not edit by hand).
#
# Format: UTF-8 text, one Redis command per line. Lines starting with '#' and blank lines are
# skipped. A command's arguments are separated by single spaces; an argument is either bare
# (only A-Z a-z 0-9 _ : . - / @ +) or double-quoted, where \\" is a quote, \\\\ a backslash and
# \\xHH one byte (so every byte is expressible and the file stays ASCII). This is the quoting of
# redis-cli and of Redis's own inline protocol: a loader may send each non-comment line as it
# is, followed by CRLF, or run `grep -v '^#' cache.redis | redis-cli`. Re-running it is safe
# (SET overwrites; the hash is deleted before it is filled).
"""


def cache_commands(companies: list[Company], jobs: list[Job]) -> list[list[str]]:
    """Cached company names, the job counter and jobs per location."""
    commands = [["SET", f"jobboard:company:{i}:name", c.name] for i, c in enumerate(companies, 1)]
    commands.append(["SET", "jobboard:jobs:count", str(len(jobs))])
    per_location = sorted(Counter(j.location for j in jobs).items())
    commands.append(["DEL", "jobboard:jobs:by_location"])
    commands.append(
        ["HSET", "jobboard:jobs:by_location", *(x for kv in per_location for x in map(str, kv))]
    )
    return commands


def write_cache(path: Path, commands: list[list[str]]) -> None:
    """Write the commands file, header first."""
    lines = [" ".join(redis_quote(arg) for arg in command) for command in commands]
    path.write_text(CACHE_HEADER + "\n".join(lines) + "\n", encoding="ascii")


def dump(dsn: str, pg_dump: str, path: Path) -> None:
    """pg_dump the database in custom format, without owners or grants."""
    subprocess.run(
        [pg_dump, "-Fc", "--no-owner", "--no-acl", "-d", dsn, "-f", str(path)], check=True
    )


def build(server_url: str, pg_dump: str) -> None:
    """Generate, load into a scratch database on ``server_url``, dump, and write the cache."""
    companies, jobs = generate(random.Random(RANDOM_SEED))
    scratch = f"jobboard_seed_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        load(f"{server_url}/{scratch}", companies, jobs)
        dump(f"{server_url}/{scratch}", pg_dump, SEEDS / "jobs.dump")
    finally:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')
    write_cache(SEEDS / "cache.redis", cache_commands(companies, jobs))
    size = (SEEDS / "jobs.dump").stat().st_size
    print(f"{len(companies)} companies, {len(jobs)} jobs; jobs.dump {size} bytes; cache.redis")


def main() -> None:
    """Parse the arguments and build, on the given server or on a throwaway one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", help="postgresql://user@host:port of a server to use")
    parser.add_argument("--pg-dump", default="pg_dump", help="pg_dump matching the server")
    args = parser.parse_args()
    if args.server_url:
        build(args.server_url.rstrip("/"), args.pg_dump)
        return
    server = start_postgres()
    try:
        build(server.url, str(Path(server.bindir) / "pg_dump"))
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(server.datadir.parent)], check=False)


if __name__ == "__main__":
    main()
