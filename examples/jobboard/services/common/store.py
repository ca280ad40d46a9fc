"""The job board's queries: every SQL statement the services run lives here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

Row = dict[str, Any]

JOB_COLUMNS = """
    j.id, j.title, j.company_id, c.name AS company, j.location, j.description, j.tags,
    j.created_at
"""


async def list_jobs(conn: AsyncConnection[Any], limit: int) -> list[Row]:
    """The newest ``limit`` jobs with their company's name."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs j JOIN companies c ON c.id = j.company_id"
        " ORDER BY j.created_at DESC, j.id DESC LIMIT %s",
        (limit,),
    )
    return [_jsonable(row) for row in await cur.fetchall()]


async def get_job(conn: AsyncConnection[Any], job_id: int) -> Row | None:
    """One job, or None."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs j JOIN companies c ON c.id = j.company_id WHERE j.id = %s",
        (job_id,),
    )
    row = await cur.fetchone()
    return _jsonable(row) if row else None


async def insert_job(
    conn: AsyncConnection[Any], title: str, company_id: int, description: str, location: str
) -> int | None:
    """Insert a job and return its id, or None when the company does not exist."""
    cur = await conn.execute(
        "INSERT INTO jobs (title, company_id, description, location)"
        " SELECT %s, id, %s, %s FROM companies WHERE id = %s RETURNING id",
        (title, description, location, company_id),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else None


async def set_tags(conn: AsyncConnection[Any], job_id: int, tags: list[str]) -> bool:
    """Replace a job's tags; False when the job does not exist."""
    cur = await conn.execute("UPDATE jobs SET tags = %s WHERE id = %s", (tags, job_id))
    return cur.rowcount == 1


async def list_companies(conn: AsyncConnection[Any], limit: int) -> list[Row]:
    """Companies by name, each with how many jobs it posts."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT c.id, c.name, c.website, c.headquarters, c.created_at,"
        " (SELECT count(*) FROM jobs j WHERE j.company_id = c.id) AS job_count"
        " FROM companies c ORDER BY c.name, c.id LIMIT %s",
        (limit,),
    )
    return [_jsonable(row) for row in await cur.fetchall()]


async def get_company(conn: AsyncConnection[Any], company_id: int) -> Row | None:
    """One company, or None."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT id, name, website, headquarters, created_at FROM companies WHERE id = %s",
        (company_id,),
    )
    row = await cur.fetchone()
    return _jsonable(row) if row else None


def _jsonable(row: Row) -> Row:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
