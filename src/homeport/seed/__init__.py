"""``homeport seed``: restore every database from its backup, in parallel, then report healthy.

plan.py        which file goes into which database (pure)
formats.py     what a backup is, from its bytes
runner.py      one thread per target, a shared status board
postgres.py    pg_restore / psql, template databases for fast resets
redis.py       commands files pipelined; rdb.py: snapshots copied key by key
mariadb.py     the mariadb client with a .sql dump
health.py      GET /healthz for the orchestrator's wait_for
"""

from __future__ import annotations

from homeport.seed.endpoints import load_endpoints
from homeport.seed.errors import SeedError
from homeport.seed.health import HealthServer, parse_address
from homeport.seed.plan import SeedJob, plan_seeds
from homeport.seed.runner import SeedOptions, SeedRun, seed_all
from homeport.seed.status import StatusBoard, TargetStatus

__all__ = [
    "HealthServer",
    "SeedError",
    "SeedJob",
    "SeedOptions",
    "SeedRun",
    "StatusBoard",
    "TargetStatus",
    "load_endpoints",
    "parse_address",
    "plan_seeds",
    "seed_all",
]
