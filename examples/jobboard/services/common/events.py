"""The ``job.created`` event on the Redis Stream that feeds the AI worker."""

from __future__ import annotations

from redis.asyncio import Redis

JOB_CREATED = "job.created"


async def publish_job_created(redis: Redis, stream: str, job_id: int, title: str) -> str:
    """XADD a ``job.created`` entry; returns the entry's id."""
    entry_id = await redis.xadd(
        stream, {"type": JOB_CREATED, "job_id": str(job_id), "title": title}
    )
    return str(entry_id)
